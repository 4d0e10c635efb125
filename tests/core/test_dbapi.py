"""storage/dbapi.py: prebuilt statements on SQLite's DB-API connection and on
psycopg's read and write exactly what SQLAlchemy's Core would, and fail as it
would."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import JSON, bindparam, text
from sqlalchemy.exc import OperationalError, ProgrammingError

from bot.errors import is_unavailable
from storage.base import UTCDateTime
from storage.dbapi import RawPostgres, RawSqlite, autocommitted, hot
from storage.engine import make_engine

INSERT = text("INSERT INTO t (at, doc) VALUES (:at, :doc)").bindparams(
    bindparam("at", type_=UTCDateTime()))
READ = text("SELECT id, at, doc FROM t WHERE at >= :since ORDER BY id").bindparams(
    bindparam("since", type_=UTCDateTime())).columns(at=UTCDateTime(), doc=JSON())


def test_the_same_values_as_core_in_the_same_transaction(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'c.db'}")
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, at DATETIME, doc JSON)"))
        at = datetime(2031, 1, 15, 17, 0, tzinfo=UTC)  # no microseconds: stored as Core does
        with engine.begin() as conn:
            conn.execute(INSERT, {"at": at, "doc": '{"a": 1}'})
            raw = hot(conn)
            assert isinstance(raw, RawSqlite)
            raw.execute(INSERT, {"at": at, "doc": '{"a": 2}', "unused": 1})
            core = conn.execute(READ, {"since": at}).all()
            mine = raw.execute(READ, {"since": at})
            assert mine.first() == tuple(core[0])
            assert [tuple(r) for r in mine._rows] == [tuple(r) for r in core]
            row = mine.first()
            assert row.at == at and row.doc == {"a": 1}
            assert raw.execute(READ, {"since": datetime(2032, 1, 1, tzinfo=UTC)}).first() is None
            conn.rollback()  # the raw write was in SQLAlchemy's transaction
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 0
            with pytest.raises(OperationalError) as caught:
                hot(conn).execute(text("SELECT * FROM missing"), {})
            assert not is_unavailable(caught.value.orig) and "missing" in str(caught.value)
    finally:
        engine.dispose()


def test_other_databases_keep_their_connection() -> None:
    engine = make_engine("postgresql://postgres@127.0.0.1:5432/test")
    try:
        with engine.connect() as conn:
            assert hot(conn) is conn
    except OperationalError:
        pytest.skip("PostgreSQL not reachable")
    finally:
        engine.dispose()


PG_READ = text("SELECT id, at, doc, CAST(:tag AS text) || '::' || :tag AS tags, 'a\\:b' AS esc "
               "FROM t WHERE at >= :since ORDER BY id").bindparams(
    bindparam("since", type_=UTCDateTime())).columns(at=UTCDateTime(), doc=JSON())


def test_postgresql_through_psycopg_autocommitted(_pg_database: str) -> None:
    """On PostgreSQL a prebuilt statement runs on psycopg's own connection,
    autocommitted (durable when it returns), with the rows Core would read; the
    connection goes back to the pool in its usual mode; an error is raised as
    SQLAlchemy raises it, and a lost connection is invalidated (so the
    dispatcher runs the event again)."""
    # no poll at checkout: the terminated backend is met by the statement
    engine = make_engine(_pg_database, check_on_checkout=False)
    admin = make_engine(_pg_database)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (id serial PRIMARY KEY, at timestamptz, doc json)"))
        at = datetime(2031, 1, 15, 17, 0, 0, 123456, tzinfo=UTC)
        with autocommitted(engine) as raw:
            assert isinstance(raw, RawPostgres)
            raw.execute(INSERT, {"at": at, "doc": '{"a": 2}', "unused": 1})
            mine = raw.execute(PG_READ, {"since": at, "tag": "x"})
        with admin.connect() as conn:  # committed: another connection sees it
            core = conn.execute(PG_READ, {"since": at, "tag": "x"}).all()
        assert [tuple(r) for r in mine.all()] == [tuple(r) for r in core]
        row = mine.one()
        assert row.at == at and row.doc == {"a": 2} and row.tags == "x::x" and row.esc == "a:b"
        with engine.connect() as conn:  # back in the pool in its usual mode
            assert not conn.connection.driver_connection.autocommit
        with pytest.raises(ProgrammingError), autocommitted(engine) as raw:
            raw.execute(text("SELECT * FROM missing WHERE a = :a"), {"a": 1})
        with autocommitted(engine) as raw:
            assert raw.execute(text("SELECT count(*) AS n FROM t"), {}).one().n == 1
            pid = raw.execute(text("SELECT pg_backend_pid() AS pid"), {}).one().pid
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            conn.commit()
        time.sleep(0.2)
        with pytest.raises(OperationalError) as caught, autocommitted(engine) as raw:
            raw.execute(text("SELECT 1 AS one"), {})
        assert caught.value.connection_invalidated and is_unavailable(caught.value)
        with autocommitted(engine) as raw:  # a new connection in its place
            assert raw.execute(text("SELECT 1 AS one"), {}).one().one == 1
        nowhere = make_engine("postgresql://postgres@127.0.0.1:1/none")
        with pytest.raises(OperationalError) as refused, autocommitted(nowhere):
            pass  # a server that refuses: raised as Engine.connect() raises it
        assert is_unavailable(refused.value)
        nowhere.dispose()
    finally:
        with admin.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS t"))
        engine.dispose()
        admin.dispose()
