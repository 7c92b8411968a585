"""Every URL of the app, walked from the URLconf: who may reach it.

The routes are read from `django.urls.get_resolver()` when the tests are collected, so a
view added to `wizard/web/urls_wizard.py` or `wizard/web/urls_review.py` is checked without any
change here. Only a new URL keyword needs a line in KWARG_VALUES (the test says which).

For every route, GET and POST:
  * anonymous: redirected to the sign-in page (or 403/405: refused before any work);
  * a signed-in stranger, on a plan's URL: 404 (the plan's existence is not revealed) or 405 (a visit
    to a form's action: sent to the form's page, which is 404), and nothing in the database changes;
  * a read-only team member: never changes the draft or makes a revision;
  * the owner: no page answers 500 and no page carries inline script or style.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings as django_settings
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "bench" / "plans" / "s01-passive-extranet-mfa.plan.json"
# Django's own areas, with their own access rules (the admin, sign-in and password pages).
EXEMPT_PREFIXES = ("admin/", "accounts/")
# Pages anyone may see, signed in or not (none so far).
PUBLIC_ROUTES: set[str] = set()
PLAN_KWARG = "code"
# The fixture plan's name: unlike an example's, it can only show up by leaking.
PRIVATE_NAME = "Private plan of the owner 5f2c9e"

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Route:
    """One URL pattern of the app, with the keyword arguments its path needs."""

    name: str
    route: str
    kwargs: tuple[str, ...]

    @property
    def plan_scoped(self) -> bool:
        return PLAN_KWARG in self.kwargs


def _walk(patterns: list[Any], prefix: str = "") -> list[Route]:
    routes = []
    for entry in patterns:
        text = str(entry.pattern)
        if isinstance(entry, URLResolver):
            routes += _walk(entry.url_patterns, prefix + text)
        elif isinstance(entry, URLPattern):
            full = prefix + text
            names = tuple(re.findall(r"<(?:[^>:]+:)?([^>]+)>", full))
            routes.append(Route(name=entry.name or full, route=full, kwargs=names))
    return routes


def app_routes() -> list[Route]:
    """Return every route of the app outside Django's own areas."""
    return [r for r in _walk(get_resolver().url_patterns) if not r.route.startswith(EXEMPT_PREFIXES)]


ROUTES = app_routes()
PLAN_ROUTES = [r for r in ROUTES if r.plan_scoped]
OTHER_ROUTES = [r for r in ROUTES if not r.plan_scoped]


@dataclass
class World:
    """The fixture plan and the people around it."""

    owner: User
    reader: User
    stranger: User
    plan: Any
    revision: Any


# Values for each URL keyword, from the fixture world. A new keyword needs one line here.
KWARG_VALUES: dict[str, Callable[[World], Any]] = {
    "code": lambda w: w.plan.code,
    "number": lambda w: w.revision.number,
    "step": lambda w: "environment",
    "filename": lambda w: "runbook.md",
}


def url_for(route: Route, world: World) -> str:
    """Return the path of `route` with its keywords filled from `world`."""
    missing = [k for k in route.kwargs if k not in KWARG_VALUES]
    assert not missing, f"add a value for URL keyword(s) {missing} (route {route.route!r}) to KWARG_VALUES"
    path = route.route
    for name in route.kwargs:
        path = re.sub(r"<(?:[^>:]+:)?" + re.escape(name) + ">", str(KWARG_VALUES[name](world)), path, count=1)
    return "/" + path


@pytest.fixture(autouse=True)
def fast_hasher(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world() -> World:
    from tests.base import current_version
    from wizard.models import PlanShare
    from wizard.plan.reader import parse_plan_text
    from wizard.review import services as review
    from wizard.web.drafts import create_plan

    owner = User.objects.create_user("owner", password="x")
    reader = User.objects.create_user("reader", password="x")
    stranger = User.objects.create_user("stranger", password="x")
    team = Group.objects.create(name="Readers")
    reader.groups.add(team)
    doc = {**parse_plan_text(EXAMPLE.read_bytes()), "name": PRIVATE_NAME}
    plan = create_plan(owner=owner, doc=doc)
    PlanShare.objects.create(plan=plan, group=team, can_edit=False)
    revision = review.save_revision(plan, draft_version=current_version(plan), by=owner, message="First revision")
    return World(owner=owner, reader=reader, stranger=stranger, plan=plan, revision=revision)


def client_for(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def database_state(world: World) -> dict[str, Any]:
    """Return the row count of every model of the app, and the plan's draft."""
    world.plan.refresh_from_db()
    counts = {m._meta.label: m.objects.count() for m in apps.get_app_config("wizard").get_models()}
    return {**counts, "draft": world.plan.draft, "draft_version": world.plan.draft_version,
            "shares": sorted(world.plan.shares.values_list("group_id", "can_edit"))}


def is_login_redirect(response: Any) -> bool:
    login = django_settings.LOGIN_URL if django_settings.LOGIN_URL.startswith("/") else "/accounts/login/"
    return response.status_code == 302 and response["Location"].startswith(login)


def test_the_url_walk_finds_the_app_views() -> None:
    names = {r.name for r in ROUTES}
    assert "plan-list" in names
    assert len(PLAN_ROUTES) >= 5


def test_every_keyword_has_a_value() -> None:
    missing = sorted({k for r in ROUTES for k in r.kwargs if k not in KWARG_VALUES})
    assert missing == [], f"add these URL keywords to KWARG_VALUES: {missing}"


@pytest.mark.parametrize("route", [r for r in ROUTES if r.name not in PUBLIC_ROUTES], ids=lambda r: r.name)
def test_anonymous_visitors_are_sent_to_sign_in(route: Route, world: World) -> None:
    url = url_for(route, world)
    before = database_state(world)
    for method in ("get", "post"):
        response = getattr(Client(), method)(url)
        assert is_login_redirect(response) or response.status_code in (403, 405), (
            f"anonymous {method.upper()} {url} answered {response.status_code}")
    assert database_state(world) == before


@pytest.mark.parametrize("route", PLAN_ROUTES, ids=lambda r: r.name)
def test_a_stranger_gets_404_for_a_plan_url(route: Route, world: World) -> None:
    url = url_for(route, world)
    client = client_for(world.stranger)
    before = database_state(world)
    for method in ("get", "post"):
        response = getattr(client, method)(url)
        if method == "get" and response.status_code == 302:
            # A visit to a form's action is sent to the form's page (wizard/web/posting.py): that must be 404.
            response = client.get(response["Location"])
        assert response.status_code in (404, 405), f"stranger {method.upper()} {url} answered {response.status_code}"
        if response.status_code == 404:
            assert world.plan.name.encode() not in response.content
    assert database_state(world) == before


@pytest.mark.parametrize("route", PLAN_ROUTES, ids=lambda r: r.name)
def test_a_stranger_sees_the_same_answer_as_for_a_plan_that_does_not_exist(route: Route, world: World) -> None:
    client = client_for(world.stranger)
    real = url_for(route, world)
    fake = real.replace(str(world.plan.code), "00000000-0000-4000-8000-000000000000")
    for method in ("get", "post"):
        assert getattr(client, method)(real).status_code == getattr(client, method)(fake).status_code


@pytest.mark.parametrize("route", OTHER_ROUTES, ids=lambda r: r.name)
def test_a_stranger_never_sees_another_users_plan_on_other_pages(route: Route, world: World) -> None:
    url = url_for(route, world)
    client = client_for(world.stranger)
    before = database_state(world)
    for method in ("get", "post"):
        response = getattr(client, method)(url)
        assert response.status_code < 500, f"stranger {method.upper()} {url} answered {response.status_code}"
        assert world.plan.name.encode() not in response.content
        assert str(world.plan.code).encode() not in response.content
    after = database_state(world)
    assert after["draft"] == before["draft"] and after["draft_version"] == before["draft_version"]


@pytest.mark.parametrize("route", PLAN_ROUTES, ids=lambda r: r.name)
def test_a_read_only_member_never_changes_the_plan(route: Route, world: World) -> None:
    from wizard.models import Revision

    url = url_for(route, world)
    client = client_for(world.reader)
    before = database_state(world)
    response = client.post(url)
    assert response.status_code < 500, f"read-only POST {url} answered {response.status_code}"
    after = database_state(world)
    assert (after["draft"], after["draft_version"], after["shares"]) == (
        before["draft"], before["draft_version"], before["shares"])
    assert after[Revision._meta.label] == before[Revision._meta.label]


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.name)
def test_the_owner_never_gets_a_server_error(route: Route, world: World) -> None:
    from tests.test_security import csp_violations

    url = url_for(route, world)
    response = client_for(world.owner).get(url)
    assert response.status_code < 500, f"owner GET {url} answered {response.status_code}"
    if response.status_code == 200 and response.get("Content-Type", "").startswith("text/html"):
        assert csp_violations(response.content.decode()) == []
