"""A lock that lets writers in first: SQLite's one writer shared fairly.

On SQLite (one writer at a time) the inbox's writer, whose commit a platform's
acknowledgement waits on, and this process's dispatches take turns through a
:class:`Gate`: the writer waits for at most one dispatch, never for SQLite's
busy back-off.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class Gate:
    """Mutual exclusion with priority: ``writer()`` goes before any waiting
    ``worker()``. A no-op when ``enabled`` is False (PostgreSQL)."""

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled
        self._cond = threading.Condition()
        self._busy = False
        self._writers = 0

    @contextmanager
    def writer(self) -> Iterator[None]:
        if not self.enabled:
            yield
            return
        with self._cond:
            self._writers += 1
            self._cond.wait_for(lambda: not self._busy)
            self._writers -= 1
            self._busy = True
        try:
            yield
        finally:
            with self._cond:
                self._busy = False
                self._cond.notify_all()

    @contextmanager
    def worker(self) -> Iterator[None]:
        if not self.enabled:
            yield
            return
        with self._cond:
            self._cond.wait_for(lambda: not self._busy and not self._writers)
            self._busy = True
        try:
            yield
        finally:
            with self._cond:
                self._busy = False
                self._cond.notify_all()
