"""Fast paths of rendering and process set-up give what the plain versions give."""
from __future__ import annotations

import gc
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from wizard.apps import GC_THRESHOLD_0
from wizard.scripts import rendering

# The plain definition of md_text: line breaks and control characters become a space, the text is
# stripped, every Markdown and HTML character escaped.
_BREAKS = re.compile(r"[\r\n\u0085\u2028\u2029\x00-\x1f\x7f]+")


def plain_md_text(value: object) -> str:
    return _BREAKS.sub(" ", str(value)).strip().translate(str.maketrans(rendering._MD_ESCAPES))


PIECES = ["\r", "\n", "\u2028", "\u0085", "\x00", "\x7f", "\t", " ", "\u00a0", "|", "*", "_", "`", "\\", "[",
          "]", "<", ">", "&", "a", "é"]


@settings(max_examples=800, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(PIECES), st.characters()), max_size=30).map("".join))
def test_md_text_equals_its_plain_definition(text):
    assert rendering.md_text(text) == plain_md_text(text)


def test_the_app_raises_the_first_collector_threshold_and_freezes_start_up():
    """wizard.apps: a render's short-lived objects are not walked again and again (bench/render.py)."""
    assert gc.get_threshold()[0] >= GC_THRESHOLD_0
    assert gc.get_freeze_count() > 0
