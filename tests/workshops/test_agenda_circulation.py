"""The agenda circulates by itself ``agenda_days`` before the workshop (the
``workshops.agenda`` job), through the same ``publish`` as the command: once
per workshop across passes, restarts and two replicas racing, never to
someone who declined, never for a cancelled workshop, not again after a
publication by hand. Every pass runs at a frozen instant."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from bot.app import Bot
from bot.workshops import agenda, jobs
from bot.workshops.agenda import circulate_due
from bot.workshops.series import find_workshop
from tests.clock import freeze
from tests.conftest import OBSERVER, SECRETARIAT
from tests.workshops.helpers import confirmed_workshop, outbox_emails, say

INVITED = 9  # examples/roster.csv: everyone in the alliance


def _start(bot: Bot, wid: int) -> datetime:
    with bot.session_factory() as s:
        ws = find_workshop(s, str(wid))
        assert ws.starts_at is not None
        return ws.starts_at


def _with_agenda(bot: Bot) -> tuple[int, datetime]:
    """A confirmed workshop with two accepted agenda items; (id, start)."""
    wid = confirmed_workshop(bot)
    say(bot, SECRETARIAT, f"workshop agenda add {wid} Budget")
    say(bot, OBSERVER, f"workshop agenda add {wid} Field results")
    items = agenda_ids(bot, wid)
    assert "2 items" in say(bot, SECRETARIAT, f"workshop agenda order {wid} "
                            f"{items[1]},{items[0]}")
    return wid, _start(bot, wid)


def agenda_ids(bot: Bot, wid: int) -> list[int]:
    with bot.session_factory() as s:
        return [i.id for i in agenda.items(s, wid)]


def _auto(bot: Bot, wid: int) -> list[str]:
    return sorted(m.to[0] for _k, m in outbox_emails(bot, f"workshop:{wid}:agenda:auto:"))


def test_circulated_once_at_its_time_never_to_decliners(bot: Bot) -> None:
    wid, start = _with_agenda(bot)
    assert "decline" in say(bot, OBSERVER, f"workshop rsvp {wid} decline")
    days = bot.settings.workshops.agenda_days
    early = start - timedelta(days=days, minutes=1)
    assert circulate_due(bot.session_factory, bot.settings, now=early) == 0
    assert _auto(bot, wid) == []
    due = start - timedelta(days=days) + timedelta(minutes=1)
    freeze(due)  # the job reads the one clock
    assert jobs.agenda(bot) == INVITED - 1
    sent = _auto(bot, wid)
    assert len(sent) == INVITED - 1 and OBSERVER not in sent
    body = outbox_emails(bot, f"workshop:{wid}:agenda:auto:")[0][1].text
    assert body.index("Field results") < body.index("Budget")  # in the accepted order
    # the next pass, and a pass a day later, send nothing more
    assert jobs.agenda(bot) == 0
    assert circulate_due(bot.session_factory, bot.settings,
                         now=due + timedelta(days=1)) == 0
    with bot.session_factory() as s:
        assert find_workshop(s, str(wid)).agenda_published_at == due


def test_a_restart_and_a_second_replica_circulate_nothing_twice(
        bot: Bot, make_bot: Callable[..., Bot], db_url: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    wid, start = _with_agenda(bot)
    other = make_bot(db_url, roster=None)  # a second process on the same database
    due = start - timedelta(days=bot.settings.workshops.agenda_days - 1)
    real = agenda.publish

    def slow(**kw: object) -> int:
        n = real(**kw)  # type: ignore[arg-type]
        time.sleep(0.3)  # hold the claim (uncommitted) while the other replica tries
        return n

    monkeypatch.setattr(agenda, "publish", slow)
    counts: list[int] = []
    gate = threading.Barrier(2)

    def run(b: Bot) -> None:
        gate.wait()
        counts.append(circulate_due(b.session_factory, b.settings, now=due))

    threads = [threading.Thread(target=run, args=(b,)) for b in (bot, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(counts) == [0, INVITED]
    assert len(_auto(bot, wid)) == INVITED
    assert _publications(bot, wid) == 1  # one claim won: the other published nothing
    restarted = make_bot(db_url, roster=None)
    assert circulate_due(restarted.session_factory, restarted.settings, now=due) == 0
    assert len(_auto(bot, wid)) == INVITED


def _publications(bot: Bot, wid: int) -> int:
    from sqlalchemy import func, select

    from storage.models import AuditEntry

    with bot.session_factory() as s:
        return int(s.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "workshop.agenda.publish",
            AuditEntry.subject_id == str(wid))) or 0)


def test_a_cancelled_workshop_is_not_circulated(bot: Bot) -> None:
    wid, start = _with_agenda(bot)
    assert "cancel" in say(bot, SECRETARIAT, f"workshop cancel {wid}").lower()
    assert circulate_due(bot.session_factory, bot.settings,
                         now=start - timedelta(days=1)) == 0
    assert outbox_emails(bot, f"workshop:{wid}:agenda:") == []


def test_published_by_hand_is_not_repeated(bot: Bot) -> None:
    wid, start = _with_agenda(bot)
    assert "9 emails" in say(bot, SECRETARIAT, f"workshop agenda publish {wid}")
    assert circulate_due(bot.session_factory, bot.settings,
                         now=start - timedelta(days=1)) == 0
    assert _auto(bot, wid) == [] and len(outbox_emails(bot, f"workshop:{wid}:agenda:")) == 9


def test_an_agenda_ordered_late_goes_out_at_the_next_pass(bot: Bot) -> None:
    wid = confirmed_workshop(bot)
    start = _start(bot, wid)
    say(bot, SECRETARIAT, f"workshop agenda add {wid} Budget")
    due = start - timedelta(days=2)
    assert circulate_due(bot.session_factory, bot.settings, now=due) == 0  # nothing accepted
    say(bot, SECRETARIAT, f"workshop agenda order {wid} {agenda_ids(bot, wid)[0]}")
    assert circulate_due(bot.session_factory, bot.settings,
                         now=due + timedelta(minutes=1)) == INVITED
    # a workshop already started is never circulated
    assert circulate_due(bot.session_factory, bot.settings,
                         now=start + timedelta(minutes=1)) == 0


def test_agenda_days_zero_turns_it_off(make_bot: Callable[..., Bot], db_url: str) -> None:
    bot = make_bot(db_url, workshops={"agenda_days": 0})
    wid, start = _with_agenda(bot)
    assert circulate_due(bot.session_factory, bot.settings,
                         now=start - timedelta(hours=1)) == 0
    assert outbox_emails(bot, f"workshop:{wid}:agenda:") == []
