"""One source of time: ``storage.base.utcnow()``, overridden only through
``storage.base.CLOCK`` (the tests' :func:`tests.clock.freeze`); the bot keeps
no clock of its own."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.app import Bot
from storage.base import utcnow
from storage.models import ProcessedEvent
from tests.clock import freeze


def test_utcnow_follows_the_frozen_clock_and_the_bot_has_none_of_its_own(bot: Bot) -> None:
    at = datetime(2027, 3, 1, 9, 30, tzinfo=UTC)
    freeze(at)
    assert utcnow() == at
    with bot.session_factory() as s, s.begin():  # the models' defaults read it too
        s.add(ProcessedEvent(platform="test", event_id="clock"))
    with bot.session_factory() as s:
        row = s.scalars(select(ProcessedEvent).where(ProcessedEvent.event_id == "clock")).one()
        assert row.at == at
    freeze(None)
    assert abs(utcnow() - datetime.now(UTC)) < timedelta(seconds=5)
    assert not hasattr(Bot, "clock") and not hasattr(bot, "clock")  # no second clock


def test_a_thread_started_without_the_context_keeps_the_wall_clock() -> None:
    freeze(datetime(2000, 1, 1, tzinfo=UTC))
    seen: list[datetime] = []
    t = threading.Thread(target=lambda: seen.append(utcnow()))
    t.start()
    t.join()
    assert seen[0].year > 2000  # the simulated scheduler relies on this (bot/jobs.py)
