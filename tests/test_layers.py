"""Imports point one way: tasks at the bottom, the LLM runtime above them, the coordinator graphs above the
runtime, the app on top; ``rl_bridge`` beside the graphs on the tasks alone; no module imports itself
back through others. Read from the source with grimp (imports inside functions count too)."""

from __future__ import annotations

import subprocess
import sys

import grimp
import pytest

from tests.conftest import ROOT

PACKAGES = ("llamac", "graphs", "tasks", "rl_bridge")


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(*PACKAGES)


def imports_of(graph: grimp.ImportGraph, package: str) -> set[tuple[str, str]]:
    """(importer, imported) for every module under ``package`` importing a module outside it."""
    out = set()
    for module in graph.find_descendants(package) | {package}:
        for imported in graph.find_modules_directly_imported_by(module):
            if not (imported == package or imported.startswith(package + ".")):
                out.add((module, imported))
    return out


def under(module: str, *packages: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def test_the_tasks_import_nothing_above_them(graph: grimp.ImportGraph) -> None:
    assert {(a, b) for a, b in imports_of(graph, "tasks") if under(b, "llamac", "graphs", "rl_bridge")} == set()


def test_the_runtime_knows_no_graph_no_app_no_task_rule(graph: grimp.ImportGraph) -> None:
    wrong = {(a, b) for a, b in imports_of(graph, "llamac.runtime")
             if under(b, "llamac.app", "graphs", "rl_bridge") or (under(b, "tasks") and b not in ("tasks.base", "tasks.coordinator"))}
    assert wrong == set()


def test_the_graphs_never_import_the_app_nor_the_rl_side(graph: grimp.ImportGraph) -> None:
    assert {(a, b) for a, b in imports_of(graph, "graphs") if under(b, "llamac.app", "rl_bridge")} == set()


def test_the_rl_side_uses_the_tasks_alone(graph: grimp.ImportGraph) -> None:
    assert {(a, b) for a, b in imports_of(graph, "rl_bridge") if under(b, "llamac", "graphs")} == set()


def strongly_connected(graph: grimp.ImportGraph, modules: set[str]) -> list[list[str]]:
    """Tarjan's components of the import graph restricted to ``modules``; a component of two or more
    modules is an import cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.find_modules_directly_imported_by(v) & modules:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in sorted(modules):
        if module not in index:
            visit(module)
    return cycles


@pytest.mark.parametrize("package", ["llamac", "graphs", "tasks", "rl_bridge"])
def test_no_module_imports_itself_back(graph: grimp.ImportGraph, package: str) -> None:
    modules = {m for m in graph.modules if under(m, *PACKAGES)}
    assert [c for c in strongly_connected(graph, modules) if any(under(m, package) for m in c)] == []


def test_the_llm_side_and_the_app_load_without_torch() -> None:
    code = ("import sys, llamac, llamac.app.cli, llamac.app.sweep, llamac.app.report, graphs.llamac, graphs.hmas2; "
            "assert 'torch' not in sys.modules, 'torch was imported'")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
