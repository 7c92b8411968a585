"""Password reset, only when this server can send mail: otherwise the page says to ask an administrator."""
from __future__ import annotations

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

UNAVAILABLE = "registration/password_reset_unavailable.html"


def password_reset(request: HttpRequest) -> HttpResponse:
    """Django's password reset form when mail is configured; else a page that promises no mail."""
    if not settings.PASSWORD_RESET_BY_MAIL:
        return render(request, UNAVAILABLE)
    return auth_views.PasswordResetView.as_view()(request)


def password_reset_done(request: HttpRequest) -> HttpResponse:
    """Django's "mail sent" page, only when mail can be sent at all."""
    if not settings.PASSWORD_RESET_BY_MAIL:
        return render(request, UNAVAILABLE)
    return auth_views.PasswordResetDoneView.as_view()(request)
