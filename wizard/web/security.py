"""Security glue: the login lockout page and the plain error pages the guards return."""
from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string
from django.utils.html import format_html

LOCKOUT_TEMPLATE = "registration/locked_out.html"


def plain_page(request: HttpRequest, *, status: int, title: str, message: str) -> HttpResponse:
    """Return a minimal HTML page (no script, no style, escaped text) with `status`."""
    body = format_html(
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{}</title></head>'
        "<body><main><h1>{}</h1><p>{}</p></main></body></html>\n",
        title, title, message,
    )
    return HttpResponse(body, status=status, content_type="text/html; charset=utf-8")


def cooloff_minutes() -> int:
    """Return the login cool-off period in whole minutes (at least 1)."""
    return max(1, int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))


def lockout_response(request: HttpRequest, original_response: Any = None, credentials: Any = None) -> HttpResponse:
    """Return the page shown when django-axes refuses a login: 429, saying when to try again.

    Renders `registration/locked_out.html` when the project has one (context: `minutes`,
    `failure_limit`), otherwise a plain page. Never echoes the user name that was tried.
    """
    context = {"minutes": cooloff_minutes(), "failure_limit": settings.AXES_FAILURE_LIMIT}
    message = (f"Too many failed sign-in attempts. Sign-in for this account from this address is "
               f"paused for {context['minutes']} minutes; ask an administrator if it stays locked.")
    try:
        body = render_to_string(LOCKOUT_TEMPLATE, {**context, "message": message}, request=request)
    except TemplateDoesNotExist:
        return plain_page(request, status=429, title="Sign-in paused", message=message)
    return HttpResponse(body, status=429)
