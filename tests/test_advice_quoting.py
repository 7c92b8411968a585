"""No finding advises a command that holds plan or state text (the rule for every message, not one by one).

A finding's message is read on the review page, the estate page, in the runbook and from
`check_plan`, and admins paste the commands it advises into the Management Shell. The plan
layer cannot quote for PowerShell (that is `wizard.scripts.psquote`'s, one layer up), so a
message never puts a name from the plan or the state file where PowerShell would read it: after
a cmdlet or a `-Parameter`. It names the value as text beside a command without it.

Two messages broke this rule once (a site's name after `-Identity`, a tag's name after
`-PolicyName`), each fixed and tested on its own. This test holds every message to the rule: it
gives every free-text name of several plans and estates a hostile form, collects every finding
they give (the plan's rules and the estate's), and looks at what precedes each hostile name.
"""
from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from wizard.plan.drift import estate_report
from wizard.plan.engine import assess
from wizard.plan.finding import Finding
from wizard.plan.state_reader import read_state

ROOT = Path(__file__).resolve().parent.parent
STATES = ROOT / "tests" / "fixtures" / "states"
PLANS = ROOT / "tests" / "fixtures" / "plans"

# What a pasted command would run if a name ended its string: each of PowerShell's single quotes in turn.
TAILS = ("'; Remove-Item C:\\ -Recurse #", "\u2019; Remove-Item C:\\ -Recurse #", "\u2018 $(Stop-Computer) #")

# A cmdlet (Verb-Noun) or a -Parameter (with or without its colon) at the end of the text before a value:
# there, PowerShell reads the value as code.
# PowerShell's verbs that the advice uses or could use; a hyphenated word of prose ("Pre-Auth") is no cmdlet.
_VERBS = ("Add|Clear|Convert|ConvertFrom|ConvertTo|Disable|Enable|Export|Get|Grant|Import|Install|Invoke|Move|New|"
          "Publish|Register|Remove|Request|Reset|Restart|Revoke|Set|Start|Stop|Test|Unregister|Update|Write")
_COMMAND_POSITION = re.compile(rf"(?:^|[\s(\[{{;|])(?:-[A-Za-z][A-Za-z0-9]*:?|(?:{_VERBS})-[A-Z][A-Za-z0-9]+)\s*$")
# An identity's scope prefix (site:Oslo, Tag:Sales) and an opening quote belong to the value.
_QUOTE = "['\"\u2018\u2019\u201a\u201b`]?"
_VALUE_PREFIX = re.compile(_QUOTE + r"(?:(?:site|tag|service:[A-Za-z]+):)?" + _QUOTE + "$", re.IGNORECASE)


def in_command_position(message: str, value: str) -> list[str]:
    """Return, for each place `message` holds `value` where PowerShell would read it as code, the text
    leading to it (empty when the value is only ever written as text)."""
    found = []
    start = message.find(value)
    while start != -1:
        before = message[:start]
        prefix = _VALUE_PREFIX.search(before)
        if prefix is not None:
            before = before[:prefix.start()]
        if _COMMAND_POSITION.search(before):
            found.append(message[max(0, start - 80):start + len(value)])
        start = message.find(value, start + 1)
    return found


# --- the detector itself --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("message", [
    # The two messages as they were before their fixes.
    "Set it to a method the pool keeps first (Set-CsWebServiceConfiguration -Identity site:VALUE "
    "-MobilePreferredAuthType None).",
    "run Grant-CsMobilityPolicy -Identity <user> -PolicyName 'VALUE' for each user",
    "Grant-CsMobilityPolicy -PolicyName:VALUE",
    "(Get-CsSite VALUE)",
    "with -Identity \u2018Tag:VALUE\u2019",
])
def test_a_value_after_a_cmdlet_or_a_parameter_is_found(message: str) -> None:
    assert in_command_position(message, "VALUE")


@pytest.mark.parametrize("message", [
    "Mobility policy site:VALUE in the estate overrides Global for users of site VALUE.",
    "Set-CsWebServiceConfiguration on that collection (site:VALUE in the state file), with -MobilePreferredAuthType "
    "None.",
    "named 'VALUE'. Name the plan's external relying party 'VALUE'",
    "run Grant-CsMobilityPolicy -Identity <user> -PolicyName <policy name> for the policy VALUE",
    "Pre-Auth VALUE",   # a hyphenated word in prose is no cmdlet
])
def test_a_value_written_as_text_is_not_taken_for_code(message: str) -> None:
    assert not in_command_position(message, "VALUE")


# --- every finding of hostile plans and estates ---------------------------------------------------------------------

def _replace(value: Any, names: dict[str, str]) -> Any:
    """Return `value` with every string equal to a name (or to a scoped identity of it) in its hostile form."""
    if isinstance(value, dict):
        return {key: _replace(item, names) for key, item in value.items()}
    if isinstance(value, list):
        return [_replace(item, names) for item in value]
    if isinstance(value, str):
        scope, colon, rest = value.partition(":")
        if colon and rest in names and scope.lower() in {"site", "tag"}:
            return f"{scope}:{names[rest]}"
        return names.get(value, value)
    return value


def _findings(plan_doc: dict[str, Any], state_doc: dict[str, Any] | None) -> list[Finding]:
    plan, findings = assess(copy.deepcopy(plan_doc))
    assert plan is not None, [f for f in findings if f.severity == "error"]
    if state_doc is None:
        return list(findings)
    estate, state_findings = read_state(copy.deepcopy(state_doc))
    assert estate is not None, [f for f in state_findings if f.severity == "error"]
    return [*findings, *state_findings, *estate_report(plan, estate).findings]


def _estate(name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    plan = json.loads((STATES / f"{name}.plan.json").read_text(encoding="utf-8"))
    state = json.loads((STATES / f"{name}.state.json").read_text(encoding="utf-8"))
    return plan, state


# Each estate's free-text names: its sites, its tag policies, its relying party trusts and access control policy.
ESTATE_NAMES = {
    "lync2013-adfs20": ("Redmond", "Lync Passive Auth"),
    "sfb2015-director-two-edges": ("Dublin", "Amsterdam", "Executives"),
    "sfb2019-adfs2019-wap": ("Oslo", "Lync-Ext-sfbpool", "Permit everyone", "Exchange OWA"),
}


def _hostile_estates() -> Iterator[tuple[str, list[Finding], tuple[str, ...]]]:
    for name, plain in ESTATE_NAMES.items():
        for tail in TAILS:
            names = {n: f"{n}{tail}" for n in plain}
            plan_doc, state_doc = (_replace(doc, names) for doc in _estate(name))
            yield name, _findings(plan_doc, state_doc), tuple(names.values())


def _mobile_preferred_refused() -> Iterator[tuple[str, list[Finding], tuple[str, ...]]]:
    """The pool's site collection names a sign-in method the plan turns off (estate_mobile_preferred_auth_refused)."""
    for tail in TAILS:
        plan_doc, state = _estate("sfb2019-adfs2019-wap")
        site = f"Oslo East{tail}"
        plan_doc["pools"][0]["site"] = state["pools"][0]["site"] = site
        state["sites"] = [site]
        del state["web_service_configurations"][1]
        state["web_service_configurations"].append({**state["web_service_configurations"][0],
                                                    "identity": f"site:{site}",
                                                    "mobile_preferred_auth_type": "WebTicketServiceWinNtlm"})
        yield "mobile preferred", _findings(plan_doc, state), (site,)


def _passive_at_a_hostile_site() -> Iterator[tuple[str, list[Finding], tuple[str, ...]]]:
    """The pool's site collection is passive with Windows authentication off (estate_collection_resets,
    estate_passive_dropped_windows_off): both advise about a collection the state file names."""
    for tail in TAILS:
        names = {"Dublin": f"Dublin{tail}"}
        plan_doc, state = (_replace(doc, names) for doc in _estate("sfb2015-director-two-edges"))
        state["web_service_configurations"][1].update(use_ws_fed_passive_auth=True, use_windows_auth="None")
        yield "passive site", _findings(plan_doc, state), tuple(names.values())


def _hostile_plan() -> Iterator[tuple[str, list[Finding], tuple[str, ...]]]:
    """The hostile example: names, sites, trusts and tags written to end their strings (mobility_tag_not_granted)."""
    doc = json.loads((PLANS / "hostile.json").read_text(encoding="utf-8"))
    values = [doc["name"], *(p.get("site") for p in doc["pools"]),
              *(name for p in doc["pools"] for name in p.get("relying_parties", {}).values()),
              *(m["identity"].partition(":")[2] for m in doc["mobility_policies"] if ":" in m["identity"])]
    yield "hostile plan", _findings(doc, None), tuple(v for v in values if v)


CASES = [*_hostile_estates(), *_mobile_preferred_refused(), *_passive_at_a_hostile_site(), *_hostile_plan()]


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_no_finding_puts_a_name_where_powershell_reads_code(case: tuple[str, list[Finding], tuple[str, ...]]) -> None:
    _, findings, values = case
    wrong = [(f.code, where) for f in findings for value in values for where in in_command_position(f.message, value)]
    assert not wrong


def test_the_hostile_names_reach_the_messages_the_rule_is_about() -> None:
    # Not vacuous: the names reach the messages that advise commands about them, the two fixed before among them.
    held = {f.code: f.message for _, findings, values in CASES for f in findings if any(v in f.message for v in values)}
    assert {"estate_mobile_preferred_auth_refused", "mobility_tag_not_granted", "estate_collection_resets",
            "estate_passive_dropped_windows_off", "estate_mobility_override", "estate_relying_party_identifier_taken",
            "mobility_new_policy_defaults"} <= set(held), sorted(held)
    assert "Set-CsWebServiceConfiguration" in held["estate_mobile_preferred_auth_refused"]
    assert "Grant-CsMobilityPolicy" in held["mobility_tag_not_granted"]
