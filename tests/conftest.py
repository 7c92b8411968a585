"""Shared pytest configuration."""
from __future__ import annotations

import pytest


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hasher(django_test_environment):
    """Hash test passwords quickly: Argon2 costs tens of ms and ~100 MB per hash.

    tests/test_security.py checks the real setting (Argon2 first) separately.
    """
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
