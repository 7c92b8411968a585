"""Change review: who may do what (`access`), the state changes with their audit rows
(`services`), the read side the pages show, and the diffs between versions of a plan.

Django code: models and transactions. Builds on `plan`, `proof` and `scripts`.
"""
