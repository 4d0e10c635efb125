"""RSVPs that arrive by email (a calendar client's iTIP REPLY, or a written
answer to an invite) and from a platform's native event (``Attendance``).

An iTIP REPLY (RFC 5546 3.2.3) is accepted only when the receiving server
vouched for the sender (:func:`bot.mailauth.check`: fails closed; the roster
address is told by email when it did not), its UID is a workshop's, its
SEQUENCE is the workshop's current one (an older one answers an earlier time:
RFC 5546 2.1.5), and its ATTENDEE is an address on file for the person the
From address belongs to. Anything else is refused with a sentence and changes
nothing.
"""

from __future__ import annotations

import logging
import re

from sqlalchemy import select

from bot.context import Context
from bot.email_render import render_email
from bot.errors import N_, InvalidInput, NotFound, PermissionDenied
from bot.mailauth import check
from bot.numbers import digits, fits
from bot.outbox import enqueue_email
from bot.types import Attendance, InboundEmail, Message, Section
from bot.workshops import ical, rsvp, series
from bot.workshops.routes import do_rsvp
from storage.models import EmailAddress, Workshop

log = logging.getLogger(__name__)

_MID = re.compile(r"^<?workshop\.(\d+)\.")


def _email(ctx: Context) -> InboundEmail:
    assert isinstance(ctx.event, InboundEmail)
    return ctx.event


def _calendar_parts(mail: InboundEmail) -> list[bytes]:
    return [p.data for p in mail.parts
            if p.mime_type.split(";")[0].strip().lower() in ("text/calendar",
                                                             "application/ics")]


def _workshop_from_ids(ctx: Context, mail: InboundEmail) -> Workshop | None:
    for mid in (mail.in_reply_to, *reversed(mail.references)):
        m = _MID.match(mid.strip())
        if m:
            wid = digits(m.group(1))
            return ctx.session.get(Workshop, wid) if wid is not None and fits(wid) else None
    return None


def _unverified(ctx: Context, mail: InboundEmail) -> Message | None:
    """None when the receiving server vouched for the sender; else the
    refusal, also queued by email to the roster address the From claims (never
    a Reply-To): the person learns their answer was not recorded, or that
    someone answered in their name."""
    found = check(headers=mail.authentication_results, from_address=mail.actor.user_id,
                  settings=ctx.settings.mail)
    if found.trusted:
        return None
    text = ctx._(N_("We received an answer to a workshop invitation from your address, but "
                    "our mail server could not verify that you sent it, so nothing was "
                    "changed. If it was you, answer in chat or with the link in the "
                    "invitation; if it was not, nothing needs doing."))
    message = Message(text, blocks=(Section(text),), accent="warning")
    subject = mail.subject if mail.subject.lower().startswith("re:") else \
        f"Re: {mail.subject}".strip()
    mail_settings = ctx.settings.mail
    email = render_email(message, to=(mail.actor.user_id,), subject=subject,
                         language=ctx.tr.language,
                         domain=mail_settings.from_address.rsplit("@", 1)[-1] or "convene.local",
                         in_reply_to=mail.event_id or None,
                         headers=(("Auto-Submitted", "auto-replied"),))
    enqueue_email(session=ctx.session, key=f"workshop-unverified:{mail.event_id}"[:255],
                  email=email)
    return message


def _own_addresses(ctx: Context) -> set[str]:
    return {a.lower() for a in ctx.session.scalars(
        select(EmailAddress.address).where(EmailAddress.person_id == ctx.who.id))}


def _itip(ctx: Context, mail: InboundEmail, data: list[bytes]) -> Message:
    replies: list[ical.ItipReply] = []
    for part in data:
        try:
            replies += ical.parse_replies(part)
        except ValueError:
            continue
    if not replies:
        raise InvalidInput(N_("This calendar message is not an answer (METHOD:REPLY) to an "
                              "invitation of mine; nothing was changed."))
    mine = _own_addresses(ctx)
    for reply in replies:
        if reply.email not in mine:
            continue
        ws = series.workshop_by_uid(ctx.session, reply.uid)
        if ws is None:
            raise NotFound(N_("This answer is for a meeting I did not send (UID {uid}); "
                              "nothing was changed."), uid=reply.uid[:80])
        if reply.recurrence_id is not None and ws.starts_at is not None and \
                reply.recurrence_id != ws.starts_at:
            raise InvalidInput(N_("This answer is for another occurrence than workshop "
                                  "#{id}; nothing was changed."), id=ws.id)
        if reply.sequence < ws.sequence and ws.state != "cancelled":
            raise InvalidInput(N_("This answer is for an earlier time of workshop #{id}, "
                                  "before it was moved; nothing was changed. Answer the "
                                  "latest invitation."), id=ws.id)
        if reply.partstat == "other":
            raise InvalidInput(N_("Your calendar sent an answer I cannot record (neither "
                                  "accept, tentative nor decline); nothing was changed."))
        ctx.auth = ctx.authorize("workshop.attend", group_id=ws.group_id)
        return do_rsvp(ctx, ws, reply.partstat, sequence=reply.sequence)
    raise PermissionDenied(N_("This calendar answer is for someone else's address, not "
                              "yours; nothing was changed."))


def calendar_reply(ctx: Context) -> Message:
    """``reply:calendar``: an email with a text/calendar part and no tag of ours."""
    mail = _email(ctx)
    refused = _unverified(ctx, mail)
    if refused is not None:
        return refused
    return _itip(ctx, mail, _calendar_parts(mail))


_FIRST_WORD = re.compile(r"^\s*([^\s,.;:!]+)")


def workshop_reply(ctx: Context) -> Message:
    """``reply:workshop``: an answer to one of our workshop emails: its iTIP
    part if it has one, else the first word of the text (accept, tentative,
    decline, in en/fr/es)."""
    mail = _email(ctx)
    refused = _unverified(ctx, mail)
    if refused is not None:
        return refused
    data = _calendar_parts(mail)
    if data:
        return _itip(ctx, mail, data)
    ws = _workshop_from_ids(ctx, mail)
    if ws is None:
        raise NotFound(N_("I could not tell which workshop this email answers. Reply to the "
                          "invitation, keeping its subject."))
    m = _FIRST_WORD.match(mail.text or "")
    answer = rsvp.parse_rsvp(m.group(1) if m else "")
    ctx.auth = ctx.authorize("workshop.attend", group_id=ws.group_id)
    return do_rsvp(ctx, ws, answer)


def attendance(ctx: Context) -> Message:
    """``attendance:workshop``: interested in the platform's event is an
    accept; no longer interested withdraws (declined)."""
    event = ctx.event
    assert isinstance(event, Attendance)
    ws = series.workshop_by_uid(ctx.session, event.uid)
    if ws is None:
        raise NotFound(N_("This event is not one of the alliance's workshops."))
    ctx.auth = ctx.authorize("workshop.attend", group_id=ws.group_id)
    return do_rsvp(ctx, ws, "accepted" if event.attending else "declined")


def scope_attendance(ctx: Context) -> int | None:
    """The group of the workshop whose UID the Attendance names."""
    event = ctx.event
    assert isinstance(event, Attendance)
    ws = series.workshop_by_uid(ctx.session, event.uid)
    return ws.group_id if ws is not None else None
