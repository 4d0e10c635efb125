"""storage/checkpoint.py: the WAL is checkpointed by a thread, not by commits."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from sqlalchemy import text

from storage.checkpoint import SAFETY_PAGES, WalCheckpointer
from storage.engine import make_engine


def _autocheckpoint(engine) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return int(conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar())


def test_the_thread_moves_the_log_and_commits_stay_durable(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'c.db'}")
    try:
        assert _autocheckpoint(engine) == 1000
        checkpointer = WalCheckpointer(engine, interval=0.05).start()
        assert checkpointer.enabled
        assert _autocheckpoint(engine) == SAFETY_PAGES  # commits no longer checkpoint
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
        for i in range(200):
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO t (v) VALUES (:v)"), {"v": "x" * 500 + str(i)})
        deadline = time.monotonic() + 10
        while checkpointer.pages == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert checkpointer.pages > 0
        checkpointer.stop()
        assert _autocheckpoint(engine) == 1000  # SQLite's default again
        # every commit is there for a new connection, as before
        other = make_engine(f"sqlite:///{tmp_path / 'c.db'}")
        with other.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 200
        other.dispose()
    finally:
        engine.dispose()


def test_nothing_to_do_on_postgresql_or_in_memory() -> None:
    memory = make_engine("sqlite://")
    assert not WalCheckpointer(memory).start().enabled
    memory.dispose()
    pg = make_engine("postgresql://postgres@127.0.0.1:5432/test")
    assert not WalCheckpointer(pg).enabled  # no connection is made
    pg.dispose()


def _wal_bytes(tmp_path: Path) -> int:
    wal = tmp_path / "c.db-wal"
    return wal.stat().st_size if wal.exists() else 0


def test_an_idle_log_is_truncated_and_not_while_writes_go_on(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'c.db'}")
    checkpointer = WalCheckpointer(engine, interval=0.05, idle_seconds=0.5).start()
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
        # a reader holding a snapshot lets no checkpoint finish: the log grows
        reader = sqlite3.connect(tmp_path / "c.db", isolation_level=None)
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM t").fetchone()
        for i in range(300):
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO t (v) VALUES (:v)"), {"v": "x" * 3000 + str(i)})
        grown = _wal_bytes(tmp_path)
        assert grown > 1_000_000
        time.sleep(1.0)  # idle, but the reader is still there: nothing is cut
        assert checkpointer.truncations == 0 and _wal_bytes(tmp_path) == grown
        reader.execute("ROLLBACK")
        reader.close()
        deadline = time.monotonic() + 10
        while (_wal_bytes(tmp_path) or not checkpointer.truncations) \
                and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _wal_bytes(tmp_path) == 0
        assert checkpointer.truncations == 1
        with engine.connect() as conn:  # and nothing was lost
            assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 300
    finally:
        checkpointer.stop()
        engine.dispose()
