"""Invitations: one email per attendee, MIME laid out as Outlook and Google
send theirs (compared with the real ones), METHOD in the file and the MIME
type; reschedule = same UID, higher SEQUENCE; cancel = METHOD:CANCEL; chat
post and platform-native events for the group's channels."""

from __future__ import annotations

import email
from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from pathlib import Path

import icalendar
from sqlalchemy import select, update

from bot.app import Bot
from storage.models import Group, OutboxMessage
from tests.conftest import MEMBER_FR, OBSERVER, SECRETARIAT
from tests.workshops.helpers import YEAR, confirmed_workshop, mime_of, outbox_emails, say


def _shape(msg: EmailMessage) -> list[str]:
    return [p.get_content_type() for p in msg.walk()]


def _calendar_part(msg: EmailMessage) -> EmailMessage:
    parts = [p for p in msg.walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1
    assert isinstance(parts[0], EmailMessage)
    return parts[0]


def test_invite_mime_matches_outlook_and_google(bot: Bot, shared_fixtures: Path) -> None:
    wid = confirmed_workshop(bot)
    mails = outbox_emails(bot, f"workshop:{wid}:invite:")
    assert len(mails) == 9  # every person of the example roster, one email each
    assert all(len(m.to) == 1 for _k, m in mails)
    ours = mime_of(mails[0][1])
    real = {n: email.message_from_bytes((shared_fixtures / "itip" / n).read_bytes(),
                                        policy=policy.default)
            for n in ("comm-central_outlook-test-invite.eml",
                      "comm-central_meet-meeting-invite.eml")}
    outlook, google = real["comm-central_outlook-test-invite.eml"], real[
        "comm-central_meet-meeting-invite.eml"]
    # Outlook's layout exactly: alternative [plain, html, calendar]
    assert _shape(ours) == _shape(outlook) == ["multipart/alternative", "text/plain",
                                               "text/html", "text/calendar"]
    # Google nests the same alternative inside multipart/mixed (plus application/ics)
    assert _shape(google)[1:5] == _shape(ours)
    for msg in (ours, outlook, google):
        part = _calendar_part(msg)
        assert part.get_param("method") == "REQUEST"
        assert str(part.get_param("charset")).lower() == "utf-8"
        cal = icalendar.Calendar.from_ical(part.get_payload(decode=True))
        assert cal["method"] == "REQUEST" == part.get_param("method")
        assert part.get_content_disposition() is None  # inline, not an attachment
    assert ours["Message-ID"].startswith(f"<workshop.{wid}.0.")


def test_each_attendee_sees_only_themselves_in_their_language(bot: Bot) -> None:
    wid = confirmed_workshop(bot)
    for _key, mail in outbox_emails(bot, f"workshop:{wid}:invite:"):
        cal = icalendar.Calendar.from_ical(_calendar_part(mime_of(mail)).get_payload(
            decode=True))
        (ev,) = cal.walk("VEVENT")
        att = ev["attendee"]
        assert not isinstance(att, list)
        assert str(att).lower() == f"mailto:{mail.to[0]}"
        if mail.to[0] == OBSERVER:
            assert att.params["ROLE"] == "OPT-PARTICIPANT"
        if mail.to[0] == MEMBER_FR:
            assert str(ev["summary"]).startswith("Atelier") and "Europe/Paris" in mail.text
            assert ev["summary"].params["LANGUAGE"] == "fr"
        assert mail.reply_to == "convene@alliance.example"
        assert "/rsvp?t=" in mail.text


def test_reschedule_and_cancel(bot: Bot) -> None:
    wid = confirmed_workshop(bot)
    moved = say(bot, SECRETARIAT, f"workshop reschedule {wid} {YEAR}-03-12 09:00 "
                                  "Australia/Sydney")
    assert "moves to" in moved and "answer again" in moved and "sequence" not in moved
    assert "cancelled" in say(bot, SECRETARIAT, f"workshop cancel {wid}")
    seqs = []
    for prefix, method in ((f"workshop:{wid}:invite:", "REQUEST"),
                           (f"workshop:{wid}:update:", "REQUEST"),
                           (f"workshop:{wid}:cancel:", "CANCEL")):
        _k, mail = outbox_emails(bot, prefix)[0]
        part = _calendar_part(mime_of(mail))
        assert part.get_param("method") == method
        cal = icalendar.Calendar.from_ical(part.get_payload(decode=True))
        assert cal["method"] == method
        (ev,) = cal.walk("VEVENT")
        seqs.append((str(ev["uid"]), int(ev["sequence"]), str(ev["status"])))
    assert [s[1] for s in seqs] == [0, 1, 2] and len({s[0] for s in seqs}) == 1
    assert seqs[2][2] == "CANCELLED"
    # the reschedule, typed in Sydney's zone, is written in the anchor zone
    _k, upd = outbox_emails(bot, f"workshop:{wid}:update:")[0]
    assert b"DTSTART;TZID=Europe/Paris:" in _calendar_part(mime_of(upd)).get_payload(
        decode=True)


def test_chat_post_and_native_event_for_the_group_channels(make_bot: Callable[..., Bot],
                                                           sqlite_url: str) -> None:
    bot = make_bot(sqlite_url)
    bot.calendar_platforms.add("discord")
    with bot.session_factory() as s, s.begin():
        s.execute(update(Group).where(Group.is_alliance.is_(True)).values(channels={
            "discord": {"workspace_id": "G1", "channel_id": "C9"},
            "slack": {"workspace_id": "T1", "channel_id": "C1"}}))
    wid = confirmed_workshop(bot)
    with bot.session_factory() as s:
        rows = s.scalars(select(OutboxMessage).where(OutboxMessage.kind.startswith("chat:"))
                         .order_by(OutboxMessage.key)).all()
        kinds = sorted((r.kind, "calendar_event" in r.payload) for r in rows)
        assert kinds == [("chat:discord", False), ("chat:discord", True),
                         ("chat:slack", False)]
        event = next(r.payload for r in rows if "calendar_event" in r.payload)
        assert event["calendar_event"]["uid"] == f"workshop-{wid}@alliance.example"
        assert event["ref"] == f"workshop:{wid}"
        post = next(r.payload for r in rows if r.kind == "chat:slack")
        atts = post["message"]["attachments"]
        assert atts[0]["mime_type"] == "text/calendar"
        blocks = post["message"]["blocks"]
        assert any(isinstance(p, dict) and p.get("_t") == "Time" for b in blocks
                   if b["_t"] == "Section"
                   for p in (b["text"] if isinstance(b["text"], list) else []))
