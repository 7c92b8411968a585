"""The step pages: showing, saving, invalid input, stale saves, autosave and the live preview."""
from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

from django.test import SimpleTestCase
from django.urls import reverse

from tests.base import BaseTestCase, make_plan, set_draft
from tests.test_forms import post_data
from wizard.models import Plan
from wizard.web.forms import StepForms
from wizard.web.steps import STEP_SLUGS, get_step, step_base

S01 = "s01-passive-extranet-mfa"


def step_post(plan: Plan, slug: str, *, action: str = "save", version: int | None = None,
              **changes: str) -> dict[str, Any]:
    """Return the POST body of a step page as the browser shows it for `plan`, with `changes` typed in."""
    step = get_step(slug)
    data = post_data(StepForms(step, plan.draft))
    data.update(changes)
    data["draft_version"] = str(plan.draft_version if version is None else version)
    data["step_base"] = step_base(step, plan.draft)
    data["action"] = action
    return data


class StepPageTests(BaseTestCase):
    def setUp(self) -> None:
        self.s01 = make_plan(fixture=S01)

    def url(self, slug: str, plan: Plan | None = None) -> str:
        return reverse("plan-step", args=[(plan or self.s01).code, slug])

    def test_every_step_shows_for_the_owner(self) -> None:
        self.client.force_login(self.alice)
        for slug in STEP_SLUGS:
            with self.subTest(step=slug):
                self.assertEqual(self.client.get(self.url(slug)).status_code, 200)

    def test_a_step_shows_the_draft_with_labels_and_explanations(self) -> None:
        self.client.force_login(self.alice)
        response = self.client.get(self.url("authentication"))
        self.assertContains(response, 'value="passive" selected')
        self.assertContains(response, "External authentication")
        self.assertContains(response, "Lync for Mac")  # who it breaks
        self.assertContains(response, "https://learn.microsoft.com/powershell/module/skypeforbusiness/"
                                      "set-csproxyconfiguration")
        self.assertContains(response, 'aria-describedby="id_pools-0-external_helptext"')
        self.assertNotContains(response, " style=")
        self.assertNotContains(response, "<script>")

    def test_the_warnings_of_a_step_are_shown_on_it(self) -> None:
        self.client.force_login(self.alice)
        response = self.client.get(self.url("authentication"))
        self.assertContains(response, 'id="step-warnings"')
        self.assertContains(response, 'data-finding="passive_pool_wide"')

    def test_an_unknown_step_is_404(self) -> None:
        self.client.force_login(self.alice)
        self.assertEqual(self.client.get(self.url("topology")).status_code, 404)
        self.assertEqual(self.client.post(self.url("topology"), {}).status_code, 404)

    def test_anonymous_visitors_sign_in_first(self) -> None:
        response = self.client.get(self.url("environment"))
        self.assertRedirects(response, f"{reverse('login')}?next={self.url('environment')}",
                             fetch_redirect_response=False)

    def test_a_stranger_gets_404(self) -> None:
        self.client.force_login(self.charlie)
        self.assertEqual(self.client.get(self.url("environment")).status_code, 404)
        self.assertEqual(self.client.post(self.url("environment"), step_post(self.s01, "environment")).status_code,
                         404)

    def test_a_reader_sees_the_step_disabled_and_may_not_post(self) -> None:
        self.client.force_login(self.dave)
        response = self.client.get(self.url("environment"))
        self.assertContains(response, "<fieldset disabled>")
        self.assertNotContains(response, 'id="save-button"')
        self.assertNotContains(response, 'id="autosave"')
        response = self.client.post(self.url("environment"), step_post(self.s01, "environment", **{
            "basics-name": "Taken over"}))
        self.assertEqual(response.status_code, 403)
        self.s01.refresh_from_db()
        self.assertNotEqual(self.s01.draft["name"], "Taken over")

    def test_saving_stores_the_step_and_shows_it_again(self) -> None:
        self.client.force_login(self.erin)
        response = self.client.post(self.url("environment"), step_post(self.s01, "environment", **{
            "pools-0-site": "Redmond", "basics-meet": "Meet.Contoso.com"}), follow=True)
        self.assertRedirects(response, self.url("environment"))
        self.assertContains(response, "Saved (draft version 2).")
        self.s01.refresh_from_db()
        self.assertEqual(self.s01.draft_version, 2)
        self.assertEqual(self.s01.draft["pools"][0]["site"], "Redmond")
        self.assertEqual(self.s01.draft["simple_urls"], {"meet": ["meet.contoso.com"]})

    def test_save_and_continue_goes_to_the_next_step(self) -> None:
        self.client.force_login(self.alice)
        response = self.client.post(self.url("adfs"), step_post(self.s01, "adfs", action="next"))
        self.assertRedirects(response, self.url("mobility"))
        response = self.client.post(self.url("adfs"), step_post(self.s01, "adfs", action="back"))
        self.assertRedirects(response, self.url("authentication"))

    def test_invalid_input_is_kept_and_shown_with_its_message(self) -> None:
        self.client.force_login(self.alice)
        response = self.client.post(self.url("environment"), step_post(self.s01, "environment", action="next", **{
            "pools-0-external_web_fqdn": "lync web.contoso.com"}), follow=True)
        self.assertRedirects(response, self.url("environment"))
        self.assertContains(response, "Saved, but this step still has errors")
        self.assertContains(response, 'value="lync web.contoso.com"')
        self.assertContains(response, "without spaces or control characters")
        self.assertContains(response, "is-invalid")
        self.s01.refresh_from_db()
        self.assertEqual(self.s01.draft["pools"][0]["external_web_fqdn"], "lync web.contoso.com")

    def test_a_mistyped_number_stays_in_its_field(self) -> None:
        plan = make_plan(fixture="s02-tls-dsk-30-day-certificates")
        self.client.force_login(self.alice)
        self.client.post(self.url("authentication", plan), step_post(plan, "authentication", **{
            "pools-0-hours_default": "30 days"}))
        response = self.client.get(self.url("authentication", plan))
        self.assertContains(response, 'value="30 days"')
        self.assertContains(response, "Must be a whole number, not &#x27;30 days&#x27;")
        self.assertEqual(response.context["forms"]["pools"].forms[0].errors["hours_default"],
                         ["Must be a whole number, not '30 days'"])

    def test_an_error_from_the_rules_lands_on_its_field(self) -> None:
        self.client.force_login(self.alice)
        doc = copy.deepcopy(self.s01.draft)
        doc["pools"][0]["relying_parties"] = {"internal": "Lync", "external": "lync"}
        set_draft(self.s01, doc)
        response = self.client.get(self.url("adfs"))
        errors = response.context["forms"]["relying_parties"].forms[0].errors
        self.assertEqual(errors["external"], ["The internal and external relying parties need different names"])

    def test_add_row_without_javascript_saves_and_shows_an_empty_row(self) -> None:
        self.client.force_login(self.alice)
        response = self.client.post(self.url("environment"), step_post(self.s01, "environment",
                                                                        action="add:edge_pools"))
        self.assertRedirects(response, self.url("environment") + "?add=edge_pools")
        page = self.client.get(self.url("environment") + "?add=edge_pools")
        self.assertContains(page, 'name="edge_pools-TOTAL_FORMS" value="2"')
        body = step_post(self.s01, "environment", **{"edge_pools-TOTAL_FORMS": "2",
                                                     "edge_pools-1-fqdn": "lyncedge2.contoso.com"})
        self.client.post(self.url("environment"), body)
        self.s01.refresh_from_db()
        self.assertEqual(self.s01.draft["edge_pools"][1], {"fqdn": "lyncedge2.contoso.com"})

    def test_removing_a_row_drops_it(self) -> None:
        self.client.force_login(self.alice)
        self.client.post(self.url("mobility"), step_post(self.s01, "mobility", **{"policies-0-DELETE": "on"}))
        self.s01.refresh_from_db()
        self.assertNotIn("mobility_policies", self.s01.draft)

    def test_a_stale_save_is_refused_showing_the_other_change_and_keeping_mine(self) -> None:
        self.client.force_login(self.alice)
        mine = step_post(self.s01, "environment", **{"pools-0-site": "Dublin"})
        other = step_post(self.s01, "environment", **{"pools-0-site": "Redmond"})
        self.client.force_login(self.erin)
        self.client.post(self.url("environment"), other)
        self.client.force_login(self.alice)
        response = self.client.post(self.url("environment"), mine)
        self.assertEqual(response.status_code, 409)
        self.assertContains(response, "Not saved: this step was changed by someone else", status_code=409)
        self.assertContains(response, "erin saved the <strong>environment</strong> step (version 2)", status_code=409)
        self.assertContains(response, "Pool lyncpool01 › Site", status_code=409)
        self.assertContains(response, "<code>&quot;Redmond&quot;</code>", status_code=409)
        self.assertContains(response, 'name="pools-0-site" value="Dublin"', status_code=409)
        self.assertContains(response, 'name="draft_version" value="2"', status_code=409)
        self.s01.refresh_from_db()
        self.assertEqual(self.s01.draft["pools"][0]["site"], "Redmond")

    def test_a_post_without_its_version_saves_nothing(self) -> None:
        self.client.force_login(self.alice)
        body = step_post(self.s01, "environment", **{"basics-name": "Renamed"})
        del body["draft_version"]
        response = self.client.post(self.url("environment"), body)
        self.assertContains(response, "Not saved: this page is out of date", status_code=400)
        self.assertContains(response, 'value="Renamed"', status_code=400)
        self.s01.refresh_from_db()
        self.assertEqual(self.s01.draft_version, 1)

    def test_a_truncated_post_never_empties_a_list(self) -> None:
        self.client.force_login(self.alice)
        body = {k: v for k, v in step_post(self.s01, "environment").items() if not k.startswith("pools-")}
        self.client.post(self.url("environment"), body)
        self.s01.refresh_from_db()
        self.assertEqual(len(self.s01.draft["pools"]), 1)

    def test_posting_to_the_review_step_just_shows_it(self) -> None:
        self.client.force_login(self.alice)
        self.assertRedirects(self.client.post(self.url("review"), {}), self.url("review"))


class AutosaveTests(BaseTestCase):
    def setUp(self) -> None:
        self.s01 = make_plan(fixture=S01)
        self.url = reverse("plan-step-autosave", args=[self.s01.code, "environment"])

    def test_it_saves_and_answers_with_the_new_version(self) -> None:
        self.client.force_login(self.alice)
        response = self.client.post(self.url, step_post(self.s01, "environment", **{"pools-0-site": "Oslo"}),
                                    headers={"HX-Request": "true"})
        self.assertContains(response, "Saved (draft version 2).")
        self.assertContains(response, '<input type="hidden" name="draft_version" value="2" id="id_draft_version" '
                                      'hx-swap-oob="true">')
        self.s01.refresh_from_db()
        self.assertEqual(self.s01.draft["pools"][0]["site"], "Oslo")

    def test_a_stale_autosave_is_refused_and_keeps_the_old_version(self) -> None:
        self.client.force_login(self.erin)
        self.client.post(self.url, step_post(self.s01, "environment", **{"pools-0-site": "Oslo"}))
        self.client.force_login(self.alice)
        response = self.client.post(self.url, step_post(self.s01, "environment", version=1,
                                                        **{"pools-0-site": "Bergen"}))
        self.assertContains(response, "Not saved: erin saved this plan meanwhile", status_code=409)
        self.assertNotContains(response, "hx-swap-oob", status_code=409)
        self.s01.refresh_from_db()
        self.assertEqual(self.s01.draft["pools"][0]["site"], "Oslo")

    def test_autosave_keeps_a_row_marked_for_removal_until_an_explicit_save(self) -> None:
        self.client.force_login(self.alice)
        self.client.post(self.url, step_post(self.s01, "environment", **{"sip_domains-0-DELETE": "on"}))
        self.s01.refresh_from_db()
        self.assertEqual(self.s01.draft["sip_domains"], ["contoso.com"])

    def test_an_autosave_with_a_row_marked_for_removal_does_not_answer_a_plain_saved(self) -> None:
        # It answered "Saved (draft version 2)." while the ticked domain stayed in the draft: leaving the
        # step by its links (no Save) kept a row the page had been told to remove, under a "Saved".
        self.client.force_login(self.alice)
        response = self.client.post(self.url, step_post(self.s01, "environment", **{"sip_domains-0-DELETE": "on",
                                                                                     "pools-0-site": "Oslo"}))
        self.assertContains(response, "except the removal you marked")
        self.assertContains(response, "the 1 row marked for removal (SIP domain). Press Save to remove it.")
        self.assertNotContains(response, "Saved (draft version 2).</span>")
        self.s01.refresh_from_db()
        self.assertEqual(self.s01.draft["pools"][0]["site"], "Oslo")
        self.assertEqual(self.s01.draft["sip_domains"], ["contoso.com"])
        # Without a mark, the plain answer.
        response = self.client.post(self.url, step_post(self.s01, "environment", **{"pools-0-site": "Bergen"}))
        self.assertContains(response, "Saved (draft version 3).</span>")
        self.assertNotContains(response, "marked for removal")

    def test_a_signed_out_htmx_request_gets_401_not_the_sign_in_page(self) -> None:
        # The redirect to the sign-in page was followed by the browser, and htmx showed the whole sign-in
        # page in the status line, with nothing saying "Not saved".
        data = step_post(self.s01, "environment", **{"pools-0-site": "Oslo"})
        response = self.client.post(self.url, data, HTTP_HX_REQUEST="true")
        self.assertContains(response, "nothing was saved", status_code=401)
        preview = reverse("plan-step-preview", args=[self.s01.code, "environment"])
        self.assertEqual(self.client.post(preview, data, HTTP_HX_REQUEST="true").status_code, 401)
        # A page (not htmx) still goes to the sign-in page.
        response = self.client.post(self.url, data)
        self.assertRedirects(response, f"{reverse('login')}?next={self.url}", fetch_redirect_response=False)
        self.s01.refresh_from_db()
        self.assertEqual(self.s01.draft_version, 1)

    def test_it_needs_edit_rights_and_a_post(self) -> None:
        self.client.force_login(self.dave)
        self.assertEqual(self.client.post(self.url, step_post(self.s01, "environment")).status_code, 403)
        self.client.force_login(self.charlie)
        self.assertEqual(self.client.post(self.url, step_post(self.s01, "environment")).status_code, 404)
        self.client.force_login(self.alice)
        self.assertEqual(self.client.get(self.url).status_code, 405)


class PreviewTests(BaseTestCase):
    def setUp(self) -> None:
        self.s01 = make_plan(fixture=S01)
        self.url = reverse("plan-step-preview", args=[self.s01.code, "adfs"])

    def test_it_renders_the_scripts_for_the_unsaved_values(self) -> None:
        self.client.force_login(self.alice)
        response = self.client.post(self.url, step_post(self.s01, "adfs", **{"relying_parties-0-external": "Lync-Outside"}))
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Lync-Outside")
        self.assertContains(response, 'class="ps-code"')
        self.s01.refresh_from_db()
        self.assertEqual(self.s01.draft["pools"][0]["relying_parties"]["external"], "Lync-Ext")
        self.assertEqual(self.s01.draft_version, 1)

    def state(self, response) -> dict[str, str]:
        """Return what the page keeps after a preview answer: the file shown, its digest, the bundle's."""
        html = response.content.decode()
        return {name: re.search(rf'name="{name}"[^>]*value="([^"]*)"', html).group(1)
                for name in ("preview_file", "preview_base", "preview_since")}

    def test_only_the_changed_lines_of_the_file_shown_travel_after_an_edit(self) -> None:
        self.client.force_login(self.alice)
        first = self.client.post(self.url, step_post(self.s01, "adfs"))
        self.assertContains(first, 'data-file="adfs-server.ps1"')      # the AD FS step opens its script
        self.assertNotContains(first, 'class="hll"')
        state = self.state(first)
        second = self.client.post(self.url, {**step_post(self.s01, "adfs", **{"relying_parties-0-external": "Lync-Out"}),
                                             **state})
        self.assertContains(second, 'id="preview-patch"')
        self.assertContains(second, 'class="hll"')
        self.assertContains(second, "Lync-Out")
        self.assertNotContains(second, 'class="ps-code"')               # not the whole file again
        self.assertContains(second, "changed</span> since the previous preview")
        self.assertGreater(second.context["p"].changed_shown, 0)
        self.assertLess(len(second.content), len(first.content) / 2)
        patch = second.context["p"]
        self.assertEqual(patch.base, state["preview_base"])
        # The same values again: nothing of the file travels.
        third = self.client.post(self.url, {**step_post(self.s01, "adfs", **{"relying_parties-0-external": "Lync-Out"}),
                                            **self.state(second)})
        self.assertEqual(third.context["p"].mode, "same")
        self.assertNotContains(third, 'id="preview-patch"')
        self.assertNotContains(third, 'class="ps-code"')

    def test_a_page_whose_text_the_server_does_not_know_gets_the_whole_file(self) -> None:
        self.client.force_login(self.alice)
        answer = self.client.post(self.url, {**step_post(self.s01, "adfs"), "preview_file": "adfs-server.ps1",
                                             "preview_base": "0" * 64, "preview_since": "f" * 64})
        self.assertEqual(answer.context["p"].mode, "full")
        self.assertContains(answer, 'class="ps-code"')
        self.assertNotContains(answer, 'class="hll"')

    def test_a_tab_opens_another_file_with_the_changes_marked_per_tab(self) -> None:
        self.client.force_login(self.alice)
        first = self.client.post(self.url, step_post(self.s01, "adfs"))
        since = self.state(first)["preview_since"]
        other = self.client.post(self.url, {**step_post(self.s01, "adfs", **{"relying_parties-0-external": "Lync-Out"}),
                                            "preview_file": "rollback-adfs.ps1", "preview_since": since})
        self.assertEqual(other.context["p"].mode, "full")
        self.assertContains(other, 'data-file="rollback-adfs.ps1"')
        tabs = {t.name: t.changed for t in other.context["p"].tabs}
        self.assertGreater(tabs["adfs-server.ps1"], 0)
        self.assertEqual(tabs["certificates.md"], 0)
        self.assertNotIn("SHA256SUMS", tabs)

    def test_a_preview_is_never_compared_with_another_plans_preview(self) -> None:
        # The texts of recent previews were kept by bundle SHA-256 alone, and the SHA-256 comes from the browser:
        # naming another plan's preview (one its member once saw) made this plan's preview count, per file, the
        # lines that differ from that plan's scripts and send a patch against them, an oracle on a plan the person
        # cannot see (or no longer can).
        other = make_plan(fixture=S01, owner=self.charlie, shared=False, name="Someone else's plan")
        self.client.force_login(self.charlie)
        seen = self.state(self.client.post(reverse("plan-step-preview", args=[other.code, "adfs"]),
                                           step_post(other, "adfs")))
        self.client.force_login(self.alice)
        answer = self.client.post(self.url, {**step_post(self.s01, "adfs"), **seen})
        self.assertEqual(answer.context["p"].mode, "full")
        self.assertEqual({t.changed for t in answer.context["p"].tabs}, {0})

    def test_a_preview_writes_nothing_to_the_session_or_the_plan(self) -> None:
        self.client.force_login(self.alice)
        session = self.client.session
        before = dict(session.items())
        key = session.session_key
        from django.contrib.sessions.models import Session

        stored = Session.objects.get(session_key=key).session_data
        self.client.post(self.url, step_post(self.s01, "adfs", **{"relying_parties-0-external": "Lync-Out"}))
        self.assertEqual(Session.objects.get(session_key=key).session_data, stored)
        self.assertEqual(dict(self.client.session.items()), before)
        self.s01.refresh_from_db()
        self.assertEqual(self.s01.draft_version, 1)

    def test_a_plan_with_errors_previews_its_errors_instead_of_scripts(self) -> None:
        self.client.force_login(self.alice)
        response = self.client.post(self.url, step_post(self.s01, "adfs", **{
            "adfs-federation_service_name": "", "adfs-version": ""}))
        self.assertContains(response, "The plan has errors, so no script is generated")
        self.assertContains(response, 'id="preview-problem"')
        self.assertNotContains(response, 'class="ps-code"')

    def test_a_reader_may_preview_and_a_stranger_may_not(self) -> None:
        self.client.force_login(self.dave)
        self.assertEqual(self.client.post(self.url, step_post(self.s01, "adfs")).status_code, 200)
        self.client.force_login(self.charlie)
        self.assertEqual(self.client.post(self.url, step_post(self.s01, "adfs")).status_code, 404)


class TemplateRuleTests(SimpleTestCase):
    """The Content-Security-Policy allows no inline script or style: the templates carry none."""

    def test_no_template_has_inline_script_style_or_handlers(self) -> None:
        root = Path(__file__).resolve().parents[1] / "templates"
        files = [root / "base.html", *sorted((root / "registration").glob("*.html")),
                 *sorted((root / "wizard").rglob("*.html"))]
        for path in files:
            # Template comments may talk about <style>; only what reaches the browser counts.
            text = re.sub(r"\{#.*?#\}", "", path.read_text(encoding="utf-8"))
            with self.subTest(template=path.name):
                self.assertNotRegex(text, r"\sstyle\s*=")
                self.assertNotRegex(text, r"<style")
                self.assertNotRegex(text, r"<script(?![^>]*\bsrc=)")
                self.assertNotRegex(text, r"\son[a-z]+\s*=")
                self.assertNotRegex(text, r"hx-on|javascript:")
