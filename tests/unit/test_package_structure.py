"""The shape of ``transport/``: no import cycles, no module over 400 lines.

A cycle makes the import order matter and hides which part depends on which; a module over
400 lines has more than one job. Both are checked on the source with ``ast``, so every import
counts: those under ``TYPE_CHECKING``, those inside functions, and the package ``__init__``
that ``from package import name`` runs first.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import transport

ROOT = Path(transport.__file__).resolve().parent
MAX_LINES = 400


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(ROOT.rglob("*.py"))}


def imported_by(name: str, path: Path, known: set[str]) -> set[str]:
    """The modules of ``transport`` that importing ``name`` runs, named by its import lines."""
    is_package = path.name == "__init__.py"
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, base] if base else anchor)
            targets.add(base)
            targets.update(f"{base}.{alias.name}" for alias in node.names)
    return {target for target in targets if target in known and target != name}


def import_graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    return {name: imported_by(name, path, known) for name, path in found.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component: list[str] = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(components)


def one_loop(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """A shortest import loop through the component's first module, to show where to cut."""
    members = set(component)
    start = component[0]
    paths = {start: [start]}
    queue = [start]
    for node in queue:
        for target in sorted(graph[node] & members):
            if target == start:
                return [*paths[node], start]
            if target not in paths:
                paths[target] = [*paths[node], target]
                queue.append(target)
    return component


def describe(graph: dict[str, set[str]], components: list[list[str]]) -> Iterator[str]:
    for component in components:
        yield f"{len(component)} modules: {', '.join(component)}"
        yield "  e.g. " + " -> ".join(one_loop(graph, component))


def test_the_import_graph_has_no_cycle() -> None:
    graph = import_graph()
    found = cycles(graph)
    assert not found, "import cycles in transport/:\n" + "\n".join(describe(graph, found))


def test_no_module_is_longer_than_400_lines() -> None:
    long = {
        name: len(path.read_text().splitlines())
        for name, path in modules().items()
        if len(path.read_text().splitlines()) > MAX_LINES
    }
    assert not long, f"modules over {MAX_LINES} lines: " + ", ".join(
        f"{name} ({lines})" for name, lines in sorted(long.items())
    )


def test_the_graph_sees_every_kind_of_import(tmp_path: Path) -> None:
    """The checker itself: function-level, TYPE_CHECKING, relative and package imports count."""
    package = tmp_path / "transport" / "pkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("from transport.pkg import a\n")
    (package / "a.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import b\n"
    )
    (package / "b.py").write_text("def f() -> None:\n    import transport.pkg.c\n")
    (package / "c.py").write_text("from transport.pkg import d\n")
    (package / "d.py").write_text("")
    known = {"transport.pkg", "transport.pkg.a", "transport.pkg.b", "transport.pkg.c",
             "transport.pkg.d"}

    def edges(name: str, file: str) -> set[str]:
        return imported_by(name, package / file, known)

    graph = {
        "transport.pkg": edges("transport.pkg", "__init__.py"),
        "transport.pkg.a": edges("transport.pkg.a", "a.py"),
        "transport.pkg.b": edges("transport.pkg.b", "b.py"),
        "transport.pkg.c": edges("transport.pkg.c", "c.py"),
        "transport.pkg.d": edges("transport.pkg.d", "d.py"),
    }
    assert graph["transport.pkg.a"] == {"transport.pkg", "transport.pkg.b"}
    assert graph["transport.pkg.b"] == {"transport.pkg.c"}
    assert graph["transport.pkg.c"] == {"transport.pkg", "transport.pkg.d"}
    assert cycles(graph) == [["transport.pkg", "transport.pkg.a", "transport.pkg.b",
                              "transport.pkg.c"]]
