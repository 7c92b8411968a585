"""The permission matrix of the review area.

Personas (tests/base.py): owner = alice, read-only team = dave, edit team = erin,
reviewer = bob (read-only share plus the reviewer role), stranger = charlie,
anonymous = not logged in. No access is 404, read-only access is 403 on a change,
anonymous is sent to the login page. A refused request changes nothing.
"""
from __future__ import annotations

import pytest
from django.urls import reverse

from tests.base import current_version, make_personas, make_plan, plan_doc, set_draft
from wizard.models import AuditEvent, Comment, Review, Revision
from wizard.review import services as review
from wizard.review import state

pytestmark = pytest.mark.django_db

PERSONAS = ["owner", "read_only", "editor", "reviewer", "stranger", "anonymous"]
USERNAMES = {"owner": "alice", "read_only": "dave", "editor": "erin", "reviewer": "bob", "stranger": "charlie"}
LOGIN = "login"


@pytest.fixture
def people():
    return make_personas()


def _client(client, people, persona):
    if persona != "anonymous":
        client.force_login(getattr(people, USERNAMES[persona]))
    return client


def _assert_outcome(response, expected):
    if expected == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    else:
        assert response.status_code == expected, response.content[:500]


def _revision(people, *, submitted=False, approved=False):
    plan = make_plan()
    revision = review.save_revision(plan, draft_version=current_version(plan), by=people.alice, message="Passive auth for Contoso")
    if submitted or approved:
        review.submit_for_review(revision, by=people.alice)
    if approved:
        review.approve(revision, by=people.bob, comment="CAB-1234")
    return revision


def _state(plan):
    return (Revision.objects.filter(plan=plan).count(), Review.objects.filter(revision__plan=plan).count(),
            Comment.objects.filter(plan=plan).count())


VIEW = {"owner": 200, "read_only": 200, "editor": 200, "reviewer": 200, "stranger": 404, "anonymous": LOGIN}


@pytest.mark.parametrize("persona", PERSONAS)
def test_view(client, people, persona):
    revision = _revision(people)
    code = revision.plan.code
    for url in (reverse("plan-revisions", args=[code]), reverse("revision-detail", args=[code, 1]),
                reverse("plan-audit", args=[code])):
        _assert_outcome(_client(client, people, persona).get(url), VIEW[persona])


SAVE = {"owner": 302, "read_only": 403, "editor": 302, "reviewer": 403, "stranger": 404, "anonymous": LOGIN}


@pytest.mark.parametrize("persona", PERSONAS)
def test_save_revision(client, people, persona):
    plan = make_plan()
    set_draft(plan, plan_doc(name="Contoso, edited"))
    url = reverse("revision-save", args=[plan.code])
    response = _client(client, people, persona).post(url, {"message": "Edited",
                                                          "draft_version": current_version(plan)})
    _assert_outcome(response, SAVE[persona])
    saved = Revision.objects.filter(plan=plan).count()
    assert saved == (1 if SAVE[persona] == 302 else 0)
    if saved:
        assert response["Location"] == reverse("revision-detail", args=[plan.code, 1])
    # The form page itself follows the same rule as the change.
    _assert_outcome(_client(client, people, persona).get(url), 200 if SAVE[persona] == 302 else SAVE[persona])


SUBMIT = {"owner": 302, "read_only": 403, "editor": 302, "reviewer": 403, "stranger": 404, "anonymous": LOGIN}


@pytest.mark.parametrize("persona", PERSONAS)
def test_submit(client, people, persona):
    revision = _revision(people)
    url = reverse("revision-submit", args=[revision.plan.code, 1])
    _assert_outcome(_client(client, people, persona).post(url), SUBMIT[persona])
    expected = state.Status.IN_REVIEW if SUBMIT[persona] == 302 else state.Status.DRAFT
    assert state.revision_status(revision) == expected


# The owner is the author here: four eyes means the author never approves.
APPROVE = {"owner": 403, "read_only": 403, "editor": 403, "reviewer": 302, "stranger": 404, "anonymous": LOGIN}


@pytest.mark.parametrize("persona", PERSONAS)
def test_approve(client, people, persona):
    revision = _revision(people, submitted=True)
    url = reverse("revision-approve", args=[revision.plan.code, 1])
    _assert_outcome(_client(client, people, persona).post(url, {"comment": "ok"}), APPROVE[persona])
    expected = state.Status.APPROVED if APPROVE[persona] == 302 else state.Status.IN_REVIEW
    assert state.revision_status(revision) == expected


@pytest.mark.parametrize("persona", PERSONAS)
def test_request_changes(client, people, persona):
    revision = _revision(people, submitted=True)
    url = reverse("revision-request-changes", args=[revision.plan.code, 1])
    _assert_outcome(_client(client, people, persona).post(url, {"comment": "Pilot pool first"}), APPROVE[persona])
    expected = state.Status.CHANGES_REQUESTED if APPROVE[persona] == 302 else state.Status.IN_REVIEW
    assert state.revision_status(revision) == expected


@pytest.mark.parametrize("persona", PERSONAS)
def test_request_changes_without_a_comment_is_still_refused_by_role_first(client, people, persona):
    revision = _revision(people, submitted=True)
    url = reverse("revision-request-changes", args=[revision.plan.code, 1])
    # A reviewer's empty comment is refused for what it is: the page again, 400.
    expected = 400 if APPROVE[persona] == 302 else APPROVE[persona]
    _assert_outcome(_client(client, people, persona).post(url, {"comment": ""}), expected)
    assert state.revision_status(revision) == state.Status.IN_REVIEW


COMMENT = {"owner": 302, "read_only": 403, "editor": 302, "reviewer": 302, "stranger": 404, "anonymous": LOGIN}


@pytest.mark.parametrize("persona", PERSONAS)
def test_comment(client, people, persona):
    revision = _revision(people)
    plan = revision.plan
    on_plan = reverse("plan-comment", args=[plan.code])
    on_revision = reverse("revision-comment", args=[plan.code, 1])
    _assert_outcome(_client(client, people, persona).post(on_plan, {"body": "On the plan"}), COMMENT[persona])
    _assert_outcome(_client(client, people, persona).post(on_revision, {"body": "On r1"}), COMMENT[persona])
    assert Comment.objects.filter(plan=plan).count() == (2 if COMMENT[persona] == 302 else 0)


DOWNLOAD = {"owner": 200, "read_only": 200, "editor": 200, "reviewer": 200, "stranger": 404, "anonymous": LOGIN}


@pytest.mark.parametrize("persona", PERSONAS)
def test_download(client, people, persona):
    revision = _revision(people, approved=True)
    url = reverse("revision-download", args=[revision.plan.code, 1])
    response = _client(client, people, persona).get(url)
    _assert_outcome(response, DOWNLOAD[persona])
    downloads = AuditEvent.objects.filter(plan=revision.plan, action=AuditEvent.Action.DOWNLOADED).count()
    if DOWNLOAD[persona] == 200:
        assert response["Content-Type"] == "application/zip"
        assert downloads == 1
    else:
        assert downloads == 0


DIFF = VIEW


@pytest.mark.parametrize("persona", PERSONAS)
def test_diff(client, people, persona):
    revision = _revision(people)
    url = reverse("plan-diff", args=[revision.plan.code]) + "?old=1&new=draft"
    _assert_outcome(_client(client, people, persona).get(url), DIFF[persona])


SHARING = {"owner": 200, "read_only": 403, "editor": 403, "reviewer": 403, "stranger": 404, "anonymous": LOGIN}


@pytest.mark.parametrize("persona", PERSONAS)
def test_sharing(client, people, persona):
    plan = make_plan()
    url = reverse("plan-sharing", args=[plan.code])
    _assert_outcome(_client(client, people, persona).get(url), SHARING[persona])
    before = list(plan.shares.values_list("group_id", "can_edit").order_by("group_id"))
    response = _client(client, people, persona).post(url, {"group": people.read_team.pk, "access": "edit"})
    _assert_outcome(response, 302 if SHARING[persona] == 200 else SHARING[persona])
    after = list(plan.shares.values_list("group_id", "can_edit").order_by("group_id"))
    assert (after != before) == (SHARING[persona] == 200)


@pytest.mark.parametrize("persona", ["read_only", "stranger", "anonymous"])
def test_refused_changes_leave_no_trace(client, people, persona):
    revision = _revision(people, submitted=True)
    plan = revision.plan
    before, events = _state(plan), AuditEvent.objects.filter(plan=plan).count()
    c = _client(client, people, persona)
    code = plan.code
    c.post(reverse("revision-save", args=[code]), {"message": "x", "draft_version": current_version(plan)})
    c.post(reverse("revision-submit", args=[code, 1]))
    c.post(reverse("revision-approve", args=[code, 1]))
    c.post(reverse("revision-request-changes", args=[code, 1]), {"comment": "x"})
    c.post(reverse("revision-comment", args=[code, 1]), {"body": "x"})
    c.post(reverse("plan-comment", args=[code]), {"body": "x"})
    assert _state(plan) == before
    assert AuditEvent.objects.filter(plan=plan).count() == events


@pytest.mark.parametrize("url_name", ["revision-submit", "revision-approve", "revision-request-changes",
                                      "revision-withdraw", "revision-comment", "plan-comment", "plan-unshare",
                                      "plan-risk-accept", "plan-risk-withdraw"])
def test_changes_are_post_only(client, people, url_name):
    # A visit changes nothing: the review and risk actions send it to the page of their form (a person
    # signing in again after a session ended lands there), the others answer 405.
    revision = _revision(people, submitted=True)
    plan = revision.plan
    args = [plan.code] if url_name in ("plan-unshare", "plan-comment", "plan-risk-accept",
                                       "plan-risk-withdraw") else [plan.code, 1]
    client.force_login(people.bob)
    before, events = _state(plan), AuditEvent.objects.filter(plan=plan).count()
    response = client.get(reverse(url_name, args=args))
    if url_name == "plan-unshare":
        assert response.status_code == 405
    else:
        assert response.status_code == 302
        assert response["Location"].startswith(f"/plans/{plan.code}/")
    assert client.put(reverse(url_name, args=args)).status_code == 405
    assert _state(plan) == before
    assert AuditEvent.objects.filter(plan=plan).count() == events


def test_a_bad_plan_code_or_revision_number_is_404(client, people):
    revision = _revision(people)
    client.force_login(people.alice)
    assert client.get(reverse("revision-detail", args=[revision.plan.code, 9])).status_code == 404
    assert client.get("/plans/not-a-uuid/revisions/").status_code == 404
