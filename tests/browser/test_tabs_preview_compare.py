"""The review page's file tabs, the live preview that sends only changed lines, and the compare
page, in a real browser (Content-Security-Policy on: any inline script or style would fail)."""
from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

import wizard
from tests.base import PASSWORD, make_personas, make_plan, plan_doc, set_draft, set_password
from tests.browser.conftest import server_idle, sign_in
from wizard.plan.engine import assess
from wizard.review import services as review
from wizard.scripts.bundle import Source, build_bundle

PREVIEW = re.compile(r"/steps/[a-z]+/preview/$")


def bundle_texts(plan: Any) -> dict[str, str]:
    data, findings = assess(plan.draft)
    return build_bundle(data, source=Source(plan.name, str(plan.code), None, wizard.__version__), findings=findings).texts


@pytest.mark.browser
def test_the_review_page_shows_one_file_at_a_time_and_ends_with_the_next_action(open_page: Any) -> None:
    people = make_personas()
    set_password(people.alice)
    plan = make_plan()
    expected = bundle_texts(plan)
    page = open_page()
    sign_in(page, "alice", PASSWORD)
    page.goto(f"/plans/{plan.code}/steps/review/")

    # The summary comes first, and the matrix shows its colours (not Bootstrap's white cells).
    breaks = page.locator("#impact-matrix td[data-state='breaks']").first
    expect(breaks).to_have_css("background-color", "rgb(248, 215, 218)")
    degraded = page.locator("#impact-matrix td[data-state='degraded']").first
    expect(degraded).to_have_css("background-color", "rgb(255, 243, 205)")
    files_top = page.locator("#files").bounding_box()["y"]
    assert page.locator("#findings-heading").bounding_box()["y"] < files_top
    assert page.locator("#download-zip").bounding_box()["y"] < files_top

    # One file shown; a tab brings another in, highlighted, and says it is selected.
    expect(page.locator(".file-card")).to_have_count(1)
    first = next(iter(expected))
    expect(page.locator(".file-card")).to_have_attribute("data-file", first)
    tab = page.locator("#file-tabs [data-file-tab='adfs-server.ps1']")
    tab.click()
    card = page.locator(".file-card[data-file='adfs-server.ps1']")
    expect(card.locator(".ps-code .nb").first).to_be_visible()
    expect(page.locator(".file-card")).to_have_count(1)
    expect(page.locator("#file-tabs [data-file-tab='adfs-server.ps1']")).to_have_attribute("aria-selected", "true")
    expect(page.locator(f"#file-tabs [data-file-tab='{first}']")).to_have_attribute("aria-selected", "false")

    # The keyboard moves between the tabs; Enter opens one.
    page.locator("#file-tabs [data-file-tab='adfs-server.ps1']").focus()
    page.keyboard.press("ArrowRight")
    following = page.evaluate("document.activeElement.getAttribute('data-file-tab')")
    assert following and following != "adfs-server.ps1"
    page.keyboard.press("ArrowLeft")
    assert page.evaluate("document.activeElement.getAttribute('data-file-tab')") == "adfs-server.ps1"
    page.keyboard.press("End")
    page.keyboard.press("Enter")
    last = list(expected)[-1]
    expect(page.locator(f".file-card[data-file='{last}']")).to_be_visible()
    tab.click()
    expect(card).to_be_visible()

    # Copy gives the file's exact text (from the highlighted lines, no hidden copy in the page).
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    card.get_by_role("button", name="Copy").click()
    expect(card.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == expected["adfs-server.ps1"]

    # The wizard ends with the next action: save the draft as a revision, then submit it.
    next_action = page.locator("#next-action")
    expect(next_action).to_contain_text("Save this draft as revision 1, then submit it for review")
    next_action.get_by_role("link", name="Save as revision 1").click()
    page.wait_for_url(re.compile(rf"/plans/{plan.code}/revisions/new/$"))
    assert page.problems == []


@pytest.mark.browser
def test_the_live_preview_receives_only_the_changed_lines_and_shows_them(open_page: Any) -> None:
    people = make_personas()
    set_password(people.alice)
    plan = make_plan()
    page = open_page()
    sign_in(page, "alice", PASSWORD)
    # Each answer waited for by expect_response: a "response" handler may run only after the page shows what
    # the answer brought (on a loaded machine a list it filled still held the first, whole answer when read).
    with page.expect_response(PREVIEW) as first:
        page.goto(f"/plans/{plan.code}/steps/adfs/")

    card = page.locator("#preview .file-card[data-file='adfs-server.ps1']")
    expect(card.locator(".ps-code")).to_contain_text("Add-AdfsRelyingPartyTrust -Name 'Lync-Ext'")
    page.wait_for_load_state("networkidle")
    whole = len(first.value.body())
    assert 'class="ps-code"' in first.value.text()

    with page.expect_response(PREVIEW) as edited:
        page.get_by_label("External relying party name").fill("Lync-Outside")
    changed = card.locator(".hll", has_text="Lync-Outside").first
    expect(changed).to_be_visible()
    page.wait_for_load_state("networkidle")
    patch, size = edited.value.text(), len(edited.value.body())
    assert 'id="preview-patch"' in patch and 'class="ps-code"' not in patch
    assert size < whole / 2
    expect(card.locator(".ps-code")).not_to_contain_text("'Lync-Ext'")
    expect(page.locator("#preview-summary")).to_contain_text("changed since the previous preview")
    patched = card.locator(".ps-code code").text_content()

    # The patched lines equal the whole file sent afresh: open another tab and come back.
    page.locator("#preview-tabs [data-preview-tab='rollback-adfs.ps1']").click()
    expect(page.locator("#preview .file-card[data-file='rollback-adfs.ps1']")).to_be_visible()
    page.locator("#preview-tabs [data-preview-tab='adfs-server.ps1']").click()
    expect(card).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert card.locator(".ps-code code").text_content() == patched
    with server_idle():
        plan.refresh_from_db()
    assert plan.draft_version >= 1
    assert page.problems == []


@pytest.mark.browser
def test_the_compare_page_says_what_changed_first_and_folds_header_only_files(open_page: Any) -> None:
    people = make_personas()
    set_password(people.bob)
    plan = make_plan()
    review.save_revision(plan, by=people.alice, message="extranet MFA", draft_version=plan.draft_version)
    set_draft(plan, plan_doc(adfs={"federation_service_name": "adfs.contoso.com", "version": "2012r2",
                                   "mfa": "always"}))
    plan.refresh_from_db()
    review.save_revision(plan, by=people.alice, message="MFA always", draft_version=plan.draft_version)
    page = open_page()
    page.set_viewport_size({"width": 900, "height": 1000})
    sign_in(page, "bob", PASSWORD)
    page.goto(f"/plans/{plan.code}/diff/?old=1&new=2")

    summary = page.locator("#diff-summary")
    expect(summary).to_contain_text("Multi-factor authentication: extranet → always")
    assert summary.bounding_box()["y"] < page.locator("#settings-diff").bounding_box()["y"]
    expect(page.locator("#files-summary")).to_contain_text("only in the lines that name the plan")

    # Files that changed only in their header are folded; the others are open.
    folded = page.locator("#header-only-files")
    expect(folded).to_be_visible()
    assert folded.evaluate("el => el.open") is False
    assert page.locator("#header-only-files [data-header-only='true']").count() >= 1
    opened = page.locator("#scripts-diff > details[data-file='adfs-server.ps1']")
    assert opened.evaluate("el => el.open") is True

    # Changes within a line are marked, and long lines wrap instead of running off the page.
    expect(opened.locator("ins").first).to_be_visible()
    expect(opened.locator("del").first).to_be_visible()
    line = opened.locator(".diff-line").first
    expect(line).to_have_css("white-space", "pre-wrap")
    table = opened.locator("table.diff-split")
    assert table.evaluate("el => el.scrollWidth <= el.parentElement.clientWidth + 1")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    page.get_by_label("Scripts").select_option("unified")
    page.get_by_role("button", name="Compare").click()
    expect(page.locator("#scripts-diff tr[data-kind='added'] ins").first).to_be_visible()
    assert page.problems == []


@pytest.mark.browser
def test_a_revision_page_shows_one_file_at_a_time_and_fetches_the_others(open_page: Any) -> None:
    people = make_personas()
    set_password(people.alice)
    plan = make_plan()
    revision = review.save_revision(plan, draft_version=plan.draft_version, by=people.alice, message="First")
    expected = review.render_revision(revision).texts
    fetched: list[str] = []
    page = open_page()
    page.on("request", lambda r: "/revisions/1/files/" in r.url and fetched.append(r.url))
    sign_in(page, "alice", PASSWORD)
    page.goto(f"/plans/{plan.code}/revisions/1/")

    # The review trail, findings and settings come before the files; one file is in the page.
    assert page.locator("#findings").bounding_box()["y"] < page.locator("#files").bounding_box()["y"]
    expect(page.locator(".file-card")).to_have_count(1)
    first = next(iter(expected))
    expect(page.locator(".file-card")).to_have_attribute("data-file", first)
    expect(page.locator("#file-tabs [role=tab]")).to_have_count(len(expected))

    # A tab fetches its file, highlighted, and is marked selected; no download of a lone file.
    page.locator("#file-tabs [data-file-tab='lync-management-shell.ps1']").click()
    card = page.locator(".file-card[data-file='lync-management-shell.ps1']")
    expect(card.locator(".ps-code .nb").first).to_be_visible()
    expect(page.locator(".file-card")).to_have_count(1)
    expect(page.locator("#file-tabs [data-file-tab='lync-management-shell.ps1']")).to_have_attribute(
        "aria-selected", "true")
    expect(card.locator("#file-download")).to_have_count(0)
    assert any(url.endswith("/revisions/1/files/lync-management-shell.ps1") for url in fetched)

    # Copy gives the revision's exact text.
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    card.get_by_role("button", name="Copy").click()
    expect(card.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == expected["lync-management-shell.ps1"]
    assert page.problems == []


@pytest.mark.browser
def test_a_tab_chosen_while_an_edit_is_previewed_stays_chosen(open_page: Any) -> None:
    # Clicking a tab ends the edit (the field's change event), whose own preview goes out half a second
    # later. A second tab clicked before then, whose answer is slow, must stay chosen: the edit's preview
    # has to ask for that tab, not for the one shown when it was scheduled.
    people = make_personas()
    set_password(people.alice)
    plan = make_plan()
    page = open_page()
    sign_in(page, "alice", PASSWORD)
    page.goto(f"/plans/{plan.code}/steps/adfs/")
    expect(page.locator("#preview .file-card[data-file='adfs-server.ps1']")).to_be_visible()
    page.wait_for_load_state("networkidle")

    def slow_adfs_tab(route: Any) -> None:
        # The tab's own request (the clicked button's value) is held back; every other passes. The
        # handler runs on the test's thread, so a request made meanwhile is sent after this one.
        if "preview_base=" not in (route.request.post_data or "") and \
                "preview_file=adfs-server.ps1" in (route.request.post_data or ""):
            page.wait_for_timeout(1200)
        route.continue_()

    page.route(PREVIEW, slow_adfs_tab)
    page.get_by_label("External relying party name").fill("Lync-Outside")
    page.locator("#preview-tabs [data-preview-tab='rollback-adfs.ps1']").click()
    expect(page.locator("#preview .file-card[data-file='rollback-adfs.ps1']")).to_be_visible()
    page.locator("#preview-tabs [data-preview-tab='adfs-server.ps1']").click()
    page.wait_for_timeout(2500)   # the slow tab and the edit's preview have both come back
    page.wait_for_load_state("networkidle")
    expect(page.locator("#preview-tabs [data-preview-tab='adfs-server.ps1']")).to_have_attribute(
        "aria-selected", "true")
    expect(page.locator("#preview .file-card[data-file='adfs-server.ps1'] .ps-code")).to_contain_text(
        "'Lync-Outside'")
