"""No import circle in bot/ or adapters/discord, typing-only imports included.

The graph is grimp's (the library import-linter itself builds on): every
import of a module counts, at top level, inside a function, and under
``if TYPE_CHECKING:`` (``exclude_type_checking_imports=False``). A circle is
any cycle among the modules of one tree; :mod:`graphlib` finds one.
"""

from __future__ import annotations

import graphlib
from pathlib import Path

import grimp
import pytest

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


def test_a_typing_only_import_closes_a_circle(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The check itself: ``a`` imports ``b`` and ``b`` imports ``a`` only under
    ``if TYPE_CHECKING:`` (inside a function, even): that is a circle; without
    the typing-only import, none."""
    pkg = tmp_path / "circlepkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f():\n    from circlepkg import b\n    return b\n")
    (pkg / "b.py").write_text("from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n"
                              "    from circlepkg.a import f\n")
    (pkg / "c.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    graph = grimp.build_graph("circlepkg", exclude_type_checking_imports=False, cache_dir=None)
    assert sorted(set(import_cycle(graph, "circlepkg"))) == ["circlepkg.a", "circlepkg.b"]
    graph.remove_import(importer="circlepkg.b", imported="circlepkg.a")
    assert import_cycle(graph, "circlepkg") == []
