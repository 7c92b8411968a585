"""Draft services: storing what was typed, on every database."""
from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from wizard.plan.reader import read_plan
from wizard.web import drafts


def test_storable_replaces_nul_but_not_an_escaped_backslash():
    doc = {"name\x00": "a\x00b", "list": ["\\u0000", "\\\x00"], "n": 1}
    assert drafts.storable(doc) == {"name\ufffd": "a\ufffdb", "list": ["\\u0000", "\\\ufffd"], "n": 1}
    clean = {"name": "plain"}
    assert drafts.storable(clean) is clean


@pytest.mark.django_db
def test_a_nul_typed_into_a_draft_is_stored_and_then_reported_on_its_field():
    # PostgreSQL refuses NUL in jsonb and text: the save must still succeed, keep the
    # rest of what was typed, and leave the field in error.
    owner = get_user_model().objects.create_user("nul-owner")
    plan = drafts.create_plan(owner=owner, doc={"format": "lync-auth-plan/1", "name": "ok"})
    doc = {"format": "lync-auth-plan/1", "name": "Contoso\x00", "product": "sfb2015",
           "sip_domains": ["contoso.com"], "pools": [{"fqdn": "pool\x00.contoso.com"}]}
    saved = drafts.save_draft(plan, doc=doc, based_on=plan.draft_version, by=owner)
    saved.plan.refresh_from_db()
    assert saved.plan.draft["name"] == "Contoso\ufffd"
    _, findings = read_plan(saved.plan.draft)
    assert {f.field for f in findings if f.severity == "error"} == {"name", "pools[0].fqdn"}
