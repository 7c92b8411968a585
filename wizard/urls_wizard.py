"""URLs of the plan list, the wizard steps, the review page, previews and downloads."""
from __future__ import annotations

urlpatterns: list = []
