"""The migrations build exactly the models' schema, and datetimes stay aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

import storage.models  # noqa: F401
from storage.base import Base
from storage.engine import make_engine, make_session_factory
from storage.models import AuditEntry


def test_migrations_match_the_models(db_url: str) -> None:
    engine = make_engine(db_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    diff = [d for d in diff if not (isinstance(d, tuple) and d[0] == "remove_table"
                                    and getattr(d[1], "name", "") == "apscheduler_jobs")]
    assert diff == [], f"models and migrations differ: {diff}"


def test_datetimes_round_trip_aware_in_utc(db_url: str) -> None:
    engine = make_engine(db_url)
    factory = make_session_factory(engine)
    paris_winter = datetime(2026, 1, 15, 9, 30, tzinfo=timezone(timedelta(hours=1)))
    with factory() as s, s.begin():
        s.add(AuditEntry(channel="cli", action="t", at=paris_winter))
    with factory() as s:
        got = s.scalars(select(AuditEntry.at)).one()
    engine.dispose()
    assert got.tzinfo is not None and got.utcoffset() == timedelta(0)
    assert got == paris_winter and got.hour == 8


def test_naive_datetimes_are_refused(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    factory = make_session_factory(engine)
    with pytest.raises(Exception, match="naive datetime"), factory() as s, s.begin():
        s.add(AuditEntry(channel="cli", action="t", at=datetime(2026, 1, 1)))
    engine.dispose()
    assert datetime.now(UTC).tzinfo is UTC


def test_a_savepoint_does_not_commit_on_its_own(sqlite_url: str) -> None:
    """pysqlite would commit a RELEASE that opened the transaction; ours must not."""
    engine = make_engine(sqlite_url)
    factory = make_session_factory(engine)
    with factory() as s:
        with s.begin():
            with s.begin_nested():
                s.add(AuditEntry(channel="cli", action="inside-savepoint"))
            s.rollback()
    with factory() as s:
        assert s.scalars(select(AuditEntry)).all() == []
    engine.dispose()


def test_people_in_works_on_both_databases(db_url: str, make_bot) -> None:
    from bot.members import people_in
    from storage.models import Role

    bot = make_bot(db_url)
    with bot.session_factory() as s:
        members = people_in(s, roles=[Role.MEMBER])
    assert len(members) == 5


def test_the_migrations_have_one_head() -> None:
    """Branches made in parallel are merged by a revision, so `db upgrade` has
    one target and a new migration has one parent."""
    from storage.migrate import script_heads

    assert len(script_heads()) == 1, script_heads()
