"""Root URLconf: each area of the app keeps its own URL list."""
from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from wizard.web.views import accounts

urlpatterns = [
    path("admin/", admin.site.urls),
    # Before Django's own: without a mail server the reset pages say to ask an administrator.
    path("accounts/password_reset/", accounts.password_reset, name="password_reset"),
    path("accounts/password_reset/done/", accounts.password_reset_done, name="password_reset_done"),
    # Before Django's own: the user name's length is checked before django-axes records a failure with it.
    path("accounts/login/", accounts.sign_in, name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("wizard.web.urls_review")),
    path("", include("wizard.web.urls_wizard")),
]

# The 400 page says what was wrong and that nothing was saved (never Django's bare "Bad Request (400)").
handler400 = "wizard.web.security.bad_request"
handler403 = "wizard.web.security.forbidden"
