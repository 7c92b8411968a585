"""The proof: what the tool knows about PowerShell and the cmdlets, and the check every
rendered script passes (tree-sitter parse, PowerShell's own quoting rules, the cmdlet
catalog per product and AD FS version, the documented errata).

Pure Python. Depends on nothing in the app but itself.
"""
