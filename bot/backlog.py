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
    ``floor``: requests allowed to wait while the pace is not known;
    ``window``: the most completions the pace is measured over;
    ``min_samples``: completions needed to know it.

    The pace is measured over the completions since the waiting requests'
    queue was last empty, once it has been non-empty for ``max_seconds`` (a
    burst's first completions come while its acknowledgements take the CPU,
    and completions from before it say nothing of it); until then the pace of
    the last busy spell stands in for it, and before any, up to ``floor`` may
    wait (the first burst after a start, 1,000 presses, is taken whole). The
    limit is what the workers work off in ``max_seconds`` at that pace,
    whatever the floor: a floor of 1,000 at each new spell under a sustained
    load of 6 to 35 completions a second let requests wait a minute. The age
    of the oldest waiting request is checked in every case, and the pace is
    that of the last ``max_seconds`` when it is slower than the spell's."""

    def __init__(self, *, max_seconds: float, floor: int, window: int = 256,
                 min_samples: int = 8) -> None:
        self.max_seconds = max_seconds
        self.floor = floor
        self.min_samples = max(2, min_samples)
        self._done: deque[float] = deque(maxlen=window)
        self._lock = threading.Lock()
        self._known = 0.0  # the pace of the last busy spell (0.0: none yet)

    def completed(self) -> None:
        """Count one request worked off, now."""
        with self._lock:
            self._done.append(time.monotonic())

    def pace(self, busy: float | None = None) -> float:
        """Requests worked off per second over the completions of the last
        ``busy`` seconds (None: the whole window); 0.0 when not known (fewer
        than ``min_samples``, or ``busy`` under ``max_seconds``)."""
        if busy is not None and busy < self.max_seconds:
            return 0.0
        with self._lock:
            done = list(self._done)
        if busy is not None:
            since = time.monotonic() - busy
            done = [t for t in done if t >= since]
        if len(done) < self.min_samples or done[-1] <= done[0]:
            return 0.0
        return (len(done) - 1) / (done[-1] - done[0])

    def retry_after(self, waiting: int, oldest: float = 0.0,
                    busy: float | None = None) -> int | None:
        """None when ``waiting`` requests, the oldest waiting for ``oldest``
        seconds, their queue non-empty for ``busy`` seconds (None: unknown,
        the pace is measured over the window), are within the limit; else the
        whole seconds (at least 1) until the excess should be worked off."""
        pace = self.pace(busy)
        if pace and busy is not None:
            # The last max_seconds alone, if slower: a pace that falls (a busy
            # machine, slow dispatches) lowers the limit within max_seconds,
            # not once a window of older, faster completions has rolled by.
            recent = self.pace(self.max_seconds)
            pace = min(pace, recent) if recent else pace
        if pace:
            self._known = pace
        elif busy is not None:
            pace = self._known
        limit = max(1, int(pace * self.max_seconds)) if pace else self.floor
        if waiting <= limit and oldest < self.max_seconds:
            return None
        if not pace:
            return max(1, math.ceil(self.max_seconds))
        # what is waiting, worked off at the recent pace, down to the limit
        return max(1, math.ceil((waiting - limit) / pace))


class AgedQueue(Generic[T]):
    """A FIFO queue (as :class:`queue.SimpleQueue`: ``put``, ``get``,
    ``get_nowait`` raising :class:`queue.Empty`, ``qsize``) that knows how long
    its oldest item has waited (:meth:`oldest`) and how long it has held items
    without a break (:meth:`busy`), in seconds.

    An item taken is still counted, by :meth:`oldest` and :meth:`pending`, until
    the thread that took it calls :meth:`task_done` (or takes another): a
    request held by a worker that waits for its turn at the database waits all
    the same (15-50 s under load, unseen while only the queue was measured)."""

    def __init__(self) -> None:
        self._items: deque[tuple[float, T]] = deque()
        self._cond = threading.Condition(threading.Lock())
        self._busy_since: float | None = None
        self._taken: dict[int, float] = {}  # thread id -> when its item was put

    def put(self, item: T) -> None:
        with self._cond:
            now = time.monotonic()
            if not self._items:
                self._busy_since = now
            self._items.append((now, item))
            self._cond.notify()

    def get(self) -> T:
        with self._cond:
            self._taken.pop(threading.get_ident(), None)
            while not self._items:
                self._cond.wait()
            return self._pop()

    def get_nowait(self) -> T:
        with self._cond:
            self._taken.pop(threading.get_ident(), None)
            if not self._items:
                raise queue.Empty
            return self._pop()

    def _pop(self) -> T:
        put_at, item = self._items.popleft()
        if item is not None:
            self._taken[threading.get_ident()] = put_at
        if not self._items:
            self._busy_since = None
        return item

    def task_done(self) -> None:
        """The item this thread took last is worked off."""
        with self._cond:
            self._taken.pop(threading.get_ident(), None)

    def qsize(self) -> int:
        return len(self._items)

    def pending(self) -> int:
        """Items waiting or taken and not yet worked off."""
        with self._cond:
            return len(self._items) + len(self._taken)

    def oldest(self) -> float:
        """Seconds the oldest item waiting or taken has waited (0.0 when none)."""
        with self._cond:
            times = list(self._taken.values())
            if self._items:
                times.append(self._items[0][0])
            return time.monotonic() - min(times) if times else 0.0

    def busy(self) -> float:
        """Seconds the queue has held items without a break (0.0 when empty)."""
        with self._cond:
            since = self._busy_since
            return time.monotonic() - since if since is not None else 0.0
