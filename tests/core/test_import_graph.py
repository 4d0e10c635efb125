"""No import circle in bot/ or adapters/discord, typing-only imports included.

The graph is grimp's (the library import-linter itself builds on): every
import of a module counts, at top level, inside a function, and under
``if TYPE_CHECKING:`` (``exclude_type_checking_imports=False``). A circle is
any cycle among the modules of one tree; :mod:`graphlib` finds one.
"""

from __future__ import annotations

import graphlib

import grimp

TREES = ("bot", "adapters.discord")


def import_cycle(graph: grimp.ImportGraph, tree: str) -> list[str]:
    """One import cycle among the modules under ``tree`` (``[]``: none)."""
    modules = {m for m in graph.modules if m == tree or m.startswith(tree + ".")}
    edges = {m: {t for t in graph.find_modules_directly_imported_by(m)
                 if t in modules and t != m} for m in modules}
    try:
        graphlib.TopologicalSorter(edges).prepare()
    except graphlib.CycleError as exc:
        return list(exc.args[1])
    return []


def test_no_import_circle_in_bot_or_the_discord_adapter() -> None:
    graph = grimp.build_graph("bot", "adapters", exclude_type_checking_imports=False,
                              cache_dir=None)
    for tree in TREES:
        cycle = import_cycle(graph, tree)
        assert cycle == [], f"import circle in {tree}: {' -> '.join(cycle)}"


def test_a_typing_only_import_closes_a_circle() -> None:
    """The check itself: a cycle of two modules is found; without it, none."""
    graph = grimp.ImportGraph()
    graph.add_import(importer="bot.a", imported="bot.b")
    assert import_cycle(graph, "bot") == []
    graph.add_import(importer="bot.b", imported="bot.a")
    assert sorted(set(import_cycle(graph, "bot"))) == ["bot.a", "bot.b"]
