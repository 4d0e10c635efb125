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
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from typing import Any

from sqlalchemy import Engine, event

log = logging.getLogger(__name__)

#: The automatic checkpoint threshold (pages) while the thread runs.
SAFETY_PAGES = 20_000

#: Seconds between two checkpoints.
INTERVAL_SECONDS = 0.5


class WalCheckpointer:
    """Checkpoints ``engine``'s SQLite file every ``interval`` seconds from
    :meth:`start` to :meth:`stop`. Does nothing for any other database.
    ``checkpoints``: how many ran; ``pages``: pages they moved."""

    def __init__(self, engine: Engine, *, interval: float = INTERVAL_SECONDS) -> None:
        self.engine = engine
        self.interval = interval
        self.checkpoints = 0
        self.pages = 0
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
        """One PASSIVE checkpoint; returns the pages it moved (-1: busy)."""
        busy, _log_pages, moved = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        self.checkpoints += 1
        if busy:
            return -1
        self.pages += max(0, int(moved))
        return int(moved)

    def _loop(self) -> None:
        conn: sqlite3.Connection | None = None
        try:
            while True:
                try:
                    if conn is None:
                        conn = sqlite3.connect(self._path, timeout=1.0,
                                               check_same_thread=False, isolation_level=None)
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
