"""App config."""
from __future__ import annotations

from django.apps import AppConfig


class WizardConfig(AppConfig):
    """The planner app."""

    name = "wizard"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "External authentication planner"
