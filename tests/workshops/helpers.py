"""Helpers for workshop tests: a series and a workshop made through chat."""

from __future__ import annotations

import email
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import select

from adapters.console import ConsoleSession
from bot.app import Bot
from bot.mail import OutgoingEmail, build_mime
from bot.types import Actor, Attachment, Conversation, InboundEmail
from storage.models import OutboxMessage, WorkshopRsvp
from tests.conftest import AUTH_PASS, SECRETARIAT

YEAR = datetime.now(UTC).year + 1


def say(bot: Bot, who: str, line: str) -> str:
    """One line typed by ``who`` on the terminal; the printed answer."""
    return ConsoleSession(dispatch=bot.dispatch, email=who).feed(line)


def new_workshop(bot: Bot, *, slots: tuple[str, ...] = (f"{YEAR}-03-11 15:00",
                                                        f"{YEAR}-04-08 15:00"),
                 group: str = "") -> int:
    """Series #n and its Q1 workshop with candidate ``slots``; returns the workshop id."""
    out = say(bot, SECRETARIAT, "workshop series new Soil carbon | Europe/Paris | 15:00 | 90 "
              f"| Measurement | {group} | quarterly | https://meet.example/soil")
    assert "created" in out, out
    sid = int(out.split("#", 1)[1].split()[0])
    out = say(bot, SECRETARIAT, f"workshop open {sid} {YEAR}-Q1")
    assert "is open" in out, out
    wid = int(out.split("#", 1)[1].split()[0])
    for s in slots:
        assert "added" in say(bot, SECRETARIAT, f"workshop slot add {wid} {s}")
    return wid


def confirmed_workshop(bot: Bot, *, when: str = f"{YEAR}-03-11 15:00") -> int:
    """A workshop confirmed at ``when`` (Europe/Paris)."""
    wid = new_workshop(bot, slots=(when,))
    out = say(bot, SECRETARIAT, f"workshop confirm {wid}")
    assert "invitations queued" in out, out
    return wid


def outbox_emails(bot: Bot, prefix: str) -> list[tuple[str, OutgoingEmail]]:
    """(key, email) of outbox email rows whose key starts with ``prefix``."""
    with bot.session_factory() as s:
        rows = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "email",
                                                     OutboxMessage.key.startswith(prefix))
                         .order_by(OutboxMessage.id)).all()
        return [(r.key, OutgoingEmail.from_payload(r.payload)) for r in rows]


def mime_of(mail: OutgoingEmail) -> EmailMessage:
    """The RFC 5322 message the outbox worker would send, parsed back."""
    raw = bytes(build_mime(mail, sender="calendar@alliance.example", sender_name="Alliance"))
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def rsvps(bot: Bot, wid: int) -> dict[int, tuple[str, str]]:
    """person id -> (answer, channel)."""
    with bot.session_factory() as s:
        return {p: (a, c) for p, a, c in s.execute(
            select(WorkshopRsvp.person_id, WorkshopRsvp.answer, WorkshopRsvp.channel)
            .where(WorkshopRsvp.workshop_id == wid)).all()}


def inbound_from_file(path: Path, *, sender: str | None = None,
                      auth: tuple[str, ...] = (AUTH_PASS,),
                      in_reply_to: str = "", event_id: str = "") -> InboundEmail:
    """The core event the email adapter makes of a real message: a whole .eml,
    or a bare .ics (sent as the only text/calendar part by ``sender``)."""
    data = path.read_bytes()
    if data.lstrip().upper().startswith(b"BEGIN:VCALENDAR"):
        assert sender is not None
        parts = (Attachment("reply.ics", "text/calendar; method=REPLY", data),)
        subject, text, frm, mid = "Reply", "", sender, event_id or f"<{path.name}@test>"
    else:
        msg = email.message_from_bytes(data, policy=policy.default)
        parts = tuple(Attachment(p.get_filename() or "part", p.get_content_type() + "".join(
            f"; {k}={v}" for k, v in p.get_params()[1:]), p.get_payload(decode=True) or b"")
            for p in msg.walk() if not p.is_multipart()
            and p.get_content_type() not in ("text/plain", "text/html"))
        subject = str(msg["Subject"] or "")
        frm = sender or email.utils.parseaddr(str(msg["From"]))[1]
        mid = event_id or str(msg["Message-ID"] or f"<{path.name}@test>")
        body = msg.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
    return InboundEmail(actor=Actor("email", "", frm.lower()),
                        where=Conversation("email", "", "inbox", is_direct=True),
                        event_id=mid, subject=subject, text=text, in_reply_to=in_reply_to,
                        authentication_results=auth, parts=parts)


def soon(days: float) -> datetime:
    return datetime.now(UTC) + timedelta(days=days)
