"""The scheduler lease: which replica runs the jobs and holds the one-per-bot
connections (a chat platform's socket or gateway).

A PostgreSQL session advisory lock on a dedicated connection; on SQLite the
one process always holds it. ``is_leader()`` answers from memory and
``on_change(callback)`` tells plugins when the lease is gained or lost.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import Connection, Engine, text

log = logging.getLogger(__name__)


class Leadership:
    """The scheduler lease of one Bot. ``start()`` tries to take it and keeps
    trying every ``check_seconds`` (the holder checks its connection as often);
    ``is_leader()`` answers from memory; callbacks from :meth:`on_change` get
    True on gain and False on loss (from the checking thread)."""

    def __init__(self, engine: Engine, *, key: int, check_seconds: float) -> None:
        self.engine = engine
        self.key = key
        self.check_seconds = check_seconds
        self.postgresql = engine.dialect.name == "postgresql"
        self._leader = False
        self._conn: Connection | None = None
        self._callbacks: list[Callable[[bool], None]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def is_leader(self) -> bool:
        """True while this process holds the lease."""
        return self._leader

    def on_change(self, callback: Callable[[bool], None]) -> None:
        """Call ``callback(True)`` when the lease is gained (at once if held) and
        ``callback(False)`` when it is lost or given up."""
        self._callbacks.append(callback)
        if self._leader:
            self._notify(callback, True)

    @staticmethod
    def _notify(callback: Callable[[bool], None], leader: bool) -> None:
        try:
            callback(leader)
        except Exception:
            log.exception("leadership callback %r failed", callback)

    def _set(self, leader: bool) -> None:
        if leader == self._leader:
            return
        self._leader = leader
        log.info("scheduler lease %s", "taken" if leader else "lost")
        for cb in list(self._callbacks):
            self._notify(cb, leader)

    def check(self) -> bool:
        """One attempt: keep (the connection still answers) or take the lease.
        Returns whether it is held."""
        with self._lock:
            if not self.postgresql:
                self._set(True)
                return True
            try:
                if self._conn is None:
                    self._conn = self.engine.connect()
                got = bool(self._conn.execute(
                    text("SELECT pg_try_advisory_lock(:k)") if not self._leader
                    else text("SELECT true"), {"k": self.key}).scalar())
                self._conn.commit()  # a session-level lock outlives the transaction
            except Exception as exc:  # noqa: BLE001 - the lock went with the connection
                log.warning("scheduler lease check failed: %s", exc)
                self._drop()
                got = False
            if not got and self._conn is not None and not self._leader:
                self._drop()  # an idle connection per follower is not needed
            self._set(got)
            return got

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.invalidate()
                self._conn.close()
            except Exception as exc:  # noqa: BLE001 - already broken
                log.debug("closing a broken lease connection: %s", exc)
        self._conn = None

    @property
    def started(self) -> bool:
        return self._thread is not None

    def start(self) -> None:
        """Check now, then every ``check_seconds`` in a daemon thread."""
        self.check()
        self._thread = threading.Thread(target=self._loop, name="scheduler-lease",
                                        daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.check_seconds):
            self.check()

    def stop(self) -> None:
        """Give the lease up (another replica takes it at its next check)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        with self._lock:
            if self._conn is not None and self._leader:
                try:
                    self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
                    self._conn.commit()
                except Exception as exc:  # noqa: BLE001 - closing frees it anyway
                    log.debug("unlocking the scheduler lease: %s", exc)
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            self._set(False)
