"""SQLite's WAL checkpoints in a thread of their own, so no commit pays for one.

By default SQLite checkpoints in the commit that takes the write-ahead log past
1,000 pages: that commit copies the log back into the database file and syncs
both, a few milliseconds in which one stance in a hundred or two waits (the
closed loop's p99, and far more on a busy machine). :class:`WalCheckpointer`
runs ``PRAGMA wal_checkpoint(PASSIVE)`` every ``interval`` seconds on a
connection of its own (PASSIVE never waits for a writer nor blocks one), and
the engine's connections raise their automatic threshold to
``SAFETY_PAGES``: a safety net should the thread fall behind, not the rule.
``convene serve``, ``convene chat`` and the benches start one; a short CLI
command does not, and keeps SQLite's default. Durability is unchanged: a
commit is in the log (in the operating system's hands, as before) when it
returns; a checkpoint only moves committed pages into the database file.

A PASSIVE checkpoint never shrinks the log file: SQLite rewrites it from the
start, keeping its size, so a burst that took it to tens of megabytes (readers
in flight let no checkpoint finish, and the log grows until one does) leaves a
file that size for good. Once the log has been fully checkpointed and nothing
was written for ``idle_seconds``, the thread runs one ``TRUNCATE`` checkpoint
with no busy wait (it gives up at once if a reader or a writer is there) and
the file goes back to zero bytes.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from typing import Any

from sqlalchemy import Engine, event

log = logging.getLogger(__name__)

#: The automatic checkpoint threshold (pages) while the thread runs.
SAFETY_PAGES = 20_000

#: Seconds between two checkpoints.
INTERVAL_SECONDS = 0.5

#: Seconds without a write, the log fully checkpointed, before it is truncated.
IDLE_SECONDS = 5.0

#: The checkpointer's own busy timeout (seconds).
CONNECT_TIMEOUT_SECONDS = 1.0


class WalCheckpointer:
    """Checkpoints ``engine``'s SQLite file every ``interval`` seconds from
    :meth:`start` to :meth:`stop`. Does nothing for any other database.
    ``checkpoints``: how many ran; ``pages``: pages they moved; ``truncations``:
    how many times the idle log was cut back to zero bytes (``idle_seconds``
    after the last write)."""

    def __init__(self, engine: Engine, *, interval: float = INTERVAL_SECONDS,
                 idle_seconds: float = IDLE_SECONDS) -> None:
        self.engine = engine
        self.interval = interval
        self.idle_seconds = idle_seconds
        self.checkpoints = 0
        self.pages = 0
        self.truncations = 0
        self._last: tuple[int, int] = (0, 0)  # (log frames, checkpointed) last seen
        self._still_since = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        path = engine.url.database or ""
        self.enabled = engine.dialect.name == "sqlite" and path not in ("", ":memory:") \
            and not path.startswith("file::memory:")
        self._path = path

    def start(self) -> WalCheckpointer:
        """Start the thread (once) and raise the threshold of the engine's connections."""
        if not self.enabled or self._thread is not None:
            return self
        event.listen(self.engine, "checkout", _raise_threshold)
        self._thread = threading.Thread(target=self._loop, name="sqlite-checkpoint",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the thread after a last checkpoint; the connections checked out
        from now on checkpoint by themselves again (SQLite's default)."""
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join(10)
        self._thread = None
        if event.contains(self.engine, "checkout", _raise_threshold):
            event.remove(self.engine, "checkout", _raise_threshold)
        event.listen(self.engine, "checkout", _restore_threshold)

    def checkpoint(self, conn: sqlite3.Connection) -> int:
        """One PASSIVE checkpoint; returns the pages it moved (-1: busy). Once
        the log stayed fully checkpointed for ``idle_seconds``, truncates it."""
        busy, log_pages, done = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        self.checkpoints += 1
        if busy:
            return -1
        # ``done`` counts every frame checkpointed since the log was last reset:
        # what this call moved is its growth since the previous call.
        state = (int(log_pages), int(done))
        moved = state[1] - self._last[1] if state[0] >= self._last[0] else state[1]
        self.pages += max(0, moved)
        now = time.monotonic()
        if state != self._last or state[0] != state[1]:
            self._last, self._still_since = state, now
        elif state[0] > 0 and now - self._still_since >= self.idle_seconds:
            self._truncate(conn)
        return max(0, moved)

    def _truncate(self, conn: sqlite3.Connection) -> None:
        """``TRUNCATE`` with no busy wait: a reader or a writer makes it give up."""
        conn.execute("PRAGMA busy_timeout=0")
        try:
            busy, _log, _done = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        finally:
            conn.execute(f"PRAGMA busy_timeout={int(CONNECT_TIMEOUT_SECONDS * 1000)}")
        if not busy:
            self.truncations += 1
            self._last = (0, 0)
        self._still_since = time.monotonic()

    def _loop(self) -> None:
        conn: sqlite3.Connection | None = None
        try:
            while True:
                try:
                    if conn is None:
                        conn = sqlite3.connect(self._path, timeout=CONNECT_TIMEOUT_SECONDS,
                                               check_same_thread=False, isolation_level=None)
                        # as the engine's connections do: a connection opened
                        # before the file was in WAL mode never reads its header
                        # again, and its checkpoints would find no log (-1, -1).
                        conn.execute("PRAGMA journal_mode=WAL")
                    self.checkpoint(conn)
                except sqlite3.Error as exc:  # the next tick tries again
                    log.warning("WAL checkpoint failed: %s", exc)
                    if conn is not None:
                        conn.close()
                        conn = None
                if self._stop.wait(self.interval):
                    if conn is not None:
                        self.checkpoint(conn)
                    return
        finally:
            if conn is not None:
                conn.close()


def _raise_threshold(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
    if record.info.get("wal_autocheckpoint") != SAFETY_PAGES:
        dbapi_conn.execute(f"PRAGMA wal_autocheckpoint={SAFETY_PAGES}")
        record.info["wal_autocheckpoint"] = SAFETY_PAGES


def _restore_threshold(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
    if record.info.get("wal_autocheckpoint", 1000) != 1000:
        dbapi_conn.execute("PRAGMA wal_autocheckpoint=1000")
        record.info["wal_autocheckpoint"] = 1000
