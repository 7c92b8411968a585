"""Text typed into a review box (an approval's comment, a comment) survives the session ending on its way.

The form was sent after the session had ended: it went to the sign-in page, and signing in again led to
the action's address as a visit, which did nothing and showed a page that said so; the text was gone.
Now the tab keeps what was typed until the form reaches the server, the action's address leads back to
the form's page saying nothing was done, and the text is put back into its box, with a note. A form that
did reach the server leaves nothing behind to put back.
"""
from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.base import PASSWORD, current_version, make_personas, make_plan, set_password
from tests.browser.conftest import server_idle, sign_in
from tests.browser.test_signed_out_autosave import _end_session
from wizard.models import Comment, Review
from wizard.review import services as review

TYPED = "Checked the Edge NTLM rows <b>and</b> the rollback; fine for CAB-1207."


def _submitted_revision(open_page: Any) -> tuple[Any, str, Any]:
    """Alice's revision 1, submitted; Bob, the reviewer, on its page."""
    people = make_personas()
    set_password(people.alice)
    set_password(people.bob)
    set_password(people.charlie)
    plan = make_plan()
    revision = review.save_revision(plan, draft_version=current_version(plan), by=people.alice, message="first")
    review.submit_for_review(revision, by=people.alice)
    page = open_page()
    sign_in(page, "bob", PASSWORD)
    url = f"/plans/{plan.code}/revisions/1/"
    page.goto(url)
    return page, url, plan


def _kept(page: Any) -> list[str]:
    return list(page.evaluate("() => Object.keys(sessionStorage).filter(k => k.startsWith('wizard-typed:'))"))


def _approve_after_the_session_ended(page: Any) -> None:
    """Type an approval comment, lose the session, press Approve: the sign-in page."""
    page.locator("#approve-comment").fill(TYPED)
    _end_session(page)
    page.get_by_role("button", name="Approve revision 1").click()
    expect(page.get_by_label("Password")).to_be_visible()


def _sign_in_here(page: Any, username: str) -> None:
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


@pytest.mark.browser
def test_an_approval_sent_after_the_session_ended_is_put_back_and_then_approves(open_page: Any) -> None:
    page, url, _ = _submitted_revision(open_page)
    _approve_after_the_session_ended(page)
    _sign_in_here(page, "bob")
    # Back on the revision's page, told nothing was done, the text back in its box.
    page.wait_for_url(re.compile(re.escape(url) + "$"))
    expect(page.locator(".alert")).to_contain_text("Nothing was done")
    expect(page.locator("#approve-comment")).to_have_value(TYPED)
    expect(page.locator("#approve-form [data-put-back]")).to_contain_text("not sent")
    with server_idle():
        assert not Review.objects.filter(decision=Review.Decision.APPROVED).exists()

    page.get_by_role("button", name="Approve revision 1").click()
    expect(page.locator(".alert-success")).to_contain_text("is approved")
    with server_idle():
        approval = Review.objects.get(decision=Review.Decision.APPROVED)
    assert approval.comment == TYPED
    assert _kept(page) == []
    assert page.problems == []


@pytest.mark.browser
def test_a_comment_that_reached_the_server_is_not_put_back(open_page: Any) -> None:
    page, url, _ = _submitted_revision(open_page)
    page.locator("#comments textarea[name='body']").fill(TYPED)
    page.get_by_role("button", name="Add comment").click()
    expect(page.locator("#comments .comment-body")).to_contain_text("Checked the Edge NTLM rows")
    expect(page.locator("#comments textarea[name='body']")).to_have_value("")
    expect(page.locator("[data-put-back]")).to_have_count(0)
    assert _kept(page) == []
    with server_idle():
        assert Comment.objects.get().body == TYPED

    # Typed and left without sending: shown again on the way back, saying it was not sent.
    page.locator("#comments textarea[name='body']").fill("Second thoughts")
    page.goto(f"{url}../")
    page.goto(url)
    expect(page.locator("#comments textarea[name='body']")).to_have_value("Second thoughts")
    expect(page.locator("#comments [data-put-back]")).to_contain_text("not sent")
    assert page.problems == []


@pytest.mark.browser
def test_typing_of_one_reviewer_is_not_put_back_for_another_in_the_same_tab(open_page: Any) -> None:
    page, _, _ = _submitted_revision(open_page)
    _approve_after_the_session_ended(page)
    assert _kept(page) != []              # kept on the sign-in page, for whoever typed it
    _sign_in_here(page, "charlie")
    page.goto("/")
    expect(page.locator("body[data-user='charlie']")).to_have_count(1)
    assert _kept(page) == []
