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
    """``max_seconds``: the most a request should wait for a worker;
    ``floor``: requests allowed to wait while the pace is not known (fewer than
    ``min_samples`` completions in the last ``recent_seconds``: at start, after
    a quiet spell, or with the workers stuck); ``window``: the most completions
    the pace is measured over.

    A pace is only a guide while it is recent: once it is known, the limit is
    what the workers work off in ``max_seconds`` at that pace, whatever the
    floor (a floor of 1,000 under a sustained load of 35 completions a second
    let requests wait nine seconds); the age of the oldest waiting request is
    checked in every case."""

    def __init__(self, *, max_seconds: float, floor: int, window: int = 256,
                 min_samples: int = 8, recent_seconds: float = 10.0) -> None:
        self.max_seconds = max_seconds
        self.floor = floor
        self.min_samples = max(2, min_samples)
        self.recent_seconds = recent_seconds
        self._done: deque[float] = deque(maxlen=window)
        self._lock = threading.Lock()

    def completed(self) -> None:
        """Count one request worked off, now."""
        with self._lock:
            self._done.append(time.monotonic())

    def pace(self) -> float:
        """Requests worked off per second over the recent completions (0.0: not
        known: fewer than ``min_samples`` in the last ``recent_seconds``)."""
        since = time.monotonic() - self.recent_seconds
        with self._lock:
            recent = [t for t in self._done if t >= since] if self._done and \
                self._done[0] < since else list(self._done)
        if len(recent) < self.min_samples:
            return 0.0
        span = recent[-1] - recent[0]
        return (len(recent) - 1) / span if span > 0 else 0.0

    def retry_after(self, waiting: int, oldest: float = 0.0) -> int | None:
        """None when ``waiting`` requests, the oldest waiting for ``oldest``
        seconds, are within the limit; else the whole seconds (at least 1)
        until the excess should be worked off."""
        pace = self.pace()
        limit = max(1, int(pace * self.max_seconds)) if pace else self.floor
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
