"""The packages of bot/ do not import each other in a circle.

Every import of every module under bot/ is read (with ``ast``: imports inside functions and
under ``TYPE_CHECKING`` count too) and folded into a graph of bot's packages and top-level
modules (``bot.flows``, ``bot.delivery``, ``bot.settings``…). A cycle in that graph means
neither side can be understood, tested or moved without the other.

Allowed: ``bot/db/registry.py``, which imports every table model on purpose. Issue 14
removed the last back edge, so ``BACK_EDGES`` (imports against the layering allowed until a
named step removes them) and ``ON_A_CYCLE`` (the packages on a cycle through them) are empty
and any cycle fails here. Should a back edge ever have to be allowed for a while, it goes in
``BACK_EDGES`` with the step that removes it, and its packages in ``ON_A_CYCLE``: a package
that joins them fails too, and when the step removes it, these tests say which entry to delete.
"""

from __future__ import annotations

import ast
import itertools
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

BOT = Path(__file__).resolve().parent.parent / "bot"
#: Imports every table model so that SQLModel.metadata (Alembic, the tests) knows them all.
REGISTRY = BOT / "db" / "registry.py"

#: (importer, imported): imports against the layering that close today's cycles. None left.
BACK_EDGES: dict[tuple[str, str], str] = {}

#: The packages on an import cycle today (through the back edges above). None left.
ON_A_CYCLE: frozenset[str] = frozenset()

Edges = dict[tuple[str, str], list[str]]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(BOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _unit(module: str) -> str:
    """``bot.flows.service`` → ``bot.flows``; ``bot.settings`` stays itself."""
    return ".".join(module.split(".")[:2])


def imported_modules(path: Path) -> Iterator[str]:
    """Every module ``path`` imports, anywhere in it, as absolute names."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            yield source
            # ``from bot import settings`` imports the module bot.settings.
            if source == "bot":
                yield from (f"bot.{alias.name}" for alias in node.names)


def package_edges() -> Edges:
    """(importer, imported) between bot's packages → the module imports that make it."""
    edges: Edges = defaultdict(list)
    for path in sorted(BOT.rglob("*.py")):
        if path == REGISTRY or "migrations" in path.relative_to(BOT).parts:
            continue
        module = _module_name(path)
        if module == "bot":
            continue
        for target in imported_modules(path):
            if not target.startswith("bot.") or _unit(target) == _unit(module):
                continue
            edges[(_unit(module), _unit(target))].append(f"{module} imports {target}")
    return dict(edges)


def _successors(edges: Edges) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for importer, imported in edges:
        graph[importer].add(imported)
        graph.setdefault(imported, set())
    return graph


def find_cycle(edges: Edges) -> list[str] | None:
    """One cycle of the graph (its packages, the first one repeated at the end), if any."""
    graph = _successors(edges)
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = {start}, [start]
    while todo:
        for nxt in graph[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def on_a_cycle(edges: Edges) -> set[str]:
    """The packages that reach themselves again through their imports."""
    graph = _successors(edges)
    return {node for node in graph if any(node in _reachable(graph, n) for n in graph[node])}


def _explain(cycle: list[str], edges: Edges) -> str:
    steps = [f"  {a} -> {b}: {edges[(a, b)][0]}" for a, b in itertools.pairwise(cycle)]
    return " -> ".join(cycle) + "\n" + "\n".join(steps)


def test_no_import_cycle_between_the_packages_of_bot() -> None:
    edges = package_edges()
    layered = {edge: where for edge, where in edges.items() if edge not in BACK_EDGES}
    cycle = find_cycle(layered)
    assert cycle is None, "a new import cycle between bot's packages:\n" + _explain(
        cycle or [], edges
    )


def test_every_allowed_back_edge_still_closes_a_cycle() -> None:
    """A back edge that an issue-14 step has removed leaves the allow-list too."""
    edges = package_edges()
    graph = _successors(edges)
    gone = [
        f"{importer} -> {imported}"
        for importer, imported in BACK_EDGES
        if (importer, imported) not in edges or importer not in _reachable(graph, imported)
    ]
    assert gone == [], f"no longer a cycle; delete from BACK_EDGES: {gone}"


def test_no_package_joins_the_cycles() -> None:
    """Also through an allowed back edge: e.g. with ("bot.a", "bot.b") in BACK_EDGES, a package
    that bot.b uses starting to import bot.a would be on the cycle that edge closes."""
    tangled = on_a_cycle(package_edges())
    assert sorted(tangled - ON_A_CYCLE) == [], "newly on an import cycle"
    assert sorted(ON_A_CYCLE - tangled) == [], "no longer on a cycle; delete from ON_A_CYCLE"


def test_the_reader_sees_imports_inside_functions() -> None:
    assert {"bot.delivery.dispatcher", "bot.loops", "bot.runtime"} <= set(
        imported_modules(BOT / "worker.py")
    )
    assert "bot.worker" in set(imported_modules(BOT / "cli.py"))  # inside a function
    graph = {("bot.a", "bot.b"): ["x"], ("bot.b", "bot.c"): ["y"], ("bot.c", "bot.a"): ["z"]}
    assert find_cycle(graph) == ["bot.a", "bot.b", "bot.c", "bot.a"]
    assert find_cycle({("bot.a", "bot.b"): ["x"]}) is None
    assert on_a_cycle({**graph, ("bot.c", "bot.d"): ["w"]}) == {"bot.a", "bot.b", "bot.c"}
