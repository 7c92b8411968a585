"""App config."""
from __future__ import annotations

import gc

from django.apps import AppConfig

# Rendering a 100-pool plan allocates a few hundred thousand small objects (tokens, syntax nodes,
# rows) that live until the render ends; with the default first threshold (700) the collector
# walks them again and again while they are still in use. A larger first generation lets it run
# once they are gone (bench/render.py: about 25 ms of a 100-pool render). Older generations keep
# their defaults.
GC_THRESHOLD_0 = 10_000


class WizardConfig(AppConfig):
    """The planner app."""

    name = "wizard"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "External authentication planner"

    def ready(self) -> None:
        _, older, oldest = gc.get_threshold()
        gc.set_threshold(max(gc.get_threshold()[0], GC_THRESHOLD_0), older, oldest)
        # What start-up made (modules, settings, URL patterns) lives as long as the process: the
        # collector need not walk it on every full collection, and a worker forked from a
        # preloading master (gunicorn.conf.py) shares those pages instead of copying them.
        gc.freeze()
