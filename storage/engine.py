"""Engine and session factories. Nothing is created at import time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

DEFAULT_URL = "sqlite:///./convene.db"


def normalise_url(url: str) -> str:
    """Map ``postgresql://`` and ``postgres://`` to the psycopg 3 driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str = DEFAULT_URL, **kwargs: Any) -> Engine:
    """Create an engine for ``url`` (SQLite file or PostgreSQL).

    SQLite gets WAL, foreign keys and a busy timeout so that several processes
    (``convene serve`` and a CLI command) can share the file.
    """
    url = normalise_url(url)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {"timeout": 30})
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            # pysqlite's own transaction handling emits BEGIN only before DML, so a
            # SAVEPOINT could start (and its RELEASE commit) a transaction of its own.
            # Take transaction control here instead (SQLAlchemy's documented recipe).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            # IMMEDIATE takes the write lock up front, so two processes writing the
            # same file queue on busy_timeout instead of failing on lock upgrade.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 40)
    return create_engine(url, **kwargs)


def dialect_insert(dialect_name: str) -> Any:
    """The ``insert()`` of ``dialect_name`` (PostgreSQL or SQLite): the one with
    ``on_conflict_do_nothing`` / ``on_conflict_do_update``, which both share."""
    if dialect_name == "postgresql":
        return postgresql.insert
    if dialect_name == "sqlite":
        return sqlite.insert
    raise ValueError(f"no ON CONFLICT insert for the {dialect_name!r} dialect")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory; callers open one session per unit of work.

    ``session.info`` memos (e.g. a person's roles) are dropped at the end of
    every transaction, so they never outlive the unit of work that made them.
    """
    factory = sessionmaker(bind=engine, expire_on_commit=False)

    @event.listens_for(factory, "after_transaction_end")
    def _forget(session: Session, transaction: Any) -> None:
        if transaction.parent is None:
            session.info.clear()

    return factory
