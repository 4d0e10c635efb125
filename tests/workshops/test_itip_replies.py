"""The real iTIP replies in ../shared/fixtures/itip (Apple iCal 3 and 5,
Google accepted/tentative/declined, Thunderbird, BlackBerry) update the right
person's RSVP through ``Bot.dispatch(InboundEmail)``; a stranger, someone
answering for another address, and a forged From change nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select, update

from bot.app import Bot
from bot.mail import OutgoingEmail
from bot.members import person_by_email
from bot.workshops.ical import parse_replies
from storage.models import OutboxMessage, Workshop
from tests.conftest import AUTH_PASS, SECRETARIAT, SHARED_FIXTURES
from tests.workshops.helpers import confirmed_workshop, inbound_from_file, rsvps, say

ITIP = SHARED_FIXTURES / "itip"
#: file, From address, expected answer (the one in the file)
REPLIES = [
    ("ccs-calendarserver_good_reply", "xyzzy@example.com", "accepted"),
    ("tine20_invitation_reply_external_accepted.ics", "mail@corneliusweiss.de", "accepted"),
    ("tine20_google_confirm.ics", "mail@corneliusweiss.de", "accepted"),
    ("nylas_invite_w_rsvps2.ics", "test1@example.com", "tentative"),
    ("nylas_invite_w_rsvps_4.ics", "karim@example.com", "declined"),
    ("tine20_calendar_reply_declined.eml", "tine20admin@caldav.net", "declined"),
    ("zpushcontrib_meeting_reply_rim.txt", "user1@domain1.tld", "accepted"),
]


@pytest.fixture
def roster(tmp_path: Path) -> Path:
    lines = ["email,name,organisation,role,group,language,timezone",
             f"{SECRETARIAT},James Wilson,Alliance Secretariat,secretariat,Alliance,en,"
             "Europe/London",
             "outsider@else.example,Out Sider,Elsewhere,member,Alliance,en,UTC"]
    for _f, sender, _a in REPLIES:
        line = f"{sender},{sender.split('@')[0]},Org {sender.split('@')[1]},member,Alliance,en,"
        line += "Australia/Sydney"
        if line not in lines:
            lines.append(line)
    path = tmp_path / "roster.csv"
    path.write_text("\n".join(dict.fromkeys(lines)) + "\n")
    return path


def _adopt_uid(bot: Bot, wid: int, uid: str) -> None:
    """Make the workshop's UID the one the real reply answers (as if Convene
    had sent that invitation)."""
    with bot.session_factory() as s, s.begin():
        s.execute(update(Workshop).where(Workshop.id == wid).values(uid=uid))


def _person(bot: Bot, address: str) -> int:
    with bot.session_factory() as s:
        p = person_by_email(s, address)
        assert p is not None
        return p.id


@pytest.mark.parametrize(("name", "sender", "answer"), REPLIES, ids=[r[0] for r in REPLIES])
def test_each_real_reply_is_read_and_recorded(make_bot: Callable[..., Bot], sqlite_url: str,
                                              roster: Path, name: str, sender: str,
                                              answer: str) -> None:
    bot = make_bot(sqlite_url, roster=roster)
    wid = confirmed_workshop(bot)
    event = inbound_from_file(ITIP / name, sender=sender)
    replies_in_file = [r for p in event.parts for r in parse_replies(p.data)]
    assert {(r.email, r.partstat) for r in replies_in_file} == {(sender, answer)}
    _adopt_uid(bot, wid, replies_in_file[0].uid)
    out = bot.dispatch(event)
    assert out and "workshop #" in out[0].message.text.lower(), out
    assert rsvps(bot, wid) == {_person(bot, sender): (answer, "email")}


def test_on_postgresql_too_and_nothing_for_the_wrong_people(
        make_bot: Callable[..., Bot], db_url: str, roster: Path) -> None:
    bot = make_bot(db_url, roster=roster)
    wid = confirmed_workshop(bot)
    path = ITIP / "nylas_invite_w_rsvps_4.ics"
    _adopt_uid(bot, wid, "cccc@nylas.com")
    # a stranger (not in the roster) sends karim's reply: nothing changes
    out = bot.dispatch(inbound_from_file(path, sender="nobody@unknown.example",
                                         event_id="<a@x>"))
    assert "roster" in out[0].message.text and rsvps(bot, wid) == {}
    # a roster member forwards someone else's answer: refused
    out = bot.dispatch(inbound_from_file(path, sender="outsider@else.example",
                                         event_id="<b@x>"))
    assert "someone else" in out[0].message.text and rsvps(bot, wid) == {}
    # karim's own address, but the receiving server says the From was forged
    forged = ("mx.alliance.example; spf=fail smtp.mailfrom=example.com; dkim=none; "
              "dmarc=fail (p=reject) header.from=example.com",)
    out = bot.dispatch(inbound_from_file(path, sender="karim@example.com", auth=forged,
                                         event_id="<c@x>"))
    assert "could not verify" in out[0].message.text and rsvps(bot, wid) == {}
    # the genuine one, authenticated
    ok = ("mx.alliance.example; spf=pass smtp.mailfrom=example.com; dkim=pass "
          "header.d=example.com; dmarc=pass header.from=example.com",)
    bot.dispatch(inbound_from_file(path, sender="karim@example.com", auth=ok,
                                   event_id="<d@x>"))
    assert rsvps(bot, wid) == {_person(bot, "karim@example.com"): ("declined", "email")}


def test_a_reply_for_a_cancelled_workshop_changes_nothing(make_bot: Callable[..., Bot],
                                                          sqlite_url: str,
                                                          roster: Path) -> None:
    bot = make_bot(sqlite_url, roster=roster)
    wid = confirmed_workshop(bot)
    _adopt_uid(bot, wid, "f503ce50-49c6-11e5-9533-693764eab43f")
    assert "cancelled" in say(bot, SECRETARIAT, f"workshop cancel {wid}")
    out = bot.dispatch(inbound_from_file(ITIP / "zpushcontrib_meeting_reply_rim.txt",
                                         sender="user1@domain1.tld"))
    assert "cancelled" in out[0].message.text and rsvps(bot, wid) == {}


def test_a_reply_for_a_meeting_we_did_not_send(make_bot: Callable[..., Bot], sqlite_url: str,
                                               roster: Path) -> None:
    bot = make_bot(sqlite_url, roster=roster)
    wid = confirmed_workshop(bot)
    out = bot.dispatch(inbound_from_file(ITIP / "zpushcontrib_meeting_reply_rim.txt",
                                         sender="user1@domain1.tld"))
    assert "did not send" in out[0].message.text and rsvps(bot, wid) == {}


def test_an_older_sequence_arriving_late_does_not_win(make_bot: Callable[..., Bot],
                                                      sqlite_url: str, roster: Path) -> None:
    bot = make_bot(sqlite_url, roster=roster)
    wid = confirmed_workshop(bot)
    _adopt_uid(bot, wid, "cccc@nylas.com")
    pid = _person(bot, "karim@example.com")
    path = ITIP / "nylas_invite_w_rsvps_4.ics"
    newer = path.read_bytes().replace(b"SEQUENCE:0", b"SEQUENCE:3").replace(
        b"PARTSTAT=DECLINED", b"PARTSTAT=ACCEPTED")
    newer_path = Path(str(path.parent)) / path.name  # same file name, new bytes below
    from dataclasses import replace

    from bot.types import Attachment
    ev_new = inbound_from_file(newer_path, sender="karim@example.com", event_id="<n@x>")
    ev_new = replace(ev_new, parts=(Attachment("r.ics", "text/calendar", newer),))
    bot.dispatch(ev_new)
    assert rsvps(bot, wid)[pid] == ("accepted", "email")
    bot.dispatch(inbound_from_file(path, sender="karim@example.com", event_id="<o@x>"))
    assert rsvps(bot, wid)[pid] == ("accepted", "email")


def test_a_written_answer_to_the_invite_email(make_bot: Callable[..., Bot], sqlite_url: str,
                                              roster: Path) -> None:
    from bot.types import Actor, Conversation, InboundEmail

    bot = make_bot(sqlite_url, roster=roster)
    wid = confirmed_workshop(bot)
    mail = InboundEmail(actor=Actor("email", "", "karim@example.com"),
                        where=Conversation("email", "", "inbox", is_direct=True),
                        event_id="<w@x>", subject="Re: Invitation", text="Decline, sorry\n> ...",
                        in_reply_to=f"<workshop.{wid}.0.5.abcd@alliance.example>",
                        authentication_results=(AUTH_PASS,))
    assert mail.tags() == ("workshop",)
    bot.dispatch(mail)
    assert rsvps(bot, wid) == {_person(bot, "karim@example.com"): ("declined", "email")}
    with bot.session_factory() as s:
        assert s.scalar(select(Workshop.state).where(Workshop.id == wid)) == "confirmed"


def test_an_itip_reply_without_our_servers_verdict_changes_nothing(
        make_bot: Callable[..., Bot], sqlite_url: str, roster: Path) -> None:
    """Fails closed (issue 22): no header, or one the sender wrote for another
    server, changes no RSVP; the roster address is told by email."""
    bot = make_bot(sqlite_url, roster=roster)
    wid = confirmed_workshop(bot)
    path = ITIP / "nylas_invite_w_rsvps_4.ics"
    _adopt_uid(bot, wid, "cccc@nylas.com")
    out = bot.dispatch(inbound_from_file(path, sender="karim@example.com", auth=(),
                                         event_id="<u1@x>"))
    assert "could not verify" in out[0].message.text and rsvps(bot, wid) == {}
    sender_written = ("mx.google.com; spf=pass smtp.mailfrom=example.com; dkim=pass "
                      "header.d=example.com; dmarc=pass header.from=example.com",)
    out = bot.dispatch(inbound_from_file(path, sender="karim@example.com",
                                         auth=sender_written, event_id="<u2@x>"))
    assert "could not verify" in out[0].message.text and rsvps(bot, wid) == {}
    with bot.session_factory() as s:
        told = [OutgoingEmail.from_payload(p) for p in s.scalars(
            select(OutboxMessage.payload).where(OutboxMessage.key.like("workshop-unverified:%")))]
    assert [e.to for e in told] == [("karim@example.com",)] * 2


def test_a_reply_to_an_earlier_time_is_not_recorded(make_bot: Callable[..., Bot],
                                                    sqlite_url: str, roster: Path) -> None:
    """Issue 22: after a reschedule to SEQUENCE 1, a REPLY carrying SEQUENCE 0
    answers the earlier time: said so, nothing recorded; SEQUENCE 1 counts."""
    from dataclasses import replace

    from bot.types import Attachment

    bot = make_bot(sqlite_url, roster=roster)
    wid = confirmed_workshop(bot)
    _adopt_uid(bot, wid, "cccc@nylas.com")
    with bot.session_factory() as s, s.begin():
        s.execute(update(Workshop).where(Workshop.id == wid).values(sequence=1))
    path = ITIP / "nylas_invite_w_rsvps_4.ics"
    assert b"SEQUENCE:0" in path.read_bytes()
    out = bot.dispatch(inbound_from_file(path, sender="karim@example.com", event_id="<s0@x>"))
    assert "earlier time" in out[0].message.text and rsvps(bot, wid) == {}
    current = path.read_bytes().replace(b"SEQUENCE:0", b"SEQUENCE:1")
    ev = replace(inbound_from_file(path, sender="karim@example.com", event_id="<s1@x>"),
                 parts=(Attachment("r.ics", "text/calendar", current),))
    bot.dispatch(ev)
    assert rsvps(bot, wid) == {_person(bot, "karim@example.com"): ("declined", "email")}
