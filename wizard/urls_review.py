"""URLs of revisions, diffs, the review trail and comments."""
from __future__ import annotations

urlpatterns: list = []
