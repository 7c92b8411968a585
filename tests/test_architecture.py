"""The layers of `wizard/` import one way only: plan and proof at the bottom, then
scripts, then review, then web. See docs/architecture.md.

The check reads every import statement (also those inside functions) with `ast`, so a
lazy import cannot hide a cycle.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

WIZARD = Path(__file__).resolve().parent.parent / "wizard"

# Top-level modules below every layer: they import nothing from `wizard` (checked below).
BASE = {"caches"}
# Layer -> the wizard packages (and top-level modules) its modules may import.
ALLOWED: dict[str, set[str]] = {
    "plan": {"plan", *BASE},
    "proof": {"proof", *BASE},
    "scripts": {"plan", "proof", "scripts", "wizard", *BASE},
    "review": {"plan", "proof", "scripts", "review", "models", "wizard", *BASE},
    "web": {"plan", "proof", "scripts", "review", "web", "models", "wizard", *BASE},
}
# Layers that must run without Django's database or request machinery.
PURE = ("plan", "proof", "scripts")
DJANGO_ALLOWED_IN_PURE = {"django.utils.safestring"}  # highlighting returns HTML marked safe


def _module_name(path: Path) -> str:
    rel = path.relative_to(WIZARD.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> list[str]:
    """Return every absolute module name `path` imports (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    out: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            out.append(module)
            # `from wizard.plan import findings` imports the module wizard.plan.findings.
            out.extend(f"{module}.{alias.name}" for alias in node.names
                       if (WIZARD.parent / Path(*f"{module}.{alias.name}".split("."))).with_suffix(".py").exists()
                       or (WIZARD.parent / Path(*f"{module}.{alias.name}".split("."))).is_dir())
    return out


def _sources(layer: str) -> list[Path]:
    return sorted((WIZARD / layer).rglob("*.py"))


def _layer_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "wizard":
        return None
    if len(parts) == 1:
        return "wizard"
    return parts[1]


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_each_layer_imports_only_the_layers_below_it(layer: str) -> None:
    wrong = []
    for path in _sources(layer):
        for module in _imports(path):
            target = _layer_of(module)
            if target is None:
                continue
            if target not in ALLOWED[layer]:
                wrong.append(f"{path.relative_to(WIZARD.parent)} imports {module}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("module", sorted(BASE))
def test_the_base_modules_import_nothing_from_wizard_nor_django(module: str) -> None:
    path = WIZARD / f"{module}.py"
    wrong = [m for m in _imports(path) if m.split(".")[0] in ("wizard", "django")]
    assert not wrong, f"{path.name} imports {wrong}"


@pytest.mark.parametrize("layer", PURE)
def test_the_pure_layers_need_no_database_and_no_request(layer: str) -> None:
    wrong = []
    for path in _sources(layer):
        for module in _imports(path):
            if module.split(".")[0] == "django" and module not in DJANGO_ALLOWED_IN_PURE:
                wrong.append(f"{path.relative_to(WIZARD.parent)} imports {module}")
    assert not wrong, "\n".join(wrong)


def test_no_module_imports_back_into_a_module_that_imports_it() -> None:
    graph: dict[str, set[str]] = {}
    for path in sorted(WIZARD.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        name = _module_name(path)
        graph[name] = {m for m in _imports(path) if m.startswith("wizard.") and m != name}
    # Package __init__ modules that only re-export their own submodules are not cycles of interest.
    cycles = []
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if nxt not in graph or nxt.startswith(node + "."):
                continue
            if state.get(nxt) == 1:
                cycle = [*stack[stack.index(nxt):], nxt] if nxt in stack else [node, nxt]
                if not any(part.startswith(nxt + ".") or nxt.startswith(part + ".") for part in cycle[:-1]
                           if part != nxt):
                    cycles.append(" -> ".join(cycle))
            elif state.get(nxt) is None:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for node in sorted(graph):
        if state.get(node) is None:
            visit(node, [node])
    assert not cycles, "\n".join(cycles)
