"""The scripts: one Jinja2 environment over `powershell_templates/`, the quoting that is
the only way a value enters a script, the artifacts (one file per machine), and the
verified bundle of bytes an admin downloads.

Pure Python. Builds on `wizard.plan` (what to write) and `wizard.proof` (the check).
"""
