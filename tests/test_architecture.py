"""The house stands: imports point down the floors only, there is no import cycle, the sans-IO
core does no I/O, and compat reaches internals through one module (ARCHITECTURE.md).

Every import statement counts, wherever it is (module level, inside a function, under
``TYPE_CHECKING``): a cycle held apart by a lazy import is still a knot for the reader.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import ROOT

PACKAGE = ROOT / "oxide_rx"

# Floors, bottom up; a module may import its own floor and the ones below.
FLOORS: list[tuple[str, tuple[str, ...]]] = [
    ("base", ("oxide_rx._exceptions", "oxide_rx._version", "oxide_rx._resource",
              "oxide_rx.types")),
    ("core", ("oxide_rx.sse", "oxide_rx.events", "oxide_rx._core")),
    ("pipeline", ("oxide_rx._pipeline",)),
    ("transport", ("oxide_rx._transport",)),
    ("stream", ("oxide_rx._stream", "oxide_rx.operators")),
    ("client", ("oxide_rx._client",)),
    ("faces", ("oxide_rx",)),  # everything else: ui, compat, testing, tools, relay, cli, root
]
# Floors that sit side by side: neither may import the other.
SIBLINGS = {("pipeline", "transport"), ("transport", "pipeline")}
# Third-party and stdlib modules a floor must not import.
FORBIDDEN = {
    "core": ("asyncio", "aiohttp", "reactivex"),
    "pipeline": ("aiohttp",),
}
PUBLIC = ("oxide_rx", "oxide_rx.events", "oxide_rx.sse", "oxide_rx.operators", "oxide_rx.types")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def floor_of(module: str) -> str:
    for name, prefixes in FLOORS:
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return name
    raise AssertionError(module)


def imports(module: str) -> Iterator[tuple[str, int]]:
    """Absolute names of everything ``module`` imports (oxide_rx submodules resolved), with
    the line of each import."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                source = ".".join([*base, node.module] if node.module else base)
            else:
                source = node.module or ""
            submodules = [f"{source}.{a.name}" for a in node.names
                          if f"{source}.{a.name}" in MODULES]
            if len(submodules) < len(node.names):  # `from pkg import mod` imports mod only
                yield source, node.lineno
            for submodule in submodules:
                yield submodule, node.lineno


def internal_edges() -> Iterator[tuple[str, str, int]]:
    for module in MODULES:
        for target, line in imports(module):
            if target in MODULES:
                yield module, target, line


def test_imports_point_down_the_floors() -> None:
    order = [name for name, _ in FLOORS]
    wrong = []
    for module, target, line in internal_edges():
        here, there = floor_of(module), floor_of(target)
        if order.index(there) > order.index(here) or (here, there) in SIBLINGS:
            wrong.append(f"{MODULES[module].relative_to(ROOT)}:{line} ({here}) imports "
                         f"{target} ({there})")
    assert wrong == []


def test_there_is_no_import_cycle() -> None:
    graph: dict[str, set[str]] = {module: set() for module in MODULES}
    for module, target, _ in internal_edges():
        if target != module and not (module.startswith(target + ".")):
            graph[module].add(target)  # a package's own __init__ is not a cycle
    cycles = [component for component in _strongly_connected(graph) if len(component) > 1]
    assert cycles == []


@pytest.mark.parametrize("floor", sorted(FORBIDDEN))
def test_lower_floors_do_no_io(floor: str) -> None:
    banned = FORBIDDEN[floor]
    wrong = [
        f"{MODULES[module].relative_to(ROOT)}:{line} imports {target}"
        for module in MODULES if floor_of(module) == floor
        for target, line in imports(module)
        if target.split(".")[0] in banned
    ]
    assert wrong == []


def test_compat_reaches_internals_through_one_module() -> None:
    door = "oxide_rx.compat._core"
    wrong = [
        f"{MODULES[module].relative_to(ROOT)}:{line} imports {target}"
        for module, target, line in internal_edges()
        if module.startswith("oxide_rx.compat") and module != door
        and not target.startswith("oxide_rx.compat")
        and not any(target == p or target.startswith(p + ".") for p in PUBLIC[1:])
        and target != "oxide_rx"
    ]
    assert wrong == []


def test_the_mock_server_does_not_import_the_client() -> None:
    # Importing oxide_rx.testing (the pytest plugin does) must stay cheap and one-way; the
    # offline helper is the one module that joins both.
    wrong = [
        f"{MODULES[module].relative_to(ROOT)}:{line} imports {target}"
        for module, target, line in internal_edges()
        if module.startswith("oxide_rx.testing") and module != "oxide_rx.testing._offline"
        and target.startswith("oxide_rx") and not target.startswith("oxide_rx.testing")
    ]
    assert wrong == []


def _strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iteratively (no recursion limit on deep graphs)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(component)
    return components
