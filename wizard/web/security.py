"""Security glue: the login lockout page, the plain error pages the guards return, and the
custom 400 page."""
from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string
from django.utils.html import format_html

LOCKOUT_TEMPLATE = "registration/locked_out.html"


# The guards answer before the security middleware runs, so their pages carry these themselves:
# nothing may load, run or frame them.
PLAIN_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def plain_page(request: HttpRequest, *, status: int, title: str, message: str) -> HttpResponse:
    """Return a minimal HTML page (no script, no style, escaped text) with `status` and strict headers."""
    body = format_html(
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{}</title></head>'
        "<body><main><h1>{}</h1><p>{}</p></main></body></html>\n",
        title, title, message,
    )
    response = HttpResponse(body, status=status, content_type="text/html; charset=utf-8")
    for header, value in PLAIN_PAGE_HEADERS.items():
        response[header] = value
    return response


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """The 400 page (Django's handler400): what was wrong, in words, and that nothing was saved.

    It never reads the request body (that may be what failed) and uses only text it makes itself.
    """
    if isinstance(exception, TooManyFieldsSent):
        message = (f"The page sent more form fields than this server accepts "
                   f"({settings.DATA_UPLOAD_MAX_NUMBER_FIELDS:,}), so nothing was saved. A plan keeps to the "
                   f"documented limits (see the plan's pages); reload the page and try again.")
    elif isinstance(exception, RequestDataTooBig):
        message = "The request is larger than this server accepts, so nothing was saved."
    elif "UTF-8" in str(exception or ""):
        message = "The form was not sent as UTF-8 text, so the server could not read it and nothing was saved."
    else:
        message = ("The server could not read this request, so nothing was saved. Reload the page and try "
                   "again.")
    return plain_page(request, status=400, title="Bad request: nothing was saved", message=message)


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """The 403 page (Django's handler403): the refusal in words, on a page of its own.

    The reason is the text of the PermissionDenied the access rules raised (wizard.review.access writes them
    for the user: who may do this, or why not); an exception with none gets a generic line.
    """
    reason = str(exception or "").strip() if isinstance(exception, PermissionDenied) else ""
    message = reason or "You are not allowed to do this here."
    return plain_page(request, status=403, title="Not allowed: nothing was changed", message=message)


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
