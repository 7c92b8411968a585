"""The wizard's steps: the one list of them, which part of the plan document each
step edits, and the mapping between a step's form values and the draft document.

Form values are plain dicts, one per form section: a single form gives a dict, a
formset gives a list of row dicts. A value the form could clean arrives typed (a
normalised FQDN, an int, a bool); a value it could not clean arrives as the raw
text and is stored in its own place in the document exactly as typed. The plan
reader then reports it under that path, the step page shows it back in its field
with the message, and nothing typed is lost. Rows of a list carry the `index` of
the item they were loaded from, so keys owned by other steps (a pool's `auth`,
`relying_parties`, any `x_` key) survive an edit of the row.

Pure: no database and no Django here (the tests run it with plain unittest).
Saving a step's values goes through the draft services, `wizard.web.drafts.save_step`.
"""
from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from wizard.caches import ByteLRU, MiB
from wizard.plan.finding import Finding
from wizard.plan.model import FORMAT, MOBILITY_SETTINGS, AuthMode, PoolAuth
from wizard.review.diffs import CHANGED, FieldChange, diff_data, flatten

Values = dict[str, Any]

POOL_FIELDS = ("fqdn", "role", "site", "internal_web_fqdn", "external_web_fqdn")
EDGE_FIELDS = ("fqdn", "access_fqdn", "webconf_fqdn", "av_fqdn")
HOURS_KEYS = ("default", "min", "max")
# The Authentication step's boxes of a pool, with their plan defaults (the model's).
AUTH_BOXES = {f.name: f.default for f in fields(PoolAuth)
              if f.name in ("certificate_auth", "block_ntlm_at_registrar", "block_pin_auth")}
TRI_STATES = {"true": True, "false": False}
_MOBILITY_KEYS = "|".join(["identity", *MOBILITY_SETTINGS])


@dataclass(frozen=True)
class Target:
    """Where a plan path lands in a step's forms: a section, maybe a row (by document index), maybe a field."""

    section: str
    index: int | None
    field: str | None


@dataclass(frozen=True)
class Step:
    """One page of the wizard."""

    slug: str
    title: str
    intro: str
    # (regex on a plan path, form section, field name template); named groups `i` (row
    # index) and `f` (field) come from the path.
    targets: tuple[tuple[str, str, str | None], ...] = ()
    # Plan paths this step owns even when no form field shows them (e.g. `x_` keys of a pool's auth).
    prefixes: tuple[str, ...] = ()

    @property
    def is_review(self) -> bool:
        """Return True for the final step, which shows the findings and the scripts instead of a form."""
        return self.slug == "review"

    def target(self, path: str) -> Target | None:
        """Return the form section/row/field that shows `path`, or None when this step has none."""
        for pattern, section, field_template in self.targets:
            match = re.match(pattern, path)
            if match:
                groups = match.groupdict()
                index = int(groups["i"]) if groups.get("i") is not None else None
                field = field_template.format(**groups) if field_template else None
                return Target(section=section, index=index, field=field)
        return None


_ENV_TOP = r"(?P<f>name|product|autodiscover_port|office_web_apps_fqdn)"
_ENV_KEYS = (r"^(format|name|product|sip_domains|pools|edge_pools|simple_urls|office_web_apps_fqdn"
             r"|autodiscover_port)\b")
STEPS: tuple[Step, ...] = (
    Step(
        slug="environment",
        title="Environment",
        intro="The product, SIP domains, pools, Edge pools and published names the scripts are written for.",
        targets=(
            (rf"^{_ENV_TOP}$", "basics", "{f}"),
            (r"^simple_urls\.meet(\[\d+\])?$", "basics", "meet"),
            (r"^simple_urls\.(?P<f>dialin|admin)$", "basics", "{f}"),
            (r"^(simple_urls|format)$", "basics", None),
            (r"^sip_domains\[(?P<i>\d+)\]$", "sip_domains", "domain"),
            (r"^sip_domains$", "sip_domains", None),
            (r"^pools\[(?P<i>\d+)\]\.(?P<f>fqdn|role|site|internal_web_fqdn|external_web_fqdn)$", "pools", "{f}"),
            (r"^pools\[(?P<i>\d+)\]$", "pools", None),
            (r"^pools$", "pools", None),
            (r"^edge_pools\[(?P<i>\d+)\]\.(?P<f>fqdn|access_fqdn|webconf_fqdn|av_fqdn)$", "edge_pools", "{f}"),
            (r"^edge_pools\[(?P<i>\d+)\]$", "edge_pools", None),
            (r"^edge_pools$", "edge_pools", None),
        ),
        prefixes=(_ENV_KEYS, r"^$", r"^\(plan\)$"),
    ),
    Step(
        slug="authentication",
        title="Authentication",
        intro="How each pool authenticates users from the Internet, and whether the Edge still takes passwords.",
        targets=(
            (r"^pools\[(?P<i>\d+)\]\.auth\.(?P<f>external|certificate_auth|block_ntlm_at_registrar"
             r"|block_pin_auth)$", "pools", "{f}"),
            (r"^pools\[(?P<i>\d+)\]\.auth\.client_certificate_hours\.(?P<f>default|min|max)$", "pools",
             "hours_{f}"),
            (r"^pools\[(?P<i>\d+)\]\.auth\.client_certificate_hours$", "pools", "hours_default"),
            (r"^pools\[(?P<i>\d+)\]\.auth$", "pools", None),
            (r"^edge_pools\[(?P<i>\d+)\]\.block_ntlm$", "edge_pools", "block_ntlm"),
        ),
        prefixes=(r"^pools\[\d+\]\.auth\b", r"^edge_pools\[\d+\]\.block_ntlm$"),
    ),
    Step(
        slug="adfs",
        title="AD FS",
        intro=("The AD FS farm for passive authentication or Modern Authentication, MFA, Modern Authentication "
               "itself, and the relying party trust names per passive pool."),
        targets=(
            (r"^adfs\.(?P<f>federation_service_name|version|mfa|published_on_reverse_proxy)$", "adfs", "{f}"),
            (r"^adfs$", "adfs", None),
            (r"^modern_auth\.(?P<f>oauth_server_identity|accept_sid_claims|scenario|office2013_clients)$",
             "modern_auth", "{f}"),
            (r"^modern_auth$", "modern_auth", "enabled"),
            (r"^pools\[(?P<i>\d+)\]\.relying_parties\.(?P<f>internal|external)$", "relying_parties", "{f}"),
            (r"^pools\[(?P<i>\d+)\]\.relying_parties$", "relying_parties", None),
        ),
        prefixes=(r"^adfs\b", r"^modern_auth\b", r"^pools\[\d+\]\.relying_parties\b"),
    ),
    Step(
        slug="mobility",
        title="Mobility policies",
        intro="What the mobile apps may do. Each setting you leave as it is stays untouched on the servers.",
        targets=(
            (rf"^mobility_policies\[(?P<i>\d+)\]\.(?P<f>{_MOBILITY_KEYS})$", "policies", "{f}"),
            (r"^mobility_policies\[(?P<i>\d+)\]$", "policies", None),
            (r"^mobility_policies$", "policies", None),
        ),
        prefixes=(r"^mobility_policies\b",),
    ),
    Step(
        slug="certificates",
        title="Certificates",
        intro="How the certificate requests in the bundle are made.",
        targets=(
            (r"^certificates\.(?P<f>key_size|ca)$", "certificates", "{f}"),
            (r"^certificates$", "certificates", None),
        ),
        prefixes=(r"^certificates\b",),
    ),
    Step(
        slug="review",
        title="Review",
        intro="Findings, who is affected, and the scripts to download.",
    ),
)
STEP_SLUGS: tuple[str, ...] = tuple(s.slug for s in STEPS)
_BY_SLUG = {s.slug: s for s in STEPS}
# Paths are matched against the more specific steps first: a pool's auth belongs to
# Authentication even though `pools` belongs to Environment.
_OWNERSHIP_ORDER = ("authentication", "adfs", "mobility", "certificates", "environment")


def get_step(slug: str) -> Step:
    """Return the step called `slug`; raise KeyError for an unknown slug."""
    return _BY_SLUG[slug]


def step_index(step: Step) -> int:
    """Return the position of `step` in STEPS (0-based)."""
    return STEP_SLUGS.index(step.slug)


def next_step(step: Step) -> Step | None:
    """Return the step after `step`, or None for the last one."""
    i = step_index(step)
    return STEPS[i + 1] if i + 1 < len(STEPS) else None


def previous_step(step: Step) -> Step | None:
    """Return the step before `step`, or None for the first one."""
    i = step_index(step)
    return STEPS[i - 1] if i > 0 else None


def step_for_path(path: str) -> Step | None:
    """Return the step that edits plan path `path`, or None when no step does (an `x_` key)."""
    # A step page asks this of every setting of the plan and every finding (4,000 times for a plan at the
    # limits), each answer trying some forty patterns; a plan's paths repeat from page to page and from
    # plan to plan, so each path's answer is kept (as the step's slug, "" for none).
    slug = _STEP_OF_PATH.get(path)
    if slug is None:
        step = _owning_step(path)
        slug = step.slug if step is not None else ""
        _STEP_OF_PATH.put(path, slug, len(path))
    return _BY_SLUG[slug] if slug else None


# Paths are short (a few dozen characters): 4 MiB as the cache counts them holds about 7,000, a plan at
# the limits has about 3,000.
_STEP_OF_PATH: ByteLRU[str, str] = ByteLRU("step of a plan path", 4 * MiB)


def _owning_step(path: str) -> Step | None:
    for slug in _OWNERSHIP_ORDER:
        if _BY_SLUG[slug].target(path) is not None:
            return _BY_SLUG[slug]
    for slug in _OWNERSHIP_ORDER:
        if any(re.match(p, path) for p in _BY_SLUG[slug].prefixes):
            return _BY_SLUG[slug]
    return None


@dataclass(frozen=True)
class StepStatus:
    """A step with the number of error and warning findings on the fields it edits."""

    step: Step
    errors: int
    warnings: int


def step_statuses(findings: list[Finding]) -> list[StepStatus]:
    """Return every step with its error and warning counts (findings no step edits count on Review)."""
    counts = {s.slug: [0, 0] for s in STEPS}
    for finding in findings:
        if finding.severity == "info":
            continue
        owner = step_for_path(finding.field) or STEPS[-1]
        counts[owner.slug][0 if finding.severity == "error" else 1] += 1
    return [StepStatus(step=s, errors=counts[s.slug][0], warnings=counts[s.slug][1]) for s in STEPS]


def findings_for(step: Step, findings: list[Finding]) -> list[Finding]:
    """Return the findings about fields that `step` edits."""
    return [f for f in findings if step_for_path(f.field) is step]


def has_edits(doc: Any) -> bool:
    """Return True when the draft holds anything beyond a new plan's name (a preset would replace it)."""
    return any(not _blank(value) for key, value in _dict(doc).items() if key not in ("format", "name"))


# ---------------------------------------------------------------------------
# A step's part of a document (for the stale-save check and its diff)


def step_values(step: Step, doc: Any, window: Window | None = None) -> dict[str, Any]:
    """Return the leaves of `doc` that `step` edits, keyed by plan path.

    With `window` (a page of the step's lists), only the items the page shows count for the
    lists it pages, and a list whose rows are its items (a splice section) counts its length too:
    another editor's change to an item of another page is no conflict, a row added or removed
    anywhere in such a list (which moves every index after it) is.
    """
    leaves = {p: v for p, v in flatten(doc).items() if step_for_path(p) is step}
    if not window:
        return leaves
    sections = paging(step)
    shown: dict[str, set[int]] = {}
    for section, rows in window.items():
        spec = sections[section]
        indexes = set(range(rows[0], rows[1])) if spec.splice else set(rows)
        shown.setdefault(spec.key, set()).update(indexes)
        if spec.splice:
            leaves[f"#{spec.key}"] = len(_list(_dict(doc).get(spec.key)))
    out = {}
    for path, value in leaves.items():
        match = _ITEM_PATH_RE.match(path)
        if match is None or match.group(1) not in shown or int(match.group(2)) in shown[match.group(1)]:
            out[path] = value
    return out


_ITEM_PATH_RE = re.compile(r"^(\w+)\[(\d+)\]")


def values_hash(values: dict[str, Any]) -> str:
    """Return a stable fingerprint of a step's values (JSON, so `true` and `1` differ)."""
    text = json.dumps(values, sort_keys=True, ensure_ascii=True, default=str)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def step_base(step: Step, doc: Any, window: Window | None = None) -> str:
    """Return the fingerprint of `step`'s part of `doc` (what a page, of `window`, was loaded with)."""
    return values_hash(step_values(step, doc, window))


def changes_between(step: Step, stored_doc: Any, mine_doc: Any) -> list[FieldChange]:
    """Return the settings of `step` that differ between the stored draft and the typed one."""
    return [c for c in diff_data(_dict(stored_doc), _dict(mine_doc)) if step_for_path(c.path) is step]


# ---------------------------------------------------------------------------
# Form values <-> document


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _blank(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _set(d: dict, key: str, value: Any) -> None:
    """Set `key` to `value`, or remove it when the value is blank (blank means "not set").

    A key the document already holds blank (`"dialin": null`, `"meet": []`, as the plan writer
    and the estate prefill write them) stays as it is when the value is still blank: showing
    a step and saving it unchanged must not rewrite the draft.
    """
    if _blank(value):
        if not _blank(d.get(key, "")):
            d.pop(key, None)
    else:
        d[key] = value


def _tri_state(value: Any) -> str:
    """Return a setting the plan may leave out as a choice: "" (left out), "true" or "false"."""
    return "" if not isinstance(value, bool) else "true" if value else "false"


def _put(d: dict, key: str, value: Any, default: Any) -> None:
    """Set `key`, except that a value equal to the plan default is not added where it was absent."""
    if value == default and key not in d:
        return
    d[key] = value


def _base(items: list, index: Any) -> dict:
    """Return a copy of the document item a row was loaded from (an empty dict for a new row)."""
    if isinstance(index, int) and 0 <= index < len(items) and isinstance(items[index], dict):
        return copy.deepcopy(items[index])
    return {}


def _find(items: list, index: Any, fqdn: Any) -> dict | None:
    """Return the item a per-pool row edits: the one at `index` if it still has that FQDN, else by FQDN."""
    want = fqdn or ""
    if isinstance(index, int) and 0 <= index < len(items) and isinstance(items[index], dict) \
            and (items[index].get("fqdn") or "") == want:
        return items[index]
    if want:
        for item in items:
            if isinstance(item, dict) and item.get("fqdn") == want:
                return item
    return None


def _text(value: Any) -> Any:
    """Return a document value for a text input (lists joined, None blank)."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return value


def split_names(value: Any) -> list:
    """Return the host names in a comma/space separated text (a list is returned as it is)."""
    if isinstance(value, list):
        return value
    if not isinstance(value, str):
        return [] if value is None else [value]
    return [part for part in re.split(r"[\s,;]+", value) if part]


def _meet_value(value: Any) -> Any:
    """Return the meeting URLs to store: a list of names, or the text exactly as typed.

    Text that reads back as the same names joined by ", " (what the page shows) is the list;
    anything else ("meet .contoso.com", a stray space in one name) is kept as typed, so that the
    page shows it back with its error instead of splitting it into names nobody typed.
    """
    if isinstance(value, str):
        names = split_names(value)
        return names if ", ".join(names) == value.strip() else value
    return split_names(value)


def _tri(value: Any) -> str:
    """Return the three-way choice for a mobility setting: '' (leave as is), 'true' or 'false'."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return "" if value is None else str(value)


def _environment_initial(doc: dict) -> Values:
    urls = _dict(doc.get("simple_urls"))
    basics = {
        "name": doc.get("name", ""),
        "product": doc.get("product", ""),
        "autodiscover_port": doc.get("autodiscover_port", 443),
        "office_web_apps_fqdn": _text(doc.get("office_web_apps_fqdn")),
        "meet": _text(urls.get("meet")),
        "dialin": _text(urls.get("dialin")),
        "admin": _text(urls.get("admin")),
    }
    domains = [{"index": i, "domain": _text(d)} for i, d in enumerate(_list(doc.get("sip_domains")))]
    pools = [{"index": i, **{k: _text(p.get(k)) for k in POOL_FIELDS}, "role": p.get("role") or "frontend"}
             for i, p in enumerate(_list(doc.get("pools"))) if isinstance(p, dict)]
    edges = [{"index": i, **{k: _text(e.get(k)) for k in EDGE_FIELDS}}
             for i, e in enumerate(_list(doc.get("edge_pools"))) if isinstance(e, dict)]
    return {"basics": basics, "sip_domains": domains, "pools": pools, "edge_pools": edges}


def _environment_apply(doc: dict, values: Values) -> dict:
    new = copy.deepcopy(doc)
    new["format"] = FORMAT
    if "basics" in values:
        basics = values["basics"]
        _set(new, "name", basics.get("name"))
        _set(new, "product", basics.get("product"))
        port = basics.get("autodiscover_port")
        if _blank(port):
            new.pop("autodiscover_port", None)
        else:
            _put(new, "autodiscover_port", port, 443)
        _set(new, "office_web_apps_fqdn", basics.get("office_web_apps_fqdn"))
        urls = copy.deepcopy(_dict(doc.get("simple_urls")))
        _set(urls, "meet", _meet_value(basics.get("meet")))
        _set(urls, "dialin", basics.get("dialin"))
        _set(urls, "admin", basics.get("admin"))
        _set(new, "simple_urls", urls)
    if "sip_domains" in values:
        new["sip_domains"] = [row.get("domain") for row in values["sip_domains"] if not _blank(row.get("domain"))]
    if "pools" in values:
        old_pools = _list(doc.get("pools"))
        pools = []
        for row in values["pools"]:
            pool = _base(old_pools, row.get("index"))
            for key in POOL_FIELDS:
                if key == "role":
                    _put(pool, key, row.get(key) or "frontend", "frontend")
                else:
                    _set(pool, key, row.get(key))
            pools.append(pool)
        new["pools"] = pools
    if "edge_pools" in values:
        old_edges = _list(doc.get("edge_pools"))
        edges = []
        for row in values["edge_pools"]:
            edge = _base(old_edges, row.get("index"))
            for key in EDGE_FIELDS:
                _set(edge, key, row.get(key))
            edges.append(edge)
        _set(new, "edge_pools", edges)
    return new


def _authentication_initial(doc: dict) -> Values:
    pools = []
    for i, pool in enumerate(_list(doc.get("pools"))):
        if not isinstance(pool, dict):
            continue
        auth = _dict(pool.get("auth"))
        hours = _dict(auth.get("client_certificate_hours"))
        pools.append({
            "index": i,
            "pool": _text(pool.get("fqdn")),
            "external": auth.get("external") or "",
            "certificate_auth": auth.get("certificate_auth", True),
            **{f"hours_{k}": _text(hours.get(k)) for k in HOURS_KEYS},
            "block_ntlm_at_registrar": auth.get("block_ntlm_at_registrar", False),
            "block_pin_auth": auth.get("block_pin_auth", False),
        })
    edges = [{"index": i, "edge": _text(e.get("fqdn")), "block_ntlm": e.get("block_ntlm", False)}
             for i, e in enumerate(_list(doc.get("edge_pools"))) if isinstance(e, dict)]
    return {"pools": pools, "edge_pools": edges}


def _authentication_apply(doc: dict, values: Values) -> dict:
    new = copy.deepcopy(doc)
    pools = _list(new.get("pools"))
    for row in values.get("pools", []):
        pool = _find(pools, row.get("index"), row.get("pool"))
        if pool is None:
            continue
        external = row.get("external")
        auth = _dict(pool.get("auth"))
        # A copy of the stored object, so that its x_ keys stay (`_set` below compares with the stored one).
        hours = dict(_dict(auth.get("client_certificate_hours")))
        for k in HOURS_KEYS:
            _set(hours, k, row.get(f"hours_{k}"))
        typed_hours = any(not _blank(row.get(f"hours_{k}")) for k in HOURS_KEYS)
        # A box is typed when it differs from what the row showed (the pool's auth, or the defaults).
        boxes_typed = any(bool(row.get(key)) != auth.get(key, default) for key, default in AUTH_BOXES.items())
        if _blank(external) and not typed_hours and not boxes_typed:
            # "Leave unchanged": the plan has no auth for this pool, so nothing is generated. A box
            # ticked on such a pool is kept instead (the reader then asks for the mode on its field).
            pool.pop("auth", None)
            continue
        _set(auth, "external", external)
        _put(auth, "certificate_auth", bool(row.get("certificate_auth")), True)
        _set(auth, "client_certificate_hours", hours)
        _put(auth, "block_ntlm_at_registrar", bool(row.get("block_ntlm_at_registrar")), False)
        _put(auth, "block_pin_auth", bool(row.get("block_pin_auth")), False)
        pool["auth"] = auth
    edges = _list(new.get("edge_pools"))
    for row in values.get("edge_pools", []):
        edge = _find(edges, row.get("index"), row.get("edge"))
        if edge is not None:
            _put(edge, "block_ntlm", bool(row.get("block_ntlm")), False)
    return new


def _adfs_initial(doc: dict) -> Values:
    adfs = _dict(doc.get("adfs"))
    rows = []
    for i, pool in enumerate(_list(doc.get("pools"))):
        if not isinstance(pool, dict):
            continue
        rps = dict(_dict(pool.get("relying_parties")))  # a copy: `_set` below compares with the stored one
        if _dict(pool.get("auth")).get("external") != AuthMode.PASSIVE and not rps:
            continue
        rows.append({"index": i, "pool": _text(pool.get("fqdn")), "internal": _text(rps.get("internal")),
                     "external": _text(rps.get("external"))})
    modern = doc.get("modern_auth")
    ma = _dict(modern)
    return {
        "adfs": {
            "federation_service_name": _text(adfs.get("federation_service_name")),
            "version": adfs.get("version") or "",
            "mfa": adfs.get("mfa") or "none",
            "published_on_reverse_proxy": adfs.get("published_on_reverse_proxy", False),
        },
        "modern_auth": {
            "enabled": modern is not None,
            "oauth_server_identity": _text(ma.get("oauth_server_identity")),
            "accept_sid_claims": _tri_state(ma.get("accept_sid_claims")),
            "scenario": ma.get("scenario") or "",
            "office2013_clients": ma.get("office2013_clients", False),
        },
        "relying_parties": rows,
    }


def _modern_auth_apply(new: dict, values: Values) -> dict:
    """Apply the Modern Authentication section: present (even with every default: `{}`) exactly when enabled."""
    typed = values.get("modern_auth")
    if typed is None:
        return new
    if not typed.get("enabled"):
        new.pop("modern_auth", None)
        return new
    ma = _dict(new.get("modern_auth"))
    _set(ma, "oauth_server_identity", typed.get("oauth_server_identity"))
    choice = typed.get("accept_sid_claims") or ""
    if choice:
        ma["accept_sid_claims"] = choice == "true"
    else:
        ma.pop("accept_sid_claims", None)
    _set(ma, "scenario", typed.get("scenario"))
    _put(ma, "office2013_clients", bool(typed.get("office2013_clients")), False)
    new["modern_auth"] = ma
    return new


def _adfs_apply(doc: dict, values: Values) -> dict:
    new = _modern_auth_apply(copy.deepcopy(doc), values)
    typed = values.get("adfs")
    if typed is None:
        return _relying_parties_apply(new, values)
    name, version = typed.get("federation_service_name"), typed.get("version")
    mfa = typed.get("mfa") or "none"
    published = bool(typed.get("published_on_reverse_proxy"))
    if _blank(name) and _blank(version) and mfa == "none" and not published:
        new.pop("adfs", None)
    else:
        adfs = _dict(new.get("adfs"))
        _set(adfs, "federation_service_name", name)
        _set(adfs, "version", version)
        _put(adfs, "mfa", mfa, "none")
        _put(adfs, "published_on_reverse_proxy", published, False)
        new["adfs"] = adfs
    return _relying_parties_apply(new, values)


def _relying_parties_apply(new: dict, values: Values) -> dict:
    pools = _list(new.get("pools"))
    for row in values.get("relying_parties", []):
        pool = _find(pools, row.get("index"), row.get("pool"))
        if pool is None:
            continue
        rps = dict(_dict(pool.get("relying_parties")))  # a copy: `_set` below compares with the stored one
        _set(rps, "internal", row.get("internal"))
        _set(rps, "external", row.get("external"))
        _set(pool, "relying_parties", rps)
    return new


def _mobility_initial(doc: dict) -> Values:
    rows = [{"index": i, "identity": _text(p.get("identity")), **{k: _tri(p.get(k)) for k in MOBILITY_SETTINGS}}
            for i, p in enumerate(_list(doc.get("mobility_policies"))) if isinstance(p, dict)]
    return {"policies": rows}


def _mobility_apply(doc: dict, values: Values) -> dict:
    new = copy.deepcopy(doc)
    if "policies" not in values:
        return new
    old = _list(doc.get("mobility_policies"))
    policies = []
    for row in values["policies"]:
        policy = _base(old, row.get("index"))
        _set(policy, "identity", row.get("identity"))
        for key in MOBILITY_SETTINGS:
            value = row.get(key)
            if _blank(value):
                policy.pop(key, None)  # leave as is: the key is absent
            else:
                policy[key] = TRI_STATES.get(value, value) if isinstance(value, str) else value
        policies.append(policy)
    _set(new, "mobility_policies", policies)
    return new


def _certificates_initial(doc: dict) -> Values:
    certs = _dict(doc.get("certificates"))
    return {"certificates": {"key_size": certs.get("key_size") or "", "ca": _text(certs.get("ca"))}}


def _certificates_apply(doc: dict, values: Values) -> dict:
    new = copy.deepcopy(doc)
    typed = values.get("certificates")
    if typed is None:
        return new
    certs = dict(_dict(new.get("certificates")))  # a copy: `_set` below compares with the stored one
    _set(certs, "key_size", typed.get("key_size"))
    _set(certs, "ca", typed.get("ca"))
    _set(new, "certificates", certs)
    return new


# ---------------------------------------------------------------------------
# Rows that cannot be applied


# step slug -> (form section, document list, the row key naming the item, what one item is called)
_PER_ITEM_ROWS: dict[str, tuple[tuple[str, str, str, str], ...]] = {
    "authentication": (("pools", "pools", "pool", "Pool"), ("edge_pools", "edge_pools", "edge", "Edge pool")),
    "adfs": (("relying_parties", "pools", "pool", "Pool"),),
}


def lost_rows(step: Step, doc: Any, values: Values) -> list[FieldChange]:
    """Return the rows of `values` that `apply` cannot place in `doc`, each as a change with both values.

    Rows of the per-pool steps name the pool they edit; when that pool is no longer in
    the draft (renamed or removed since the page was loaded), the row's values would be
    dropped. A save must then be refused as a conflict, never answered "Saved".
    `old` is what the draft holds now at the row's place (None: nothing), `new` what was typed.
    """
    lost = []
    doc = _dict(doc)
    for section, key, name_key, title in _PER_ITEM_ROWS.get(step.slug, ()):
        items = _list(doc.get(key))
        for row in values.get(section, []):
            if _find(items, row.get("index"), row.get(name_key)) is not None:
                continue
            index = row.get("index")
            here = items[index] if isinstance(index, int) and 0 <= index < len(items) else None
            typed = {k: v for k, v in row.items() if k not in ("index", name_key, "DELETE")}
            name = row.get(name_key) or "(no name)"
            lost.append(FieldChange(
                path=f"{key}[{index}]" if isinstance(index, int) else key,
                label=f"{title} {name}: renamed or removed by someone else meanwhile",
                kind=CHANGED,
                old={"fqdn": here.get("fqdn")} if isinstance(here, dict) else None,
                new={"fqdn": name, **typed},
            ))
    return lost


_MAPPERS: dict[str, tuple[Callable[[dict], Values], Callable[[dict, Values], dict]]] = {
    "environment": (_environment_initial, _environment_apply),
    "authentication": (_authentication_initial, _authentication_apply),
    "adfs": (_adfs_initial, _adfs_apply),
    "mobility": (_mobility_initial, _mobility_apply),
    "certificates": (_certificates_initial, _certificates_apply),
}


def initial(step: Step, doc: Any, window: Window | None = None) -> Values:
    """Return the form values that show `step`'s part of the draft `doc` (with `window`: one page of its lists)."""
    values = _MAPPERS[step.slug][0](_dict(doc))
    for section, rows in (window or {}).items():
        if paging(step)[section].splice:
            values[section] = [row for row in values[section] if rows[0] <= row["index"] < rows[1]]
        else:
            wanted = set(rows)
            values[section] = [row for row in values[section] if row["index"] in wanted]
    return values


def apply(step: Step, doc: Any, values: Values, window: Window | None = None) -> dict:
    """Return a new document: `doc` with `step`'s part replaced by `values` (`doc` is not changed).

    With `window` the values are one page of the step's lists: the rows of a splice section
    replace the items of the page (start to stop) and leave the others where they are; the rows
    of a per-item section edit the items they name, as always.
    """
    doc = _dict(doc)
    new = _MAPPERS[step.slug][1](doc, values)
    for section, rows in (window or {}).items():
        spec = paging(step)[section]
        if not spec.splice or section not in values:
            continue
        part = _list(new.get(spec.key))
        old = _list(doc.get(spec.key))
        merged = old[:rows[0]] + part + old[rows[1]:]
        if merged or spec.key in new:
            new[spec.key] = merged
    return _follow_accepted_risks(doc, new)


# The lists whose items an accepted risk can name by position (`pools[2].auth.external`), and the key
# that says which item it is.
_RISK_ROW_KEYS = {"pools": "fqdn", "edge_pools": "fqdn", "mobility_policies": "identity"}
_RISK_ROW_RE = re.compile(r"(pools|edge_pools|mobility_policies)\[(\d{1,6})\](.*)", re.DOTALL)


def _row_identity(items: list, index: int, key: str) -> str | None:
    item = items[index] if 0 <= index < len(items) else None
    value = item.get(key) if isinstance(item, dict) else None
    return (value.strip().lower() or None) if isinstance(value, str) else None


def _follow_accepted_risks(old: dict, new: dict) -> dict:
    """Return `new` with each accepted risk that names a pool, Edge pool or policy by its position following
    that item to its new position, or dropped when the item is gone (or was renamed).

    An accepted risk is matched by code and path: after a row above it was removed, or the rows reordered,
    the same path named another pool, whose broken promise was then accepted with a reason written about the
    one before, by nobody (and the review's diff showed no change to the accepted risks).
    """
    risks = new.get("accepted_risks")
    if not isinstance(risks, list) or not risks:
        return new
    kept, changed = [], False
    for risk in risks:
        field = risk.get("field") if isinstance(risk, dict) else None
        match = _RISK_ROW_RE.fullmatch(field) if isinstance(field, str) else None
        if match is None:
            kept.append(risk)
            continue
        key, index, rest = match.group(1), int(match.group(2)), match.group(3)
        before, after = _list(old.get(key)), _list(new.get(key))
        identity = _row_identity(before, index, _RISK_ROW_KEYS[key])
        if identity == _row_identity(after, index, _RISK_ROW_KEYS[key]):
            kept.append(risk)
            continue
        changed = True
        target = next((j for j in range(len(after)) if _row_identity(after, j, _RISK_ROW_KEYS[key]) == identity),
                      None) if identity is not None else None
        if target is not None:
            kept.append({**risk, "field": f"{key}[{target}]{rest}"})
    if not changed:
        return new
    if kept:
        new["accepted_risks"] = kept
    else:
        new.pop("accepted_risks", None)
    return new


# ---------------------------------------------------------------------------
# Pages of the long lists (issue 12, item 6: every page stays usable up to the plan limits)


@dataclass(frozen=True)
class Paging:
    """How a form section of rows is shown a page at a time.

    `key` is the document list it edits, `size` the rows of a page. In a splice section the
    rows are the list's items (added, removed, reordered by the page): a page posts the items of
    its span [start, stop) of the list. In a per-item section each row edits the item it names
    (one row per pool, say): a page posts its rows, and names the items it shows.
    """

    key: str
    size: int
    splice: bool


# step slug -> form section -> paging
_PAGING: dict[str, dict[str, Paging]] = {
    "environment": {"sip_domains": Paging("sip_domains", 25, True), "pools": Paging("pools", 10, True),
                    "edge_pools": Paging("edge_pools", 10, True)},
    "authentication": {"pools": Paging("pools", 10, False), "edge_pools": Paging("edge_pools", 10, False)},
    "adfs": {"relying_parties": Paging("pools", 10, False)},
    "mobility": {"policies": Paging("mobility_policies", 10, True)},
    "certificates": {},
}

# A page of a step's lists: form section -> for a splice section (start, stop, length), the span of
# the document list the page shows and the list's length when it was loaded; for a per-item section
# the document indexes of the items it shows.
Window = dict[str, tuple[int, ...]]


def paging(step: Step) -> dict[str, Paging]:
    """Return the form sections of `step` shown a page at a time, with how."""
    return _PAGING.get(step.slug, {})


@dataclass(frozen=True)
class PageInfo:
    """Where a page stands in one list: page `page` of `pages`, rows `first`..`last` of `total` (1-based)."""

    section: str
    page: int
    pages: int
    first: int
    last: int
    total: int


def page_window(step: Step, doc: Any, pages: dict[str, int] | None = None) -> tuple[Window, dict[str, PageInfo]]:
    """Return the window of the pages asked for (1-based, out of range: the nearest), and where each stands."""
    doc = _dict(doc)
    rows = _MAPPERS[step.slug][0](doc)
    window: Window = {}
    info: dict[str, PageInfo] = {}
    for section, spec in paging(step).items():
        items = rows[section]
        total = len(items)
        count = max(1, -(-total // spec.size))
        page = min(max(1, (pages or {}).get(section, 1)), count)
        shown = items[(page - 1) * spec.size:page * spec.size]
        if spec.splice:
            # The span of the document list from the page's first item to the item after its last
            # (a list may hold things that are not items; they stay where they are).
            length = len(_list(doc.get(spec.key)))
            start = shown[0]["index"] if shown else length
            stop = shown[-1]["index"] + 1 if shown else start
            window[section] = (start, stop, length)
        else:
            window[section] = tuple(row["index"] for row in shown)
        info[section] = PageInfo(section, page, count, (page - 1) * spec.size + 1 if shown else 0,
                                 (page - 1) * spec.size + len(shown), total)
    return window, info


def after_save(step: Step, window: Window | None, before: Any, after: Any) -> Window | None:
    """Return the window a page goes on with once its save turned `before` into `after`.

    A splice section's span grows or shrinks by what the save added or removed (the rows stay
    on the page: a new row keeps being the same item on the next save).
    """
    if not window:
        return window
    out = dict(window)
    for section, rows in window.items():
        spec = paging(step)[section]
        if spec.splice:
            length = len(_list(_dict(after).get(spec.key)))
            grown = length - len(_list(_dict(before).get(spec.key)))
            out[section] = (rows[0], max(rows[0], rows[1] + grown), length)
    return out


def moved_rows(step: Step, doc: Any, window: Window | None) -> list[FieldChange]:
    """Return, for each splice section of `window` whose list changed length since the page was loaded
    (rows added or removed by someone else), a change saying so: the page's rows would land on other
    items, so the save must be refused as a conflict, never placed."""
    out = []
    for section, rows in (window or {}).items():
        spec = paging(step)[section]
        length = len(_list(_dict(doc).get(spec.key)))
        if spec.splice and length != rows[2]:
            out.append(FieldChange(
                path=spec.key, label=f"{_SECTION_TITLES.get(spec.key, spec.key)}: rows were added or removed by "
                                     "someone else meanwhile; reload the step to see where each row is now",
                kind=CHANGED, old={"rows": length}, new={"rows": rows[2]}))
    return out


_SECTION_TITLES = {"pools": "Pools", "edge_pools": "Edge pools", "sip_domains": "SIP domains",
                   "mobility_policies": "Mobility policies"}


_WINDOW_PART_RE = re.compile(r"(\w+)=(\d{1,6}):(\d{1,6}):(\d{1,6})|(\w+)=((?:\d{1,6}(?:\.\d{1,6})*)?)")


def encode_window(step: Step, window: Window | None) -> str:
    """Return a window as the page's hidden field holds it: `pools=10:20;relying_parties=3.5.7`."""
    if not window:
        return ""
    specs = paging(step)
    return ";".join(f"{section}={rows[0]}:{rows[1]}:{rows[2]}" if specs[section].splice else
                    f"{section}=" + ".".join(map(str, rows)) for section, rows in window.items())


def decode_window(step: Step, text: str, limits: dict[str, int]) -> Window | None:
    """Return the window a page posted (None: the page showed whole lists); ValueError when it is damaged.

    `limits` are the most items a list may hold (`wizard.plan.limits.LIST_LIMITS`).
    """
    if not text:
        return None
    window: Window = {}
    for part in text.split(";"):
        match = _WINDOW_PART_RE.fullmatch(part)
        section = match and (match.group(1) or match.group(5))
        spec = paging(step).get(section or "")
        if match is None or spec is None or section in window:
            raise ValueError(f"the page names a part of a list it cannot show ({part[:40]!r})")
        limit = limits.get(spec.key, 0)
        if spec.splice:
            if match.group(1) is None:
                raise ValueError(f"the page names the rows of {section} wrongly")
            start, stop, length = int(match.group(2)), int(match.group(3)), int(match.group(4))
            if not 0 <= start <= stop <= length <= limit:
                raise ValueError(f"the page names rows {start} to {stop} of {section}")
            window[section] = (start, stop, length)
        else:
            if match.group(5) is None:
                raise ValueError(f"the page names the rows of {section} wrongly")
            indexes = tuple(int(i) for i in match.group(6).split(".")) if match.group(6) else ()
            if len(set(indexes)) != len(indexes) or len(indexes) > spec.size or any(i >= limit for i in indexes):
                raise ValueError(f"the page names rows of {section} it cannot show")
            window[section] = indexes
    return window


def blank_plan(name: str) -> dict[str, Any]:
    """Return the draft of a plan started from scratch: only its name, everything else to fill in."""
    return {"format": FORMAT, "name": name, "sip_domains": [], "pools": []}
