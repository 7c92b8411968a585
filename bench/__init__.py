"""Benchmarks, run on demand with `make bench` (never collected by pytest: testpaths = tests)."""
