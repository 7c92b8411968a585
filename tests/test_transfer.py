"""import_plan / export_plan: the command line moves plans in and out, every file round-trips."""
from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path
from unittest import mock

import pytest
from django.core.management import CommandError, call_command

from tests.base import current_version, make_personas, make_plan, plan_doc, set_draft
from wizard.models import AuditEvent, Plan
from wizard.plan.reader import load_plan
from wizard.plan.writer import dumps_plan
from wizard.review import services as review
from wizard.web import transfer

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "plans"
EXAMPLES = ["s01-passive-extranet-mfa", "s02-tls-dsk-30-day-certificates", "s03-ntlm-kept-mobility-hardened"]

pytestmark = pytest.mark.django_db


def _run(*args, stdin: bytes | None = None) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    if stdin is None:
        call_command(*args, stdout=out, stderr=err)
    else:
        fake = mock.Mock()
        fake.buffer = io.BytesIO(stdin)
        with mock.patch.object(sys, "stdin", fake):
            call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.parametrize("name", EXAMPLES)
def test_each_example_round_trips_through_import_and_export(name):
    people = make_personas()
    path = FIXTURES / f"{name}.json"
    out, _ = _run("import_plan", str(path), "--owner", "alice")
    pk, code = out.split()
    plan = Plan.objects.get(pk=int(pk))
    assert str(plan.code) == code
    assert plan.owner == people.alice

    exported, _ = _run("export_plan", code)
    original, _ = load_plan(path.read_bytes())
    again, findings = load_plan(exported)
    assert again == original
    assert not [f for f in findings if f.severity == "error"]
    # Export is stable: what was written is what the plan module writes.
    assert exported == dumps_plan(original)


def test_import_writes_an_imported_audit_row_and_export_an_exported_one():
    make_personas()
    out, _ = _run("import_plan", str(FIXTURES / f"{EXAMPLES[0]}.json"), "--owner", "alice")
    plan = Plan.objects.get(pk=int(out.split()[0]))
    assert list(plan.audit_events.values_list("action", flat=True)) == [AuditEvent.Action.IMPORTED]
    _run("export_plan", str(plan.pk), "--by", "bob")
    exported = plan.audit_events.get(action=AuditEvent.Action.EXPORTED)
    assert exported.actor.username == "bob"


def test_import_reads_standard_input():
    make_personas()
    data = (FIXTURES / f"{EXAMPLES[1]}.json").read_bytes()
    out, _ = _run("import_plan", "-", "--owner", "alice", stdin=data)
    plan = Plan.objects.get(pk=int(out.split()[0]))
    assert plan.draft["name"] == json.loads(data)["name"]


def test_an_invalid_plan_lists_every_error_and_stores_nothing():
    make_personas()
    doc = plan_doc(product="lync2010", sip_domains=["bad domain"], colour="blue")
    err = io.StringIO()
    fake = mock.Mock()
    fake.buffer = io.BytesIO(json.dumps(doc).encode())
    with mock.patch.object(sys, "stdin", fake), pytest.raises(CommandError):
        call_command("import_plan", "-", "--owner", "alice", stdout=io.StringIO(), stderr=err)
    lines = err.getvalue().splitlines()
    assert any(line.startswith("product: ") for line in lines)
    assert any(line.startswith("sip_domains[0]: ") for line in lines)
    assert any(line.startswith("colour: ") for line in lines)
    assert not Plan.objects.exists()
    assert not AuditEvent.objects.exists()


def test_a_file_that_is_not_json_is_refused():
    make_personas()
    with pytest.raises(CommandError):
        _run("import_plan", "-", "--owner", "alice", stdin=b"{not json")
    assert not Plan.objects.exists()


def test_import_needs_an_existing_owner():
    with pytest.raises(CommandError, match="no user named"):
        _run("import_plan", str(FIXTURES / f"{EXAMPLES[0]}.json"), "--owner", "nobody")


@pytest.mark.parametrize("command", [("import_plan", str(FIXTURES / f"{EXAMPLES[0]}.json"), "--owner"),
                                     ("export_plan", "1", "--by")])
def test_a_user_name_that_is_not_utf8_is_no_user_not_a_traceback(command):
    # An argument of bytes that are not UTF-8 reaches Python as lone surrogates (os.fsdecode): the user lookup
    # raised UnicodeEncodeError (a traceback) instead of saying there is no such user.
    make_plan()
    with pytest.raises(CommandError, match="no user named"):
        _run(*command, os.fsdecode(b"alice\xff"))
    assert not AuditEvent.objects.filter(action__in=[AuditEvent.Action.IMPORTED, AuditEvent.Action.EXPORTED]).exists()


def test_import_normalises_the_document_it_stores():
    people = make_personas()
    doc = plan_doc(sip_domains=["  Contoso.COM. "])
    result = transfer.import_plan(json.dumps(doc), owner=people.alice)
    assert result.plan.draft["sip_domains"] == ["contoso.com"]
    assert "fqdn_normalised" in {f.code for f in result.findings}


def test_export_accepts_the_code_or_the_id_and_refuses_unknown_ones():
    plan = make_plan()
    by_code, _ = _run("export_plan", str(plan.code))
    by_id, _ = _run("export_plan", str(plan.pk))
    assert by_code == by_id
    with pytest.raises(CommandError, match="no plan"):
        _run("export_plan", "00000000-0000-0000-0000-000000000000")
    with pytest.raises(CommandError, match="no plan"):
        _run("export_plan", "not-a-plan")


def test_an_invalid_draft_is_not_exported_so_every_export_imports():
    plan = make_plan()
    set_draft(plan, plan_doc(pools=[{"fqdn": "bad pool"}]))
    err = io.StringIO()
    out = io.StringIO()
    with pytest.raises(CommandError, match="not exported"):
        call_command("export_plan", str(plan.code), stdout=out, stderr=err)
    assert out.getvalue() == ""
    assert "pools[0].fqdn: " in err.getvalue()
    assert not plan.audit_events.filter(action=AuditEvent.Action.EXPORTED).exists()


def test_a_revision_can_be_exported():
    plan = make_plan()
    people = make_personas()
    review.save_revision(plan, draft_version=current_version(plan), by=people.alice, message="one")
    set_draft(plan, plan_doc(name="Changed since"))
    out, _ = _run("export_plan", str(plan.code), "--revision", "1")
    assert json.loads(out)["name"] == plan_doc()["name"]
    with pytest.raises(CommandError, match="no revision 7"):
        _run("export_plan", str(plan.code), "--revision", "7")
