"""Request-level guards that run before any view reads the request."""
from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url

from wizard.web.security import plain_page


class RequestSizeLimitMiddleware:
    """Refuse a request whose declared body exceeds MAX_REQUEST_BYTES, before the body is read.

    Django's own DATA_UPLOAD_MAX_MEMORY_SIZE ignores file parts of a multipart body, so a
    huge "plan file" would otherwise be parsed in full before any form could refuse it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        declared = request.META.get("CONTENT_LENGTH") or "0"
        try:
            length = int(declared)
        except ValueError:
            length = -1
        if length < 0:
            return plain_page(request, status=400, title="Bad request",
                              message="The request declares an invalid Content-Length.")
        charset = _declared_charset(request.META.get("CONTENT_TYPE", ""))
        if charset and charset not in ("utf-8", "utf8"):
            # Django reads a form body in the declared charset, and fails on one that is not
            # ASCII-compatible (utf-16): refuse it here, in words, before anything reads it.
            return plain_page(request, status=400, title="Bad request: nothing was saved",
                              message=f"The request is declared as {charset[:40]!r} text; this server reads "
                                      f"forms and files as UTF-8 only. Nothing was saved.")
        limit = settings.MAX_REQUEST_BYTES
        if length > limit:
            return plain_page(
                request, status=413, title="Request too large",
                message=(f"The request is {length:,} bytes; this server accepts at most {limit:,}. "
                         "A plan file is a few kilobytes: check that the right file was chosen."),
            )
        return self.get_response(request)


_CHARSET_RE = re.compile(r";\s*charset\s*=\s*\"?([^\";\s]+)", re.IGNORECASE)


def _declared_charset(content_type: str) -> str:
    """Return the charset a Content-Type declares, lowercased ("" when it declares none)."""
    match = _CHARSET_RE.search(content_type)
    return match.group(1).lower() if match else ""


class HtmxSignedOutMiddleware:
    """Answer 401 to an htmx request of someone whose session ended, instead of the sign-in redirect.

    The browser follows a redirect of a script's request silently: htmx would put the whole sign-in
    page where the autosave's status line (or a file, or the preview) goes, and the page's script
    would take its 200 for a save. A 401 says "not saved: signed out", keeps what was typed on the
    page, and the autosave tries again until the person has signed in again (in another tab).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 302 and getattr(request, "htmx", False) \
                and not request.user.is_authenticated \
                and urlsplit(response.get("Location", "")).path == resolve_url(settings.LOGIN_URL):
            return plain_page(request, status=401, title="Signed out: nothing was saved",
                              message="Your session ended, so nothing was saved. Sign in again (in another tab, "
                                      "to keep what you typed on this page).")
        return response


class MethodNotAllowedMiddleware:
    """Give a 405 (an action's address visited, not posted to) a page that says so, not a blank one.

    It happens to people: the session ended, they pressed a button (Approve, Accept this risk), signed
    in again, and the sign-in page sent them back to the action's address as a plain visit.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code != 405 or response.content:
            return response
        page = plain_page(request, status=405, title="Nothing was done",
                          message="This address carries out an action when its page's button is pressed; "
                                  "opening it does nothing. Go back to the page (after signing in again, "
                                  "open it from the plan) and press the button once more.")
        if response.has_header("Allow"):
            page["Allow"] = response["Allow"]
        return page
