"""Caches of derived data, one set per Bot (no process-wide globals).

A capability keeps here only what it can rebuild from the database at any
moment (a count of eligible voters for a few seconds); never state.
"""

from __future__ import annotations

from typing import Any


class Caches:
    """Named dictionaries: ``caches.get("polls.eligible")`` returns the same dict
    for the same name for the life of the Bot."""

    def __init__(self) -> None:
        self._named: dict[str, dict[Any, Any]] = {}

    def get(self, name: str) -> dict[Any, Any]:
        """The cache called ``name`` (made empty on first use)."""
        return self._named.setdefault(name, {})

    def clear(self) -> None:
        """Forget everything (after a roster import, in tests)."""
        for cache in self._named.values():
            cache.clear()
