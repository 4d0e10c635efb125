"""The jobs' statements do not grow with the roster (issue 24): an N+1 (a
statement a person, in a job that emails thousands) cannot come back
unnoticed. Counts, never times: bench/scale.py prints the times.

The same alliance as the scale bench (bench/scale_seed.py: 40 groups, 50
proposals, 20 workshops, 30 sprints) at 50 and at 200 people, on both
databases; each operation must send as many statements at 200 as at 50,
give or take :data:`SLACK`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event

from bench.scale_seed import seed
from bot.compose import build_app
from bot.settings import Settings
from storage.engine import make_engine
from tests.conftest import _truncate_pg

#: Statements an operation may add from 50 to 200 people (a multi-row insert
#: of a few hundred rows split in two).
SLACK = 3


def _count(engine: Engine, work: Callable[[], object]) -> int:
    n = 0

    def seen(*_: Any) -> None:
        nonlocal n
        n += 1

    event.listen(engine, "before_cursor_execute", seen)
    try:
        work()
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    return n


def _counts(url: str, people: int, tmp: Path) -> dict[str, int]:
    """Seed ``people`` at ``url``, then count each operation's statements."""
    from bot.home import home_message
    from bot.polls.jobs import run as polls_tick
    from bot.sprints.jobs import send_nudges
    from bot.types import Actor
    from bot.workshops.availability import invitees
    from bot.workshops.reminders import plan, send_due
    from storage.models import Workshop

    engine = make_engine(url)
    now = datetime.now(UTC).replace(microsecond=0)
    seeded = seed(engine, people, now=now, feed_dir=tmp / f"feeds{people}", feeds=0)
    bot = build_app(Settings(database_url=url, secret_key="k" * 40,
                             mail={"outbox_dir": tmp / "outbox"}),  # type: ignore[arg-type]
                    engine=engine, plugins=False)
    out: dict[str, int] = {}
    try:
        out["polls tick"] = _count(engine, lambda: polls_tick(bot, now=now))
        with bot.session_factory() as s, s.begin():
            alliance = s.get(Workshop, seeded.alliance_workshops[0])
            assert alliance is not None
            out["invitees"] = _count(engine, lambda: invitees(s, alliance))
            out["reminders planned"] = _count(engine, lambda: plan(s, alliance, bot.settings))
            for wid in seeded.soon_workshops:
                w = s.get(Workshop, wid)
                assert w is not None
                plan(s, w, bot.settings)
        # one batch at either size: the statements of a batch must not grow
        out["reminder wave"] = _count(engine, lambda: send_due(
            bot.session_factory, bot.settings, now=datetime.now(UTC) + timedelta(minutes=1),
            batch_size=10_000))
        out["nudges"] = _count(engine, lambda: send_nudges(bot, now=now))
        address = seeded.member_emails[-1]
        out["home page"] = _count(engine, lambda: home_message(bot, Actor("console", "",
                                                                          address)))
    finally:
        engine.dispose()
    return out


def test_the_jobs_statements_do_not_grow_with_people(db_url: str, tmp_path: Path) -> None:
    small = _counts(db_url, 50, tmp_path)
    if db_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'larger.db'}"
    else:
        url = db_url
        engine = make_engine(url)
        _truncate_pg(engine)
        engine.dispose()
    large = _counts(url, 200, tmp_path)
    grown = {k: (small[k], large[k]) for k in small if large[k] > small[k] + SLACK}
    assert grown == {}, f"statements grew with people (50 -> 200): {grown}"
    # and the figures are the batched ones, not a statement a person
    assert large["reminder wave"] < 40 and large["nudges"] < 40, large


def test_the_seed_makes_work_for_every_job(sqlite_url: str, tmp_path: Path) -> None:
    """The counts above are of jobs that do work: the tick closes and
    reminds, the wave sends, the nudge queues."""
    from sqlalchemy import func, select

    from storage.models import OutboxMessage

    people = 30
    counts = _counts(sqlite_url, people, tmp_path)
    engine = make_engine(sqlite_url)
    with engine.connect() as c:
        kinds = {k.split(":", 1)[0] for k in c.scalars(select(OutboxMessage.key))}
        n = c.scalar(select(func.count()).select_from(OutboxMessage))
    engine.dispose()
    assert {"poll", "workshop-reminder", "sprint-nudge"} <= kinds, (kinds, counts)
    assert n and n > people
