"""Sign-in with the user name's length checked, and password reset only when this server can send mail
(otherwise the page says to ask an administrator)."""
from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.validators import MaxLengthValidator
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


class SignInForm(AuthenticationForm):
    """Django's sign-in form, with the user name's length checked before anyone is asked about it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Django sets the field's max_length after building it, so no validator checks it: a longer name went
        # to authenticate(), and django-axes wrote it into a 255-character column (a 500 on PostgreSQL).
        field = self.fields["username"]
        field.validators.append(MaxLengthValidator(field.max_length))


sign_in = auth_views.LoginView.as_view(authentication_form=SignInForm)
