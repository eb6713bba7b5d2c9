"""The house rules, checked on the source: imports go one way, stages stay pure, modules stay small.

Every import counts, including those inside functions (a lazy import is still a dependency).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("monitor", "spiders", "storage")
MAX_LINES = 400
# Stages that must stay pure: no network stack, no database, no clock.
PURE = ("monitor.compare", "monitor.document", "monitor.govuk", "monitor.model")
IMPURE_LIBRARIES = ("scrapy", "twisted", "sqlalchemy", "storage", "spiders")
# What the spiders may use of monitor/: GOV.UK's shapes and the shared plain types.
SPIDER_MAY_USE = ("monitor.govuk", "monitor.model", "monitor.errors")


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "site" in path.relative_to(ROOT).parts:
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = modules()


def imported_names(module: str, path: Path) -> set[str]:
    """Every dotted name a module imports, anywhere in it (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def internal_edges(module: str, path: Path) -> set[str]:
    """The project modules ``module`` depends on (a submodule import names that module)."""
    edges = set()
    for name in imported_names(module, path):
        parts = name.split(".")
        for end in range(len(parts), 0, -1):
            candidate = ".".join(parts[:end])
            if candidate in MODULES:
                if candidate != module and not module.startswith(candidate + "."):
                    edges.add(candidate)
                break
    if path.name == "__init__.py":
        edges = {e for e in edges if not e.startswith(module + ".")}
    return edges


GRAPH = {module: internal_edges(module, path) for module, path in MODULES.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a list of modules, or None (iterative depth-first search)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for start in graph:
        if state.get(start):
            continue
        stack = [(start, iter(sorted(graph[start])))]
        path = [start]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                path.pop()
                state[node] = 2
            elif state.get(child) == 1:
                return path[path.index(child) :] + [child]
            elif not state.get(child):
                state[child] = 1
                path.append(child)
                stack.append((child, iter(sorted(graph.get(child, ())))))
    return None


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle_anywhere():
    assert find_cycle(GRAPH) is None


def test_storage_imports_nothing_above_it():
    upward = sorted(f"{m} -> {d}" for m, deps in GRAPH.items() if m.startswith("storage") for d in deps if not d.startswith("storage"))
    assert upward == []


def test_only_storage_uses_the_orm():
    users = sorted(m for m, p in MODULES.items() if not m.startswith("storage") and any(n.split(".")[0] == "sqlalchemy" for n in imported_names(m, p)))
    assert users == []
    schema_users = sorted(m for m, deps in GRAPH.items() if not m.startswith("storage") and "storage.schema" in deps)
    assert schema_users == []


def test_spiders_use_only_the_govuk_shapes_of_monitor():
    wrong = sorted(f"{m} -> {d}" for m, deps in GRAPH.items() if m.startswith("spiders") for d in deps if d.startswith("monitor") and not d.startswith(SPIDER_MAY_USE))
    assert wrong == []


@pytest.mark.parametrize("stage", PURE)
def test_pure_stages_use_no_network_database_or_clock(stage):
    offenders = []
    for module, path in MODULES.items():
        if not (module == stage or module.startswith(stage + ".")):
            continue
        for name in imported_names(module, path):
            if name.split(".")[0] in IMPURE_LIBRARIES:
                offenders.append(f"{module} imports {name}")
        source = path.read_text(encoding="utf-8")
        for clock in ("datetime.now(", "date.today(", "time.time("):
            if clock in source:
                offenders.append(f"{module} reads the clock ({clock})")
    assert offenders == []


def test_no_module_is_a_god_module():
    big = sorted(f"{m}: {n} lines" for m, p in MODULES.items() if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES)
    assert big == []
