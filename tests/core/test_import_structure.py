"""The house's floors, read from the code: imports run downhill only (icpc_portal -> apps -> core).

Every .py file of our packages (the folders with an apps.py, so a new app is covered the day it
lands) is parsed with ``ast``: imports at the top, inside functions and classes, relative ones,
and ``import_module("...")`` with a written-out name. Migrations are read like any other module;
a migration importing its own app or Django breaks no rule below. Each rule is its own test, and
a failure names the file, the line and what it imports.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Import:
    source: str  # the importing module, e.g. "board.services"
    path: str  # its file, relative to the repository
    line: int
    target: str  # the imported module, e.g. "applications.services"

    def __str__(self) -> str:
        return f"{self.path}:{self.line} {self.source} imports {self.target}"


def top(module: str) -> str:
    return module.partition(".")[0]


def our_packages() -> list[str]:
    """Our top-level packages: each folder of the repository with an apps.py."""
    return sorted(path.parent.name for path in ROOT.glob("*/apps.py"))


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imported_names(node: ast.AST, package: str) -> Iterator[tuple[str, list[str]]]:
    """(base, names) for one import node: ``import a.b`` gives ("a.b", []), ``from .m import x``
    gives (package + ".m", ["x"])."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            yield alias.name, []
    elif isinstance(node, ast.ImportFrom):
        if node.level:
            parts = package.split(".") if package else []
            if node.level - 1 > len(parts):
                raise ValueError(f"relative import beyond the top package at line {node.lineno}")
            parts = parts[: len(parts) - (node.level - 1)]
            if node.module:
                parts.append(node.module)
            base = ".".join(parts)
        else:
            base = node.module or ""
        yield base, [alias.name for alias in node.names if alias.name != "*"]
    elif isinstance(node, ast.Call):
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        first = node.args[0] if node.args else None
        if (
            name in ("import_module", "__import__")
            and isinstance(first, ast.Constant)
            and isinstance(first.value, str)
        ):
            yield first.value, []


def parse_imports(
    source: str, *, module: str, is_package: bool, known: Iterable[str], path: str = "<string>"
) -> list[Import]:
    """Every import in ``source``, wherever it sits, resolved to a module name.

    ``from pkg import name`` resolves to ``pkg.name`` when that is one of the ``known`` modules,
    else to ``pkg`` (name is something defined in pkg).
    """
    known = set(known)
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        for base, names in _imported_names(node, package):
            targets = [f"{base}.{n}" if f"{base}.{n}" in known else base for n in names] or [base]
            for target in dict.fromkeys(targets):
                found.append(Import(module, path, node.lineno, target))
    return sorted(found, key=lambda imp: (imp.path, imp.line, imp.target))


@cache
def all_imports() -> tuple[Import, ...]:
    files = [f for package in our_packages() for f in sorted((ROOT / package).rglob("*.py"))]
    known = {module_name(f) for f in files}
    found: list[Import] = []
    for file in files:
        found += parse_imports(
            file.read_text(encoding="utf-8"),
            module=module_name(file),
            is_package=file.name == "__init__.py",
            known=known,
            path=str(file.relative_to(ROOT)),
        )
    return tuple(found)


def violations(imports: Iterable[Import], importer: str, forbidden: Iterable[str]) -> list[str]:
    """The imports by package ``importer`` of any package in ``forbidden``."""
    forbidden = set(forbidden) - {importer}
    return [
        str(imp) for imp in imports if top(imp.source) == importer and top(imp.target) in forbidden
    ]


def report(rule: str, found: list[str]) -> str:
    return f"{rule}; found {len(found)}:\n  " + "\n  ".join(found)


# --- the graph of our modules -------------------------------------------------------------------


def module_graph(imports: Iterable[Import], modules: set[str]) -> dict[str, dict[str, Import]]:
    """module -> {imported module: the first such import}, among ``modules`` only.

    A target that is not itself a module (``import a.b.C`` style) counts as its nearest module.
    """
    graph: dict[str, dict[str, Import]] = {m: {} for m in modules}
    for imp in imports:
        target = imp.target
        while target and target not in modules:
            target = target.rpartition(".")[0]
        if target and target != imp.source and imp.source in graph:
            graph[imp.source].setdefault(target, imp)
    return graph


def cycles(graph: dict[str, dict[str, Import]]) -> list[list[Import]]:
    """One cycle, as the imports that make it, for each group of modules that import each other
    (Tarjan's strongly connected components)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(graph[node]):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)

    found = []
    for group in groups:
        members = set(group)
        start = group[0]
        # Breadth-first back to start, inside the group: the shortest cycle through it.
        paths = {start: [start]}
        queue = [start]
        cycle: list[str] | None = None
        while queue and cycle is None:
            node = queue.pop(0)
            for succ in sorted(graph[node]):
                if succ == start:
                    cycle = paths[node] + [start]
                    break
                if succ in members and succ not in paths:
                    paths[succ] = paths[node] + [succ]
                    queue.append(succ)
        assert cycle is not None
        found.append([graph[a][b] for a, b in zip(cycle, cycle[1:], strict=False)])
    return found


def mutual_pairs(graph: dict[str, dict[str, Import]]) -> list[tuple[Import, Import]]:
    return [
        (graph[a][b], graph[b][a])
        for a in sorted(graph)
        for b in sorted(graph[a])
        if a < b and a in graph.get(b, {})
    ]


# --- the parser can fail ------------------------------------------------------------------------

SAMPLE = """\
import os
from django.db import models
from . import services
from .models import Ballot, Vote
from .. import rules

def carry_out():
    from applications.services import carry_out_board_decision
    import members.services as members

class Panel:
    def load(self):
        from core import locking
        return importlib.import_module("icpc_portal.views")
"""


def test_the_parser_sees_function_level_relative_and_written_out_imports():
    known = {"board.services", "board.models", "board.rules", "core.locking", "applications.x"}
    found = parse_imports(SAMPLE, module="board.admin.panel", is_package=False, known=known)

    assert [(imp.line, imp.target) for imp in found] == [
        (1, "os"),
        (2, "django.db"),
        (3, "board.admin"),  # board.admin.services is not a known module: a name in board.admin
        (4, "board.admin.models"),
        (5, "board.rules"),
        (8, "applications.services"),
        (9, "members.services"),
        (13, "core.locking"),
        (14, "icpc_portal.views"),
    ]
    in_a_package = parse_imports(SAMPLE, module="board", is_package=True, known=known)
    assert (3, "board.services") in [(imp.line, imp.target) for imp in in_a_package]
    assert (4, "board.models") in [(imp.line, imp.target) for imp in in_a_package]
    assert violations(found, "board", {"applications", "members"}) == [
        "<string>:8 board.admin.panel imports applications.services",
        "<string>:9 board.admin.panel imports members.services",
    ]


def test_the_cycle_finder_sees_pairs_and_longer_cycles():
    def imp(a: str, b: str) -> Import:
        return Import(a, a.replace(".", "/") + ".py", 1, b)

    edges = [imp("a", "b"), imp("b", "a"), imp("c", "d"), imp("d", "e"), imp("e", "c")]
    edges.append(imp("e", "os"))  # not ours: no edge
    graph = module_graph(edges, {"a", "b", "c", "d", "e", "f"})

    assert [[(i.source, i.target) for i in cycle] for cycle in cycles(graph)] == [
        [("a", "b"), ("b", "a")],
        [("c", "d"), ("d", "e"), ("e", "c")],
    ]
    assert [(x.source, y.source) for x, y in mutual_pairs(graph)] == [("a", "b")]


def test_every_app_of_ours_is_read():
    packages = our_packages()
    assert {"core", "accounts", "members", "applications", "board", "icpc_portal"} <= set(packages)
    read = {top(imp.source) for imp in all_imports()}
    assert set(packages) <= read


# --- the rules ----------------------------------------------------------------------------------


def test_board_imports_neither_applications_nor_members():
    found = violations(all_imports(), "board", {"applications", "members"})
    assert not found, report("board knows no motion kind: it imports neither app", found)


def test_no_app_imports_icpc_portal():
    found = [
        v
        for package in our_packages()
        if package != "icpc_portal"
        for v in violations(all_imports(), package, {"icpc_portal"})
    ]
    assert not found, report("icpc_portal is the top floor: no app imports it", found)


def test_accounts_imports_no_app_but_core():
    found = violations(all_imports(), "accounts", set(our_packages()) - {"core"})
    assert not found, report("accounts stands on core only (not members, applications...)", found)


def test_members_imports_neither_applications_nor_events():
    found = violations(all_imports(), "members", {"applications", "events"})
    assert not found, report("members imports neither applications nor events", found)


def test_core_imports_no_app_of_ours():
    found = violations(all_imports(), "core", our_packages())
    assert not found, report("core is what every app stands on: it imports none", found)


def test_no_modules_import_each_other():
    imports = all_imports()
    graph = module_graph(imports, {imp.source for imp in imports})
    found = [f"{x.source} <-> {y.source}\n    {x}\n    {y}" for x, y in mutual_pairs(graph)]
    found += [
        " -> ".join([cycle[0].source, *(imp.target for imp in cycle)])
        + "".join(f"\n    {imp}" for imp in cycle)
        for cycle in cycles(graph)
        if len(cycle) > 2  # a cycle of two is a pair, listed above
    ]
    assert not found, report("modules that import each other, even inside a function", found)
