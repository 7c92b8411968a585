"""Step pages at the plan limits (issue 12, item 6): the long lists are shown and saved a page at a time.

A page of a list posts its rows and says which part of the list they are (`step_window`). Every
guarantee of a step save holds per page: a save answered "Saved" is stored, a save to another
page merges like a save to another step, a conflict on the page shows both values, and a page
whose rows would land on other items (rows added or removed meanwhile) is refused, never placed.
"""
from __future__ import annotations

import copy
from typing import Any

from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from tests.base import BaseTestCase, make_personas, make_plan, plan_doc
from tests.test_wizard_views import post_data
from wizard.models import Plan
from wizard.plan import engine
from wizard.plan.limits import LIST_LIMITS
from wizard.web.drafts import create_plan, save_step
from wizard.web.forms import StepForms
from wizard.web.steps import (
    apply,
    decode_window,
    encode_window,
    get_step,
    initial,
    moved_rows,
    page_window,
    step_base,
)

ENV, AUTH, ADFS, MOBILITY = (get_step(s) for s in ("environment", "authentication", "adfs", "mobility"))


def big_doc(pools: int = 23, edges: int = 13) -> dict[str, Any]:
    """Return a valid plan with `pools` passive pools (three pages of ten) and `edges` Edge pools."""
    doc = plan_doc()
    first = doc["pools"][0]
    doc["pools"] = [dict(copy.deepcopy(first), fqdn=f"pool{i:02d}.contoso.com", internal_web_fqdn=f"pool{i:02d}.contoso.com",
                         external_web_fqdn=f"web{i:02d}.contoso.com", site=f"Site{i % 3}",
                         relying_parties={"internal": f"Int-{i}", "external": f"Ext-{i}"}, x_note=f"kept {i}")
                    for i in range(pools)]
    doc["edge_pools"] = [{"fqdn": f"edge{i:02d}.contoso.com", "block_ntlm": True} for i in range(edges)]
    return doc


def fqdns(doc: dict[str, Any]) -> list[str]:
    return [p["fqdn"] for p in doc["pools"]]


# ---------------------------------------------------------------------------
# The mapping, pure


class WindowMappingTests(BaseTestCase):
    def test_a_page_shows_its_rows_and_says_where_it_stands(self) -> None:
        doc = big_doc()
        window, info = page_window(ENV, doc, {"pools": 2})
        self.assertEqual(window["pools"], (10, 20, 23))
        self.assertEqual((info["pools"].page, info["pools"].pages, info["pools"].first, info["pools"].last,
                          info["pools"].total), (2, 3, 11, 20, 23))
        self.assertEqual([r["fqdn"] for r in initial(ENV, doc, window)["pools"]], fqdns(doc)[10:20])
        # Past the last page: the last page; the Edge pools are on their first page.
        window, info = page_window(ENV, doc, {"pools": 99})
        self.assertEqual(window["pools"], (20, 23, 23))
        self.assertEqual(window["edge_pools"], (0, 10, 13))

    def test_saving_a_page_changes_its_rows_and_leaves_every_other_item_as_it_was(self) -> None:
        doc = big_doc()
        window, _ = page_window(ENV, doc, {"pools": 2})
        values = initial(ENV, doc, window)
        values["pools"][0]["site"] = "Moved"
        del values["pools"][3]                                   # pool13 removed
        values["pools"].append({"index": None, "fqdn": "new.contoso.com", "role": "frontend", "site": None,
                                "internal_web_fqdn": None, "external_web_fqdn": None})
        new = apply(ENV, doc, values, window)
        expected = fqdns(doc)[:13] + fqdns(doc)[14:20] + ["new.contoso.com"] + fqdns(doc)[20:]
        self.assertEqual(fqdns(new), expected)
        self.assertEqual(new["pools"][10]["site"], "Moved")
        # Keys other steps own (auth, relying parties, x_ data) stay with their pool on every page.
        for pool in new["pools"]:
            if pool["fqdn"] != "new.contoso.com":
                self.assertEqual(pool["x_note"], f"kept {int(pool['fqdn'][4:6])}")
                self.assertIn("auth", pool)
        self.assertEqual(new["edge_pools"], doc["edge_pools"])

    def test_a_per_pool_page_edits_the_pools_it_names_only(self) -> None:
        doc = big_doc()
        window, _ = page_window(AUTH, doc, {"pools": 3, "edge_pools": 2})
        self.assertEqual(window["pools"], (20, 21, 22))
        values = initial(AUTH, doc, window)
        for row in values["pools"]:
            row["external"] = "tls_dsk"
        new = apply(AUTH, doc, values, window)
        self.assertEqual([p["auth"]["external"] for p in new["pools"]], ["passive"] * 20 + ["tls_dsk"] * 3)

    def test_the_fingerprint_of_a_page_ignores_other_pages_and_counts_the_rows_of_a_list(self) -> None:
        doc = big_doc()
        window, _ = page_window(ENV, doc, {"pools": 1})
        other = copy.deepcopy(doc)
        other["pools"][15]["site"] = "Elsewhere"
        self.assertEqual(step_base(ENV, doc, window), step_base(ENV, other, window))
        self.assertNotEqual(step_base(ENV, doc), step_base(ENV, other))
        other["pools"][3]["site"] = "Here"
        self.assertNotEqual(step_base(ENV, doc, window), step_base(ENV, other, window))
        longer = copy.deepcopy(doc)
        longer["pools"].append(copy.deepcopy(doc["pools"][0]) | {"fqdn": "extra.contoso.com"})
        self.assertNotEqual(step_base(ENV, doc, window), step_base(ENV, longer, window))
        self.assertTrue(moved_rows(ENV, longer, window))
        self.assertFalse(moved_rows(ENV, doc, window))

    def test_the_window_travels_as_text_and_a_damaged_one_is_refused(self) -> None:
        doc = big_doc()
        for step, pages in ((ENV, {"pools": 3}), (AUTH, {"pools": 2}), (ADFS, {"relying_parties": 3}),
                            (MOBILITY, {})):
            window, _ = page_window(step, doc, pages)
            self.assertEqual(decode_window(step, encode_window(step, window), LIST_LIMITS), window)
        self.assertIsNone(decode_window(ENV, "", LIST_LIMITS))
        for text in ("pools=5:3:23", "pools=0:101:23", "pools=0:24:23", "pools=1.2.3", "nothing=0:1:1", "pools=0:10:23;pools=0:10:23",
                     "pools=0:10", "pools=0:10:23;x", "pools=-1:3:5"):
            with self.subTest(text=text), self.assertRaises(ValueError):
                decode_window(ENV, text, LIST_LIMITS)
        for text in ("pools=0:10:23", "pools=1.1", "pools=" + ".".join(map(str, range(11))), "pools=100"):
            with self.subTest(text=text), self.assertRaises(ValueError):
                decode_window(AUTH, text, LIST_LIMITS)


# ---------------------------------------------------------------------------
# Saving pages: the draft services


class PagedSaveTests(BaseTestCase):
    def setUp(self) -> None:
        self.plan = create_plan(owner=self.alice, doc=big_doc())

    def load(self, step: Any, pages: dict[str, int]) -> dict[str, Any]:
        plan = Plan.objects.get(pk=self.plan.pk)
        window, _ = page_window(step, plan.draft, pages)
        return {"window": window, "version": plan.draft_version, "base": step_base(step, plan.draft, window),
                "values": initial(step, plan.draft, window)}

    def save(self, step: Any, page: dict[str, Any]) -> Any:
        result = save_step(Plan.objects.get(pk=self.plan.pk), step, copy.deepcopy(page["values"]),
                           based_on=page["version"], base=page["base"], by=self.alice, window=page["window"])
        if result.saved:
            page.update(version=result.version, base=result.base, window=result.window)
        return result

    def test_two_editors_on_two_pages_both_save(self) -> None:
        first, third = self.load(ENV, {"pools": 1}), self.load(ENV, {"pools": 3})
        first["values"]["pools"][0]["site"] = "One"
        third["values"]["pools"][0]["site"] = "Three"
        self.assertTrue(self.save(ENV, first).saved)
        result = self.save(ENV, third)
        self.assertTrue(result.saved and result.merged)
        stored = Plan.objects.get(pk=self.plan.pk).draft
        self.assertEqual((stored["pools"][0]["site"], stored["pools"][20]["site"]), ("One", "Three"))

    def test_the_same_field_on_one_page_is_a_conflict_with_both_values(self) -> None:
        one, two = self.load(ENV, {"pools": 2}), self.load(ENV, {"pools": 2})
        one["values"]["pools"][1]["site"] = "Mine"
        two["values"]["pools"][1]["site"] = "Theirs"
        self.assertTrue(self.save(ENV, one).saved)
        result = self.save(ENV, two)
        self.assertFalse(result.saved)
        [change] = result.changes
        self.assertEqual((change.path, change.old, change.new), ("pools[11].site", "Mine", "Theirs"))

    def test_a_page_whose_rows_moved_is_refused_never_placed(self) -> None:
        other, mine = self.load(ENV, {"pools": 1}), self.load(ENV, {"pools": 2})
        del other["values"]["pools"][0]                          # someone removes pool00 on page 1
        self.assertTrue(self.save(ENV, other).saved)
        mine["values"]["pools"][0]["site"] = "Changed"           # pool10, now at index 9
        before = Plan.objects.get(pk=self.plan.pk).draft
        result = self.save(ENV, mine)
        self.assertFalse(result.saved)
        self.assertIn("rows were added or removed by someone else", result.changes[0].label)
        self.assertEqual(Plan.objects.get(pk=self.plan.pk).draft, before)

    def test_one_new_name_added_twice_is_kept_twice_and_marked(self) -> None:
        for _ in range(2):                       # the second page is loaded after the first save
            page = self.load(ENV, {"pools": 3})
            page["values"]["pools"].append({"index": None, "fqdn": "same.contoso.com", "role": "frontend",
                                            "site": None, "internal_web_fqdn": None, "external_web_fqdn": None})
            self.assertTrue(self.save(ENV, page).saved)
        stored = Plan.objects.get(pk=self.plan.pk).draft
        self.assertEqual(fqdns(stored).count("same.contoso.com"), 2, "what was typed twice is stored twice")
        names = fqdns(stored)
        second = names.index("same.contoso.com", names.index("same.contoso.com") + 1)
        _, found = engine.assess(stored)
        [duplicate] = [f for f in found if f.code == "duplicate"]
        self.assertEqual((duplicate.severity, duplicate.field), ("error", f"pools[{second}].fqdn"))
        self.assertIn("already listed", duplicate.message)

    def test_a_new_row_saved_twice_by_autosave_is_one_pool(self) -> None:
        page = self.load(ENV, {"pools": 3})
        page["values"]["pools"].append({"index": None, "fqdn": "added.contoso.com", "role": "frontend", "site": None,
                                        "internal_web_fqdn": None, "external_web_fqdn": None})
        self.assertTrue(self.save(ENV, page).saved)
        page["values"]["pools"][-1]["site"] = "Later"
        self.assertTrue(self.save(ENV, page).saved)
        stored = Plan.objects.get(pk=self.plan.pk).draft
        self.assertEqual(fqdns(stored), [*fqdns(big_doc()), "added.contoso.com"])
        self.assertEqual(stored["pools"][-1]["site"], "Later")


# ---------------------------------------------------------------------------
# Any interleaving of two editors on pages of the long lists


def window_problems(slug: str, values: dict[str, Any], window: dict[str, Any], draft: dict[str, Any]) -> list[str]:
    """Return what of the typed page is not in `draft` (looked up without `apply`)."""
    problems = []
    if slug == "environment":
        start = window["pools"][0]
        typed = [(r["fqdn"], r.get("site") or "") for r in values["pools"]]
        stored = [(p["fqdn"], p.get("site") or "") for p in draft["pools"][start:start + len(typed)]]
        if stored != typed:
            problems.append(f"pools from {start}: {stored} != typed {typed}")
    else:
        for row in values["pools"]:
            pool = next((p for p in draft["pools"] if p["fqdn"] == row["pool"]), None)
            if pool is None or (pool.get("auth") or {}).get("external", "") != (row["external"] or ""):
                problems.append(f"pool {row['pool']} external not {row['external']!r}")
    return problems


ACTIONS = st.lists(st.tuples(st.sampled_from(["load", "edit", "save"]), st.integers(0, 1),
                             st.sampled_from(["environment", "authentication"]), st.integers(1, 3),
                             st.integers(0, 10**6)), min_size=4, max_size=30)


class InterleavedPagesTests(TestCase):
    @settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(ACTIONS)
    def test_every_saved_page_is_in_the_stored_draft(self, actions: list[tuple]) -> None:
        people = make_personas()
        plan = create_plan(owner=people.alice, doc=big_doc())
        pages: list[dict[str, Any] | None] = [None, None]
        added = 0
        for kind, who, slug, number, n in actions:
            fresh = Plan.objects.get(pk=plan.pk)
            page = pages[who]
            if kind == "load" or page is None:
                step = get_step(slug)
                window, _ = page_window(step, fresh.draft, {"pools": number})
                pages[who] = {"step": step, "version": fresh.draft_version, "window": window,
                              "base": step_base(step, fresh.draft, window), "values": initial(step, fresh.draft, window)}
                continue
            rows = page["values"]["pools"]
            if kind == "edit":
                if not rows:
                    continue
                row = rows[n % len(rows)]
                if page["step"].slug == "environment":
                    if n % 7 == 0:
                        # Every added pool has a name of its own: two rows typed with one name are
                        # two rows (stored, and the reader marks the second), not a merge that
                        # placed a pool twice, which is what this property looks for.
                        added += 1
                        rows.append({"index": None, "fqdn": f"new{added}.contoso.com", "role": "frontend",
                                     "site": None, "internal_web_fqdn": None, "external_web_fqdn": None})
                    else:
                        row["site"] = f"Site{n % 5}"
                else:
                    row["external"] = ["ntlm", "tls_dsk", "passive", ""][n % 4]
                continue
            typed = copy.deepcopy(page["values"])
            result = save_step(fresh, page["step"], typed, based_on=page["version"], base=page["base"],
                               by=people.alice, window=page["window"])
            stored = Plan.objects.get(pk=plan.pk).draft
            if result.saved:
                problems = window_problems(page["step"].slug, typed, page["window"], stored)
                self.assertEqual(problems, [], f"answered Saved, but {problems}")
                self.assertEqual(len(stored["pools"]), len({p["fqdn"] for p in stored["pools"]}) or 0,
                                 "no pool is placed twice")
                page.update(version=result.version, base=result.base, window=result.window)
            else:
                self.assertTrue(result.changes, "a refused save shows what differs")


# ---------------------------------------------------------------------------
# The pages


class PagedStepViewTests(BaseTestCase):
    def setUp(self) -> None:
        self.plan = make_plan(doc=big_doc())

    def url(self, slug: str, query: str = "") -> str:
        return reverse("plan-step", args=[self.plan.code, slug]) + query

    def body(self, slug: str, pages: dict[str, int], **changes: str) -> dict[str, Any]:
        step = get_step(slug)
        self.plan.refresh_from_db()
        window, _ = page_window(step, self.plan.draft, pages)
        data = post_data(StepForms(step, self.plan.draft, window=window))
        data.update(draft_version=str(self.plan.draft_version), step_base=step_base(step, self.plan.draft, window),
                    step_window=encode_window(step, window), action="save")
        data.update(changes)
        return data

    def test_a_page_shows_ten_pools_a_pager_and_the_help_once(self) -> None:
        self.client.force_login(self.alice)
        page = self.client.get(self.url("environment", "?pools-page=2"))
        html = page.content.decode()
        self.assertIn("pool10.contoso.com", html)
        self.assertNotIn('value="pool09.contoso.com"', html)
        self.assertIn('name="pools-TOTAL_FORMS" value="10"', html)
        self.assertIn("11–20 of 23", html)
        self.assertIn('value="page:pools:3"', html)
        self.assertIn('name="step_window" value="sip_domains=0:1:1;pools=10:20:23;edge_pools=0:10:13"', html)
        self.assertEqual(html.count('id="id_pools-0-fqdn_helptext"'), 1)
        self.assertEqual(html.count('id="id_pools-1-fqdn_helptext"'), 0)
        # A reader gets links (a disabled form cannot submit).
        self.client.force_login(self.dave)
        self.assertContains(self.client.get(self.url("environment")), 'href="?pools-page=3"')

    def test_a_page_saves_its_rows_and_a_pager_button_saves_then_shows_the_other_page(self) -> None:
        self.client.force_login(self.alice)
        body = self.body("environment", {"pools": 2}, **{"pools-0-site": "Paged", "action": "page:pools:3"})
        response = self.client.post(self.url("environment", "?pools-page=2"), body)
        self.assertRedirects(response, self.url("environment", "?pools-page=3"), fetch_redirect_response=False)
        self.plan.refresh_from_db()
        self.assertEqual(self.plan.draft["pools"][10]["site"], "Paged")
        self.assertEqual(fqdns(self.plan.draft), fqdns(big_doc()))
        # Save keeps the page.
        body = self.body("environment", {"pools": 3}, **{"pools-0-site": "Third"})
        self.assertRedirects(self.client.post(self.url("environment", "?pools-page=3"), body),
                             self.url("environment", "?pools-page=3"), fetch_redirect_response=False)

    def test_a_page_number_in_other_digits_is_ignored_not_a_500(self) -> None:
        # str.isdigit() holds for '²', '①' and Arabic-Indic digits, which int() refuses or reads.
        self.client.force_login(self.alice)
        for typed in ("\u00b2", "\u2460", "\u0663", "\uff13"):
            with self.subTest(typed=typed):
                page = self.client.get(self.url("environment", f"?pools-page={typed}"))
                self.assertContains(page, "1–10 of 23")
                body = self.body("environment", {"pools": 2}, **{"pools-0-site": "Paged", "action": f"page:pools:{typed}"})
                response = self.client.post(self.url("environment", "?pools-page=2"), body)
                self.assertRedirects(response, self.url("environment", "?pools-page=2"), fetch_redirect_response=False)

    def test_an_autosave_of_a_page_answers_the_window_to_send_next(self) -> None:
        self.client.force_login(self.alice)
        body = self.body("environment", {"pools": 3}, **{"pools-TOTAL_FORMS": "4", "pools-3-fqdn": "add.contoso.com"})
        answer = self.client.post(reverse("plan-step-autosave", args=[self.plan.code, "environment"]), body)
        self.assertContains(answer, "Saved")
        self.assertContains(answer, 'name="step_window" value="sip_domains=0:1:1;pools=20:24:24;edge_pools=0:10:13"')
        self.plan.refresh_from_db()
        self.assertEqual(fqdns(self.plan.draft)[-1], "add.contoso.com")

    def test_a_damaged_window_or_rows_not_on_their_page_save_nothing(self) -> None:
        self.client.force_login(self.alice)
        before = copy.deepcopy(self.plan.draft)
        for window in ("pools=0:99:23", "pools=20:23:23", "pools=0:23:23"):
            body = self.body("environment", {"pools": 1}, step_window=window, **{"pools-0-site": "X"})
            response = self.client.post(self.url("environment"), body)
            self.assertEqual(response.status_code, 400, window)
            self.assertContains(response, "Nothing was saved", status_code=400)
        self.plan.refresh_from_db()
        self.assertEqual(self.plan.draft, before)

    def test_a_row_index_that_is_not_a_number_saves_nothing_and_says_why(self) -> None:
        # The rows' hidden indexes were sorted to compare them with the page's span: text among
        # numbers raised TypeError (a 500) on the step save, its autosave and its preview.
        self.client.force_login(self.alice)
        before = copy.deepcopy(self.plan.draft)
        for index in ("x", "\u00b2", "", "1.5"):
            with self.subTest(index=index):
                body = self.body("environment", {"pools": 2}, **{"pools-1-index": index, "pools-0-site": "X"})
                response = self.client.post(self.url("environment", "?pools-page=2"), body)
                self.assertContains(response, "does not hold the rows of the part of the list", status_code=400)
                autosave = reverse("plan-step-autosave", args=[self.plan.code, "environment"])
                self.assertEqual(self.client.post(autosave, body).status_code, 400)
                preview = reverse("plan-step-preview", args=[self.plan.code, "environment"])
                self.assertEqual(self.client.post(preview, body).status_code, 200)
        self.plan.refresh_from_db()
        self.assertEqual(self.plan.draft, before)

    def test_an_error_on_another_page_is_listed_with_its_page(self) -> None:
        doc = big_doc()
        doc["pools"][21]["site"] = "bad\u0000site"
        plan = make_plan(doc=doc)
        self.client.force_login(self.alice)
        page = self.client.get(reverse("plan-step", args=[plan.code, "environment"]))
        self.assertContains(page, "(page 3)")

    def test_the_preview_of_a_page_renders_every_pool(self) -> None:
        self.client.force_login(self.alice)
        body = self.body("adfs", {"relying_parties": 2}, **{"relying_parties-0-internal": "Renamed-Int"})
        answer = self.client.post(reverse("plan-step-preview", args=[self.plan.code, "adfs"]),
                                  {**body, "preview_file": "adfs-server.ps1"})
        html = answer.content.decode()
        self.assertIn("Renamed-Int", html)
        self.assertIn("Int-0", html)
        self.assertIn("Int-22", html)
