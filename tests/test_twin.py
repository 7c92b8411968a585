"""The harmless twin walks the plan's dataclass fields: every string field is replaced or explicitly kept."""
from __future__ import annotations

import copy
import dataclasses

import pytest

from tests.attack_helpers import BASE_DOC, FQDN_SLOTS, MODERN_DOC, TEXT_SLOTS
from wizard.plan.model import PlanData, Pool
from wizard.plan.reader import read_plan
from wizard.scripts import twin
from wizard.scripts.twin import (
    FIELD_KINDS,
    UnclassifiedField,
    harmless_twin,
    string_fields,
    unclassified_string_fields,
    user_string_paths,
)


def base_plan() -> PlanData:
    plan, findings = read_plan(copy.deepcopy(BASE_DOC))
    assert plan is not None, findings
    return plan


def test_every_string_field_of_the_plan_is_replaced_or_kept() -> None:
    # Add a str field to any plan dataclass and this fails until FIELD_KINDS says what the twin does with it.
    assert unclassified_string_fields() == []


def test_the_table_names_only_fields_that_exist() -> None:
    existing = {(cls.__name__, name) for cls, name in string_fields(PlanData)}
    assert set(FIELD_KINDS) <= existing, set(FIELD_KINDS) - existing


def test_the_kept_fields_are_the_choices() -> None:
    kept = {f"{cls}.{name}" for (cls, name), kind in FIELD_KINDS.items() if kind == twin.KEEP}
    assert kept == {"PlanData.product", "Pool.role", "PoolAuth.external", "Adfs.version", "Adfs.mfa",
                    "ModernAuth.scenario", "AcceptedRisk.code", "AcceptedRisk.field"}


def test_a_new_string_field_is_caught() -> None:
    # What happens when someone adds a field and forgets the twin: the check names it, and the twin refuses.
    noted = dataclasses.make_dataclass("NotedPool", [("note", str, dataclasses.field(default="x"))], bases=(Pool,),
                                       frozen=True)
    assert unclassified_string_fields(noted) == ["NotedPool.note"]
    plan = base_plan()
    pool = noted(**{f.name: getattr(plan.pools[0], f.name) for f in dataclasses.fields(Pool)}, note="$(calc)")
    with pytest.raises(UnclassifiedField, match=r"NotedPool\.note"):
        harmless_twin(dataclasses.replace(plan, pools=(pool, *plan.pools[1:])))


def test_no_user_value_survives_in_the_twin() -> None:
    plan = base_plan()
    real = user_string_paths(plan)
    doubles = user_string_paths(harmless_twin(plan))
    assert [(s.path, s.kind) for s in doubles] == [(s.path, s.kind) for s in real]
    labels = {label for s in real if s.kind in (twin.FQDN, twin.CA) for label in s.value.split("\\")[0].split(".")}
    for original, double in zip(real, doubles, strict=True):
        if original.value == "Global":
            continue
        assert double.value != original.value, original.path
        if double.kind == twin.FQDN:
            assert not (set(double.value.split(".")) & (labels - twin.KEPT_LABELS)), (original.path, double.value)


def test_equal_values_give_equal_placeholders_and_fqdns_go_label_by_label() -> None:
    plan = base_plan()
    double = harmless_twin(plan)
    assert double.mobility_policies[1].identity == f"site:{double.pools[0].site}"
    assert double.pools[0].fqdn.endswith("." + double.sip_domains[0])
    assert double.edge_pools[0].access_fqdn == f"sip.{double.sip_domains[0]}"
    assert double.pools[0].rp_names.internal != double.pools[0].rp_names.external
    assert double.certificates is not None and double.certificates.ca is not None
    assert double.certificates.ca.split("\\")[0].endswith("." + double.sip_domains[0])
    assert double.extensions == ()
    assert harmless_twin(plan) == double


def modern_plan() -> PlanData:
    plan, findings = read_plan(copy.deepcopy(MODERN_DOC))
    assert plan is not None, findings
    return plan


def test_the_base_attack_plans_use_every_replaced_field() -> None:
    # The attack tests' slots come from the same walk, so every field is attacked once BASE_DOC (or, for what
    # only a Modern Authentication plan has, MODERN_DOC) uses it.
    replaced = {f"{cls}.{name}" for (cls, name), kind in FIELD_KINDS.items() if kind not in (twin.KEEP, twin.DROP)}
    assert replaced <= {s.field for plan in (base_plan(), modern_plan()) for s in user_string_paths(plan)}


def test_the_attack_slots_are_the_twins_replaced_values() -> None:
    # Every replaced value is attacked, except the fixed word Global; what BASE_DOC has is attacked there.
    base = [s for s in user_string_paths(base_plan()) if s.value != "Global"]
    fields = {s.field for s in base}
    modern = [s for s in user_string_paths(modern_plan()) if s.field not in fields]
    assert {(s.path, s.doc) for s in (*TEXT_SLOTS, *FQDN_SLOTS)} == \
        {(s.path, "base") for s in base} | {(s.path, "modern") for s in modern}
    assert {s.path for s in modern} == {"modern_auth.oauth_server_identity"}
