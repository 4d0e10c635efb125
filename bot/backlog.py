"""When to say no: the work waiting in memory, in seconds at the recent pace.

An endpoint that acknowledges faster than its workers dispatch builds a
backlog, and a person then waits minutes for a confirmation of something
acknowledged at once. :class:`Backlog` keeps the times of the last
completions; :meth:`Backlog.retry_after` says, for the requests waiting (how
many, and how long the oldest has waited), whether the backlog is past
``max_seconds`` and, if so, how many seconds a sender should wait before
trying again (an HTTP ``Retry-After``). The age of the oldest waiting request
is the measure a person feels: a count within the limit at the recent pace
still says no once the oldest has waited ``max_seconds`` (the pace fell: slow
dispatches, a busy machine). :class:`AgedQueue` is the workers' queue that
knows that age. Thread-safe.
"""

from __future__ import annotations

import math
import queue
import threading
import time
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class Backlog:
    """``max_seconds``: the most work (seconds at the recent pace) allowed to
    wait; ``floor``: requests always allowed to wait, whatever the pace (before
    any completion the pace is unknown); ``window``: completions the pace is
    measured over."""

    def __init__(self, *, max_seconds: float, floor: int, window: int = 256) -> None:
        self.max_seconds = max_seconds
        self.floor = floor
        self._done: deque[float] = deque(maxlen=window)
        self._lock = threading.Lock()

    def completed(self) -> None:
        """Count one request worked off, now."""
        with self._lock:
            self._done.append(time.monotonic())

    def pace(self) -> float:
        """Requests worked off per second over the window (0.0: not yet known)."""
        with self._lock:
            if len(self._done) < 2:
                return 0.0
            span = self._done[-1] - self._done[0]
            return (len(self._done) - 1) / span if span > 0 else 0.0

    def retry_after(self, waiting: int, oldest: float = 0.0) -> int | None:
        """None when ``waiting`` requests, the oldest waiting for ``oldest``
        seconds, are within the limit; else the whole seconds (at least 1)
        until the excess should be worked off."""
        pace = self.pace()
        limit = max(self.floor, int(pace * self.max_seconds))
        if waiting <= limit and oldest < self.max_seconds:
            return None
        if not pace:
            return max(1, math.ceil(self.max_seconds))
        # what is waiting, worked off at the recent pace, down to the limit
        return max(1, math.ceil(waiting / pace - self.max_seconds),
                   math.ceil((waiting - limit) / pace))


class AgedQueue(Generic[T]):
    """A FIFO queue (as :class:`queue.SimpleQueue`: ``put``, ``get``,
    ``get_nowait`` raising :class:`queue.Empty`, ``qsize``) that knows how long
    its oldest item has waited (:meth:`oldest`, seconds)."""

    def __init__(self) -> None:
        self._items: deque[tuple[float, T]] = deque()
        self._cond = threading.Condition(threading.Lock())

    def put(self, item: T) -> None:
        with self._cond:
            self._items.append((time.monotonic(), item))
            self._cond.notify()

    def get(self) -> T:
        with self._cond:
            while not self._items:
                self._cond.wait()
            return self._items.popleft()[1]

    def get_nowait(self) -> T:
        with self._cond:
            if not self._items:
                raise queue.Empty
            return self._items.popleft()[1]

    def qsize(self) -> int:
        return len(self._items)

    def oldest(self) -> float:
        """Seconds the oldest item has waited (0.0 when empty)."""
        with self._cond:
            return time.monotonic() - self._items[0][0] if self._items else 0.0
