"""Every URL of the app, driven with hostile input by people of every role: no answer is a 500.

The routes are walked from the URLconf (`django.urls.get_resolver().url_patterns`, recursively),
so a view added to wizard/web/urls_*.py is fuzzed without any change here. For each route:

  * GET with hostile query strings: every query key the app reads (found in its source, plus each
    list's `<section>-page`) set to odd digits (² ① ٣), huge and negative numbers, NUL, CR/LF, line
    separators, lone-surrogate percent-encodings, very long values; repeated keys, keys with
    brackets, hostile keys; as the owner, an editor, a reviewer, a read-only member and a stranger;
  * its path parameters replaced by odd values where the pattern takes a string (file names with
    NUL, '..', CR/LF), and by odd numbers where it takes an int;
  * POST with the real fields of the form(s) that post to it (read from the page holding them, as
    a browser would submit them), each field mutated one at a time: empty, missing, wrong type,
    huge, NUL, other digits, sent twice, a stale or future draft_version;
  * on the upload endpoints, odd files (empty, binary, a small zip bomb, JSON nested deep, NaN and
    Infinity, a BOM, UTF-16, bundles with a damaged APPROVAL.json) under odd file names;
  * a few Hypothesis examples on top of the fixed lists (random text in a random field or key).

The step forms have dozens of fields: their mutations are dealt out within a budget (each field gets
some, every mutation goes to some field). FUZZ_VIEWS_SCALE=N runs N times the budget and examples.

What is asserted: no answer is a 500 (the test client re-raises a view's exception, so a failure
shows the traceback), a refused POST answers with a page that says why (not a blank one), and
after the POSTs every page of the plan still renders.
"""
from __future__ import annotations

import copy
import io
import json
import os
import re
import warnings
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.base import Personas, current_version, make_personas, make_plan, plan_doc

ROOT = Path(__file__).resolve().parent.parent
STATES = Path(__file__).resolve().parent / "fixtures" / "states"
# Django's own areas: the admin (its own test suite) and the sign-in pages (no plan data).
EXEMPT_PREFIXES = ("admin/",)

pytestmark = pytest.mark.django_db

# FUZZ_VIEWS_SCALE=N multiplies the step forms' budgets and the Hypothesis examples (a longer hunt).
SCALE = max(1, int(os.environ.get("FUZZ_VIEWS_SCALE", "1")))
HYPOTHESIS = settings(max_examples=30 * SCALE, deadline=None, database=None,
                      suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


# ---------------------------------------------------------------------------
# The routes


@dataclass(frozen=True)
class Route:
    """One URL pattern: its name, its full pattern and its keywords with their converters."""

    name: str
    route: str
    params: tuple[tuple[str, str], ...]   # (keyword, converter name)

    @property
    def kwargs(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.params)

    def __str__(self) -> str:
        return self.name


def walk(patterns: list[Any], prefix: str = "") -> list[Route]:
    """Return every URL pattern under `patterns`, includes followed."""
    routes = []
    for entry in patterns:
        text = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            routes += walk(entry.url_patterns, text)
        elif isinstance(entry, URLPattern):
            params = tuple((name, conv or "str") for conv, name in re.findall(r"<(?:([^>:]+):)?([^>]+)>", text))
            routes.append(Route(entry.name or text, text, params))
    return routes


ROUTES = [r for r in walk(get_resolver().url_patterns) if not r.route.startswith(EXEMPT_PREFIXES)]
BY_NAME = {r.name: r for r in ROUTES}


def _query_keys() -> list[str]:
    """Return every query key the app reads (from its source), and each paged list's `<section>-page`."""
    from wizard.web.steps import STEPS, paging

    keys = {"page", "q", "next", "step", "action", "draft_version"}
    for path in (ROOT / "wizard").rglob("*.py"):
        keys |= set(re.findall(r"""\bGET(?:\.get\(|\[)\s*["']([^"']+)["']""", path.read_text(encoding="utf-8")))
    for step in STEPS:
        keys |= {f"{section}-page" for section in paging(step)}
    return sorted(keys)


QUERY_KEYS = _query_keys()

# Query values, as they travel (percent-encoded where need be).
HOSTILE_QUERY_VALUES = [
    "%C2%B2", "%E2%91%A0", "%D9%A3", "%EF%BC%93", "%F0%9D%9F%98",    # ² ① ٣ ３ 𝟘 : digits int() may refuse
    "99999999999999999999999999", "9" * 5000, "-1", "-99999999999999999999", "0", "+3", "1e400", "NaN", "1.5",
    "%00", "a%00b", "%0D%0ALocation:%20x", "%E2%80%A8", "%ED%A0%80", "%FF%FE", "%", "%zz", "%EF%BB%BF1", "",
    "x" * 10_000, "..%2F..%2Fetc%2Fpasswd", "%3Cscript%3E", "page:pools:%C2%B2", "draft", "review", "runbook.md",
]
# The few the roles other than the owner try (their pages differ in what they offer, not in what they read).
SOME_QUERY_VALUES = ["%C2%B2", "99999999999999999999999999", "a%00b%ED%A0%80%0D%0A"]
# The values that are (nearly) numbers: every step of the big plan, whose lists are paged, gets these.
NUMBER_QUERY_VALUES = ["%C2%B2", "%D9%A3", "99999999999999999999999999", "9" * 5000, "-1", "0", "1.5",
                       "%ED%A0%80"]

# Path parameters by converter: (raw path segment, what it is).
ODD_PATH_VALUES: dict[str, list[str]] = {
    "str": ["..", "...", ".", "%00", "a%00b", "runbook.md%00.txt", "%0D%0A", "a%0D%0Ab", "%E2%80%A8", "%ED%A0%80",
            "%FF", "%2E%2E", "x" * 1000, "%20", "runbook.md%20", "RUNBOOK.MD", "con", "bundle.zip", "%C2%B2",
            "%3Cscript%3E", "~", "runbook.md.", "APPROVAL.json", "MANIFEST.sha256"],
    "int": ["0", "00001", "99999999999999999999999999", "9223372036854775808", "4294967296", "2147483648"],
    "slug": ["x" * 500, "review-", "Environment", "_", "0", "-"],
    "uuid": ["00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff"],
    "path": [],
}


# ---------------------------------------------------------------------------
# The world


@dataclass
class World:
    """The plans, their revisions and the people around them.

    plan:  s01 without its Edge pool and with that broken promise accepted as a risk (no errors): a
           state file kept with it, revision 1 saved from it (holding the state) and submitted.
    risky: the same plan without the accepted risk: its review page offers the error to accept.
    big:   s01 with 23 pools, 12 Edge pools and 30 SIP domains: every list is shown a page at a time.
    pair:  s01 with two of everything (SIP domains, pools, Edge pools, mobility policies): the steps' POSTs
           go to it (rows that can be told apart and sorted, cheaper to save than the big plan's).
    """

    people: Personas
    plan: Any
    risky: Any
    big: Any
    pair: Any
    revision: Any
    clients: dict[str, Client] = field(default_factory=dict)

    def client(self, role: str) -> Client:
        if role not in self.clients:
            client = Client()
            client.force_login(getattr(self.people, role))
            self.clients[role] = client
        return self.clients[role]


ROLES = ("alice", "erin", "bob", "dave", "charlie")   # owner, editor, reviewer, read-only, stranger
# Who reads the pages with hostile queries: an editor's pages are the owner's.
GET_ROLES = ("alice", "bob", "dave", "charlie")


def _without_edge(**changes: Any) -> dict[str, Any]:
    doc = plan_doc(**changes)
    doc.pop("edge_pools", None)
    return doc


def _big_doc(size: int = 0) -> dict[str, Any]:
    doc = plan_doc()
    pool, edge = doc["pools"][0], doc["edge_pools"][0]
    doc["sip_domains"] = [f"d{i}.contoso.com" for i in range(size or 30)]
    doc["pools"] = [{**copy.deepcopy(pool), "fqdn": f"pool{i}.contoso.com", "internal_web_fqdn": f"pool{i}.contoso.com",
                     "external_web_fqdn": f"web{i}.contoso.com"} for i in range(size or 23)]
    doc["edge_pools"] = [{**copy.deepcopy(edge), "fqdn": f"edge{i}.contoso.com"} for i in range(size or 12)]
    doc["mobility_policies"] = [{"identity": "Global"}, *({"identity": f"site:S{i}"} for i in range(1, size or 12))]
    return doc


ACCEPTED = {"code": "mfa_edge_not_in_plan", "field": "edge_pools", "reason": "Edge replaced in March"}


@pytest.fixture
def world() -> World:
    from wizard.review import estate
    from wizard.review import services as review

    people = make_personas()
    plan = make_plan(doc=_without_edge(accepted_risks=[ACCEPTED]))
    estate.store_state_file(plan, text=(STATES / "sfb2019-adfs2019-wap.state.json").read_bytes(), by=people.alice)
    plan.refresh_from_db()
    revision = review.save_revision(plan, draft_version=current_version(plan), by=people.alice, message="First")
    review.submit_for_review(revision, by=people.alice)
    risky = make_plan(doc=_without_edge(), name="Risky plan")
    big = make_plan(doc=_big_doc(), name="Big plan")
    pair = make_plan(doc=_big_doc(2), name="Pair plan")
    plan.refresh_from_db()
    made = World(people=people, plan=plan, risky=risky, big=big, pair=pair, revision=revision)
    for role in ROLES:
        made.client(role)   # signed in now: a session made inside a rolled-back block would vanish with it
    return made


def fill(route: Route, world: World, *, plan: Any = None, step: str = "environment", **odd: str) -> str:
    """Return the path of `route` for `plan` (the world's by default); `odd` replaces keywords by raw text."""
    plan = plan or world.plan
    values = {"code": str(plan.code), "number": str(world.revision.number if plan == world.plan else 1),
              "step": step, "filename": "runbook.md", "uidb64": "MQ", "token": "set-password", **odd}
    path = route.route
    for name, _ in route.params:
        assert name in values, f"add a value for URL keyword {name!r} (route {route.route!r}) to fill()"
        path = re.sub(r"<(?:[^>:]+:)?" + re.escape(name) + ">", values[name], path, count=1)
    return "/" + path


def step_slugs() -> list[str]:
    from wizard.web.steps import STEPS

    return [s.slug for s in STEPS]


# ---------------------------------------------------------------------------
# Asking


class Failures:
    """The 500s of a test, each with its request and the end of its traceback, reported together."""

    def __init__(self) -> None:
        self.found: list[str] = []
        self.seen: set[str] = set()
        self.statuses: Counter[tuple[str, int]] = Counter()   # (request, status): what the answers were

    def call(self, what: str, send: Callable[[], Any]) -> Any:
        import traceback

        try:
            response = send()
        except Exception as exc:  # the test client re-raises what the view raised: a 500
            frames = traceback.extract_tb(exc.__traceback__)
            ours = [f for f in frames if "/wizard/" in f.filename and "/.venv/" not in f.filename] or frames
            key = f"{what.split('?')[0].split(' [')[0][:120]}: {type(exc).__name__} at {ours[-1].filename}:{ours[-1].lineno}"
            if key not in self.seen:
                self.seen.add(key)
                tail = "".join(traceback.format_exception(exc)[-4:])
                self.found.append(f"{what[:600]}\n  -> {key}\n{tail}")
            return None
        self.statuses[what.split(" ")[0] + " " + re.sub(r"[0-9a-f-]{36}", "<code>", what.split(" ")[1].split("?")[0]),
                      response.status_code] += 1
        if response.status_code >= 500:
            self.found.append(f"{what[:600]}\n  -> answered {response.status_code}")
        return response

    def check(self) -> None:
        assert not self.found, f"{len(self.found)} request(s) answered 500:\n\n" + "\n\n".join(self.found)


@contextmanager
def rolled_back(world: World) -> Iterator[None]:
    """Run the block in a transaction rolled back at its end: each route starts from the same world."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)
    for plan in (world.plan, world.risky, world.big, world.pair):
        plan.refresh_from_db()
    world.revision.refresh_from_db()


def get(failures: Failures, client: Client, path: str, query: str = "", **headers: str) -> Any:
    url = f"{path}?{query}" if query else path
    return failures.call(f"GET {url[:300]} {headers or ''}", lambda: client.get(url, headers=headers or None))


def encode_form(pairs: list[tuple[str, str]]) -> bytes:
    """Return `pairs` as an urlencoded body; lone surrogates travel as their (invalid) UTF-8 bytes."""
    return "&".join(f"{quote(k, safe='', errors='surrogatepass')}={quote(v, safe='', errors='surrogatepass')}"
                    for k, v in pairs).encode("ascii")


def post(failures: Failures, client: Client, path: str, pairs: list[tuple[str, str]], **headers: str) -> Any:
    body = encode_form(pairs)
    return failures.call(f"POST {path} {pairs!r:.500}", lambda: client.post(
        path, body, content_type="application/x-www-form-urlencoded", headers=headers or None))


def says_why(response: Any) -> bool:
    """Return whether a refusal's page says something (a message or a field's error), not a blank page."""
    text = response.content.decode("utf-8", "replace")
    words = re.sub(r"<[^>]+>|\s+", " ", re.sub(r"(?s)<(script|style|head)\b.*?</\1>", "", text)).strip()
    return len(words) >= 10


# ---------------------------------------------------------------------------
# GET with hostile query strings


def query_strings(values: list[str], *, odd_keys: bool = True) -> Iterator[str]:
    """Yield query strings: each value in every known key; then repeated keys, keys with brackets, odd keys."""
    for value in values:
        yield "&".join(f"{k}={value}" for k in QUERY_KEYS)
    if not odd_keys:
        return
    yield "&".join(f"{k}=1&{k}=%C2%B2&{k}=" for k in QUERY_KEYS)
    yield "&".join(f"{k}[]=1&{k}[0]=%00&{k}%5B%5D=2" for k in QUERY_KEYS)
    yield "%00=1&%ED%A0%80=2&page%00=3&=4&&&==&%E2%80%A8=5&" + "k" * 5000 + "=6"
    yield "&".join(f"{k}" for k in QUERY_KEYS)   # keys without a value
    yield ";".join(f"{k}=%C2%B2" for k in QUERY_KEYS)


def get_targets(route: Route, world: World, role: str) -> list[tuple[str, list[str]]]:
    """Return (path, query values) to try on `route` as `role`.

    The owner tries every value on one page of each kind; every step of the big plan (lists shown a
    page at a time) gets the values that are numbers; the other roles try a few values.
    """
    from wizard.web.steps import STEPS, paging

    if "step" not in route.kwargs:
        return [(fill(route, world), HOSTILE_QUERY_VALUES if role == "alice" else SOME_QUERY_VALUES)]
    if role != "alice":
        return [(fill(route, world, step=s), SOME_QUERY_VALUES) for s in ("environment", "review")]
    return ([(fill(route, world, step=s), HOSTILE_QUERY_VALUES) for s in ("environment", "review")]
            + [(fill(route, world, plan=world.big, step=s.slug), NUMBER_QUERY_VALUES) for s in STEPS if paging(s)])


def test_hostile_query_strings_never_answer_500(world: World) -> None:
    failures = Failures()
    for route in ROUTES:
        headers = {"HX-Request": "true"} if "filename" in route.kwargs else {}
        for role in GET_ROLES:
            client = world.client(role)
            for path, values in get_targets(route, world, role):
                for query in query_strings(values, odd_keys=role == "alice"):
                    response = get(failures, client, path, query, **headers)
                    if response is not None and response.status_code == 405:
                        break   # POST only: the query is never read
    failures.check()


def test_odd_path_parameters_never_answer_500(world: World) -> None:
    failures = Failures()
    for route in ROUTES:
        for role in ("alice", "charlie"):
            client = world.client(role)
            for name, converter in route.params:
                for value in ODD_PATH_VALUES.get(converter, ODD_PATH_VALUES["str"]):
                    path = fill(route, world, **{name: value})
                    for headers in ({}, {"HX-Request": "true"}) if "filename" in route.kwargs else ({},):
                        for method in ("get", "post"):
                            send = getattr(client, method)
                            failures.call(f"{method.upper()} {path} {headers}",
                                          lambda s=send, h=headers, p=path: s(p, headers=h or None))
    failures.check()


def test_random_query_values_never_answer_500(world: World) -> None:
    failures = Failures()
    client = world.client("alice")
    routes = [r for r in ROUTES if "code" in r.kwargs or not r.params]

    @HYPOTHESIS
    @given(route=st.sampled_from(routes), key=st.sampled_from(QUERY_KEYS), value=st.text(max_size=30),
           step=st.sampled_from(step_slugs()))
    def fuzz(route: Route, key: str, value: str, step: str) -> None:
        query = f"{quote(key)}={quote(value, safe='', errors='surrogatepass')}"
        get(failures, client, fill(route, world, plan=world.big, step=step), query)

    fuzz()
    failures.check()


# ---------------------------------------------------------------------------
# POST with each form's real fields, mutated one at a time


class Forms(HTMLParser):
    """The POST forms of a page as a browser would submit them: (action, fields, file fields).

    What a person must fill in is filled in as they would: a required empty text gets a value, a
    required select its first real option, a radio group with nothing checked its first choice.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[tuple[str, list[tuple[str, str]], list[str]]] = []
        self._form: tuple[str, list[tuple[str, str]], list[str]] | None = None
        self._radios: dict[str, str | None] = {}
        self._select: str | None = None
        self._select_value: str | None = None
        self._select_required = False
        self._select_first = ""
        self._textarea: str | None = None
        self._textarea_required = False
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method", "").lower() == "post":
            self._form = (a.get("action", ""), [], [])
            self._radios = {}
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag in ("input", "button") and a.get("name"):
            kind = a.get("type", "text" if tag == "input" else "submit").lower()
            if kind == "file":
                self._form[2].append(a["name"])
            elif kind == "radio":
                if "checked" in a:
                    self._radios[a["name"]] = None
                    self._form[1].append((a["name"], a.get("value", "on")))
                elif a["name"] not in self._radios:
                    self._radios[a["name"]] = a.get("value", "on")
            elif kind == "checkbox" and "checked" not in a:
                return
            elif kind not in ("submit", "button", "image", "reset"):
                value = a.get("value", "on" if kind == "checkbox" else "")
                if not value and "required" in a:
                    value = "Typed by the fuzz test"
                self._form[1].append((a["name"], value))
        elif tag == "select" and a.get("name"):
            self._select, self._select_value = a["name"], None
            self._select_required, self._select_first = "required" in a, ""
        elif tag == "option" and self._select is not None:
            if self._select_value is None or "selected" in a:
                self._select_value = a.get("value", "")
            if not self._select_first and a.get("value"):
                self._select_first = a["value"]
        elif tag == "textarea" and a.get("name"):
            self._textarea, self._text, self._textarea_required = a["name"], [], "required" in a

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._form is not None:
            self._form[1].extend((name, value) for name, value in self._radios.items() if value is not None)
            self._form = None
        elif tag == "select" and self._select is not None and self._form is not None:
            value = self._select_value or ""
            self._form[1].append((self._select, value or (self._select_first if self._select_required else "")))
            self._select = None
        elif tag == "textarea" and self._textarea is not None and self._form is not None:
            text = "".join(self._text)
            self._form[1].append((self._textarea, text or ("Typed by the fuzz test" if self._textarea_required else "")))
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)


# Pages holding the forms that post to a route, besides the route's own page.
HOST_PAGES = {
    "plan-step-autosave": ["plan-step"], "plan-step-preview": ["plan-step"],
    "revision-submit": ["revision-detail"], "revision-approve": ["revision-detail"],
    "revision-request-changes": ["revision-detail"], "revision-comment": ["revision-detail"],
    "revision-withdraw": ["revision-detail"], "plan-comment": ["plan-revisions"],
    "plan-unshare": ["plan-sharing"], "plan-risk-accept": ["plan-step"], "plan-risk-withdraw": ["plan-step"],
}
# Who posts: the owner, but the reviewer for the reviewer's actions.
ACTOR = {"revision-approve": "bob", "revision-request-changes": "bob", "revision-withdraw": "bob"}


def host_forms(client: Client, route: Route, path_of: Callable[[Route], str]) -> tuple[list[tuple[str, str]], list[str]]:
    """Return the fields (and file fields) of the first form posting to `route`, from the pages holding it."""
    target = path_of(route)
    for name in [route.name, *HOST_PAGES.get(route.name, [])]:
        page = path_of(BY_NAME[name])
        response = client.get(page)
        if response.status_code != 200 or not response.get("Content-Type", "").startswith("text/html"):
            continue
        parser = Forms()
        parser.feed(response.content.decode())
        for action, fields, files in parser.forms:
            action_path = urlsplit(action).path or page
            try:
                if action_path == target or (resolve(action_path).url_name == route.name == resolve(target).url_name \
                        and action_path.startswith(target.rsplit("/", 2)[0])):
                    return fields, files
            except Resolver404:
                continue
        if route.name in ("plan-step-autosave", "plan-step-preview"):
            # The step form posts to the step page; htmx posts the same fields here.
            for action, fields, files in parser.forms:
                if (urlsplit(action).path or page) == page:
                    return fields, files
    return [], []


REPEAT, DROP = object(), object()
# (what, value): each field gets each of these, one field at a time.
MUTATIONS: list[tuple[str, Any]] = [
    ("empty", ""), ("missing", DROP), ("sent twice", REPEAT), ("wrong type", "not a number, not a choice"),
    ("huge number", "9" * 30), ("more digits than int() takes", "9" * 5000), ("negative", "-1"), ("float", "1.5"),
    ("NUL", "\x00"), ("NUL inside", "a\x00b"), ("superscript two", "\u00b2"), ("circled one", "\u2460"),
    ("Arabic-Indic three", "\u0663"), ("fullwidth three", "\uff13"), ("CR LF", "a\r\nb"),
    ("line separator", "\u2028"), ("lone surrogate", "\ud800"), ("BOM", "\ufeff1"), ("long", "x" * 20_000),
    ("spaces", "  "), ("path", "../../etc/passwd"), ("markup", "<script>alert(1)</script>"),
]
VERSION_FIELDS = {"draft_version"}


def mutations_for(name: str, value: str) -> list[tuple[str, Any]]:
    out = list(MUTATIONS)
    if name in VERSION_FIELDS and value.isdigit():
        number = int(value)
        out += [("stale version", str(number - 1)), ("future version", str(number + 1)), ("version 0", "0"),
                ("version with spaces", f" {number} "), ("version in Arabic digits",
                                                         "".join(chr(0x660 + int(d)) for d in value))]
    if name == "action":
        out += [(f"action {a}", a) for a in ("page:pools:\u00b2", "page:pools:99999", "page::1", "page:", "add:",
                                             "add:pools", "add:nothing", "next", "back", "page:pools:-1")]
    if name.endswith(("-TOTAL_FORMS", "-INITIAL_FORMS")):
        out += [("count 1001", "1001"), ("count 100000", "100000")]
    if name == "step_window":
        out += [("window overlong", "pools=0:999999:999999"), ("window unicode", "pools=\u0663:\u0664:\u0665"),
                ("window twice", "pools=0:1:1;pools=0:1:1"), ("window reversed", "pools=5:1:9")]
    return out


def normalised(name: str) -> str:
    """Return a field name with its row number taken out (`pools-3-fqdn` -> `pools-N-fqdn`)."""
    return re.sub(r"-\d+-", "-N-", name)


def mutated(fields: list[tuple[str, str]], position: int, value: Any) -> list[tuple[str, str]]:
    out = []
    for index, (name, original) in enumerate(fields):
        if index != position:
            out.append((name, original))
        elif value is DROP:
            continue
        elif value is REPEAT:
            out += [(name, original), (name, original + "\u00b2")]
        else:
            out.append((name, value))
    return out


POST_ROUTES = [r for r in ROUTES if r.name not in ("logout",)]
# What each POST route needs first so that the form posting to it is on its page.
PREPARE: dict[str, Callable[[World], None]] = {}


def _approve_first(world: World) -> None:
    from wizard.review import services as review

    review.approve(world.revision, by=world.people.bob, comment="Looks right")


PREPARE["revision-withdraw"] = _approve_first
PREPARE["revision-download"] = _approve_first


def plan_for(route: Route, world: World) -> Any:
    if route.name == "plan-risk-accept":
        return world.risky
    return world.pair if "step" in route.kwargs else world.plan


def assert_pages_render(failures: Failures, client: Client, world: World, plan: Any) -> None:
    """Every GET page of `plan` (each step) still renders once the POSTs stored what they stored."""
    for route in ROUTES:
        if "code" not in route.kwargs:
            continue
        for step in step_slugs() if "step" in route.kwargs else ["environment"]:
            get(failures, client, fill(route, world, plan=plan, step=step))


# The most mutated requests per step form (a step form has dozens of fields, each request costs a save):
# the step save's draft version gets every mutation, then the mutations are dealt out in turns, field by field,
# each field starting at another mutation, so that all of them are used on some field.
STEP_BUDGET = {"plan-step": 30 * SCALE, "plan-step-autosave": 12 * SCALE, "plan-step-preview": 12 * SCALE}


def planned_mutations(route: Route, fields: list[tuple[str, str]]) -> list[tuple[int, str, Any]]:
    """Return (field position, what, value): each field of the form mutated, one at a time."""
    positions, seen = [], set()
    for position, (name, _) in enumerate(fields):
        if normalised(name) not in seen and name != "csrfmiddlewaretoken":
            seen.add(normalised(name))
            positions.append(position)
    lists = {p: mutations_for(fields[p][0], fields[p][1]) for p in positions}
    budget = STEP_BUDGET.get(route.name)
    if budget is None:
        return [(p, what, value) for p in positions for what, value in lists[p]]
    first = [p for p in positions if fields[p][0] in VERSION_FIELDS and route.name == "plan-step"]
    rest = [p for p in positions if p not in first]
    dealt: list[tuple[int, str, Any]] = []
    for turn in range(max((len(lists[p]) for p in rest), default=0)):
        for order, p in enumerate(rest):
            what, value = lists[p][(turn + order * 7) % len(lists[p])]
            dealt.append((p, what, value))
    return [(p, what, value) for p in first for what, value in lists[p]] + dealt[:budget]


def test_posted_fields_mutated_one_at_a_time_never_answer_500(world: World) -> None:
    failures = Failures()
    for route in POST_ROUTES:
        with rolled_back(world):
            fuzz_posts(route, world, failures)
    failures.check()


def fuzz_posts(route: Route, world: World, failures: Failures) -> None:
    if route.name in PREPARE:
        PREPARE[route.name](world)
    plan = plan_for(route, world)
    before = stored(plan)
    client = world.client(ACTOR.get(route.name, "alice"))
    steps = [s for s in step_slugs() if s != "review"] if "step" in route.kwargs else ["environment"]
    if route.name in ("plan-risk-accept", "plan-risk-withdraw"):
        steps = ["review"]
    for step in steps:
        def path_of(r: Route, step: str = step) -> str:
            return fill(r, world, plan=plan, step=step)

        target = path_of(route)
        fields, _ = host_forms(client, route, path_of)
        # The form as the page gives it, by every role (a refusal is a 403/404, never a 500).
        for role in ROLES:
            post(failures, world.client(role), target, fields)
        plan.refresh_from_db()
        version = plan.draft_version
        for position, what, hostile in planned_mutations(route, fields):
            if position >= len(fields):
                continue
            name = fields[position][0]
            response = post(failures, client, target, mutated(fields, position, hostile))
            if response is None:
                continue
            if response.status_code in (400, 409, 413, 422):
                assert says_why(response), f"POST {target} with {name} {what}: a blank {response.status_code}"
            plan.refresh_from_db()
            if plan.draft_version != version:
                # Saved: the next mutation starts from the page as it is now.
                version = plan.draft_version
                fields, _ = host_forms(client, route, path_of)
        # Extra fields the page never shows, and no fields at all.
        post(failures, client, target, [*fields, ("x", "\x00"), ("action", "page:pools:\u2460"), ("next", "//evil")])
        post(failures, client, target, [])
    # What the POSTs stored must not break a page (only looked at when they stored something).
    if stored(plan) != before:
        assert_pages_render(failures, client, world, plan)


def stored(plan: Any) -> tuple[int, ...]:
    """Return what a POST may have changed about `plan`: its draft version and its rows of each kind."""
    from wizard.models import AuditEvent, Comment, PlanShare, PlanState, Review, Revision

    plan.refresh_from_db()
    return (plan.draft_version, Comment.objects.filter(plan=plan).count(), Revision.objects.filter(plan=plan).count(),
            PlanShare.objects.filter(plan=plan).count(), PlanState.objects.filter(plan=plan).count(),
            Review.objects.filter(revision__plan=plan).count(),
            AuditEvent.objects.filter(plan=plan).exclude(action=AuditEvent.Action.DOWNLOADED).count())


def test_random_text_in_a_random_step_field_never_answers_500(world: World) -> None:
    failures = Failures()
    client = world.client("alice")
    cache: dict[tuple[str, str, int], list[tuple[str, str]]] = {}
    routes = [BY_NAME["plan-step"], BY_NAME["plan-step-autosave"], BY_NAME["plan-step-preview"]]

    @HYPOTHESIS
    @given(route=st.sampled_from(routes), step=st.sampled_from([s for s in step_slugs() if s != "review"]),
           which=st.integers(0, 10**6), value=st.text(max_size=40), repeat=st.booleans())
    def fuzz(route: Route, step: str, which: int, value: str, repeat: bool) -> None:
        world.big.refresh_from_db()
        key = (route.name, step, world.big.draft_version)
        if key not in cache:
            cache[key] = host_forms(client, route, lambda r: fill(r, world, plan=world.big, step=step))[0]
        fields = cache[key]
        if not fields:
            return
        position = which % len(fields)
        pairs = mutated(fields, position, REPEAT if repeat else value)
        post(failures, client, fill(route, world, plan=world.big, step=step), pairs)

    fuzz()
    world.big.refresh_from_db()
    assert_pages_render(failures, client, world, world.big)
    failures.check()


# ---------------------------------------------------------------------------
# Uploads


def _zip(entries: dict[str, bytes], *, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _nested(depth: int) -> bytes:
    return ("[" * depth + "]" * depth).encode()


def _deep_object(depth: int) -> bytes:
    return ('{"a":' * depth + "1" + "}" * depth).encode()


def upload_contents(valid: bytes) -> dict[str, bytes]:
    """Return hostile file contents, with `valid` (a file the endpoint takes) as the base of some."""
    text = valid.decode("utf-8", "replace")
    try:
        doc = json.loads(valid)
    except ValueError:
        doc = {"bundle": None}
    doc = doc if isinstance(doc, dict) else {}
    return {
        "valid": valid,
        "empty": b"",
        "one space": b" ",
        "binary": bytes(range(256)) * 8,
        "NUL bytes": b"\x00" * 100,
        "zip bomb": _zip({"a.json": b"0" * 20_000_000}),
        "zip of the file": _zip({"plan.json": valid}),
        "zip with odd names": _zip({"../../x.json": valid, "a\x00b": b"1", "/abs": b"2", "C:\\x": b"3"}),
        "zip in a zip": _zip({"inner.zip": _zip({"a": b"a"})}),
        "nested 100000 deep": _nested(100_000),
        "objects 5000 deep": _deep_object(5000),
        "NaN": text.replace("{", '{"x_nan": NaN, "nan": NaN, ', 1).encode(),
        "Infinity": text.replace("{", '{"inf": Infinity, "ninf": -Infinity, ', 1).encode(),
        "BOM": b"\xef\xbb\xbf" + valid,
        "two BOMs": b"\xef\xbb\xbf\xef\xbb\xbf" + valid,
        "UTF-16": text.encode("utf-16"),
        "UTF-16 LE without BOM": text.encode("utf-16-le"),
        "UTF-32": text.encode("utf-32"),
        "latin-1": '{"name": "caf\xe9"}'.encode("latin-1"),
        "lone surrogate escaped": b'{"format": "x", "name": "\\ud800"}',
        "lone surrogate raw": text.replace("{", '{"x": "\xed\xa0\x80", ', 1).encode("latin-1", "replace"),
        "huge number": text.replace("{", '{"n": 1' + "0" * 5000 + ", ", 1).encode(),
        "huge float": text.replace("{", '{"n": 1e400, ', 1).encode(),
        "duplicate keys": text.replace("{", '{"format": null, ', 1).encode(),
        "array": b"[]",
        "string": b'"x"',
        "null": b"null",
        "number": b"1",
        "truncated": valid[: len(valid) // 2],
        "trailing junk": valid + b"\x00garbage",
        "CRLF everywhere": valid.replace(b"\n", b"\r\n"),
        "every value null": json.dumps(dict.fromkeys(doc)).encode(),
        "every value a list": json.dumps({k: [v] for k, v in doc.items()}).encode(),
        "every value a string": json.dumps(dict.fromkeys(doc, "²")).encode(),
        "every value an odd number": json.dumps(dict.fromkeys(doc, 10 ** 30)).encode(),
    }


ODD_FILE_NAMES = ["plan.json", "", "..", "../../etc/passwd", "a\x00b.json", "a\r\nb.json", "a%0D%0Ab.json",
                  'a"b.json', "\u2028.json", "x" * 1000 + ".json", "con.json", "\u043f\u043b\u0430\u043d.json",
                  "no extension", ".json", "bundle.zip"]


def multipart(fields: list[tuple[str, str]], files: list[tuple[str, str, bytes]]) -> tuple[bytes, str]:
    """Return a multipart body with `fields` and `files` (name, file name, content), file names as given."""
    boundary = "fuzzBoundary7MA4YWxkTrZu0gW"
    parts = []
    for name, value in fields:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
                     + value.encode("utf-8", "surrogatepass") + b"\r\n")
    for name, filename, content in files:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="'.encode()
                     + filename.encode("utf-8", "surrogatepass")
                     + b'"\r\nContent-Type: application/octet-stream\r\n\r\n' + content + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def upload(failures: Failures, client: Client, path: str, fields: list[tuple[str, str]], file_field: str,
           filename: str, content: bytes, what: str) -> Any:
    body, content_type = multipart(fields, [(file_field, filename, content)])
    return failures.call(f"POST {path} upload {what} as {filename!r:.80}",
                         lambda: client.post(path, body, content_type=content_type))


def valid_upload(route: Route, world: World) -> bytes:
    """Return a file the endpoint takes: a plan, a state file or the approved revision's bundle."""
    if route.name == "plan-import":
        return (ROOT / "bench" / "plans" / "s01-passive-extranet-mfa.plan.json").read_bytes()
    if route.name == "check-bundle":
        _approve_first(world)
        return world.client("alice").get(fill(BY_NAME["revision-download"], world)).content
    return (STATES / "sfb2019-adfs2019-wap.state.json").read_bytes()


def bundle_variants(bundle: bytes) -> dict[str, bytes]:
    """Return the approved bundle with its APPROVAL.json (and other members) damaged in odd ways."""
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    approval_name = next((n for n in members if n.endswith("APPROVAL.json")), None)
    out: dict[str, bytes] = {}
    if approval_name is None:
        return out
    approval = json.loads(members[approval_name])

    def with_approval(doc: Any, raw: bytes | None = None) -> bytes:
        return _zip({**members, approval_name: raw if raw is not None else json.dumps(doc).encode()})

    for key, value in list(approval.items()):
        for odd in (None, "\x00\u00b2", -1, 10**30, 1.5, [], "x" * 10_000):
            out[f"APPROVAL.json {key}={odd!r:.20}"] = with_approval({**approval, key: odd})
        out[f"APPROVAL.json without {key}"] = with_approval({k: v for k, v in approval.items() if k != key})
        if isinstance(value, dict):
            for inner in value:
                for odd in (None, "\u00b2", 10**30, []):
                    out[f"APPROVAL.json {key}.{inner}={odd!r:.20}"] = with_approval(
                        {**approval, key: {**value, inner: odd}})
    out["APPROVAL.json NaN"] = with_approval(None, json.dumps(approval).replace("{", '{"n": NaN, ', 1).encode())
    out["APPROVAL.json a list"] = with_approval([approval])
    out["APPROVAL.json UTF-16"] = with_approval(None, json.dumps(approval).encode("utf-16"))
    out["APPROVAL.json with a BOM"] = with_approval(None, b"\xef\xbb\xbf" + json.dumps(approval).encode())
    out["APPROVAL.json binary"] = with_approval(None, bytes(range(256)))
    out["without APPROVAL.json"] = _zip({k: v for k, v in members.items() if k != approval_name})
    out["every member empty"] = _zip(dict.fromkeys(members, b""))
    dup = io.BytesIO()
    with zipfile.ZipFile(dup, "w") as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)   # "Duplicate name": the point
        for name, data in [*members.items(), *members.items()]:
            archive.writestr(name, data)
    out["every member twice"] = dup.getvalue()
    out["a member with a NUL name"] = _zip({**members, "a\x00b": b"x"})
    out["a member up the tree"] = _zip({**members, "../evil.ps1": b"x"})
    out["stored, not deflated"] = _zip(members, method=zipfile.ZIP_STORED)
    return out


UPLOAD_ROUTES = ["plan-import", "plan-from-state", "plan-estate", "check-bundle"]


def test_the_upload_endpoints_are_the_ones_with_file_fields(world: World) -> None:
    client = world.client("alice")
    found = []
    for route in ROUTES:
        if route.name in ("logout",):
            continue
        _, files = host_forms(client, route, lambda r: fill(r, world))
        if files:
            found.append(route.name)
    assert sorted(found) == sorted(UPLOAD_ROUTES)


def test_hostile_uploads_never_answer_500(world: World) -> None:
    failures = Failures()
    for name in UPLOAD_ROUTES:
        with rolled_back(world):
            fuzz_uploads(BY_NAME[name], world, failures)
    failures.check()


def fuzz_uploads(route: Route, world: World, failures: Failures) -> None:
    client = world.client("alice")
    path = fill(route, world)
    fields, files = host_forms(client, route, lambda r: fill(r, world))
    assert files, f"{path} has no file field"
    valid = valid_upload(route, world)
    contents = upload_contents(valid)
    if route.name == "check-bundle":
        contents |= bundle_variants(valid)
    for what, content in contents.items():
        response = upload(failures, client, path, fields, files[0], "upload.json", content, what)
        if response is not None and response.status_code in (400, 409, 413):
            assert says_why(response), f"{path} {what}: a blank {response.status_code}"
    for filename in ODD_FILE_NAMES:
        for what in ("valid", "empty", "binary"):
            upload(failures, client, path, fields, files[0], filename, contents[what], f"{what} named {filename!r}")
    # Odd fields beside the file (a plan name, say), one at a time.
    for position, (field_name, _) in enumerate(fields):
        if field_name == "csrfmiddlewaretoken":
            continue
        for what, hostile in MUTATIONS:
            upload(failures, client, path, mutated(fields, position, hostile), files[0], "plan.json", valid,
                   f"{field_name} {what}")
    # The file field missing, twice, or sent as text; a body cut short.
    body, content_type = multipart(fields, [(files[0], "a.json", valid), (files[0], "b.json", b"")])
    failures.call(f"POST {path} two files", lambda: client.post(path, body, content_type=content_type))
    body, content_type = multipart([*fields, (files[0], valid.decode("utf-8", "replace"))], [])
    failures.call(f"POST {path} the file as text", lambda: client.post(path, body, content_type=content_type))
    failures.call(f"POST {path} no file", lambda: client.post(path, {}))
    failures.call(f"POST {path} a broken multipart body", lambda: client.post(
        path, b"--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\nabc",
        content_type="multipart/form-data; boundary=x"))
    world.plan.refresh_from_db()
    assert_pages_render(failures, client, world, world.plan)


def test_random_bytes_uploaded_never_answer_500(world: World) -> None:
    failures = Failures()
    client = world.client("alice")
    targets = [(fill(BY_NAME[n], world), host_forms(client, BY_NAME[n], lambda r: fill(r, world))) for n in UPLOAD_ROUTES]

    @HYPOTHESIS
    @given(which=st.integers(0, len(targets) - 1), content=st.binary(max_size=300), filename=st.text(max_size=20))
    def fuzz(which: int, content: bytes, filename: str) -> None:
        path, (fields, files) = targets[which]
        upload(failures, client, path, fields, files[0], filename.replace('"', ""), content, "random bytes")

    fuzz()
    failures.check()


def test_the_walk_finds_every_area() -> None:
    names = {r.name for r in ROUTES}
    assert {"plan-list", "plan-step", "plan-estate", "check-bundle", "revision-file", "plan-download-file",
            "login"} <= names
    assert all(r.params or "<" not in r.route for r in ROUTES)
