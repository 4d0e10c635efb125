"""A lock that lets writers in first: SQLite's one writer shared fairly.

On SQLite (one writer at a time) the inbox's writer, whose commit a platform's
acknowledgement waits on, and this process's dispatches take turns through a
:class:`Gate`: the writer waits for at most one run of dispatches, never for
SQLite's busy back-off; and a dispatch waits for at most one writer's turn.
Without the second half, a writer always wanting in (acknowledgements arriving
faster than its turns end, each waiting for the page requests' transactions)
kept every dispatch out for the whole of a 30-second load: confirmations 30 s
late.

Dispatches go in the order they asked (a ticket each), and after a writer's
turn every dispatch then waiting goes, up to ``run``, before the next writer:
with one dispatch per writer's turn (and the turn given to whichever thread
woke first) the dispatch rate was the writer's commit rate, and an unlucky
thread's press waited 15-50 s at 10-50 requests in flight. Inside the gate a
turn is an urgent one in the engine's writers' queue
(:func:`storage.engine.urgent_writes`): it goes before the pages' writes.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from storage.engine import urgent_writes

#: Dispatches let through after a writer's turn, before the next writer.
RUN = 8


class Gate:
    """Mutual exclusion with priority: ``writer()`` goes before any waiting
    ``worker()``, but once a writer's turn ends with workers waiting, those
    workers (up to ``run``, first come first served) go next. A no-op when
    ``enabled`` is False (PostgreSQL)."""

    def __init__(self, *, enabled: bool, run: int = RUN) -> None:
        self.enabled = enabled
        self.run = max(1, run)
        self._cond = threading.Condition()
        self._busy = False
        self._writers = 0
        self._next_ticket = 0  # the workers' tickets, handed out in order
        self._serving = 0  # the ticket whose turn is next
        self._workers_turn = 0  # workers still to go before a waiting writer

    @contextmanager
    def writer(self) -> Iterator[None]:
        if not self.enabled:
            yield
            return
        with self._cond:
            self._writers += 1
            self._cond.wait_for(lambda: not self._busy and not self._workers_turn)
            self._writers -= 1
            self._busy = True
        try:
            with urgent_writes():
                yield
        finally:
            with self._cond:
                self._busy = False
                self._workers_turn = min(self.run, self._next_ticket - self._serving)
                self._cond.notify_all()

    @contextmanager
    def worker(self) -> Iterator[None]:
        if not self.enabled:
            yield
            return
        with self._cond:
            ticket = self._next_ticket
            self._next_ticket += 1
            self._cond.wait_for(lambda: not self._busy and self._serving == ticket
                                and (self._workers_turn > 0 or not self._writers))
            self._serving += 1
            self._workers_turn = max(0, self._workers_turn - 1)
            self._busy = True
        try:
            with urgent_writes():
                yield
        finally:
            with self._cond:
                self._busy = False
                self._cond.notify_all()
