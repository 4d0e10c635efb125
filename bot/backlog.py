"""When to say no: the work waiting in memory, in seconds at the recent pace.

An endpoint that acknowledges faster than its workers dispatch builds a
backlog, and a person then waits minutes for a confirmation of something
acknowledged at once. :class:`Backlog` keeps the times of the last
completions; :meth:`Backlog.retry_after` says, for a number of requests
waiting, whether the backlog is past ``max_seconds`` of work and, if so, how
many seconds a sender should wait before trying again (an HTTP
``Retry-After``). Thread-safe.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque


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

    def retry_after(self, waiting: int) -> int | None:
        """None when ``waiting`` requests are within the limit; else the whole
        seconds (at least 1) until the excess should be worked off."""
        pace = self.pace()
        limit = max(self.floor, int(pace * self.max_seconds))
        if waiting <= limit:
            return None
        return max(1, math.ceil((waiting - limit) / pace)) if pace else max(1, math.ceil(
            self.max_seconds))
