"""A lock that lets writers in first: SQLite's one writer shared fairly.

On SQLite (one writer at a time) the inbox's writer, whose commit a platform's
acknowledgement waits on, and this process's dispatches take turns through a
:class:`Gate`: the writer waits for at most one dispatch, never for SQLite's
busy back-off; and a dispatch waits for at most one writer's turn. Without the
second half, a writer always wanting in (acknowledgements arriving faster than
its turns end, each waiting for the page requests' transactions) kept every
dispatch out for the whole of a 30-second load: confirmations 30 s late.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class Gate:
    """Mutual exclusion with priority: ``writer()`` goes before any waiting
    ``worker()``, but once a writer's turn ends with a worker waiting, one
    worker goes next. A no-op when ``enabled`` is False (PostgreSQL)."""

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled
        self._cond = threading.Condition()
        self._busy = False
        self._writers = 0
        self._workers = 0
        self._worker_turn = False

    @contextmanager
    def writer(self) -> Iterator[None]:
        if not self.enabled:
            yield
            return
        with self._cond:
            self._writers += 1
            self._cond.wait_for(lambda: not self._busy and not self._worker_turn)
            self._writers -= 1
            self._busy = True
        try:
            yield
        finally:
            with self._cond:
                self._busy = False
                self._worker_turn = self._workers > 0
                self._cond.notify_all()

    @contextmanager
    def worker(self) -> Iterator[None]:
        if not self.enabled:
            yield
            return
        with self._cond:
            self._workers += 1
            self._cond.wait_for(lambda: not self._busy
                                and (self._worker_turn or not self._writers))
            self._workers -= 1
            self._worker_turn = False
            self._busy = True
        try:
            yield
        finally:
            with self._cond:
                self._busy = False
                self._cond.notify_all()
