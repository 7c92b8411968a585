"""The estate in the web app: start a plan from a state file, keep state files with a plan (merging
the Management Shell and AD FS runs), intended versus actual, the revision's state, the collector
download, and who may do what."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.base import BaseTestCase, make_plan, set_draft
from wizard.models import AuditEvent, Plan, PlanState
from wizard.review import estate as estate_store
from wizard.review import services as review
from wizard.scripts.artifacts.estate import COLLECTOR_FILE, render_collector
from wizard.scripts.bundle import encode_file

STATES = Path(__file__).resolve().parent / "fixtures" / "states"


def state_doc(name: str = "sfb2019-adfs2019-wap") -> dict[str, Any]:
    return json.loads((STATES / f"{name}.state.json").read_text(encoding="utf-8"))


def upload(doc: dict[str, Any] | bytes, name: str = "lync-auth-state.json") -> SimpleUploadedFile:
    data = doc if isinstance(doc, bytes) else json.dumps(doc).encode("utf-8")
    return SimpleUploadedFile(name, data, content_type="application/json")


def estate_plan_doc(name: str = "sfb2019-adfs2019-wap") -> dict[str, Any]:
    return json.loads((STATES / f"{name}.plan.json").read_text(encoding="utf-8"))


class StartFromStateTests(BaseTestCase):
    def setUp(self) -> None:
        self.client.force_login(self.alice)

    def test_a_state_file_becomes_a_prefilled_plan_that_changes_nothing(self) -> None:
        response = self.client.post(reverse("plan-from-state"), {"name": "", "file": upload(state_doc())})
        plan = Plan.objects.exclude(pk=self.plan.pk).get()
        self.assertRedirects(response, reverse("plan-step", args=[plan.code, "environment"]))
        self.assertEqual(plan.owner, self.alice)
        self.assertEqual(plan.name, "Estate of sfbfe01.corp.contoso.com, collected 2026-12-01")
        self.assertEqual([p["fqdn"] for p in plan.draft["pools"]], ["sfbpool.corp.contoso.com"])
        self.assertNotIn("auth", plan.draft["pools"][0])
        self.assertEqual(plan.draft["adfs"], {"federation_service_name": "adfs.contoso.com", "version": "2019"})
        state = plan.states.get()
        self.assertEqual(state.document, state_doc())      # kept as uploaded, unknown fields and all
        self.assertEqual(state.collected_on, "sfbfe01.corp.contoso.com")
        self.assertTrue(state.has_management_shell and state.has_adfs)
        actions = list(plan.audit_events.order_by("id").values_list("action", flat=True))
        self.assertEqual(actions, [AuditEvent.Action.CREATED, AuditEvent.Action.STATE_UPLOADED])

    def test_subscription_edition_is_said_clearly(self) -> None:
        doc = state_doc()
        doc["product"] = "sfbse"
        response = self.client.post(reverse("plan-from-state"), {"name": "SE estate", "file": upload(doc)},
                                    follow=True)
        plan = Plan.objects.get(name="SE estate")
        self.assertEqual(plan.draft["product"], "sfbse")
        self.assertContains(response, "Subscription Edition")

    def test_a_bad_state_file_stores_nothing_and_lists_every_error_by_path(self) -> None:
        doc = state_doc()
        doc["pools"][0]["fqdn"] = "<script>alert(1)</script>"
        doc["sip_domains"] = "contoso.com"
        response = self.client.post(reverse("plan-from-state"), {"name": "x", "file": upload(doc)})
        self.assertEqual(response.status_code, 400)
        self.assertContains(response, "<code>pools[0].fqdn</code>", status_code=400)
        self.assertContains(response, "<code>sip_domains</code>", status_code=400)
        self.assertNotContains(response, "<script>alert(1)</script>", status_code=400)
        self.assertEqual(Plan.objects.count(), 1)
        self.assertFalse(PlanState.objects.exists())

    def test_what_is_not_a_state_file_is_refused_with_its_reason(self) -> None:
        for data, reason in ((b"[1]", "one JSON object"), (b'{"a": NaN}', "NaN"), (b"\xff", "not UTF-8"),
                             (b"[" * 50_000, "nested too deeply")):
            response = self.client.post(reverse("plan-from-state"), {"name": "", "file": upload(data)})
            self.assertContains(response, reason, status_code=400)
        big = upload(b" " * (600 * 1024))
        response = self.client.post(reverse("plan-from-state"), {"name": "", "file": big})
        self.assertContains(response, "at most 512 KB", status_code=400)
        self.assertEqual(Plan.objects.count(), 1)


class EstatePageTests(BaseTestCase):
    def setUp(self) -> None:
        self.plan = make_plan(doc=estate_plan_doc())
        self.url = reverse("plan-estate", args=[self.plan.code])

    def test_without_a_state_the_page_says_how_to_get_one(self) -> None:
        self.client.force_login(self.dave)
        response = self.client.get(self.url)
        self.assertContains(response, 'id="no-state"')
        self.assertContains(response, reverse("collect-state-download"))
        self.assertNotContains(response, 'id="state-upload"')     # read-only: no upload form

    def test_intended_versus_actual_setting_by_setting(self) -> None:
        self.client.force_login(self.alice)
        response = self.client.post(self.url, {"file": upload(state_doc())})
        self.assertRedirects(response, self.url)
        page = self.client.get(self.url)
        self.assertContains(page, 'id="state-collected-at">2026-12-01 09:30 UTC')
        self.assertContains(page, 'data-identity="service:WebServer:sfbpool.corp.contoso.com"')
        self.assertContains(page, '<tr data-setting="UseWsFedPassiveAuth" data-status="change"')
        self.assertContains(page, '<tr data-setting="AllowSaveCredentials" data-status="no_op"')
        self.assertContains(page, "no change (already set)")
        self.assertContains(page, 'data-finding="estate_mobility_override"')
        self.assertContains(page, 'data-finding="estate_relying_party_present"')
        self.assertContains(page, 'id="drift-summary"')
        # The exposure slot stays empty until the exposure model is wired in.
        self.assertNotContains(page, 'id="estate-exposure"')

    def test_the_management_shell_run_and_the_adfs_run_are_merged(self) -> None:
        self.client.force_login(self.alice)
        whole = state_doc()
        shell = {k: v for k, v in whole.items() if k != "adfs"}
        adfs = {"format": "lync-auth-state/1", "collected_at": "2026-12-01T09:41:17Z",
                "collected_on": "adfs19-01.corp.contoso.com",
                "adfs": {k: v for k, v in whole["adfs"].items() if k not in ("collected_at", "collected_on")}}
        self.client.post(self.url, {"file": upload(shell)})
        self.client.post(self.url, {"file": upload(adfs)})
        latest = estate_store.latest_state(self.plan)
        self.assertTrue(latest.has_management_shell and latest.has_adfs)
        self.assertEqual(latest.adfs_collected_at.isoformat(), "2026-12-01T09:41:17+00:00")
        self.assertEqual(latest.document["adfs"]["collected_on"], "adfs19-01.corp.contoso.com")
        page = self.client.get(self.url)
        self.assertContains(page, "AD FS part collected")
        self.assertContains(page, 'data-identity="Lync-Ext-sfbpool"')

    def test_a_hostile_state_is_escaped_on_the_page(self) -> None:
        self.client.force_login(self.alice)
        doc = state_doc()
        doc["adfs"]["relying_parties"][0]["access_control_policy_name"] = "<img src=x onerror=alert(1)> \u2019$(x)"
        self.client.post(self.url, {"file": upload(doc)})
        page = self.client.get(self.url)
        self.assertNotContains(page, "<img src=x")
        self.assertContains(page, "&lt;img src=x onerror=alert(1)&gt;")

    def test_only_editors_upload_and_strangers_see_nothing(self) -> None:
        self.client.force_login(self.dave)
        self.assertEqual(self.client.post(self.url, {"file": upload(state_doc())}).status_code, 403)
        self.client.force_login(self.charlie)
        self.assertEqual(self.client.get(self.url).status_code, 404)
        self.assertEqual(self.client.post(self.url, {"file": upload(state_doc())}).status_code, 404)
        self.assertFalse(PlanState.objects.exists())
        self.client.force_login(self.erin)
        self.assertEqual(self.client.post(self.url, {"file": upload(state_doc())}).status_code, 302)

    def test_a_bad_upload_lists_its_errors_and_keeps_nothing(self) -> None:
        self.client.force_login(self.alice)
        doc = state_doc()
        doc["web_service_configurations"][0]["use_windows_auth"] = 7
        response = self.client.post(self.url, {"file": upload(doc)})
        self.assertContains(response, "<code>web_service_configurations[0].use_windows_auth</code>", status_code=400)
        self.assertFalse(PlanState.objects.exists())

    def test_a_draft_with_errors_cannot_be_compared_yet(self) -> None:
        self.client.force_login(self.alice)
        self.client.post(self.url, {"file": upload(state_doc())})
        set_draft(self.plan, {**estate_plan_doc(), "pools": "not a list"})
        page = self.client.get(self.url)
        self.assertContains(page, 'id="estate-problem"')


class RevisionStateTests(BaseTestCase):
    def test_a_revision_keeps_the_state_it_was_judged_against(self) -> None:
        plan = make_plan(doc=estate_plan_doc())
        first = review.save_revision(plan, by=self.alice, message="before any state", draft_version=plan.draft_version)
        self.assertIsNone(first.state)
        self.client.force_login(self.alice)
        self.client.post(reverse("plan-estate", args=[plan.code]), {"file": upload(state_doc())})
        set_draft(plan, {**estate_plan_doc(), "name": "with a state"})
        second = review.save_revision(plan, by=self.alice, message="after the state", draft_version=plan.draft_version)
        self.assertEqual(second.state, estate_store.latest_state(plan))
        self.client.force_login(self.bob)
        page = self.client.get(second.get_absolute_url())
        self.assertContains(page, "judged against the state collected")
        self.assertContains(page, "2026-12-01 09:30 UTC")
        self.assertContains(page, f"?revision={second.number}")
        old = self.client.get(first.get_absolute_url())
        self.assertContains(old, "no state file was kept with the plan when this revision was saved")
        # A newer upload does not change what the revision was judged against.
        self.client.force_login(self.alice)
        newer = state_doc()
        newer["collected_at"] = "2026-12-05T08:00:00Z"
        self.client.post(reverse("plan-estate", args=[plan.code]), {"file": upload(newer)})
        second.refresh_from_db()
        self.assertEqual(second.state.collected_at.isoformat(), "2026-12-01T09:30:00+00:00")
        page = self.client.get(reverse("plan-estate", args=[plan.code]) + f"?revision={second.number}")
        self.assertContains(page, "Intended versus actual: revision 2")
        self.assertContains(page, "2026-12-01 09:30 UTC")
        self.assertEqual(self.client.get(reverse("plan-estate", args=[plan.code]) + "?revision=99").status_code, 404)
        self.assertEqual(self.client.get(reverse("plan-estate", args=[plan.code]) + "?revision=x").status_code, 404)

    def test_deleting_a_plan_deletes_its_states_and_revisions(self) -> None:
        plan = make_plan(doc=estate_plan_doc())
        estate_store.store_state(plan, doc=state_doc(), by=self.alice)
        review.save_revision(plan, by=self.alice, message="judged", draft_version=plan.draft_version)
        plan.delete()
        self.assertFalse(PlanState.objects.exists())


class CollectorDownloadTests(BaseTestCase):
    def test_the_collector_downloads_on_its_own_with_the_bundle_bytes(self) -> None:
        self.client.force_login(self.dave)
        response = self.client.get(reverse("collect-state-download"))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.content, encode_file(COLLECTOR_FILE, render_collector()))
        self.assertIn('filename="collect-state.ps1"', response["Content-Disposition"])
        list_page = self.client.get(reverse("plan-list"))
        self.assertContains(list_page, 'id="collector-download"')
        self.assertContains(list_page, 'id="start-from-estate"')

    def test_anonymous_visitors_are_sent_to_sign_in(self) -> None:
        for name in ("collect-state-download", "plan-from-state"):
            response = self.client.get(reverse(name))
            self.assertEqual(response.status_code, 302)
            self.assertIn("/accounts/login/", response["Location"])


class PlanDetailLinkTests(BaseTestCase):
    def test_the_plan_page_links_to_intended_versus_actual(self) -> None:
        self.client.force_login(self.alice)
        response = self.client.get(self.plan.get_absolute_url())
        self.assertContains(response, reverse("plan-estate", args=[self.plan.code]))
