"""Template context every page gets: what the navigation bar offers the signed-in user."""
from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from wizard.review import access


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Return `nav_reviewer`: True when the user holds the reviewer role (the bar links their queue)."""
    return {"nav_reviewer": access.can_review(getattr(request, "user", None))}
