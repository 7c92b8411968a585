"""Build wizard/proof/catalog/cmdlets.json from Microsoft's cmdlet help and the project's overrides.

Usage (from the repository root):

    .venv/bin/python tools/build_catalog.py PATH/TO/reference/cmdlets.json
    .venv/bin/python tools/build_catalog.py PATH/TO/cmdlets.json --check   # exit 1 if the file is stale

The reference catalog is read from the path given on the command line (its `sources.json`
sibling supplies the provenance); the overrides come from wizard/proof/catalog/overrides.json.
Only the standard library is used, so the tool runs before the virtual environment exists.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
CATALOG_DIR = REPO_ROOT / "wizard" / "proof" / "catalog"
DEFAULT_OVERRIDES = CATALOG_DIR / "overrides.json"
DEFAULT_OUTPUT = CATALOG_DIR / "cmdlets.json"

FORMAT = "wizard-catalog/1"
# The products Microsoft's help names; a product it does not name (Subscription Edition) is an alias in
# overrides.json ("product_aliases"): it gets exactly what the product it stands for has, with the reason.
PRODUCTS = ("lync2013", "sfb2015", "sfb2019")
PRODUCT_NAMES = {
    "Lync Server 2013": "lync2013",
    "Skype for Business Server 2015": "sfb2015",
    "Skype for Business Server 2019": "sfb2019",
}
ONLINE = "Skype for Business Online"
ADFS_VERSIONS = ("2.0", "2012r2", "2016", "2019", "2022")
# The primary AD FS help is the Windows Server 2022 docset; the reference README notes the
# 2016, 2019 and 2025 docsets list exactly the same parameter names for these cmdlets.
ADFS_PRIMARY_VERSIONS = ("2016", "2019", "2022")
ADFS_2012R2_VARIANT = "ADFS-winserver2012r2"

INT_TYPES = {"Int32", "UInt32", "Int64", "UInt64", "System.Int32", "System.Int64", "System.UInt32", "System.UInt64"}
BOOL_TYPES = {"Boolean", "System.Boolean"}
SWITCH_TYPES = {"SwitchParameter", "System.Management.Automation.SwitchParameter"}
# Types a quoted string (or a bareword) converts to without ceremony.
STRING_TYPES = {
    "String", "System.String", "Uri", "System.Uri", "Fqdn", "Guid", "XdsIdentity",
    "Microsoft.Rtc.Management.Xds.XdsIdentity", "XdsGlobalRelativeIdentity",
    "UserIdParameter", "OUIdParameter",
}
AVAILABILITY_STATES = ("yes", "needs_cu", "no", "online_only")
OVERRIDE_KINDS = ("availability", "online_only", "add_parameter", "values", "range", "type", "adfs20", "add_cmdlet",
                  "null_clears")
# The types a `type` override may give a parameter: the help's YAML sometimes names the wrong one.
OVERRIDE_TYPES = SWITCH_TYPES | BOOL_TYPES | INT_TYPES | STRING_TYPES


class CatalogBuildError(Exception):
    """An override names something the reference does not have, or is malformed."""


def _kind_for(type_name: str, has_values: bool) -> tuple[str, bool]:
    """Return (kind, is_array) for a parameter type as written in the help."""
    is_array = type_name.endswith("[]")
    base = type_name[:-2] if is_array else type_name
    if base in SWITCH_TYPES:
        return "switch", is_array
    if base in BOOL_TYPES:
        return "bool", is_array
    if base in INT_TYPES:
        return "int", is_array
    if has_values:
        return "enum", is_array
    if base in STRING_TYPES or base.endswith(".String"):
        return "string", is_array
    return "object", is_array


def _skype_availability(applicable: list[str] | None) -> dict[str, str]:
    """Map a help 'Applicable' list to per-product availability."""
    names = applicable or []
    on_prem = {PRODUCT_NAMES[n] for n in names if n in PRODUCT_NAMES}
    online_only = not on_prem and ONLINE in names
    return {p: ("yes" if p in on_prem else ("online_only" if online_only else "no")) for p in PRODUCTS}


def _values(param: dict[str, Any]) -> list[str] | None:
    values = param.get("accepted_values")
    return list(values) if values else None


def _range(param: dict[str, Any]) -> dict[str, int] | None:
    # Only an unambiguous single sentence ("can be set to any integer value between X and Y") is used.
    ranges = param.get("prose_ranges") or []
    if len(ranges) != 1:
        return None
    return {"min": int(ranges[0]["min"]), "max": int(ranges[0]["max"])}


def _param_entry(param: dict[str, Any], availability: dict[str, str] | None) -> dict[str, Any]:
    values = _values(param)
    kind, is_array = _kind_for(param["type"], values is not None)
    position = param.get("position")
    entry: dict[str, Any] = {
        "type": param["type"],
        "kind": kind,
        "array": is_array,
        "aliases": sorted(param.get("aliases") or [], key=str.lower),
        "position": position if isinstance(position, int) else None,
        "values": _typed_values(kind, values),
        "range": _range(param) if kind == "int" else None,
        "availability": availability,
    }
    return entry


def _typed_values(kind: str, values: list[str] | None) -> list[Any] | None:
    if values is None:
        return None
    if kind == "int":
        return [int(v) for v in values]
    return list(values)


def _skype_cmdlet(name: str, ref: dict[str, Any]) -> dict[str, Any]:
    cmdlet_avail = _skype_availability(ref.get("applicable"))
    params: dict[str, Any] = {}
    for pname, p in ref["parameters"].items():
        applicable = p.get("applicable")
        # A parameter without an 'Applicable' line inherits the cmdlet's list; the
        # three such parameters in the reference are settled by overrides.
        avail = _skype_availability(applicable) if applicable else dict(cmdlet_avail)
        entry = _param_entry(p, avail)
        if not applicable:
            entry["applicable_missing"] = True
        params[pname] = entry
    return {
        "module": ref["module"],
        "products": [p for p in PRODUCTS if cmdlet_avail[p] == "yes"],
        "adfs_versions": None,
        "parameters": params,
    }


def _adfs_cmdlet(name: str, ref: dict[str, Any]) -> dict[str, Any]:
    variant = (ref.get("variants") or {}).get(ADFS_2012R2_VARIANT)
    variant_params = variant["parameters"] if variant else {}
    params: dict[str, Any] = {}
    for pname, p in ref["parameters"].items():
        avail = dict.fromkeys(ADFS_VERSIONS, "no")
        for v in ADFS_PRIMARY_VERSIONS:
            avail[v] = "yes"
        if pname in variant_params:
            avail["2012r2"] = "yes"
        entry = _param_entry(p, avail)
        old_values = _values(variant_params[pname]) if pname in variant_params else None
        if old_values is not None and old_values != _values(p):
            entry["values_by_adfs"] = {"2012r2": _typed_values(entry["kind"], old_values)}
        params[pname] = entry
    versions = list(ADFS_PRIMARY_VERSIONS)
    if variant:
        versions.insert(0, "2012r2")
    return {"module": ref["module"], "products": None, "adfs_versions": versions, "parameters": params}


def _plain_cmdlet(name: str, ref: dict[str, Any]) -> dict[str, Any]:
    params = {pname: _param_entry(p, None) for pname, p in ref["parameters"].items()}
    return {"module": ref["module"], "products": None, "adfs_versions": None, "parameters": params}


def _find(catalog: dict[str, Any], cmdlet: str, param: str | None, override_id: str) -> dict[str, Any]:
    if cmdlet not in catalog:
        raise CatalogBuildError(f"override {override_id}: unknown cmdlet {cmdlet}")
    entry = catalog[cmdlet]
    if param is None:
        return entry
    if param not in entry["parameters"]:
        raise CatalogBuildError(f"override {override_id}: {cmdlet} has no parameter {param}")
    return entry["parameters"][param]


def _apply_override(catalog: dict[str, Any], ov: dict[str, Any]) -> None:
    oid = ov.get("id", "?")
    kind = ov.get("kind")
    if kind not in OVERRIDE_KINDS:
        raise CatalogBuildError(f"override {oid}: unknown kind {kind!r}")
    if not str(ov.get("why", "")).strip():
        raise CatalogBuildError(f"override {oid}: every override needs a 'why'")
    if kind == "adfs20":
        _apply_adfs20(catalog, ov)
        return
    if kind == "add_cmdlet":
        _apply_add_cmdlet(catalog, ov)
        return
    for cmdlet in ov["cmdlets"]:
        for pname in ov["parameters"]:
            if kind == "add_parameter":
                if pname in catalog[cmdlet]["parameters"]:
                    raise CatalogBuildError(f"override {oid}: {cmdlet} already has {pname}")
                pseudo = {"type": ov["type"], "aliases": [], "position": "Named"}
                catalog[cmdlet]["parameters"][pname] = _param_entry(pseudo, dict.fromkeys(PRODUCTS, "no"))
            param = _find(catalog, cmdlet, pname, oid)
            if kind in ("availability", "add_parameter"):
                for product, state in ov["products"].items():
                    if product not in PRODUCTS or state not in AVAILABILITY_STATES:
                        raise CatalogBuildError(f"override {oid}: bad product state {product}={state}")
                    param["availability"][product] = state
            elif kind == "online_only":
                param["availability"] = dict.fromkeys(PRODUCTS, "online_only")
            elif kind == "values":
                if param["kind"] not in ("int", "enum"):
                    param["kind"] = "enum"
                param["values"] = _typed_values(param["kind"], list(ov["values"]))
                param.pop("values_by_adfs", None)
            elif kind == "type":
                new_type = ov.get("type")
                if new_type not in OVERRIDE_TYPES:
                    raise CatalogBuildError(f"override {oid}: type {new_type!r} is not one a parameter may be given")
                param["type"] = new_type
                param["kind"], param["array"] = _kind_for(new_type, False)
                param["values"] = None
                param["range"] = None
                param.pop("values_by_adfs", None)
            elif kind == "null_clears":
                # The help shows $null given to this text parameter, and says what it does (un-assigns, clears).
                if param["kind"] not in ("string", "enum"):
                    raise CatalogBuildError(f"override {oid}: null_clears on non-text {cmdlet} -{pname}")
                param["null_clears"] = True
            elif kind == "range":
                if param["kind"] != "int":
                    raise CatalogBuildError(f"override {oid}: range on non-integer {cmdlet} -{pname}")
                param["range"] = {"min": int(ov["min"]), "max": int(ov["max"])}
            param.setdefault("overrides", []).append(oid)


def _apply_adfs20(catalog: dict[str, Any], ov: dict[str, Any]) -> None:
    oid = ov["id"]
    for cmdlet, allowed in ov["cmdlets_parameters"].items():
        entry = _find(catalog, cmdlet, None, oid)
        if entry["module"] != "ADFS":
            raise CatalogBuildError(f"override {oid}: {cmdlet} is not an ADFS cmdlet")
        for pname in allowed:
            param = _find(catalog, cmdlet, pname, oid)
            param["availability"]["2.0"] = "yes"
            param.setdefault("overrides", []).append(oid)
        entry["adfs_versions"] = ["2.0", *entry["adfs_versions"]]


def _apply_add_cmdlet(catalog: dict[str, Any], ov: dict[str, Any]) -> None:
    """Add a cmdlet the reference lacks, with the parameters its own help page documents.

    A SkypeForBusiness cmdlet names the products that have it (`products`); an ADFS cmdlet
    names the AD FS versions (`adfs_versions`). Every parameter exists wherever the cmdlet does.
    """
    oid = ov["id"]
    if not ov.get("sources"):
        raise CatalogBuildError(f"override {oid}: an added cmdlet needs the sources it comes from")
    name, module = ov["cmdlet"], ov["module"]
    if name in catalog:
        raise CatalogBuildError(f"override {oid}: {name} is already in the reference")
    if module == "SkypeForBusiness":
        products = list(ov["products"])
        if not products or any(p not in PRODUCTS for p in products):
            raise CatalogBuildError(f"override {oid}: bad products {products}")
        availability = {p: ("yes" if p in products else "no") for p in PRODUCTS}
        versions = None
    elif module == "ADFS":
        versions = list(ov["adfs_versions"])
        if not versions or any(v not in ADFS_VERSIONS for v in versions):
            raise CatalogBuildError(f"override {oid}: bad AD FS versions {versions}")
        availability = {v: ("yes" if v in versions else "no") for v in ADFS_VERSIONS}
        products = None
    else:
        raise CatalogBuildError(f"override {oid}: an added cmdlet must be a SkypeForBusiness or ADFS one")
    params = {}
    for pname, spec in ov.get("parameters", {}).items():
        pseudo = {"type": spec["type"], "aliases": spec.get("aliases", []), "position": spec.get("position", "Named"),
                  "accepted_values": spec.get("values")}
        entry = _param_entry(pseudo, dict(availability))
        # A parameter that came later than the cmdlet names where it exists ("needs_cu" with its update).
        for target, state in spec.get("availability", {}).items():
            if target not in availability or state not in AVAILABILITY_STATES:
                raise CatalogBuildError(f"override {oid}: bad availability {target}={state} for -{pname}")
            if availability[target] == "no" and state != "no":
                raise CatalogBuildError(f"override {oid}: -{pname} cannot exist on {target}, where {name} does not")
            entry["availability"][target] = state
        entry["overrides"] = [oid]
        params[pname] = entry
    catalog[name] = {
        "module": module,
        "products": [p for p in PRODUCTS if p in products] if products is not None else None,
        "adfs_versions": [v for v in ADFS_VERSIONS if v in versions] if versions is not None else None,
        "parameters": params,
        "supports_whatif": bool(ov.get("supports_whatif", False)),
        "common_parameters": True,
        "source": f"overrides.json#{oid}",
    }


def _apply_product_aliases(catalog: dict[str, Any], aliases: list[dict[str, Any]]) -> list[str]:
    """Give each alias product exactly what the product it stands for has, cmdlet by cmdlet and parameter by
    parameter; return the alias products in order. Every alias needs its reason and sources."""
    added: list[str] = []
    for alias in aliases:
        product, like = alias.get("product"), alias.get("as")
        if not str(alias.get("why", "")).strip() or not alias.get("sources"):
            raise CatalogBuildError(f"product alias {product}: every alias needs a 'why' and its 'sources'")
        if like not in PRODUCTS or product in PRODUCTS or product in added or not product:
            raise CatalogBuildError(f"product alias {product}: must be a new product standing for one of {PRODUCTS}")
        added.append(product)
        for entry in catalog.values():
            if entry["products"] is not None and like in entry["products"]:
                entry["products"] = [*entry["products"], product]
            for param in entry["parameters"].values():
                availability = param.get("availability")
                if availability is not None and like in availability:
                    availability[product] = availability[like]
    return added


def _provenance(sources: dict[str, Any], reference_bytes: bytes, overrides_bytes: bytes,
                used_files: list[str]) -> dict[str, Any]:
    files = {}
    for key in sorted(used_files):
        src = sources["files"].get(key)
        if src is None:
            raise CatalogBuildError(f"sources.json has no entry for {key}")
        files[key] = {k: src[k] for k in ("repo", "path", "file_commit", "blob_sha")}
    return {
        "retrieved": sources["retrieved"],
        "note": "Facts come from Microsoft's public cmdlet help, copied unchanged from these repositories; "
                "wizard/proof/catalog/overrides.json corrects or completes them, each entry with its reason.",
        "repositories": sources["repositories"],
        "files": files,
        "reference_sha256": hashlib.sha256(reference_bytes).hexdigest(),
        "overrides_sha256": hashlib.sha256(overrides_bytes).hexdigest(),
    }


def build(reference_path: Path, overrides_path: Path, sources_path: Path | None = None) -> dict[str, Any]:
    """Return the project catalog as a JSON-ready dict."""
    reference_bytes = reference_path.read_bytes()
    overrides_bytes = overrides_path.read_bytes()
    reference = json.loads(reference_bytes)
    overrides = json.loads(overrides_bytes)
    sources = json.loads((sources_path or reference_path.with_name("sources.json")).read_text("utf-8"))

    catalog: dict[str, Any] = {}
    used_files: list[str] = []
    for name in sorted(reference, key=str.lower):
        ref = reference[name]
        module = ref["module"]
        if module == "SkypeForBusiness":
            entry = _skype_cmdlet(name, ref)
        elif module == "ADFS":
            entry = _adfs_cmdlet(name, ref)
        else:
            entry = _plain_cmdlet(name, ref)
        entry["supports_whatif"] = bool(ref.get("supports_whatif"))
        entry["common_parameters"] = bool(ref.get("common_parameters"))
        entry["source"] = ref["docs_file"].removeprefix("docs/")
        used_files.append(entry["source"])
        for variant in (ref.get("variants") or {}).values():
            used_files.append(variant["docs_file"].removeprefix("docs/"))
        catalog[name] = entry

    for ov in overrides["overrides"]:
        _apply_override(catalog, ov)
    # After the overrides: an alias product gets what its model has once the help is corrected.
    aliases = overrides.get("product_aliases", [])
    alias_products = _apply_product_aliases(catalog, aliases)

    common = {}
    for pname, spec in overrides["common_parameters"]["parameters"].items():
        values = spec.get("values")
        kind, is_array = _kind_for(spec["type"], values is not None)
        common[pname] = {
            "type": spec["type"], "kind": kind, "array": is_array,
            "aliases": sorted(spec.get("aliases", []), key=str.lower),
            "position": None, "values": values, "range": None, "availability": None,
        }

    body = {"common_parameters": common, "cmdlets": catalog,
            "product_aliases": [{k: a[k] for k in ("product", "as", "why", "sources")} for a in aliases]}
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode("utf-8")).hexdigest()[:12]
    return {
        "format": FORMAT,
        "catalog_version": f"{sources['retrieved']}+{digest}",
        "products": [*PRODUCTS, *alias_products],
        "adfs_versions": list(ADFS_VERSIONS),
        "provenance": _provenance(sources, reference_bytes, overrides_bytes, used_files),
        **body,
    }


def render(catalog: dict[str, Any]) -> str:
    """Return the catalog as stable, diff-friendly JSON text."""
    return json.dumps(catalog, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reference", type=Path, help="the reference cmdlets.json (Microsoft's cmdlet help, as JSON)")
    parser.add_argument("--sources", type=Path, default=None,
                        help="sources.json (default: beside the reference)")
    parser.add_argument("--overrides", type=Path, default=DEFAULT_OVERRIDES)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 when the output file differs from a fresh build")
    args = parser.parse_args(argv)
    try:
        text = render(build(args.reference, args.overrides, args.sources))
    except (CatalogBuildError, KeyError, OSError, json.JSONDecodeError) as exc:
        print(f"build_catalog: {exc}", file=sys.stderr)
        return 2
    if args.check:
        current = args.output.read_text("utf-8") if args.output.exists() else ""
        if current != text:
            print(f"build_catalog: {args.output} is stale; rebuild it", file=sys.stderr)
            return 1
        return 0
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output} ({len(text)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
