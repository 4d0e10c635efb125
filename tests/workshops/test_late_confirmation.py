"""Reminders that arrive: a workshop confirmed 2, 20 and 26 hours ahead, for a
30-person roster spread over the world's zones. Every non-decliner gets every
reminder still ahead (the day-before one at once when its daytime slot has
passed or the workshop is less than a day away; the hour-before one on time),
each before the start; the one who declined gets none."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import Bot
from bot.workshops.reminders import due_times, send_due
from storage.models import Person, WorkshopReminder
from tests.clock import freeze
from tests.workshops.helpers import say

ZONES = ["Pacific/Pago_Pago", "Pacific/Honolulu", "America/Anchorage", "America/Los_Angeles",
         "America/Denver", "America/Mexico_City", "America/New_York", "America/Caracas",
         "America/Sao_Paulo", "Atlantic/South_Georgia", "Atlantic/Azores", "UTC",
         "Europe/London", "Europe/Paris", "Africa/Lagos", "Africa/Cairo", "Europe/Moscow",
         "Asia/Tehran", "Asia/Dubai", "Asia/Karachi", "Asia/Kolkata", "Asia/Kathmandu",
         "Asia/Dhaka", "Asia/Bangkok", "Asia/Shanghai", "Asia/Tokyo", "Australia/Adelaide",
         "Australia/Sydney", "Pacific/Noumea", "Pacific/Auckland"]
SEC = "sec@world.example"
DECLINER = "p3@world.example"


def _roster(tmp_path: Path) -> Path:
    lines = ["email,name,organisation,role,group,language,timezone",
             f"{SEC},Sec Retariat,Secretariat,secretariat,Alliance,en,UTC"]
    lines += [f"p{i}@world.example,Person {i},Org {i},member,Alliance,en,{zone}"
              for i, zone in enumerate(ZONES)]
    path = tmp_path / "world.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("hours", [2, 20, 26])
def test_a_late_confirmation_reminds_everyone_in_every_zone(
        make_bot: Callable[..., Bot], sqlite_url: str, tmp_path: Path, hours: int) -> None:
    bot = make_bot(sqlite_url, roster=_roster(tmp_path))
    assert len(ZONES) == 30
    confirmed = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)  # a Wednesday morning in UTC
    start = confirmed + timedelta(hours=hours)
    freeze(confirmed)
    out = say(bot, SEC, "workshop series new World | UTC | 09:00 | 60")
    sid = out.split("#", 1)[1].split()[0]
    wid = int(say(bot, SEC, f"workshop open {sid} 2027-Q1").split("#", 1)[1].split()[0])
    assert "added" in say(bot, SEC, f"workshop slot add {wid} {start:%Y-%m-%d %H:%M}")
    assert "invitations" in say(bot, SEC, f"workshop confirm {wid}")
    assert "decline" in say(bot, DECLINER, f"workshop rsvp {wid} decline")

    with bot.session_factory() as s:
        rows = s.execute(select(Person.name, WorkshopReminder.kind,
                                WorkshopReminder.due_at)
                         .join(Person, Person.id == WorkshopReminder.person_id)
                         .where(WorkshopReminder.workshop_id == wid)).all()
    planned: dict[str, dict[str, datetime]] = {}
    for address, kind, due in rows:
        planned.setdefault(address, {})[kind] = due
    for i, zone in enumerate(ZONES):
        got = planned.get(f"Person {i}", {})
        # the week-ahead one had passed; the day-before and the hour-before remain
        assert set(got) == {"before:1440", "before:60"}, (zone, hours, got)
        assert all(confirmed <= due < start for due in got.values()), (zone, got)
        assert got["before:60"] == start - timedelta(hours=1)

    # The reminder job, every 15 minutes until the start: each due reminder goes once.
    sent_by_time: list[int] = []
    t = confirmed
    while t < start:
        sent_by_time.append(send_due(bot.session_factory, bot.settings, now=t))
        t += timedelta(minutes=15)
    with bot.session_factory() as s:
        final = s.execute(select(Person.name, WorkshopReminder.status)
                          .join(Person, Person.id == WorkshopReminder.person_id)
                          .where(WorkshopReminder.workshop_id == wid)).all()
    sent = Counter(a for a, st in final if st == "sent")
    everyone = {f"Person {i}" for i in range(30)}
    assert everyone - {"Person 3"} <= set(sent) and "Person 3" not in sent
    assert set(sent.values()) == {2}
    assert sum(sent_by_time) == sum(sent.values())


def test_due_times_rules() -> None:
    start = datetime(2027, 3, 11, 1, 0, tzinfo=UTC)  # 12:00 in Sydney, 17:00 in LA (day before)
    offsets = [10080, 1440, 60]
    # 26 h ahead in Sydney: the day-before slot moved into daytime has passed: at once.
    now = start - timedelta(hours=26)
    sydney = due_times(starts_at=start, offsets=offsets, zone="Australia/Sydney", now=now)
    assert set(sydney) == {1440, 60} and now <= sydney[1440] < start
    # nothing ahead any more: nothing planned
    assert due_times(starts_at=start, offsets=offsets, zone="UTC", now=start) == {}
    # 30 minutes ahead: only the latest passed one, at once
    soon = start - timedelta(minutes=30)
    assert due_times(starts_at=start, offsets=offsets, zone="UTC", now=soon) == {60: soon}
    # six days ahead: the week-ahead one passed, superseded by the day-before still ahead
    early = start - timedelta(days=6)
    assert set(due_times(starts_at=start, offsets=offsets, zone="UTC", now=early)) == {1440, 60}
