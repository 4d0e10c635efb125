"""The tests' clock: the one override of Convene's time (:data:`storage.base.CLOCK`)
set for every test by the autouse fixture ``_clock_reset`` (tests/conftest.py).

It runs on the wall clock until :func:`freeze` stops it. Threads a test starts
with its context (``contextvars.copy_context().run``, as ``http_app`` does for
its server) share the same clock, so a page served there sees a frozen time too.
"""

from __future__ import annotations

from datetime import UTC, datetime

from storage.base import CLOCK


class TestClock:
    """A clock for :data:`storage.base.CLOCK`: the wall clock (aware, UTC), or
    ``frozen`` when set."""

    __test__ = False  # not a test class, whatever its name

    def __init__(self) -> None:
        self.frozen: datetime | None = None

    def __call__(self) -> datetime:
        return self.frozen if self.frozen is not None else datetime.now(UTC)


def freeze(at: datetime | None) -> None:
    """Freeze this test's clock at ``at`` (aware); ``None`` lets it run again.
    Raises RuntimeError outside a test (no :class:`TestClock` in the context)."""
    clock = CLOCK.get()
    if not isinstance(clock, TestClock):
        raise RuntimeError("no test clock in this context (tests/conftest.py _clock_reset)")
    clock.frozen = at
