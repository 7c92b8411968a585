"""Views that only take a form's POST, and what a GET to them does instead."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect

View = Callable[..., HttpResponse]

NOTHING_DONE = ("Nothing was done: the action's address was opened, not sent by its button (as after signing in "
                "again when a session ended). What you had typed in this tab is back in its box: press the "
                "button once more.")


def form_post(back: Callable[..., str]) -> Callable[[View], View]:
    """Take only POST; send a GET or HEAD to `back(**url_kwargs)`, the page that holds the form.

    A GET reaches such an address when a session ended while a form was on its way: the sign-in page
    sends the browser back to the address the form was posted to. Instead of a page that only says
    nothing was done, the person lands on the form's page, told so, where the tab puts back what they
    had typed (static/wizard/app.js). Other methods are refused with 405, as require_POST does.
    """
    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method == "POST":
                return view(request, *args, **kwargs)
            if request.method in ("GET", "HEAD"):
                messages.warning(request, NOTHING_DONE)
                return redirect(back(**kwargs))
            return HttpResponseNotAllowed(["POST"])
        return wrapper
    return decorate
