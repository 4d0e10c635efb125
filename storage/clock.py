"""Convene's one clock: :func:`utcnow` and its per-context override :data:`CLOCK`.

Kept apart from the models (no SQLAlchemy import) so that code outside the
database, such as the press review's fetching and parsing, reads the same
time without loading the ORM. ``storage.base`` re-exports both names.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime

#: The one override of Convene's time: a clock replacing the wall clock for
#: :func:`utcnow` in this context (a thread, or a task and what it awaits).
#: Nothing in production sets it. The simulated clock of the multi-replica
#: tests sets it in the scheduler's thread only (bot/jobs.py), so leases,
#: heartbeats and the outbox keep the wall clock; each test runs on its own
#: (tests/clock.py ``freeze``). Every reader of "now" in the core,
#: the adapters and the models' defaults calls :func:`utcnow`.
CLOCK: ContextVar[Callable[[], datetime] | None] = ContextVar("convene_clock", default=None)


def utcnow() -> datetime:
    """The current time: aware datetime, UTC (the context's :data:`CLOCK` if set)."""
    clock = CLOCK.get()
    return clock() if clock is not None else datetime.now(UTC)


__all__ = ["CLOCK", "utcnow"]
