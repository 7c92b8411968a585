"""Logging filters for the server log."""
from __future__ import annotations

import logging


class ForbiddenWithoutTraceback(logging.Filter):
    """Keep a refused request (403) to its one line: drop the traceback Django attaches.

    A 403 is the access rules working, not a fault; a traceback per refusal buries the real
    errors in the log.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) == 403:
            record.exc_info = None
            record.exc_text = None
        return True
