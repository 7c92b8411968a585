"""Two editors on random steps of one plan, interleaved at random: every "Saved" is stored.

Issue 12, item 2: an answer of "Saved" must mean the typed values are in the stored
draft. A row of a per-pool step whose pool was renamed or removed meanwhile used to be
skipped while the save said "Saved"; now it is a conflict shown with both values.

The check after each save is independent of `wizard.web.steps.apply`: it looks each
typed row up in the stored draft by the pool (or policy) it names.
"""
from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from tests.base import make_personas, plan_doc
from wizard.models import Plan
from wizard.plan.model import MOBILITY_SETTINGS
from wizard.web.drafts import create_plan, save_step
from wizard.web.steps import STEPS, get_step, initial, step_base

FORM_STEPS = [s.slug for s in STEPS if not s.is_review]
MODES = ["ntlm", "tls_dsk", "passive", ""]
SETTINGS = list(MOBILITY_SETTINGS)


def start_doc() -> dict[str, Any]:
    """Return a plan with three passive pools, two Edge pools and two mobility policies."""
    doc = plan_doc()
    first = doc["pools"][0]
    doc["pools"] = [dict(copy.deepcopy(first), fqdn=f"pool{i}.contoso.com", internal_web_fqdn=f"pool{i}.contoso.com",
                         relying_parties={"internal": f"Int-{i}", "external": f"Ext-{i}"}) for i in range(3)]
    doc["edge_pools"] = [{"fqdn": f"edge{i}.contoso.com", "block_ntlm": True} for i in range(2)]
    doc["mobility_policies"] = [{"identity": "Global"}, {"identity": "site:Redmond"}]
    return doc


def _find(items: list, index: Any, name: Any, key: str = "fqdn") -> dict | None:
    if isinstance(index, int) and 0 <= index < len(items) and items[index].get(key) == name:
        return items[index]
    return next((item for item in items if item.get(key) == name), None)


def stored_problems(slug: str, values: dict[str, Any], draft: dict[str, Any]) -> list[str]:
    """Return what of the typed `values` of step `slug` is not in `draft` (empty: all of it is)."""
    problems = []
    pools, edges = draft.get("pools", []), draft.get("edge_pools", [])
    if slug == "environment":
        stored = [(p.get("fqdn"), p.get("site") or "") for p in pools]
        typed = [(r.get("fqdn"), r.get("site") or "") for r in values["pools"]]
        if stored != typed:
            problems.append(f"pools {stored} != typed {typed}")
    elif slug == "authentication":
        for row in values["pools"]:
            pool = _find(pools, row["index"], row["pool"])
            if pool is None:
                problems.append(f"pool {row['pool']} missing")
            elif (pool.get("auth") or {}).get("external", "") != (row["external"] or ""):
                problems.append(f"pool {row['pool']} external {pool.get('auth')} != {row['external']!r}")
        for row in values["edge_pools"]:
            edge = _find(edges, row["index"], row["edge"])
            if edge is None or bool(edge.get("block_ntlm")) != bool(row["block_ntlm"]):
                problems.append(f"edge {row['edge']} block_ntlm not {row['block_ntlm']}")
    elif slug == "adfs":
        for row in values["relying_parties"]:
            pool = _find(pools, row["index"], row["pool"])
            rps = (pool or {}).get("relying_parties") or {}
            if pool is None or rps.get("internal", "") != (row["internal"] or ""):
                problems.append(f"relying party of {row['pool']} not {row['internal']!r}")
    elif slug == "mobility":
        stored = list(draft.get("mobility_policies", []))
        for row in values["policies"]:
            policy = _find(stored, row["index"], row["identity"], key="identity")
            for key in SETTINGS:
                want = {"true": True, "false": False}.get(row[key])
                if policy is None or policy.get(key) != want:
                    problems.append(f"policy {row['identity']} {key} not {want}")
    elif slug == "certificates":
        if (draft.get("certificates") or {}).get("key_size") != (values["certificates"]["key_size"] or None):
            problems.append("key size not stored")
    return problems


def edit(slug: str, values: dict[str, Any], pick: int, n: int) -> bool:
    """Change `values` of step `slug` in place, chosen by `pick` and `n`; return True for a removal."""
    if slug == "environment":
        rows = values["pools"]
        if n % 5 == 0 and len(rows) > 1:
            del rows[pick % len(rows)]
            return True
        row = rows[pick % len(rows)]
        if n % 2:
            row["fqdn"] = f"pool{n % 6}.contoso.com"
        else:
            row["site"] = f"Site{n % 4}"
    elif slug == "authentication":
        if n % 3 == 0 and values["edge_pools"]:
            row = values["edge_pools"][pick % len(values["edge_pools"])]
            row["block_ntlm"] = not row["block_ntlm"]
        elif values["pools"]:
            values["pools"][pick % len(values["pools"])]["external"] = MODES[n % len(MODES)]
    elif slug == "adfs":
        if values["relying_parties"]:
            values["relying_parties"][pick % len(values["relying_parties"])]["internal"] = f"Int-{n % 5}"
    elif slug == "mobility":
        row = values["policies"][pick % len(values["policies"])]
        row[SETTINGS[n % len(SETTINGS)]] = ["", "true", "false"][pick % 3]
    elif slug == "certificates":
        values["certificates"]["key_size"] = [None, 2048, 4096][n % 3]
    return False


# The per-pool steps and the step that renames pools come up more often: their interplay is where
# values went missing.
STEP_CHOICES = FORM_STEPS + ["environment", "authentication", "adfs"] * 2
ACTIONS = st.lists(st.tuples(st.sampled_from(["load", "edit", "save"]), st.integers(0, 1),
                             st.sampled_from(STEP_CHOICES), st.integers(0, 10**6), st.integers(0, 10**6)),
                   min_size=4, max_size=40)


class InterleavedEditorsTests(TestCase):
    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(ACTIONS)
    def test_every_saved_answer_is_in_the_stored_draft(self, actions: list[tuple]) -> None:
        people = make_personas()
        editors = [people.alice, people.alice]  # two pages of the owner are two editors to the draft
        plan = create_plan(owner=people.alice, doc=start_doc())
        pages: list[dict[str, Any] | None] = [None, None]
        for kind, who, slug, pick, n in actions:
            fresh = Plan.objects.get(pk=plan.pk)
            page = pages[who]
            if kind == "load" or page is None:
                step = get_step(slug)
                pages[who] = {"step": step, "version": fresh.draft_version, "base": step_base(step, fresh.draft),
                              "values": initial(step, fresh.draft), "removed": False}
                continue
            if kind == "edit":
                page["removed"] |= edit(page["step"].slug, page["values"], pick, n)
                continue
            typed = copy.deepcopy(page["values"])
            result = save_step(fresh, page["step"], typed, based_on=page["version"], base=page["base"],
                               by=editors[who])
            stored = Plan.objects.get(pk=plan.pk).draft
            if result.saved:
                problems = stored_problems(page["step"].slug, typed, stored)
                self.assertEqual(problems, [], f"answered Saved, but {problems}")
                page["version"], page["base"] = result.version, result.base
                if page["removed"]:
                    pages[who] = None  # an explicit save that removed a row reloads the page
            else:
                self.assertTrue(result.changes, "a refused save shows what differs")
