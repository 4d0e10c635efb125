"""Shared fixtures.

Databases: every test that takes ``db_url`` runs on SQLite and on PostgreSQL.
PostgreSQL comes from ``CONVENE_TEST_POSTGRES_URL`` (default
``postgresql://postgres@127.0.0.1:5432/test``); one scratch database per test
session is created there and emptied between tests. Outside CI a missing
server or fixture skips with the reason; with CI=true it fails.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text

from bot.app import Bot
from bot.compose import build_app
from bot.roster import import_roster_file
from bot.settings import Settings
from storage.base import CLOCK
from storage.engine import make_engine
from storage.migrate import upgrade_engine
from tests.clock import TestClock

ROOT = Path(__file__).resolve().parent.parent
SHARED_FIXTURES = ROOT.parent / "shared" / "fixtures"
EXAMPLES = ROOT / "examples"
CI = os.environ.get("CI", "").lower() in ("true", "1", "yes")
PG_URL = os.environ.get("CONVENE_TEST_POSTGRES_URL",
                        "postgresql://postgres@127.0.0.1:5432/test")


def need(condition: bool, reason: str) -> None:
    """Skip (outside CI) or fail (CI=true) when ``condition`` is false."""
    if condition:
        return
    if CI:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


#: Where Convene's code lives: a thread running a function from there is Convene's.
CONVENE_PACKAGES = ("bot", "adapters", "digests", "storage")


def convene_threads() -> list[threading.Thread]:
    """Live threads running Convene's code (a worker, a sweep, a lease, a
    heartbeat), by the module of the function they run; the test harness's
    own threads (servers on loopback) are not counted."""
    found = []
    for thread in threading.enumerate():
        # CPython keeps ``_target`` until the function returns (Thread.run).
        module = getattr(getattr(thread, "_target", None), "__module__", None) or ""
        if module.split(".", 1)[0] in CONVENE_PACKAGES:
            found.append(thread)
    return found


@pytest.fixture(autouse=True)
def _no_stray_threads() -> Iterator[None]:
    """Every thread of Convene a test starts is stopped by its teardown: a
    stray sweep or worker would go on polling a database the suite drops.
    Set up before (so torn down after) every other fixture of the test."""
    before = set(convene_threads())
    yield
    stray = [t for t in convene_threads() if t not in before]
    deadline = time.monotonic() + 5
    for thread in stray:  # one that was told to stop may still be on its way out
        thread.join(max(0.0, deadline - time.monotonic()))
    alive = [t.name for t in stray if t.is_alive()]
    assert not alive, f"threads left running after the test: {alive}"


@pytest.fixture(autouse=True)
def _clock_reset() -> Iterator[None]:
    """Each test runs on its own :class:`tests.clock.TestClock` (the wall
    clock until it freezes it) and leaves the context as it found it."""
    token = CLOCK.set(TestClock())
    yield
    CLOCK.reset(token)


@pytest.fixture(autouse=True)
def _calendars_read_alike(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every calendar (invite, update, cancellation, feed) a test makes Convene
    write is read back by icalendar, recurring-ical-events, vobject and ical.js
    (Thunderbird's parser, under node) with the instants it was written with.
    Without node or ical.js: skipped outside CI, failed in CI."""
    from bot.workshops import feeds, ical
    from tests.icaljs import Instants, check_calendars, icaljs

    written: list[tuple[Instants, bytes]] = []
    original = ical.calendar_of

    # Every calendar, an invitation's or a feed of stored events, is framed by
    # calendar_of (calendar_bytes calls it through the module).
    def recording(events: Sequence[ical.Vevent], **kw: Any) -> bytes:
        data = original(events, **kw)
        written.append(([(e.uid, e.starts_at, e.ends_at) for e in events], data))
        return data

    for module in (ical, feeds):
        monkeypatch.setattr(module, "calendar_of", recording)
    yield
    if written:
        package, why = icaljs()
        need(package is not None, f"ical.js cannot read this test's calendars: {why}")
        assert package is not None
        check_calendars(written, package)


@pytest.fixture(scope="session")
def shared_fixtures() -> Path:
    """``../shared/fixtures``: real inputs written by others (never copied here)."""
    need(SHARED_FIXTURES.is_dir(), f"shared fixtures not found at {SHARED_FIXTURES}")
    return SHARED_FIXTURES


# --- databases ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade_engine(engine)
    engine.dispose()
    return path


def scratch_pg_database(prefix: str = "convene_test") -> Iterator[str]:
    """A migrated PostgreSQL database made for the caller and dropped after
    (a generator for fixtures)."""
    admin_url = PG_URL.replace("postgresql://", "postgresql+psycopg://", 1)
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001
        need(False, f"PostgreSQL not reachable at {PG_URL}: {exc.__class__.__name__}: {exc}")
    base, _, _ = admin_url.rpartition("/")
    url = f"{base}/{name}"
    engine = make_engine(url)
    upgrade_engine(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def _pg_database() -> Iterator[str]:
    yield from scratch_pg_database()


def _truncate_pg(engine: Engine) -> None:
    with engine.begin() as conn:
        names = conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename NOT IN ('alembic_version')")).scalars().all()
        if names:
            tables = ", ".join(f'"{n}"' for n in names)
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database URL: a fresh SQLite file, or the session's
    PostgreSQL scratch database emptied before the test."""
    if request.param == "sqlite":
        path = tmp_path / "convene.db"
        shutil.copy(request.getfixturevalue("_sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("_pg_database")
    engine = make_engine(url)
    _truncate_pg(engine)
    engine.dispose()
    yield url


@pytest.fixture
def sqlite_url(tmp_path: Path, _sqlite_template: Path) -> str:
    """A migrated, empty SQLite database (for tests that need only one backend)."""
    path = tmp_path / "convene.db"
    shutil.copy(_sqlite_template, path)
    return f"sqlite:///{path}"


# --- the app -------------------------------------------------------------------------


#: The receiving mail server's authserv-id in the tests' settings, and a
#: verdict of it that vouches for any sender (what the server prepends).
AUTHSERV_ID = "mx.alliance.example"
AUTH_PASS = f"{AUTHSERV_ID}; spf=pass; dkim=pass"


def make_settings(db_url: str, tmp_path: Path, **overrides: object) -> Settings:
    """Settings for a test: its own database, outbox folder and secret."""
    mail = {"outbox_dir": tmp_path / "outbox", "authserv_id": AUTHSERV_ID,
            **overrides.pop("mail", {})}  # type: ignore[dict-item]
    return Settings(database_url=db_url, secret_key="test-secret-key-not-for-production",
                    mail=mail, **overrides)  # type: ignore[arg-type]


@pytest.fixture
def make_bot(tmp_path: Path) -> Iterator[Callable[..., Bot]]:
    """Build Bots on a database URL, with the example roster imported."""
    made: list[Bot] = []

    def factory(url: str, *, roster: Path | None = EXAMPLES / "roster.csv",
                **overrides: object) -> Bot:
        bot = build_app(make_settings(url, tmp_path, **overrides))
        if roster is not None:
            with bot.session_factory() as s, s.begin():
                import_roster_file(session=s, path=roster, alliance_name="Alliance")
        made.append(bot)
        return bot

    yield factory
    for bot in made:
        bot.leadership.stop()
        bot.engine.dispose()


@pytest.fixture
def bot(make_bot: Callable[..., Bot], db_url: str) -> Bot:
    """A Bot on SQLite and on PostgreSQL, example roster imported."""
    return make_bot(db_url)


@pytest.fixture
def chat(bot: Bot) -> Callable[[str], object]:
    """``chat(email)`` -> a ConsoleSession for that person on ``bot``."""
    from adapters.console import ConsoleSession

    def open_session(email: str) -> ConsoleSession:
        return ConsoleSession(dispatch=bot.dispatch, email=email)

    return open_session


# Example people (examples/roster.csv)
MEMBER = "amara.okafor@terrasoil.example"
MEMBER_FR = "claire.dubois@inrae-partner.example"
MEMBER_ES = "mateo.rojas@suelosvivos.example"
OBSERVER = "tom.becker@agrifinance.example"
OBSERVER_FR = "lucie.martin@ong-terres.example"
SECRETARIAT = "james.wilson@secretariat.example"
SECRETARIAT_ES = "sofia.garcia@secretariat.example"
CHAIR = "helen.cho@chair.example"


@pytest.fixture
def smtp_server() -> Iterator[object]:
    """A running aiosmtpd server on loopback (tests.smtp_helpers.SmtpServer)."""
    from tests.smtp_helpers import SmtpServer

    server = SmtpServer()
    server.start()
    yield server
    server.stop()
