"""The exposure model as people see it: the matrix rows (runbook and review page) and the swim-lane picture.

The picture is an SVG drawn here, by pure code, on the server: lanes from the Internet through each Edge
pool, the reverse proxy and the Web Application Proxy to each pool (its Registrar and its web services)
and to AD FS. Each line carries the credentials of that path and how they stand after the plan; a line
where a password alone still signs in is red and says so, one that may (as today, unknown) is amber and
dashed, a closed one is grey. Every text is XML-escaped; the SVG has no script, no style element or
attribute (the site's Content-Security-Policy blocks inline styles) and nothing fetched from elsewhere:
only presentation attributes.

Pure Python: the only Django piece is SafeString, so the review page can inline the SVG.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from django.utils.safestring import SafeString, mark_safe

from wizard.plan.estate import Estate
from wizard.plan.exposure import (
    CREDENTIAL_FACTS,
    EntryKind,
    Exposure,
    SignInPath,
    State,
    any_of,
    broken_promises,
    describe_access,
    exposure,
    internet_checks,
    promises,
)
from wizard.plan.findings import risk_field_label
from wizard.plan.model import PlanData

SVG_FILE = "exposure.svg"

# Bootstrap text classes for the review page's "after" cell, by its "password alone" state.
_CSS = {State.OPEN: "text-danger fw-semibold", State.UNKNOWN: "text-warning-emphasis", State.CLOSED: ""}
# Colours (presentation attributes) by the worst "password alone" state of a line.
_COLOURS = {State.OPEN: "#b42318", State.UNKNOWN: "#b54708", State.CLOSED: "#667085"}


def _worst(paths: tuple[SignInPath, ...] | list[SignInPath]) -> State:
    return any_of(p.after.password_only for p in paths)


def exposure_rows(model: Exposure, checks: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Return one display row per sign-in path: where, through what, for whom, with what, before, after, and
    for a path closed after the plan how the verification checks it (`checks`, from `internet_checks`).

    `state` is the row's "password alone" state after the plan (`open`, `unknown`, `closed`), for colouring.
    """
    checks = checks or {}
    rows = []
    for path in model.paths:
        rows.append({
            "entry": path.entry.label,
            "host": path.entry.host or "",
            "via": path.entry.via,
            "users": path.users,
            "credential": CREDENTIAL_FACTS[path.credential].label,
            "before": describe_access(path.before),
            "after": describe_access(path.after),
            "state": path.after.password_only.value,
            "after_class": _CSS[path.after.password_only] if path.after.accepted is not State.CLOSED else "",
            "field": path.field,
            "in_plan": path.entry.in_plan,
            "checked": checks.get(path.key, ""),
        })
    return rows


# ---------------------------------------------------------------------------
# The picture


@dataclass(frozen=True)
class _Line:
    """One line of text in a box, coloured by the state it reports."""

    text: str
    state: State | None = None
    bold: bool = False


@dataclass(frozen=True)
class _Box:
    key: str
    x: int
    y: int
    w: int
    lines: tuple[_Line, ...]
    fill: str = "#ffffff"

    @property
    def h(self) -> int:
        return 14 + 16 * len(self.lines)

    def anchor(self, side: str, line: int | None = None) -> tuple[int, int]:
        """Return the point on the left or right edge, at a line's height (the middle when None)."""
        y = self.y + self.h // 2 if line is None else self.y + 8 + 16 * line + 8
        return (self.x if side == "left" else self.x + self.w), y


# What XML 1.0 does not allow in a document at all (the reader refuses these in names; this keeps
# the picture well-formed whatever reaches it).
_NOT_XML_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _t(value: object) -> str:
    """Return text escaped for an SVG text node (a character XML forbids becomes U+FFFD)."""
    return escape(_NOT_XML_RE.sub("\ufffd", str(value)))


# (lane title, x, width): the Internet, the perimeter (Edges, reverse proxy, WAP), the pools, AD FS.
_LANES = (("Internet", 20, 130), ("Perimeter", 200, 280), ("Pools", 540, 520), ("AD FS", 1120, 290))
_WIDTH = 1430
_TOP = 70
_GAP = 22
_LEGEND = ("Red: a password alone signs in. Amber (dashed, ?): as today, not known to the plan, perhaps a password "
           "alone. Grey: closed, or protected (MFA, or a certificate only a protected sign-in can get).")


def _states(paths: tuple[SignInPath, ...] | list[SignInPath]) -> str:
    """Return 'NTLM closed, Kerberos closed, client certificate open' for a group of paths."""
    parts = []
    for p in paths:
        state = p.after.password_only if p.after.accepted is not State.CLOSED else State.CLOSED
        word = {State.OPEN: "OPEN to a password", State.UNKNOWN: "?", State.CLOSED: "closed"}[state]
        if p.after.accepted is not State.CLOSED and state is State.CLOSED:
            # Taken (or perhaps taken, as today) but never with a password alone: MFA, or a protected certificate.
            word = "protected"
        parts.append(f"{CREDENTIAL_FACTS[p.credential].short} {word}")
    return ", ".join(parts)


def _fits(width: int) -> int:
    """Return about how many characters of 12-pixel sans-serif fit in a box `width` wide."""
    return max(8, (width - 16) * 10 // 66)


def _cut(text: str, width: int) -> str:
    most = _fits(width)
    return text if len(text) <= most else text[: most - 1] + "\u2026"


def _wrapped(text: str, state: State, width: int) -> list[_Line]:
    """Return a states text as lines that fit the box, broken after commas."""
    lines: list[_Line] = []
    current = ""
    for part in text.split(", "):
        candidate = f"{current}, {part}" if current else part
        if current and len(candidate) > _fits(width):
            lines.append(_Line(current + ",", state))
            current = part
        else:
            current = candidate
    lines.append(_Line(current, state))
    return lines


def render_svg(model: Exposure, *, title: str) -> str:
    """Return the swim-lane picture of `model` as a standalone SVG document."""
    x_in, x_per, x_pool, x_adfs = (lane[1] for lane in _LANES)
    w_in, w_per, w_pool, w_adfs = (lane[2] for lane in _LANES)

    # Pools: the Registrar and the web services, each with how its credentials stand after the plan.
    pools: dict[str, _Box] = {}
    registrar_line: dict[str, int] = {}
    web_line: dict[str, int] = {}
    y = _TOP
    for entry in (e for e in model.entries if e.kind is EntryKind.WEB_SERVICES):
        pool = entry.pool or ""
        registrar = model.paths_at(f"registrar:{pool}")
        web = model.paths_at(entry.key)
        head = [_Line(entry.label.removeprefix("Web services of ") + ("" if entry.in_plan else " (not in the plan)"),
                      bold=True), _Line("Registrar (SIP through an Edge):")]
        sip = _wrapped(_states(registrar), _worst(registrar), w_pool)
        web_head = [_Line(f"Web services {entry.host or '(no external name in the plan)'}:")]
        box = _Box(pool, x_pool, y, w_pool, (*head, *sip, *web_head, *_wrapped(_states(web), _worst(web), w_pool)))
        registrar_line[pool] = len(head)
        web_line[pool] = len(head) + len(sip) + 1
        pools[pool] = box
        y = box.y + box.h + _GAP
    bottom = y

    # The perimeter: each Edge, the reverse proxy, the Web Application Proxy (or the reverse proxy) for AD FS.
    links: list[tuple[_Box, _Box, int | None, tuple[SignInPath, ...], str]] = []
    perimeter: list[tuple[_Box, tuple[SignInPath, ...], str]] = []
    adfs_box = None
    y = _TOP
    for entry in (e for e in model.entries if e.kind is EntryKind.EDGE_SIP):
        paths = model.paths_at(entry.key)
        name = entry.label.removeprefix("SIP sign-in at ").removeprefix("SIP sign-in through ")
        box = _Box(entry.key, x_per, y, w_per, (_Line(name, bold=True), _Line("SIP sign-in:"),
                                                *_wrapped(_states(paths), _worst(paths), w_per)))
        perimeter.append((box, paths, entry.label))
        for pool, target in pools.items():
            through = model.paths_at(f"registrar:{pool}")
            links.append((box, target, registrar_line[pool], through, f"{entry.label} to the Registrar of {pool}"))
        y = box.y + box.h + _GAP
    web_entries = [e for e in model.entries if e.kind is EntryKind.WEB_SERVICES]
    if web_entries:
        every = tuple(p for e in web_entries for p in model.paths_at(e.key))
        box = _Box("rp", x_per, y, w_per, (_Line("Reverse proxy", bold=True),
                                           _Line("publishes the external web services (/*)")))
        perimeter.append((box, every, "the reverse proxy"))
        for entry in web_entries:
            target = pools[entry.pool or ""]
            links.append((box, target, web_line[entry.pool or ""], model.paths_at(entry.key), entry.label))
        y = box.y + box.h + _GAP
    adfs_entry = next((e for e in model.entries if e.kind is EntryKind.ADFS), None)
    if adfs_entry is not None:
        # Below the pools, so that the line to AD FS crosses no pool.
        y = max(y, bottom)
        paths = model.paths_at(adfs_entry.key)
        box = _Box("wap", x_per, y, w_per, (_Line(adfs_entry.via[:1].upper() + adfs_entry.via[1:], bold=True),
                                            _Line("publishes AD FS (/adfs/ls/)")))
        perimeter.append((box, paths, f"{adfs_entry.via} to AD FS"))
        adfs_box = _Box("adfs", x_adfs, y, w_adfs, (
            _Line(adfs_entry.label, bold=True),
            *(line for p in paths for line in _wrapped(_states([p]), _worst([p]), w_adfs))))
        links.append((box, adfs_box, None, paths, adfs_entry.label))
        y = box.y + box.h + _GAP
    bottom = max(bottom, y)
    internet = _Box("internet", x_in, _TOP, w_in, (_Line("Internet clients", bold=True), _Line("desktop, mobile,"),
                                                   _Line("web, phones")), fill="#eef4ff")
    height = bottom + 50

    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{height}" '
        f'viewBox="0 0 {_WIDTH} {height}" font-family="sans-serif" font-size="12" role="img" '
        f'aria-labelledby="exposure-title exposure-desc">',
        f'<title id="exposure-title">{_t(title)}</title>',
        f'<desc id="exposure-desc">Sign-in paths from the Internet after the plan. {_t(_LEGEND)}</desc>',
        '<defs>',
        *(f'<marker id="arrow-{state.value}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
          f'markerHeight="8" markerUnits="userSpaceOnUse" orient="auto"><path d="M 0 0 L 10 5 L 0 10 z" '
          f'fill="{_COLOURS[state]}"/></marker>' for state in State),
        '</defs>',
        f'<rect x="0" y="0" width="{_WIDTH}" height="{height}" fill="#ffffff"/>',
    ]
    for name, x, w in _LANES:
        out.append(f'<rect x="{x - 10}" y="30" width="{w + 20}" height="{height - 70}" fill="#f2f4f7" '
                   f'stroke="#d0d5dd"/>')
        out.append(f'<text x="{x + w // 2}" y="50" text-anchor="middle" font-weight="bold">{_t(name)}</text>')

    # Every Edge draws a line to every pool's Registrar with that pool's paths: a group of paths
    # (one tuple of the model) is described once.
    described: dict[int, tuple[State, str]] = {}

    def draw_line(start: tuple[int, int], end: tuple[int, int], paths: tuple[SignInPath, ...], what: str) -> None:
        held = described.get(id(paths))
        if held is None:
            held = described[id(paths)] = (_worst(paths), _t(_states(paths)))
        state, states = held
        dash = ' stroke-dasharray="6 4"' if state is State.UNKNOWN else ""
        width = "3" if state is State.OPEN else "1.5"
        out.append(f'<line x1="{start[0]}" y1="{start[1]}" x2="{end[0] - 2}" y2="{end[1]}" '
                   f'stroke="{_COLOURS[state]}" stroke-width="{width}"{dash} marker-end="url(#arrow-{state.value})">'
                   f'<title>{_t(what)}: {states}</title></line>')

    def draw_box(b: _Box) -> None:
        out.append(f'<rect x="{b.x}" y="{b.y}" width="{b.w}" height="{b.h}" rx="6" fill="{b.fill}" '
                   f'stroke="#344054"/>')
        for i, item in enumerate(b.lines):
            colour = _COLOURS[item.state] if item.state is not None else "#101828"
            weight = ' font-weight="bold"' if item.bold or item.state is State.OPEN else ""
            out.append(f'<text x="{b.x + 8}" y="{b.y + 20 + 16 * i}" fill="{colour}"{weight}>'
                       f'{_t(_cut(item.text, b.w))}</text>')

    for b, paths, what in perimeter:
        draw_line(internet.anchor("right"), b.anchor("left"), paths, f"Internet to {what}")
    for source, target, at, paths, what in links:
        draw_line(source.anchor("right"), target.anchor("left", at), paths, what)
    draw_box(internet)
    for b, _, _ in perimeter:
        draw_box(b)
    for b in pools.values():
        draw_box(b)
    if adfs_box is not None:
        draw_box(adfs_box)
    out.append(f'<text x="20" y="{height - 16}" font-size="11">{_t(_LEGEND)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def exposure_context(plan: PlanData, *, estate: Estate | None = None, svg: str | None = None,
                     doc: Any = None) -> dict[str, Any]:
    """Return what the review page shows of the exposure model: promises, rows, and the picture inline.

    `svg` is the picture of this very model when the caller has it already (the plan's bundle holds
    it as exposure.svg, drawn by render_svg with the same title). `doc`, the plan document, names each
    broken promise's field as the wizard's forms do ("Pool lyncpool01 › External authentication").
    """
    model = exposure(plan, estate=estate)
    broken = broken_promises(plan, model=model)
    return {
        "promises": [p.label for p in promises(plan)],
        "broken": [{"code": b.code, "field": b.field, "label": risk_field_label(b.field, doc), "message": b.message}
                   for b in broken],
        "rows": exposure_rows(model, internet_checks(plan, model)),
        "estate_used": model.estate_used,
        "svg": _safe(svg if svg is not None else picture(model, plan.name)),
    }


def picture(model: Exposure, plan_name: str) -> str:
    """Return the picture of an exposure model for the plan called `plan_name`: the bundle's exposure.svg."""
    return render_svg(model, title=f"Sign-in paths from the Internet: {plan_name}")


def _safe(svg: str) -> SafeString:
    # Every text and attribute in the SVG was escaped as it was written (render_svg).
    return mark_safe(svg)  # nosec B308 B703 - built by render_svg, which escapes every value


__all__ = ["SVG_FILE", "exposure_context", "exposure_rows", "picture", "render_svg"]
