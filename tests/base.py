"""Shared test set-up: personas and plan helpers (plain functions, no factory library).

Personas:
  alice   - the author: owns the plans made by `make_plan`
  bob     - a reviewer: in the "Change board" team, which holds `wizard.review_plan`
            and sees shared plans read-only
  charlie - no access to anything
  dave    - a read-only team member ("Identity team")
  erin    - an editing team member ("Identity editors")

`make_plan()` shares the plan with all three teams (read, edit, read) unless
`shared=False`.
"""
from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.contrib.auth.models import Group, Permission, User
from django.test import TestCase

from wizard.models import Plan, PlanShare
from wizard.web.drafts import create_plan

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "plans"
DEFAULT_PLAN = "s01-passive-extranet-mfa"
PASSWORD = "correct horse battery staple"
# Draft versions a page may send damaged: missing, empty, not a number, out of range, read as a number
# only by int()'s leniency (`1_0`, Arabic-Indic digits), or sent twice (Django would read the last).
DAMAGED_VERSIONS: tuple[Any, ...] = (None, "", "abc", "-1", "1e9", "9" * 30, "1_0", "\u0661", ["1", "1"],
                                     ["1", "2"])

READ_TEAM = "Identity team"
EDIT_TEAM = "Identity editors"
REVIEW_TEAM = "Change board"


@dataclass(frozen=True)
class Personas:
    """The test users, and the teams plans are shared with."""

    alice: User
    bob: User
    charlie: User
    dave: User
    erin: User
    read_team: Group
    edit_team: Group
    review_team: Group


def make_personas() -> Personas:
    """Return the personas, creating them (and their teams) when they do not exist yet.

    They have no usable password (hashing one costs half a second with Argon2): tests log
    in with `client.force_login`; `set_password(user)` gives one a real password.
    """
    read_team, _ = Group.objects.get_or_create(name=READ_TEAM)
    edit_team, _ = Group.objects.get_or_create(name=EDIT_TEAM)
    review_team, _ = Group.objects.get_or_create(name=REVIEW_TEAM)
    review_team.permissions.add(Permission.objects.get(content_type__app_label="wizard", codename="review_plan"))
    users = {}
    for username, full_name in (("alice", "Alice Author"), ("bob", "Bob Reviewer"), ("charlie", "Charlie Stranger"),
                                ("dave", "Dave Reader"), ("erin", "Erin Editor")):
        user = User.objects.filter(username=username).first()
        if user is None:
            first, last = full_name.split()
            user = User.objects.create_user(username, f"{username}@example.com", None,
                                            first_name=first, last_name=last)
        users[username] = user
    users["bob"].groups.add(review_team)
    users["dave"].groups.add(read_team)
    users["erin"].groups.add(edit_team)
    return Personas(read_team=read_team, edit_team=edit_team, review_team=review_team, **users)


def set_password(user: User) -> User:
    """Give `user` the password PASSWORD (for tests that log in through the login page)."""
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    return user


def plan_doc(fixture: str = DEFAULT_PLAN, **changes: Any) -> dict[str, Any]:
    """Return a fixture plan document (tests/fixtures/plans/<fixture>.json) with top-level keys replaced."""
    doc = json.loads((FIXTURES / f"{fixture}.json").read_text(encoding="utf-8"))
    doc.update(copy.deepcopy(changes))
    return doc


def make_plan(**overrides: Any) -> Plan:
    """Create and return a plan through the service, owned by alice and shared with the three teams.

    Overrides: `owner`, `doc` (the whole draft), `fixture` (which example plan),
    `shared` (False: share with nobody), `ip`; any other keyword replaces that
    top-level key of the plan document (`name="..."`, `product="sfb2019"`).
    """
    personas = make_personas()
    owner = overrides.pop("owner", None) or personas.alice
    shared = overrides.pop("shared", True)
    ip = overrides.pop("ip", None)
    fixture = overrides.pop("fixture", DEFAULT_PLAN)
    doc = overrides.pop("doc", None)
    doc = copy.deepcopy(doc) if doc is not None else plan_doc(fixture)
    doc.update(overrides)
    plan = create_plan(owner=owner, doc=doc, ip=ip)
    if shared:
        PlanShare.objects.create(plan=plan, group=personas.read_team, can_edit=False)
        PlanShare.objects.create(plan=plan, group=personas.edit_team, can_edit=True)
        PlanShare.objects.create(plan=plan, group=personas.review_team, can_edit=False)
    return plan


def current_version(plan: Plan) -> int:
    """Return the plan's stored draft version (what a page showing the draft now would carry)."""
    return Plan.objects.values_list("draft_version", flat=True).get(pk=plan.pk)


def set_draft(plan: Plan, doc: dict[str, Any], *, by: User | None = None) -> Plan:
    """Replace the plan's draft through `wizard.drafts.save_draft`; refresh `plan` and return it fresh."""
    from wizard.web.drafts import save_draft

    plan.refresh_from_db()
    fresh = save_draft(plan, doc=doc, based_on=plan.draft_version, by=by or plan.owner).plan
    plan.refresh_from_db()  # the caller's object sees the new draft too
    return fresh


def admin_user_form(user: User, **changes: Any) -> dict[str, Any]:
    """Return the Django admin's change form of `user` as a browser posts it, with `changes` (a field given ""
    is left out, as an unticked box is)."""
    data = {"username": user.username, "first_name": user.first_name, "last_name": user.last_name,
            "email": user.email, "is_active": "on" if user.is_active else "", "is_staff": "on" if user.is_staff else "",
            "is_superuser": "on" if user.is_superuser else "", "date_joined_0": "2026-12-03",
            "date_joined_1": "12:00:00", "groups": [g.pk for g in user.groups.all()], "user_permissions": []}
    data.update(changes)
    return {k: v for k, v in data.items() if v != ""}


class BaseTestCase(TestCase):
    """A TestCase with the personas and one shared plan of alice's (`self.plan`)."""

    @classmethod
    def setUpTestData(cls) -> None:
        personas = make_personas()
        cls.personas = personas
        cls.alice, cls.bob, cls.charlie = personas.alice, personas.bob, personas.charlie
        cls.dave, cls.erin = personas.dave, personas.erin
        cls.plan = make_plan()
