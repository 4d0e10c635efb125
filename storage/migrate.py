"""Alembic wiring: ``upgrade(url)`` brings a database to the newest schema."""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

from storage.engine import make_engine, normalise_url

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic Config pointing at storage/migrations for ``url``."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return cfg


#: PostgreSQL advisory lock held while migrating: replicas starting together
#: upgrade one at a time (the others then find the schema at head).
MIGRATION_LOCK = 0x436F6E6D


def upgrade(url: str, revision: str = "heads") -> None:
    """Upgrade the database at ``url`` to ``revision`` (default: head). On
    PostgreSQL under an advisory lock, so only one replica migrates at a time."""
    if not normalise_url(url).startswith("postgresql"):
        command.upgrade(alembic_config(url), revision)
        return
    engine = create_engine(normalise_url(url), poolclass=NullPool)
    try:
        with engine.connect() as lock:
            lock.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK})
            lock.commit()
            try:
                command.upgrade(alembic_config(url), revision)
            finally:
                lock.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK})
                lock.commit()
    finally:
        engine.dispose()


@functools.cache
def script_heads() -> frozenset[str]:
    """The newest revision(s) of storage/migrations."""
    from alembic.script import ScriptDirectory

    return frozenset(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


def at_head(engine: Engine) -> bool:
    """Whether the database behind ``engine`` is at the newest revision(s).
    Raises the driver's error when the database is unreachable."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    return current == script_heads()


def current_revisions(url: str) -> tuple[str, ...]:
    """The revisions the database at ``url`` is at (empty for a new database),
    sorted. Raises sqlalchemy.exc.OperationalError when it cannot be reached."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return tuple(sorted(MigrationContext.configure(conn).get_current_heads()))
    finally:
        engine.dispose()


def head_revisions() -> tuple[str, ...]:
    """The newest revisions of the migration scripts, sorted."""
    return tuple(sorted(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()))


def upgrade_engine(engine: Engine, revision: str = "heads") -> None:
    """Upgrade using an existing engine's connection (tests, in-process)."""
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
