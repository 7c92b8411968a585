"""Shared pytest configuration."""
from __future__ import annotations

import os
import random

import pytest

# Hypothesis runs randomised: each run draws one seed (or takes --hypothesis-seed, or the
# HYPOTHESIS_SEED environment variable) and prints it, so any failure reproduces exactly.
_SEED_HELP = "rerun with --hypothesis-seed={seed} (or HYPOTHESIS_SEED={seed}) to reproduce"


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    if config.getoption("hypothesis_seed", default=None) is None:
        config.option.hypothesis_seed = os.environ.get("HYPOTHESIS_SEED") or str(random.randrange(2**32))


def pytest_report_header(config):
    seed = config.getoption("hypothesis_seed")
    return f"hypothesis seed: {seed} ({_SEED_HELP.format(seed=seed)})"


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if exitstatus != 0:
        seed = config.getoption("hypothesis_seed")
        terminalreporter.write_line(f"hypothesis seed of this run: {seed}; {_SEED_HELP.format(seed=seed)}")


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hasher(django_test_environment):
    """Hash test passwords quickly: Argon2 costs tens of ms and ~100 MB per hash.

    tests/test_security.py checks the real setting (Argon2 first) separately.
    """
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
