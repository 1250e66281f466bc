"""The package's shape, checked: each layer imports only the layers below it, and no module
imports itself through others (README's "Layout" says the same in words).

grimp reads every import statement, so an import inside a function or under ``TYPE_CHECKING``
counts as much as one at the top: moving an import into a function does not break a loop.
The checker's own tests add an upward import and a loop to the real graph and see each reported.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable

import grimp
import pytest

PACKAGE = "localchat"

# Top to bottom: a layer may import any layer below it, never one above. Siblings in a row are
# one layer; "independent" siblings may not import each other either. A name that does not
# exist is skipped (a rename in progress), but every module that does must be placed.
LAYERS: tuple[tuple[tuple[str, ...], bool], ...] = (
    (("__main__",), True),
    (("cli",), True),
    (("commands", "tui"), True),
    (("options",), True),
    (("history",), True),
    (("engine",), True),
    (("download",), True),
    (("recommend",), True),
    (("hardware",), True),
    (("config",), True),
    (("endpoints", "rpcpool"), True),
    (("gguffile",), True),
    (("loadsettings", "presets", "ggufmeta", "safetext"), True),
    (("paths", "units", "errors", "assets"), True),
)


def build_graph() -> grimp.ImportGraph:
    # cache_dir=None: no .grimp_cache folder in the working tree
    return grimp.build_graph(PACKAGE, cache_dir=None, exclude_type_checking_imports=False)


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return build_graph()


def top_level(graph: grimp.ImportGraph) -> set[str]:
    """``localchat.cli``, ``localchat.engine``, …: the package's direct children."""
    return set(graph.find_children(PACKAGE))


def present_layers(graph: grimp.ImportGraph) -> list[grimp.Layer]:
    children = {name.removeprefix(f"{PACKAGE}.") for name in top_level(graph)}
    layers = []
    for names, independent in LAYERS:
        here = [n for n in names if n in children]
        if here:
            layers.append(grimp.Layer(*here, independent=independent))
    return layers


def _hop(graph: grimp.ImportGraph, importer: str, imported: str) -> str:
    details = graph.get_import_details(importer=importer, imported=imported)
    if not details:
        return f"{importer} -> {imported}"
    first = details[0]
    return f"{importer} -> {imported} (line {first['line_number']}: {first['line_contents']})"


def chain_words(graph: grimp.ImportGraph, chain: list[str]) -> str:
    """``a -> b (line 3: from … import …); b -> c (line 9: …)``: each import of the chain."""
    return "; ".join(_hop(graph, a, b) for a, b in zip(chain, chain[1:], strict=False))


def _chains(graph: grimp.ImportGraph, route: grimp.Route) -> Iterable[list[str]]:
    for head in sorted(route.heads):
        for tail in sorted(route.tails):
            chain = [head, *route.middle, tail]
            if all(graph.direct_import_exists(importer=a, imported=b)
                   for a, b in zip(chain, chain[1:], strict=False)):
                yield chain


def layer_violations(graph: grimp.ImportGraph) -> list[str]:
    """One line per import chain that goes up a layer (or across independent siblings)."""
    found = graph.find_illegal_dependencies_for_layers(present_layers(graph), containers={PACKAGE})
    lines = []
    for dep in sorted(found, key=lambda d: (d.importer, d.imported)):
        for route in sorted(dep.routes, key=lambda r: (sorted(r.heads), r.middle, sorted(r.tails))):
            for chain in _chains(graph, route):
                lines.append(f"{dep.importer} must not import {dep.imported}: "
                             f"{chain_words(graph, chain)}")
    return lines


def strongly_connected(graph: grimp.ImportGraph) -> list[list[str]]:
    """Tarjan's strongly connected components of two or more modules: each is a set of modules
    that import one another, directly or through the others. Iterative (no recursion limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph.find_modules_directly_imported_by(nxt)))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return sorted(found)


def shortest_loop(graph: grimp.ImportGraph, component: list[str]) -> list[str]:
    """A shortest import loop through the component's first module, as ``[a, b, …, a]``."""
    start, members = component[0], set(component)
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for nxt in sorted(graph.find_modules_directly_imported_by(node) & members):
                if nxt == start:
                    chain = [node]
                    while chain[-1] != start:
                        chain.append(previous[chain[-1]])
                    return [*reversed(chain), start]
                if nxt not in previous:
                    previous[nxt] = node
                    following.append(nxt)
        frontier = following
    raise AssertionError(f"{component} is not strongly connected")


def import_loops(graph: grimp.ImportGraph, within: str | None = None) -> list[str]:
    """One line per set of modules that import one another (those touching ``within``, a
    package or module, when given), each with a loop that shows how."""
    lines = []
    for component in strongly_connected(graph):
        if within and not any(m == within or m.startswith(f"{within}.") for m in component):
            continue
        loop = shortest_loop(graph, component)
        more = f" ({len(component)} modules in all: {', '.join(component)})" if len(component) > 2 else ""
        lines.append(f"import loop {' -> '.join(loop)}{more}: {chain_words(graph, loop)}")
    return lines


# ------------------------------------------------------------------ the contract
def test_every_top_level_module_has_a_layer(graph):
    placed = {f"{PACKAGE}.{name}" for names, _ in LAYERS for name in names}
    assert sorted(top_level(graph) - placed) == [], "add it to LAYERS here and to README's Layout"


def test_each_layer_imports_only_the_layers_below(graph):
    violations = layer_violations(graph)
    assert not violations, "imports against the layers:\n" + "\n".join(violations)


def _top_level_names() -> list[str]:
    return sorted(build_graph().find_children(PACKAGE))


@pytest.mark.parametrize("package", _top_level_names())
def test_no_import_loops(graph, package):
    loops = import_loops(graph, within=package)
    assert not loops, "\n".join(loops)


# ------------------------------------------------------------------ the checker can fail
def test_an_upward_import_is_reported_with_its_line(graph):
    broken = copy.deepcopy(graph)
    broken.add_import(importer="localchat.hardware.cpu", imported="localchat.engine.buildinfo",
                      line_number=7, line_contents="from localchat.engine.buildinfo import llama_build_info")
    assert layer_violations(broken) == [
        "localchat.hardware must not import localchat.engine: localchat.hardware.cpu -> "
        "localchat.engine.buildinfo (line 7: from localchat.engine.buildinfo import llama_build_info)"]
    assert layer_violations(graph) == []  # the copy, not the real graph


def _edges(graph: grimp.ImportGraph) -> set[tuple[str, str]]:
    return {(m, i) for m in graph.modules for i in graph.find_modules_directly_imported_by(m)}


def test_type_checking_imports_count(graph):
    """An import only type checkers run still ties the modules together (a loop through one is
    a loop in the design); the graph has them."""
    without = grimp.build_graph(PACKAGE, cache_dir=None, exclude_type_checking_imports=True)
    assert _edges(without) < _edges(graph)


def test_independent_siblings_may_not_import_each_other(graph):
    broken = copy.deepcopy(graph)
    broken.add_import(importer="localchat.commands.probe", imported="localchat.tui.app", line_number=4,
                      line_contents="from localchat.tui.app import LocalChatApp")
    assert any(line.startswith("localchat.commands must not import localchat.tui: localchat.commands.probe"
                               " -> localchat.tui.app (line 4")
               for line in layer_violations(broken))


def test_a_loop_is_reported_as_a_chain(graph):
    broken = copy.deepcopy(graph)
    # hardware.cpu -> hardware.memory -> hardware.gpus -> hardware.cpu
    broken.add_import(importer="localchat.hardware.cpu", imported="localchat.hardware.memory",
                      line_number=10, line_contents="from localchat.hardware.memory import probe_memory")
    broken.add_import(importer="localchat.hardware.memory", imported="localchat.hardware.gpus",
                      line_number=11, line_contents="from localchat.hardware.gpus import probe_gpus")
    broken.add_import(importer="localchat.hardware.gpus", imported="localchat.hardware.cpu",
                      line_number=12, line_contents="from localchat.hardware.cpu import probe_cpu")
    loops = import_loops(broken, within="localchat.hardware")
    assert len(loops) == 1
    assert loops[0].startswith(
        "import loop localchat.hardware.cpu -> localchat.hardware.memory -> localchat.hardware.gpus"
        " -> localchat.hardware.cpu (3 modules in all: ")
    assert "localchat.hardware.gpus -> localchat.hardware.cpu (line 12: from localchat.hardware.cpu" \
           " import probe_cpu)" in loops[0]
    assert import_loops(broken, within="localchat.engine") == []
    assert import_loops(graph, within="localchat.hardware") == []


def test_a_two_module_loop_across_layers_fails_both_checks(graph):
    broken = copy.deepcopy(graph)
    broken.add_import(importer="localchat.paths", imported="localchat.config", line_number=5,
                      line_contents="from localchat.config import load_config")
    [loop] = import_loops(broken, within="localchat.paths")
    assert loop.startswith("import loop localchat.config -> localchat.paths -> localchat.config: ")
    assert any(line.startswith("localchat.paths must not import localchat.config")
               for line in layer_violations(broken))
