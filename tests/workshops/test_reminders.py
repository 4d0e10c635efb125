"""Reminders: due rows sent once each (a unique key, not a job store), across
a crash mid-pass and a second worker; never to someone who declined; the
day-before reminder in the reader's daytime; action items' owners reminded."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.app import Bot
from bot.workshops import reminders
from bot.workshops.reminders import daytime, send_due
from storage.models import OutboxMessage, WorkshopReminder
from tests.conftest import CHAIR, MEMBER, OBSERVER, SECRETARIAT
from tests.workshops.helpers import say


def _sent(bot: Bot) -> list[str]:
    with bot.session_factory() as s:
        return sorted(s.scalars(select(OutboxMessage.key).where(
            OutboxMessage.key.startswith("workshop-reminder:"))))


def _confirm_in(bot: Bot, days: int) -> int:
    """A workshop at 15:00 Paris ``days`` from today (7-day reminder past when < 7)."""
    day = (datetime.now(UTC) + timedelta(days=days)).date()
    start = datetime(day.year, day.month, day.day, 15, tzinfo=ZoneInfo("Europe/Paris"))
    out = say(bot, SECRETARIAT, "workshop series new S | Europe/Paris | 15:00 | 60")
    sid = out.split("#", 1)[1].split()[0]
    out = say(bot, SECRETARIAT, f"workshop open {sid} {start.year}-Q4")
    wid = int(out.split("#", 1)[1].split()[0])
    say(bot, SECRETARIAT, f"workshop slot add {wid} {start:%Y-%m-%d %H:%M}")
    assert "invitations" in say(bot, SECRETARIAT, f"workshop confirm {wid}")
    return wid


def test_sent_once_never_to_decliners(bot: Bot) -> None:
    wid = _confirm_in(bot, 3)  # the 7-day one is already past: 1 day and 1 hour remain
    assert "decline" in say(bot, OBSERVER, f"workshop rsvp {wid} decline")
    later = datetime.now(UTC) + timedelta(days=5)
    first = send_due(bot.session_factory, bot.settings, now=later)
    again = send_due(bot.session_factory, bot.settings, now=later)
    assert again == 0
    keys = _sent(bot)
    assert len(keys) == first == 8 * 2  # 9 people, minus the one who declined, x 2
    with bot.session_factory() as s:
        skipped = s.scalar(select(func.count(WorkshopReminder.id)).where(
            WorkshopReminder.status == "skipped"))
    assert skipped == 2
    # planning again (a restart, a repeated confirm) adds nothing
    from bot.workshops.series import find_workshop

    with bot.session_factory() as s, s.begin():
        assert reminders.plan(s, find_workshop(s, str(wid)), bot.settings) == 0


def test_a_crash_mid_pass_sends_each_once(bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    _confirm_in(bot, 3)
    later = datetime.now(UTC) + timedelta(days=5)
    real = reminders.enqueue_emails

    def dying(**kw: object) -> set[str]:
        real(**kw)  # type: ignore[arg-type]  # the rows are written...
        raise SystemExit("kill -9")  # ...and the process dies before the commit

    monkeypatch.setattr(reminders, "enqueue_emails", dying)
    with pytest.raises(SystemExit):
        send_due(bot.session_factory, bot.settings, now=later)
    assert _sent(bot) == []  # nothing of the dead pass was committed
    monkeypatch.setattr(reminders, "enqueue_emails", real)
    n = send_due(bot.session_factory, bot.settings, now=later)
    assert n == 18 and len(set(_sent(bot))) == 18
    assert send_due(bot.session_factory, bot.settings, now=later) == 0


def test_day_before_arrives_in_daytime() -> None:
    sydney = ZoneInfo("Australia/Sydney")
    # a workshop at 01:00 in Sydney: the day-before reminder would be at 01:00
    due = datetime(2027, 3, 11, 1, 0, tzinfo=sydney).astimezone(UTC)
    moved = daytime(due, "Australia/Sydney").astimezone(sydney)
    assert 8 <= moved.hour < 20 and moved < due
    assert daytime(datetime(2027, 3, 11, 12, tzinfo=UTC), "Europe/London") == datetime(
        2027, 3, 11, 12, tzinfo=UTC)


def test_action_items_remind_their_owner(make_bot: Callable[..., Bot],
                                         sqlite_url: str) -> None:
    bot = make_bot(sqlite_url)
    wid = _confirm_in(bot, 3)
    due = (datetime.now(UTC) + timedelta(days=3)).astimezone(ZoneInfo("Australia/Sydney"))
    out = say(bot, SECRETARIAT, f"workshop action add {wid} {CHAIR} {due:%Y-%m-%d} | "
                                "Draft the sampling protocol")
    assert "Action item #1" in out and "Australia/Sydney" in out
    assert REFUSED_OR(say(bot, MEMBER, "workshop action done 1"))
    send_due(bot.session_factory, bot.settings, now=datetime.now(UTC) + timedelta(days=4))
    assert any(k.startswith("workshop-reminder:a1:") for k in _sent(bot))
    assert "Draft the sampling" in say(bot, SECRETARIAT, "workshop actions")
    assert "done" in say(bot, CHAIR, "workshop action done 1")
    # open actions are carried into the next quarter's agenda
    out = say(bot, SECRETARIAT, "workshop action add 1 " + MEMBER + " " +
              f"{due:%Y-%m-%d} | Share the dataset")
    out = say(bot, SECRETARIAT, f"workshop open 1 {due.year + 1}-Q1")
    nxt = out.split("#", 1)[1].split()[0]
    agenda = say(bot, SECRETARIAT, f"workshop agenda {nxt}")
    assert "Share the dataset" in agenda and "Draft the sampling" not in agenda


def REFUSED_OR(text: str) -> bool:
    return "Only the owner" in text
