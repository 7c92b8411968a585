"""The real URLconf plus bare views that give the ceiling of the server and middleware stack."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def bare(request: HttpRequest) -> HttpResponse:
    """Return a fixed short page: the cost of Django and the middleware alone."""
    return HttpResponse("<!doctype html><title>bare</title><p>ok</p>\n")


@login_required
def bare_authenticated(request: HttpRequest) -> HttpResponse:
    """Return a fixed short page after loading the session and user (as every real page does)."""
    return HttpResponse(f"<!doctype html><title>bare</title><p>ok {request.user.pk}</p>\n")


urlpatterns = [
    path("bench/bare/", bare, name="bench-bare"),
    path("bench/bare-auth/", bare_authenticated, name="bench-bare-auth"),
    path("", include("wizard.urls")),
]
