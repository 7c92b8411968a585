"""Review actions racing each other in real parallel transactions on PostgreSQL.

Each test runs the services in threads, each thread with its own database
connection. Where the order matters, one thread is held inside its locked
section until PostgreSQL reports the other one waiting for the plan's row lock,
so the race really happens rather than the two calls running one after the other.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import connection

from tests.base import current_version, make_personas, make_plan, plan_doc, set_draft
from wizard.models import Review, Revision
from wizard.review import services as review
from wizard.review import state

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WAIT = 30  # seconds: a safety net so a broken lock fails the test instead of hanging it


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite runs one writer at a time, so these races cannot happen there "
                    "(run with DATABASE_URL=postgres://...)")


@pytest.fixture
def people():
    return make_personas()


@pytest.fixture
def second_reviewer(people):
    user = User.objects.create_user("rita", "rita@example.com", "x", first_name="Rita", last_name="Reviewer")
    user.groups.add(people.review_team)
    return User.objects.get(pk=user.pk)


class Worker(threading.Thread):
    """Run `fn` in a thread with its own connection; keep its result or exception."""

    def __init__(self, fn: Callable[[], Any], start_together: threading.Barrier | None = None) -> None:
        super().__init__(daemon=True)
        self.fn = fn
        self.barrier = start_together
        self.result: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            if self.barrier is not None:
                self.barrier.wait(timeout=WAIT)
            self.result = self.fn()
        except Exception as exc:
            self.error = exc
        finally:
            connection.close()

    def finish(self) -> Worker:
        self.join(timeout=WAIT)
        assert not self.is_alive(), "the worker did not finish"
        return self


class Gate:
    """Hold the first call of a function until released; later calls pass straight through."""

    def __init__(self, real: Callable[..., Any]) -> None:
        self.real = real
        self.entered = threading.Event()
        self.release = threading.Event()
        self._first = threading.Lock()
        self._used = False

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with self._first:
            first, self._used = not self._used, True
        if first:
            self.entered.set()
            assert self.release.wait(timeout=WAIT), "the gate was never opened"
        return self.real(*args, **kwargs)


def wait_for_lock_waiter() -> None:
    """Return once another backend of this database is waiting for a lock."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                           "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()")
            if cursor.fetchone()[0]:
                return
        time.sleep(0.02)
    raise AssertionError("no transaction ever waited for the plan's lock")


def _in_review(people):
    plan = make_plan()
    revision = review.save_revision(plan, draft_version=current_version(plan), by=people.alice, message="one")
    review.submit_for_review(revision, by=people.alice)
    return plan, revision


def test_two_reviewers_approving_at_once_give_exactly_one_approval(people, second_reviewer):
    _, revision = _in_review(people)
    # Hold the first caller inside its locked section (rendering happens before the lock).
    gate = Gate(review._fresh)
    with mock.patch.object(review, "_fresh", gate):
        first = Worker(lambda: review.approve(revision, by=people.bob, comment="bob"))
        first.start()
        assert gate.entered.wait(timeout=WAIT)
        second = Worker(lambda: review.approve(revision, by=second_reviewer, comment="rita"))
        second.start()
        wait_for_lock_waiter()
        gate.release.set()
        first.finish()
        second.finish()
    assert first.error is None and first.result.actor == people.bob
    assert isinstance(second.error, review.WrongState)
    assert "already approved" in str(second.error)
    assert Review.objects.filter(revision=revision, decision=Review.Decision.APPROVED).count() == 1


def test_unordered_simultaneous_approvals_still_give_one(people, second_reviewer):
    for _ in range(3):
        _, revision = _in_review(people)
        barrier = threading.Barrier(2)
        workers = [Worker(lambda u=u, r=revision: review.approve(r, by=u), barrier)
                   for u in (people.bob, second_reviewer)]
        for w in workers:
            w.start()
        for w in workers:
            w.finish()
        errors = [w.error for w in workers if w.error is not None]
        assert len(errors) == 1 and isinstance(errors[0], review.WrongState)
        assert Review.objects.filter(revision=revision, decision=Review.Decision.APPROVED).count() == 1


def test_a_revision_saved_while_the_approval_holds_the_lock_supersedes_the_approved_one(people):
    plan, first_revision = _in_review(people)
    set_draft(plan, plan_doc(name="Contoso, edited during review"))
    # Hold the first caller inside its locked section (rendering happens before the lock).
    gate = Gate(review._fresh)
    with mock.patch.object(review, "_fresh", gate):
        approving = Worker(lambda: review.approve(first_revision, by=people.bob))
        approving.start()
        assert gate.entered.wait(timeout=WAIT)
        saving = Worker(lambda: review.save_revision(plan, draft_version=current_version(plan), by=people.erin, message="edited"))
        saving.start()
        wait_for_lock_waiter()
        gate.release.set()
        approving.finish()
        saving.finish()
    assert approving.error is None and saving.error is None
    approval, second_revision = approving.result, saving.result
    # The approval covers revision 1's bytes only; revision 2 waits for its own review.
    assert approval.revision_id == first_revision.pk
    assert approval.bundle_sha256 == first_revision.bundle_sha256 != second_revision.bundle_sha256
    assert approval.created <= second_revision.created
    assert state.revision_status(first_revision) == state.Status.APPROVED
    assert state.revision_status(second_revision) == state.Status.DRAFT
    assert state.plan_status(plan) == state.Status.DRAFT
    assert not Review.objects.filter(revision=second_revision).exists()


def test_an_approval_waiting_behind_a_new_revision_is_refused(people):
    plan, first_revision = _in_review(people)
    set_draft(plan, plan_doc(name="Contoso, edited during review"))
    gate = Gate(review._contributors)
    with mock.patch.object(review, "_contributors", gate):
        saving = Worker(lambda: review.save_revision(plan, draft_version=current_version(plan), by=people.erin, message="edited"))
        saving.start()
        assert gate.entered.wait(timeout=WAIT)
        approving = Worker(lambda: review.approve(first_revision, by=people.bob))
        approving.start()
        wait_for_lock_waiter()
        gate.release.set()
        saving.finish()
        approving.finish()
    assert saving.error is None
    assert isinstance(approving.error, review.Superseded)
    assert not Review.objects.filter(revision__plan=plan, decision=Review.Decision.APPROVED).exists()
    assert state.revision_status(first_revision) == state.Status.SUPERSEDED
    assert state.plan_status(plan) == state.Status.DRAFT


def test_unordered_approval_and_new_revision_never_approve_the_new_data(people):
    for _ in range(3):
        plan, first_revision = _in_review(people)
        set_draft(plan, plan_doc(name="Contoso, edited during review"))
        barrier = threading.Barrier(2)
        approving = Worker(lambda r=first_revision: review.approve(r, by=people.bob), barrier)
        saving = Worker(lambda p=plan: review.save_revision(p, draft_version=current_version(p), by=people.erin, message="edited"), barrier)
        approving.start()
        saving.start()
        approving.finish()
        saving.finish()
        assert saving.error is None
        second_revision = saving.result
        approvals = list(Review.objects.filter(revision__plan=plan, decision=Review.Decision.APPROVED))
        if approving.error is None:
            # The approval landed first: it is for revision 1 and revision 2 supersedes it.
            assert [a.revision_id for a in approvals] == [first_revision.pk]
            assert approvals[0].created <= second_revision.created
        else:
            assert isinstance(approving.error, review.Superseded)
            assert approvals == []
        assert state.revision_status(second_revision) == state.Status.DRAFT


def test_two_saves_of_the_same_draft_at_once_make_one_revision(people):
    plan = make_plan()
    barrier = threading.Barrier(2)
    workers = [Worker(lambda u=u: review.save_revision(plan, draft_version=current_version(plan), by=u, message="same"), barrier)
               for u in (people.alice, people.erin)]
    for w in workers:
        w.start()
    for w in workers:
        w.finish()
    errors = [w.error for w in workers if w.error is not None]
    assert len(errors) == 1 and isinstance(errors[0], review.NothingChanged)
    assert list(Revision.objects.filter(plan=plan).values_list("number", flat=True)) == [1]


def test_a_comment_racing_the_removal_of_its_author_waits_for_it_and_is_refused(people):
    plan = make_plan()
    # The owner's removal of the editors' team holds the plan's lock; erin's comment must wait for it.
    gate = Gate(review.access.require_sharer)
    with mock.patch.object(review.access, "require_sharer", gate):
        removing = Worker(lambda: review.unshare_plan(plan, by=people.alice, group=people.edit_team))
        removing.start()
        assert gate.entered.wait(timeout=WAIT)
        commenting = Worker(lambda: review.add_comment(plan, by=people.erin, body="still here?"))
        commenting.start()
        wait_for_lock_waiter()
        gate.release.set()
        removing.finish()
        commenting.finish()
    assert removing.error is None
    assert isinstance(commenting.error, PermissionDenied)
    assert not plan.comments.exists()
