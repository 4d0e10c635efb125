"""storage/dbapi.py: prebuilt statements on SQLite's DB-API connection read
and write exactly what SQLAlchemy's Core would, and fail as it would."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import JSON, bindparam, text
from sqlalchemy.exc import OperationalError

from bot.errors import is_unavailable
from storage.base import UTCDateTime
from storage.dbapi import RawSqlite, hot
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
