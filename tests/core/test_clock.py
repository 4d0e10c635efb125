"""One source of time: ``storage.base.utcnow()``, overridden only through
``storage.base.CLOCK``; ``Bot.clock`` reads it, and setting it sets that."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from bot.app import Bot
from storage.base import utcnow
from tests.clock import freeze


def test_bot_clock_is_utcnow_and_follows_a_frozen_clock(bot: Bot) -> None:
    at = datetime(2027, 3, 1, 9, 30, tzinfo=UTC)
    freeze(at)
    assert bot.clock() == utcnow() == at
    freeze(None)
    assert abs(bot.clock() - datetime.now(UTC)) < timedelta(seconds=5)
    later = at + timedelta(days=2)
    bot.clock = lambda: later  # the same one clock, set through the bot
    assert bot.clock() == utcnow() == later
    bot.clock = utcnow
    assert utcnow().year >= 2026 and utcnow() != later


def test_a_thread_started_without_the_context_keeps_the_wall_clock() -> None:
    freeze(datetime(2000, 1, 1, tzinfo=UTC))
    seen: list[datetime] = []
    t = threading.Thread(target=lambda: seen.append(utcnow()))
    t.start()
    t.join()
    assert seen[0].year > 2000  # the simulated scheduler relies on this (bot/jobs.py)
