"""Issue 22: one parser for numbers and ids (bot/numbers.py). Ids past 2**31-1
gave "Something went wrong" on PostgreSQL; ``²`` passed ``isdigit()`` then
failed ``int()``. Now a number is ASCII digits, and an id out of the column's
range gets the same sentence as an id that does not exist, on SQLite and
PostgreSQL alike (the ``bot`` fixture runs both)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from adapters.console import ConsoleSession
from bot.app import Bot
from bot.numbers import INT32_MAX, bounded, digits, id_number
from bot.types import Attachment
from bot.web import create_web_app
from bot.workshops import tokens
from bot.workshops.ical import parse_replies
from storage.models import WorkshopAvailability
from tests.adapters.email.servers import http_app
from tests.conftest import MEMBER, OBSERVER_FR, SECRETARIAT, SHARED_FIXTURES
from tests.sprints.helpers import open_sprint
from tests.workshops.helpers import confirmed_workshop, inbound_from_file, new_workshop, say

WRONG = "Something went wrong"
HUGE = "99999999999"


def test_the_parser() -> None:
    assert digits("12") == 12 and digits(" 7 ") == 7 and digits("0") == 0
    for text in ("²", "١٢", "1_000", "+5", "-5", "1.0", "", "12a", "x" * 3, "1" * 41):
        assert digits(text) is None, text
    assert id_number("#12") == 12 and id_number("#²") is None
    assert bounded(str(INT32_MAX), high=INT32_MAX) == INT32_MAX
    assert bounded(str(INT32_MAX + 1), high=INT32_MAX) is None
    assert "²".isdigit()  # why isdigit() is not the test


def test_ids_out_of_range_read_as_no_such_thing(bot: Bot) -> None:
    wid = new_workshop(bot)
    sid = open_sprint(bot)
    for line, missing, sentence in [
        (f"vote {HUGE} agree", "vote 999999 agree", "There is no proposal"),
        (f"vote {2**31} agree", "vote 999999 agree", "There is no proposal"),
        (f"workshop show {HUGE}", "workshop show 999999", "There is no workshop"),
        (f"workshop show #{2**31}", "workshop show 999999", "There is no workshop"),
        (f"sprint show {HUGE}", "sprint show 999999", "There is no sprint"),
        (f"sprint priority {HUGE} {MEMBER} 3", f"sprint priority 999999 {MEMBER} 3",
         "There is no sprint"),
        (f"workshop answer {wid} {HUGE} yes", f"workshop answer {wid} 999999 yes",
         f"Workshop #{wid} has no slot"),
        (f"workshop action done {HUGE}", "workshop action done 999999", "There is no action item"),
    ]:
        who = SECRETARIAT
        out, out_missing = say(bot, who, line), say(bot, who, missing)
        assert WRONG not in out, (line, out)
        assert sentence in out and sentence in out_missing, (line, out, out_missing)
    # not a number at all: the sentence that names the fix, never a crash
    for line, fix in [("sprint show ²", "by its number"), ("workshop show ²", "by its number"),
                      (f"sprint priority {sid} {MEMBER} ²", "sprint priority ID EMAIL"),
                      (f"sprint priority {sid} {MEMBER} {HUGE}", "sprint priority ID EMAIL"),
                      ("vote ² agree", "There is no proposal")]:
        out = say(bot, SECRETARIAT, line)
        assert fix in out and WRONG not in out, (line, out)


def test_console_choice_of_a_superscript_digit(bot: Bot) -> None:
    """The terminal's numbered choices: ``²`` crashed the session (int('²'))."""
    wid = new_workshop(bot)
    session = ConsoleSession(dispatch=bot.dispatch, email=MEMBER)
    shown = session.feed(f"workshop slots {wid}")
    assert session.choices, shown
    out = session.feed("²")
    assert WRONG not in out and "Traceback" not in out


def test_availability_form_field_out_of_range(bot: Bot) -> None:
    wid = new_workshop(bot)
    t = tokens.mint(key=bot.settings.signing_key(), purpose="availability",
                    person_id=_pid(bot, OBSERVER_FR), workshop_id=wid,
                    expires_at=datetime.now(UTC) + timedelta(days=5))
    with http_app(create_web_app(bot)) as base, httpx.Client(base_url=base, timeout=30) as c:
        for field in (f"slot-{2**31}", f"slot-{HUGE}", "slot-999999"):
            r = c.post(f"/workshops/{wid}/availability", headers={
                "Origin": "http://127.0.0.1:8000"}, data={"t": t, "form": "availability",
                                                          field: "yes"})
            assert r.status_code == 200, (field, r.text)
            assert "n° " in r.text and WRONG not in r.text and "Quelque chose" not in r.text
            assert "pas de créneau" in r.text, r.text
        # "²" is not a slot number: skipped, never a crash
        r = c.post(f"/workshops/{wid}/availability", headers={
            "Origin": "http://127.0.0.1:8000"}, data={"t": t, "form": "availability",
                                                      "slot-²": "yes"})
        assert r.status_code == 200 and WRONG not in r.text
    with bot.session_factory() as s:
        assert s.scalars(select(WorkshopAvailability)).all() == []


def _pid(bot: Bot, email: str) -> int:
    from bot.members import person_by_email

    with bot.session_factory() as s:
        p = person_by_email(s, email)
        assert p is not None
        return p.id


@pytest.mark.parametrize("sequence", [HUGE, str(2**31)])
def test_an_itip_sequence_out_of_range(bot: Bot, sequence: str) -> None:
    path = SHARED_FIXTURES / "itip" / "nylas_invite_w_rsvps_4.ics"
    data = path.read_bytes().replace(b"SEQUENCE:0", f"SEQUENCE:{sequence}".encode())
    assert f"SEQUENCE:{sequence}".encode() in data
    with pytest.raises(ValueError, match="SEQUENCE"):
        parse_replies(data)
    wid = confirmed_workshop(bot)
    event = inbound_from_file(path, sender=MEMBER, event_id=f"<seq-{sequence}@x>")
    event = replace(event, parts=(Attachment("r.ics", "text/calendar", data),))
    out = bot.dispatch(event)[0].message.text
    assert WRONG not in out and "nothing was changed" in out, out
    assert wid
