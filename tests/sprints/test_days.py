"""Dates as people mean them (issue 20): a sprint's days are calendar days, the
same for every reader, the last day inclusive; sign-ups close at the end of the
cut-off day in the alliance's zone ([sprints] timezone, Europe/Paris), and each
reader is told that instant in their own zone. A poll closing "on" a day closes
at the end of that day in its author's zone."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.app import Bot
from storage.models import Proposal, Sprint
from tests.clock import freeze
from tests.conftest import MEMBER, MEMBER_ES, SECRETARIAT
from tests.sprints.helpers import say

PRIYA = "priya.nair@carbonledger.example"  # Asia/Kolkata, English


def _sprint(bot: Bot) -> int:
    freeze(datetime(2027, 1, 10, 9, 0, tzinfo=UTC))
    out = say(bot, MEMBER, "sprint propose Soil probes | Compare cheap probes | "
                           "soil_measurement | 2027-04-01 | 2027-04-30 | 3 | 2027-03-20")
    assert "is proposed (Apr 1, 2027 to Apr 30, 2027; sign-ups close at the end of Mar 20, " \
        "2027 (Europe/Paris); your time: 2027-03-20 23:59 Africa/Lagos)" in out, out
    with bot.session_factory() as s:
        sid = int(s.scalars(select(Sprint.id)).one())
    assert "open for sign-ups" in say(bot, SECRETARIAT, f"sprint approve {sid}")
    return sid


def test_sprint_days_are_the_same_for_every_reader(bot: Bot) -> None:
    sid = _sprint(bot)
    with bot.session_factory() as s:
        sprint = s.get(Sprint, sid)
        assert sprint is not None
        assert (sprint.starts_on, sprint.ends_on, sprint.signup_closes_on) == (
            date(2027, 4, 1), date(2027, 4, 30), date(2027, 3, 20))
        assert sprint.signup_closes_at == datetime(2027, 3, 20, 23, 59, 59,
                                                   tzinfo=ZoneInfo("Europe/Paris"))
    bogota = say(bot, MEMBER_ES, f"sprint show {sid}")  # Mateo, America/Bogota, Spanish
    assert "1 abr 2027" in bogota and "30 abr 2027" in bogota, bogota
    assert "20 mar 2027" in bogota and "Europe/Paris" in bogota
    assert "2027-03-20 17:59 America/Bogota" in bogota  # the same instant, his clock
    assert "2027-03-31" not in bogota and "2027-03-19" not in bogota
    kolkata = say(bot, PRIYA, f"sprint show {sid}")
    assert "Apr 1, 2027" in kolkata and "Apr 30, 2027" in kolkata, kolkata
    assert "2027-03-21 04:29 Asia/Kolkata" in kolkata


def test_sign_ups_close_at_the_end_of_the_cutoff_day_in_the_alliances_zone(bot: Bot) -> None:
    sid = _sprint(bot)
    freeze(datetime(2027, 3, 20, 22, 30, tzinfo=UTC))  # 23:30 in Paris, still the 20th
    assert "sign-ups are closed" not in say(bot, PRIYA, f"sprint join {sid}").lower()
    freeze(datetime(2027, 3, 20, 23, 1, tzinfo=UTC))  # 00:01 on the 21st in Paris
    late = say(bot, MEMBER_ES, f"sprint join {sid}")
    assert "se cerraron el 2027-03-20 17:59 America/Bogota" in late, late
    with bot.session_factory() as s:
        from storage.models import SprintSignup

        assert len(s.scalars(select(SprintSignup).where(SprintSignup.sprint_id == sid))
                   .all()) == 1


def test_a_poll_closing_on_a_day_closes_at_its_end_in_the_authors_zone(bot: Bot) -> None:
    freeze(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    out = say(bot, PRIYA, "poll new Adopt v2 | We adopt v2. | 2026-12-15")
    assert "it closes 2026-12-15 23:59 Asia/Kolkata" in out, out
    with bot.session_factory() as s:
        closes = s.scalars(select(Proposal.closes_at)).one()
    assert closes == datetime(2026, 12, 15, 23, 59, 59, tzinfo=ZoneInfo("Asia/Kolkata"))
    out = say(bot, MEMBER_ES, "poll new Otra | Texto. | 2026-12-15 17:00")
    assert "2026-12-15 17:00 America/Bogota" in out, out
