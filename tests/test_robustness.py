"""Bad input never causes a server error, and what it stores never breaks a later page.

Generated input (hypothesis, randomised with the run's printed seed) goes to:
  * the plan reader (`wizard.plan.reader.load_plan`), the rules (`wizard.plan.engine.assess`) and the
    bundle (`wizard.bundle.build_bundle`): arbitrary bytes, arbitrary JSON, and the example
    plan with random parts replaced;
  * the `check_plan` command: hostile files give exit status 1 or 2 with a message, never a traceback;
  * the import endpoint: a new plan is stored only when the file is a valid plan;
  * every POST endpoint of the app (walked from the URLconf, like tests/test_view_access.py):
    the fields the app's own pages show, with hostile values, missing fields and extra ones.
    No answer is a 500, a refusal (anything but a redirect) stores nothing, and after each
    request every page of the plan still renders.

The number of examples per endpoint is ROBUSTNESS_EXAMPLES (default 200; the web endpoints
use a quarter of it, each example being a dozen requests).
"""
from __future__ import annotations

import copy
import io
import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.test import Client
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.test_view_access import ROUTES, Route
from wizard.plan.engine import assess
from wizard.plan.finding import has_errors
from wizard.plan.reader import PlanUnreadable, load_plan, parse_plan_text, read_plan
from wizard.plan.writer import plan_to_dict

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "bench" / "plans" / "s01-passive-extranet-mfa.plan.json"
EXAMPLES = int(os.environ.get("ROBUSTNESS_EXAMPLES", "200"))
WEB_EXAMPLES = max(10, EXAMPLES // 4)

FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large, HealthCheck.filter_too_much])
WEB_FUZZ = settings(FUZZ, max_examples=WEB_EXAMPLES)

# ---------------------------------------------------------------------------
# Generated values

HOSTILE_TEXT = [
    "", " ", "\t\n", "\x00", "\x00abc", "\r\n\r\n", "\u202e", "\ufeff", "\u200b", "x" * 5000,
    "'; Remove-Item C:\\ -Recurse; '", "\u2018\u2019\u201a\u201b\u201c\u201d", "$(Invoke-Expression 'calc')",
    "`n`r", "@'\n'@", "<script>alert(1)</script>", "{{ 7*7 }}", "{% debug %}", "%s%s%s%n", "../../etc/passwd",
    "contoso.com", "-contoso.com", "contoso..com", "a" * 64 + ".com", "xn--", "b\u00fccher.example",
    "service:WebServer:pool.contoso.com", "Global", "site:", "Tag:", "site:Redmond", "passive", "tls_dsk",
    "ntlm", "2012r2", "extranet", "always", "lync2013", "sfb2019", "frontend", "director", "true", "false", "on",
    "0", "-1", "8", "8760", "99999999999999999999999", "1e309", "NaN", "-0", "None", "null", "[]", "{}",
]
JSON_LEAVES = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=80), st.sampled_from(HOSTILE_TEXT),
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=15), inner, max_size=4)),
    max_leaves=15,
)
FIELD_TEXT = st.one_of(st.text(max_size=60), st.sampled_from(HOSTILE_TEXT),
                       st.integers(min_value=-(10**12), max_value=10**12).map(str))
PLAN_KEYS = ["fqdn", "role", "site", "auth", "external", "relying_parties", "internal", "x_note", "mfa", "version",
             "identity", "meet", "key_size", "ca", "block_ntlm", "client_certificate_hours", "default", "min", "max",
             "pools", "edge_pools", "adfs", "sip_domains", "format", "product", "name"]


def example_doc() -> dict[str, Any]:
    return json.loads(EXAMPLE.read_text(encoding="utf-8"))


def _paths(doc: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix] if prefix else []
    if isinstance(doc, dict):
        for key, value in doc.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            out += _paths(value, (*prefix, index))
    return out


EXAMPLE_PATHS = _paths(example_doc())


@st.composite
def mutated_plans(draw: st.DrawFn) -> dict[str, Any]:
    """Return the example plan with one to four parts replaced, added or removed."""
    doc = example_doc()
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        path = draw(st.sampled_from(EXAMPLE_PATHS))
        parent: Any = doc
        try:
            for key in path[:-1]:
                parent = parent[key]
            action = draw(st.sampled_from(["replace", "add", "remove"]))
            if action == "replace":
                parent[path[-1]] = draw(JSON_VALUES)
            elif action == "add" and isinstance(parent, dict):
                parent[draw(st.sampled_from(PLAN_KEYS))] = draw(JSON_VALUES)
            elif action == "remove":
                del parent[path[-1]]
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change removed or retyped this part
    return doc


def nested(depth: int, leaf: str = "0") -> str:
    return "[" * depth + leaf + "]" * depth


# Hand-picked files, beside the generated ones: each must give a clean error (or a valid plan).
HOSTILE_FILES: dict[str, bytes] = {
    "empty": b"",
    "not json": b"this is not json",
    "binary": bytes(range(256)) * 4,
    "utf-16": json.dumps(example_doc()).encode("utf-16"),
    "latin-1": '{"name": "caf\xe9"}'.encode("latin-1"),
    "json array": b"[]",
    "json string": b'"lync-auth-plan/1"',
    "json null": b"null",
    "nan": b'{"format": "lync-auth-plan/1", "autodiscover_port": NaN}',
    "infinity": b'{"format": "lync-auth-plan/1", "certificates": {"key_size": Infinity}}',
    "huge number": b'{"format": "lync-auth-plan/1", "autodiscover_port": 1' + b"0" * 5000 + b"}",
    "huge float": b'{"format": "lync-auth-plan/1", "autodiscover_port": 1e400}',
    "duplicate keys": b'{"format": "x", "format": "lync-auth-plan/1", "name": "a", "name": "b"}',
    "nested 100000 deep": nested(100_000).encode(),
    "nested 5000 deep in a plan": json.dumps({**example_doc(), "x_deep": "@@"}).replace(
        '"@@"', nested(5000)).encode(),
    "nested 500 deep in a plan": json.dumps({**example_doc(), "x_deep": "@@"}).replace(
        '"@@"', nested(500)).encode(),
    "200 kB name": json.dumps({**example_doc(), "name": "n" * 200_000}).encode(),
    "10000 pools": json.dumps({**example_doc(), "pools": [{"fqdn": f"p{i}.contoso.com"} for i in range(10_000)]}
                              ).encode()[:250_000],
    "lone surrogate": b'{"format": "lync-auth-plan/1", "name": "\\ud800"}',
    "bom": b"\xef\xbb\xbf" + json.dumps(example_doc()).encode(),
    "control characters": json.dumps({**example_doc(), "name": "a\x00b\x1bc\u2028"}).encode(),
    "null among the SIP domains": json.dumps({**example_doc(), "sip_domains": [None]}).encode(),
    "null among the meet URLs": json.dumps({**example_doc(), "simple_urls": {"meet": [None, "meet.contoso.com"]}}
                                           ).encode(),
}


# ---------------------------------------------------------------------------
# The reader, the rules and the bundle


def judge(doc: Any) -> None:
    """Assess `doc` and, when it is a valid plan, build its bundle: nothing else may raise."""
    from wizard.scripts.bundle import PlanRejected, Source, build_bundle

    plan, findings = assess(doc)
    if plan is None:
        assert has_errors(findings), "a document that is not a plan must say why"
        return
    # What the reader accepts, it writes back as a plan it reads again with the same verdict
    # (export always imports).
    again, refound = assess(plan_to_dict(plan))
    errors = sorted(f.code for f in findings if f.severity == "error")
    assert again is not None and sorted(f.code for f in refound if f.severity == "error") == errors, (
        f"read {json.dumps(doc)[:300]} with errors {errors}, but its own export with: "
        f"{[f for f in refound if f.severity == 'error']}")
    if not has_errors(findings):
        try:
            build_bundle(plan, source=Source.for_plan(plan), findings=findings)
        except PlanRejected:
            pass


@FUZZ
@given(st.binary(max_size=2000))
def test_the_reader_takes_any_bytes(data: bytes) -> None:
    try:
        load_plan(data)
    except PlanUnreadable as exc:
        assert str(exc)


@FUZZ
@given(JSON_VALUES)
def test_the_reader_and_rules_take_any_json(doc: Any) -> None:
    try:
        plan, findings = load_plan(json.dumps(doc))
    except PlanUnreadable:
        assert not isinstance(doc, dict)
        return
    assert plan is None or not has_errors(findings)
    judge(doc)


@FUZZ
@given(mutated_plans())
def test_a_damaged_plan_gets_findings_never_an_exception(doc: dict[str, Any]) -> None:
    judge(doc)
    judge(json.loads(json.dumps(doc)))


@pytest.mark.parametrize("name", sorted(HOSTILE_FILES))
def test_hostile_files_are_refused_cleanly_by_the_reader(name: str) -> None:
    try:
        doc = parse_plan_text(HOSTILE_FILES[name])
    except PlanUnreadable as exc:
        assert str(exc)
        return
    judge(doc)


def run_check_plan(tmp_path: Path, data: bytes) -> tuple[int, str]:
    """Return (exit status, stderr + stdout) of `check_plan` on a file holding `data`."""
    path = tmp_path / "plan.json"
    path.write_bytes(data)
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("check_plan", str(path), stdout=out, stderr=err)
        status = 0
    except SystemExit as exc:
        status = int(exc.code or 0)
    return status, err.getvalue() + out.getvalue()


@pytest.mark.parametrize("name", sorted(HOSTILE_FILES))
def test_check_plan_reports_hostile_files_with_an_exit_status(tmp_path: Path, name: str) -> None:
    status, output = run_check_plan(tmp_path, HOSTILE_FILES[name])
    assert status in (0, 1, 2)
    assert output.strip()
    assert "Traceback" not in output


@settings(FUZZ, max_examples=max(10, EXAMPLES // 2))
@given(st.one_of(st.binary(max_size=500), JSON_VALUES.map(lambda d: json.dumps(d).encode()),
                 mutated_plans().map(lambda d: json.dumps(d).encode())))
def test_check_plan_takes_any_file(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    status, output = run_check_plan(tmp_path_factory.mktemp("check"), data)
    assert status in (0, 1, 2)
    assert "Traceback" not in output


# ---------------------------------------------------------------------------
# The web endpoints

class PageForms(HTMLParser):
    """Collect the fields of a page's POST forms as a browser would submit them, by form action."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[tuple[str, list[tuple[str, str]]]] = []
        self._fields: list[tuple[str, str]] | None = None
        self._select: str | None = None
        self._select_value: str | None = None
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method", "").lower() == "post":
            self._fields = []
            self.forms.append((a.get("action", ""), self._fields))
        elif self._fields is None:
            return
        elif tag in ("input", "button") and a.get("name"):
            kind = a.get("type", "text" if tag == "input" else "submit").lower()
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind not in ("submit", "button", "image", "reset", "file"):
                self._fields.append((a["name"], a.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "select" and a.get("name"):
            self._select, self._select_value = a["name"], None
        elif tag == "option" and self._select is not None:
            if self._select_value is None or "selected" in a:
                self._select_value = a.get("value", "")
        elif tag == "textarea" and a.get("name"):
            self._textarea, self._text = a["name"], []

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._fields = None
        elif tag == "select" and self._select is not None and self._fields is not None:
            self._fields.append((self._select, self._select_value or ""))
            self._select = None
        elif tag == "textarea" and self._textarea is not None and self._fields is not None:
            self._fields.append((self._textarea, "".join(self._text)))
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)


def page_forms(client: Client, path: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """Return the POST forms of the page at `path` (none when it is not a 200 HTML page)."""
    response = client.get(path)
    if response.status_code != 200 or not response.get("Content-Type", "").startswith("text/html"):
        return []
    parser = PageForms()
    parser.feed(response.content.decode())
    return parser.forms


def url_of(route: Route, plan: Any, revision_number: int, step: str) -> str:
    values = {"code": plan.code, "number": revision_number, "step": step, "filename": "runbook.md"}
    path = route.route
    for name in route.kwargs:
        path = re.sub(r"<(?:[^>:]+:)?" + re.escape(name) + ">", str(values[name]), path, count=1)
    return "/" + path


def stored_rows() -> dict[str, int]:
    """Return the row count of every model of the app (the audit log included)."""
    return {m._meta.label: m.objects.count() for m in apps.get_app_config("wizard").get_models()}


# Routes that answered 405 to a GET once (POST-only): not fetched again when checking pages.
POST_ONLY: set[str] = set()


def assert_pages_render(client: Client, plan: Any, revision_number: int) -> None:
    """Fail when any GET page of `plan` answers a server error (the steps, the review, downloads...)."""
    from wizard.web.steps import STEPS

    for route in ROUTES:
        if "code" not in route.kwargs or route.name in POST_ONLY:
            continue
        steps = [s.slug for s in STEPS] if "step" in route.kwargs else ["-"]
        for step in steps:
            path = url_of(route, plan, revision_number, step)
            status = client.get(path).status_code
            if status == 405:
                POST_ONLY.add(route.name)
                break
            assert status < 500, f"GET {path} answered {status} after the draft became {plan.draft!r:.500}"


@pytest.fixture
def owner_world(settings) -> dict[str, Any]:
    from tests.base import current_version
    from wizard.review import services as review
    from wizard.web.drafts import create_plan

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    owner = User.objects.create_user("fuzz-owner", password="x")
    Group.objects.create(name="Fuzz team")
    plan = create_plan(owner=owner, doc=example_doc())
    revision = review.save_revision(plan, draft_version=current_version(plan), by=owner, message="First")
    client = Client()
    client.force_login(owner)
    return {"owner": owner, "plan": plan, "revision": revision, "client": client}


POST_ROUTES = [r for r in ROUTES if r.name not in ("plan-import",)]
# Endpoints that may store something and still answer 200 (htmx fragments).
SAVE_WITHOUT_REDIRECT = ("plan-step-autosave", "plan-step-preview")
AUDIT = "wizard.AuditEvent"
# Up to six fields of a form changed, left out or sent twice, and up to two extra fields.
EDITS = st.lists(st.tuples(st.integers(min_value=0, max_value=10**6), st.sampled_from(["change", "drop", "repeat"]),
                           FIELD_TEXT), max_size=6)
EXTRAS = st.lists(st.tuples(st.integers(min_value=0, max_value=10**6), FIELD_TEXT), max_size=2)


def host_pages(route: Route) -> list[str]:
    """Return the names of routes whose pages hold the forms that post to `route` (itself first)."""
    related = {
        "plan-step-autosave": ["plan-step"], "plan-step-preview": ["plan-step"],
        "revision-submit": ["revision-detail"], "revision-approve": ["revision-detail"],
        "revision-request-changes": ["revision-detail"], "revision-comment": ["revision-detail"],
        "plan-comment": ["revision-detail", "plan-revisions"], "plan-unshare": ["plan-sharing"],
        "revision-save": ["revision-save", "plan-revisions"],
    }
    return [route.name, *related.get(route.name, [])]


@pytest.mark.django_db
@pytest.mark.parametrize("route", POST_ROUTES, ids=lambda r: r.name)
def test_every_form_endpoint_survives_hostile_posts(route: Route, owner_world: dict[str, Any]) -> None:
    from wizard.web.steps import STEPS

    client, plan, number = owner_world["client"], owner_world["plan"], owner_world["revision"].number
    by_name = {r.name: r for r in ROUTES}
    step_slugs = [s.slug for s in STEPS if not s.is_review]

    cache: dict[tuple, list[tuple[str, str]]] = {}

    def browser_fields(step: str) -> list[tuple[str, str]]:
        """Return the fields of the page(s) holding the forms that post to the route, as now stored."""
        key = (step, plan.draft_version, tuple(sorted(stored_rows().items())))
        if key not in cache:
            fields: list[tuple[str, str]] = []
            for name in host_pages(route):
                if name in by_name and (by_name[name].kwargs == route.kwargs or "step" not in route.kwargs):
                    for _, form_fields in page_forms(client, url_of(by_name[name], plan, number, step)):
                        fields += form_fields
            cache.clear()
            cache[key] = list(dict.fromkeys(fields))
        return cache[key]

    @WEB_FUZZ
    @given(step=st.sampled_from(step_slugs or ["-"]), edits=EDITS, extras=EXTRAS)
    def fuzz(step: str, edits: list[tuple[int, str, str]], extras: list[tuple[int, str]]) -> None:
        # The draws never depend on the page (which changes as the database does): each edit
        # names a field by a number that is mapped onto the fields the page has right now.
        step = step if "step" in route.kwargs else "-"
        target = url_of(route, plan, number, step)
        fields = browser_fields(step)
        post: dict[str, list[str]] = {}
        changed: dict[int, tuple[str, str]] = {}
        for index, action, value in edits:
            if fields:
                changed[index % len(fields)] = (action, value)
        for position, (name, value) in enumerate(fields):
            action, hostile = changed.get(position, ("keep", ""))
            if action == "drop":
                continue  # a field left out
            post.setdefault(name, []).append(hostile if action == "change" else value)
            if action == "repeat":
                post[name].append(hostile)  # the same field twice
        names = [n for n, _ in fields] + ["x", "action", "draft_version", "next"]
        for index, value in extras:
            post.setdefault(names[index % len(names)], []).append(value)
        before = stored_rows()
        version = plan.draft_version
        response = client.post(target, post)
        status = response.status_code
        assert status < 500, f"POST {target} {post!r:.800} answered {status}"
        after = stored_rows()
        plan.refresh_from_db()
        download = "attachment" in response.get("Content-Disposition", "")
        if status >= 400 or (status == 200 and not download and route.name not in SAVE_WITHOUT_REDIRECT):
            assert after == before, f"POST {target} was refused ({status}) yet stored rows"
            assert plan.draft_version == version
        elif download:
            # A download only records itself in the audit log.
            assert {k: v for k, v in after.items() if k != AUDIT} == {k: v for k, v in before.items() if k != AUDIT}
        # A new draft replaces the last one, so its pages are checked now; other stored rows
        # (comments, revisions, shares) stay, and the check after the last example covers them.
        if plan.draft_version != version:
            assert_pages_render(client, plan, number)

    fuzz()
    plan.refresh_from_db()
    assert_pages_render(client, plan, number)


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(HOSTILE_FILES))
def test_the_import_endpoint_refuses_hostile_files_cleanly(name: str, owner_world: dict[str, Any]) -> None:
    assert_import_is_clean(owner_world, HOSTILE_FILES[name])


@pytest.mark.django_db
def test_the_import_endpoint_takes_any_file(owner_world: dict[str, Any]) -> None:
    @settings(WEB_FUZZ, max_examples=EXAMPLES)
    @given(st.one_of(st.binary(max_size=400), JSON_VALUES.map(lambda d: json.dumps(d).encode()),
                     mutated_plans().map(lambda d: json.dumps(d).encode())))
    @example(json.dumps(example_doc()).encode())
    def fuzz(data: bytes) -> None:
        assert_import_is_clean(owner_world, data, check_pages=False)

    fuzz()


def assert_import_is_clean(world: dict[str, Any], data: bytes, *, check_pages: bool = True) -> None:
    """POST `data` as a plan file: a clean refusal storing nothing, or one new valid plan."""
    from django.urls import reverse

    from wizard.models import Plan

    client = world["client"]
    upload = io.BytesIO(data)
    upload.name = "plan.json"
    before = stored_rows()
    known = set(Plan.objects.values_list("pk", flat=True))
    response = client.post(reverse("plan-import"), {"file": upload})
    assert response.status_code in (200, 302, 400, 413), response.status_code
    if response.status_code != 302:
        assert stored_rows() == before
        return
    new = Plan.objects.exclude(pk__in=known)
    assert new.count() == 1
    plan = new.get()
    # Stored means readable: the reader finds no error. Errors of the rules (a broken MFA promise,
    # say) are what the wizard then shows to be fixed; refusing them would break the promise that
    # an exported draft always imports again.
    imported, findings = read_plan(plan.draft)
    assert imported is not None and not has_errors(findings)
    if check_pages:
        assert_pages_render(client, plan, 0)


@pytest.mark.django_db
def test_a_comment_over_the_limit_is_not_stored(owner_world: dict[str, Any]) -> None:
    from django.urls import reverse

    from wizard.models import Comment

    plan = owner_world["plan"]
    response = owner_world["client"].post(reverse("plan-comment", args=[plan.code]), {"body": "c" * 5001})
    assert response.status_code < 500
    assert Comment.objects.count() == 0


def test_the_example_copy_matches_a_valid_plan() -> None:
    plan, findings = assess(copy.deepcopy(example_doc()))
    assert plan is not None and not has_errors(findings)
