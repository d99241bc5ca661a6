"""The library's shape: no import cycles, no oversized modules, a light ``import anyllm``.

The import graph comes from grimp (the engine of import-linter), which reads every
``import`` statement in the source, including the ones inside functions and under
``TYPE_CHECKING``: a lazy import that hides a cycle at run time is still a cycle here.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from collections import deque
from collections.abc import Iterable
from pathlib import Path

import grimp
import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = "anyllm"
HARNESS = "anyllm.testing"  # the pytest harness: may import the library, never imported by it
MAX_MODULE_LINES = 600

# Imported only when a provider is first used (see anyllm/__init__.py), or only by the harness.
HEAVY_FOR_PLAIN_IMPORT = (
    "openai",
    "httpx2",
    "pydantic",
    "openresponses_types",
    "anyllm.types",
    "websockets",
    HARNESS,
)


def in_package(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(PACKAGE, cache_dir=None)


def library_modules(graph: grimp.ImportGraph) -> set[str]:
    """Every module of the package except the harness."""
    return {module for module in graph.modules if not in_package(module, HARNESS)}


def strongly_connected(nodes: set[str], edges: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's strongly connected components: each component of two or more modules holds a cycle."""
    index: dict[str, int] = {}
    lowlink: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = lowlink[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(edges[node]):
            if successor not in index:
                visit(successor)
                lowlink[node] = min(lowlink[node], lowlink[successor])
            elif successor in on_stack:
                lowlink[node] = min(lowlink[node], index[successor])
        if lowlink[node] == index[node]:
            component: set[str] = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            components.append(component)

    for node in sorted(nodes):
        if node not in index:
            visit(node)
    return components


def shortest_cycle_through(start: str, component: set[str], edges: dict[str, set[str]]) -> list[str]:
    """A shortest import path start -> ... -> start inside one strongly connected component."""
    parents: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for successor in sorted(edges[node] & component):
            if successor == start:
                path = [node]
                while path[-1] != start:
                    path.append(parents[path[-1]])
                return [*reversed(path), start]
            if successor not in parents:
                parents[successor] = node
                queue.append(successor)
    raise AssertionError(f"{start} is not on a cycle")


def describe_chain(graph: grimp.ImportGraph, chain: Iterable[str]) -> str:
    """``a -> b (a.py:12 'from b import x')`` for each hop, so the offending line is one click away."""
    modules = list(chain)
    hops = []
    for importer, imported in itertools.pairwise(modules):
        details = graph.get_import_details(importer=importer, imported=imported)
        where = ", ".join(f"line {d['line_number']}: {d['line_contents']!r}" for d in details)
        hops.append(f"    {importer} -> {imported}  ({where})")
    return "\n".join(hops)


def import_cycles(graph: grimp.ImportGraph, modules: set[str]) -> list[str]:
    """One report line per cycle among ``modules`` and its shortest loops (empty: no cycle)."""
    edges = {module: graph.find_modules_directly_imported_by(module) & modules for module in modules}
    cycles = [component for component in strongly_connected(modules, edges) if len(component) > 1]
    report = []
    for component in sorted(cycles, key=sorted):
        report.append(f"cycle among {len(component)} modules {sorted(component)}; its shortest loops:")
        seen_loops: set[frozenset[tuple[str, str]]] = set()
        for start in sorted(component):
            chain = shortest_cycle_through(start, component, edges)
            loop = frozenset(itertools.pairwise(chain))
            if loop not in seen_loops:
                seen_loops.add(loop)
                report.append("  loop:\n" + describe_chain(graph, chain))
    return report


def test_cycle_finder_reports_a_planted_cycle() -> None:
    """The finder itself: a three-module loop is found and printed hop by hop; a chain is not a cycle."""
    planted = grimp.ImportGraph()
    for importer, imported in [("p.a", "p.b"), ("p.b", "p.c"), ("p.c", "p.a"), ("p.c", "p.d")]:
        planted.add_import(
            importer=importer, imported=imported, line_number=1, line_contents=f"import {imported}"
        )
    report = import_cycles(planted, set(planted.modules))
    assert report[0].startswith("cycle among 3 modules ['p.a', 'p.b', 'p.c']")
    assert "p.a -> p.b" in report[1] and "p.b -> p.c" in report[1] and "p.c -> p.a" in report[1]
    assert len(report) == 2  # the same loop seen from p.b and p.c is reported once
    assert import_cycles(planted, {"p.a", "p.b", "p.d"}) == []


def test_library_has_no_import_cycle(graph: grimp.ImportGraph) -> None:
    report = import_cycles(graph, library_modules(graph))
    assert not report, "import cycles in anyllm (harness excluded):\n" + "\n".join(report)


def test_library_never_imports_the_harness(graph: grimp.ImportGraph) -> None:
    offenders = []
    for importer in sorted(library_modules(graph)):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            if in_package(imported, HARNESS):
                offenders.append(describe_chain(graph, [importer, imported]))
    assert not offenders, f"the library imports {HARNESS}:\n" + "\n".join(offenders)


def test_no_module_over_the_size_limit() -> None:
    sizes = {
        path.relative_to(REPO).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
        for path in sorted((REPO / PACKAGE).rglob("*.py"))
    }
    offenders = [f"    {name}: {lines} lines" for name, lines in sizes.items() if lines > MAX_MODULE_LINES]
    assert not offenders, f"modules over {MAX_MODULE_LINES} lines:\n" + "\n".join(offenders)


def test_plain_import_stays_light() -> None:
    """``import anyllm`` in a fresh interpreter loads no SDK, no pydantic models and no harness."""
    script = "import json, sys; import anyllm; print(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True, timeout=60
    )
    loaded: list[str] = json.loads(result.stdout)
    offenders = [
        module for module in loaded if any(in_package(module, heavy) for heavy in HEAVY_FOR_PLAIN_IMPORT)
    ]
    assert not offenders, f"`import anyllm` loaded: {offenders}"
