"""Confirming, rescheduling and cancelling a workshop: the invite emails (one
per attendee, RFC 5546 iMIP), the chat post, the platforms' native events,
the burden ledger and the reminders, all in the caller's unit of work.

Each email carries the iCalendar object twice-named as Outlook and Google do:
``METHOD`` in the file and ``method=`` in the ``text/calendar`` MIME type
(:func:`bot.mail.build_mime` puts it as the last alternative of the body).
Each attendee's file lists only that attendee, so nobody sees another
organisation's addresses.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.audit import record
from bot.errors import N_, Conflict, InvalidInput
from bot.i18n import translator
from bot.mail import Attachment as MailAttachment
from bot.mail import OutgoingEmail
from bot.outbox import ChatTarget, enqueue_calendar, enqueue_chat, enqueue_email
from bot.permissions import Authorized
from bot.settings import Settings
from bot.topics import topic_text
from bot.types import Attachment, CalendarEvent
from bot.workshops import availability, feed_events, reminders, tokens
from bot.workshops.ical import calendar_bytes, cancellation, invite
from bot.workshops.meetings import meeting_for, organizer
from bot.workshops.render import local_text, workshop_message
from bot.workshops.rsvp import counts, declined
from bot.workshops.series import ends_at
from storage.base import utcnow
from storage.models import (
    Group,
    Role,
    Workshop,
    WorkshopAgendaItem,
    WorkshopBurden,
    WorkshopRsvp,
)


@cache
def templates() -> Environment:
    """The Jinja2 environment of bot/workshops/templates (HTML autoescaped)."""
    return Environment(loader=PackageLoader("bot.workshops", "templates"),
                       autoescape=select_autoescape(["html"]), keep_trailing_newline=True)


@dataclass(frozen=True, slots=True)
class Sent:
    """How many emails, chat posts and native events were queued."""

    emails: int
    posts: int
    events: int


def _domain(settings: Settings) -> str:
    return organizer(settings).rsplit("@", 1)[-1] or "convene.local"


def targets(session: Session, ws: Workshop) -> list[ChatTarget]:
    """The group's chat channels (``Group.channels``, as polls use them)."""
    group = session.get(Group, ws.group_id)
    out: list[ChatTarget] = []
    for platform, where in sorted(((group.channels or {}) if group else {}).items()):
        if isinstance(where, dict) and where.get("channel_id"):
            out.append(ChatTarget(platform, str(where.get("workspace_id", "")),
                                  str(where["channel_id"])))
    return out


def _email(ws: Workshop, settings: Settings, inv: availability.Invitee, *, kind: str,
           base_url: str, agenda: list[str]) -> OutgoingEmail | None:
    p = inv.person
    if not p.primary_email:
        return None
    tr = translator(p.language)
    cancelled = kind == "cancel"
    role = "OPT-PARTICIPANT" if inv.observer_only else (
        "CHAIR" if p.id == ws.lead_id else "REQ-PARTICIPANT")
    meeting = meeting_for(ws, settings, person=p, role=role, cancelled=cancelled)
    ics = cancellation(meeting) if cancelled else invite(meeting)
    method = "CANCEL" if cancelled else "REQUEST"
    assert ws.starts_at is not None
    when = local_text(ws.starts_at, p.timezone, p.language)
    headings = {"invite": N_("Invitation: {title}"), "update": N_("Updated: {title}"),
                "cancel": N_("Cancelled: {title}")}
    intros = {"invite": N_("You are invited to workshop #{id} of the alliance."),
              "update": N_("Workshop #{id} has moved; this replaces the earlier invitation. "
                           "Please answer again, even if you answered before: earlier "
                           "answers were for the old time."),
              "cancel": N_("Workshop #{id} is cancelled; it is removed from your calendar.")}
    heading = tr.gettext(headings[kind], title=ws.title)
    links: list[tuple[str, str]] = []
    if not cancelled:
        exp = ws.ends_at or (ws.starts_at + timedelta(hours=2))
        for answer, label in (("accepted", N_("Accept")), ("tentative", N_("Tentative")),
                              ("declined", N_("Decline"))):
            t = tokens.mint(key=settings.signing_key(), purpose="rsvp", person_id=p.id,
                            workshop_id=ws.id, answer=answer, expires_at=exp)
            links.append((tr.gettext(label), f"{base_url}/workshops/{ws.id}/rsvp?t={t}"))
    ctx = {"lang": p.language, "subject": heading, "heading": heading,
           "intro": tr.gettext(intros[kind], id=ws.id), "when": when,
           "world": [] if cancelled else [local_text(ws.starts_at, z, p.language) for z in
                                          sorted({p.timezone, ws.series.anchor_zone})],
           "join_url": "" if cancelled else ws.join_url, "join_label": tr.gettext(
               N_("Join link")), "links": links, "agenda": [] if cancelled else agenda,
           "agenda_title": tr.gettext(N_("Agenda")),
           "footer": tr.gettext(N_("Sent by Convene for {alliance}. Reply to this email "
                                   "or use your calendar's buttons to answer."),
                                alliance=settings.alliance_name)}
    env = templates()
    mid = f"<workshop.{ws.id}.{ws.sequence}.{p.id}.{secrets.token_hex(4)}@{_domain(settings)}>"
    return OutgoingEmail(
        to=(p.primary_email,), subject=heading, text=env.get_template("invite.txt").render(ctx),
        html=env.get_template("invite.html").render(ctx), message_id=mid,
        reply_to=organizer(settings),
        attachments=(MailAttachment("invite.ics", f"text/calendar; method={method}; "
                                    "charset=UTF-8", ics),))


def agenda_texts(ws: Workshop) -> list[str]:
    """The accepted agenda items in order (empty until some are accepted)."""
    from sqlalchemy.orm import object_session

    session = object_session(ws)
    if session is None:
        return []
    return list(session.scalars(select(WorkshopAgendaItem.text).where(
        WorkshopAgendaItem.workshop_id == ws.id, WorkshopAgendaItem.state == "accepted")
        .order_by(WorkshopAgendaItem.position, WorkshopAgendaItem.id)))


def _send(session: Session, ws: Workshop, settings: Settings, calendar_platforms: set[str],
          *, kind: str) -> Sent:
    base_url = settings.http.public_url()
    emails = posts = events = 0
    skip = declined(session, ws.id) if kind != "cancel" else {}
    agenda = agenda_texts(ws) if kind != "cancel" else []
    for inv in availability.invitees(session, ws):
        if skip.get(inv.person.id):
            continue
        email = _email(ws, settings, inv, kind=kind, base_url=base_url, agenda=agenda)
        if email is not None:
            emails += enqueue_email(session=session, email=email,
                                    key=f"workshop:{ws.id}:{kind}:{ws.sequence}:{inv.person.id}")
    tr = translator(ws.series.language)
    chat_ics = calendar_bytes([meeting_for(ws, settings, person=None,
                                           cancelled=kind == "cancel")],
                              method="CANCEL" if kind == "cancel" else None)
    msg = workshop_message(tr, ws, zone=ws.series.anchor_zone, counts=counts(session, ws.id))
    from dataclasses import replace

    msg = replace(msg, attachments=(Attachment(f"workshop-{ws.id}.ics", "text/calendar",
                                               chat_ics),))
    assert ws.starts_at is not None and ws.ends_at is not None
    event = CalendarEvent(uid=ws.uid, title=ws.title, starts_at=ws.starts_at,
                          ends_at=ws.ends_at,
                          description=topic_text(ws.series.topic, ws.series.language),
                          url=ws.join_url,
                          location=ws.join_url, sequence=ws.sequence,
                          cancelled=kind == "cancel")
    for t in targets(session, ws):
        posts += enqueue_chat(session=session, target=t, message=msg, ref=f"workshop:{ws.id}",
                              key=f"workshop:{ws.id}:post:{ws.sequence}:{t.platform}:"
                                  f"{t.channel_id}"[:255])
        if t.platform in calendar_platforms:
            events += enqueue_calendar(session=session, target=t, event=event,
                                       ref=f"workshop:{ws.id}",
                                       key=f"workshop:{ws.id}:event:{ws.sequence}:"
                                           f"{t.platform}:{t.channel_id}"[:255])
    return Sent(emails, posts, events)


def confirm(*, session: Session, actor: Authorized, workshop: Workshop, starts_at: datetime,
            settings: Settings, calendar_platforms: set[str]) -> Sent:
    """Fix ``workshop`` at ``starts_at`` (aware) and send the invitations; when
    it was confirmed before, SEQUENCE rises and the same UID is sent again as an
    update (RFC 5546 3.2.2). Writes the burden ledger and the reminders.
    Raises Conflict (cancelled, held), InvalidInput (in the past)."""
    if not actor.is_system and (actor.capability != "workshop.manage"
                                or actor.group_id != workshop.group_id):
        raise Conflict(N_("You cannot manage workshops in this group."))
    if workshop.state in ("cancelled", "held"):
        raise Conflict(N_("Workshop #{id} is {state}; it cannot be scheduled."),
                       id=workshop.id, state=workshop.state)
    if starts_at <= utcnow():
        raise InvalidInput(N_("A workshop must start in the future."))
    kind = "update" if workshop.state == "confirmed" else "invite"
    if kind == "update":
        if workshop.starts_at == starts_at:
            raise Conflict(N_("Workshop #{id} is already at that time."), id=workshop.id)
        workshop.sequence += 1
    workshop.starts_at = starts_at
    workshop.ends_at = ends_at(workshop, starts_at)
    workshop.state = "confirmed"
    workshop.updated_at = utcnow()
    reset: dict[int, str] = {}
    if kind == "update":
        # A new time is a new question: every answer was to the old one, the
        # decliners' included (the new time may suit them). All are asked again.
        reset = {pid: a for pid, a in session.execute(select(
            WorkshopRsvp.person_id, WorkshopRsvp.answer).where(
            WorkshopRsvp.workshop_id == workshop.id)).all()}
        session.execute(delete(WorkshopRsvp).where(WorkshopRsvp.workshop_id == workshop.id))
    session.flush()
    availability.record_burdens(session, workshop)
    reminders.plan(session, workshop, settings)
    sent = _send(session, workshop, settings, calendar_platforms, kind=kind)
    feed_events.store(session, workshop, settings)
    record(session=session, actor=actor, action=f"workshop.{kind}", subject_type="workshop",
           subject_id=workshop.id, starts_at=starts_at.isoformat(),
           sequence=workshop.sequence, emails=sent.emails,
           **({"rsvps_reset": {str(k): v for k, v in sorted(reset.items())}} if reset else {}))
    return sent


def cancel(*, session: Session, actor: Authorized, workshop: Workshop, settings: Settings,
           calendar_platforms: set[str]) -> Sent:
    """Cancel ``workshop``: METHOD:CANCEL with STATUS:CANCELLED, the same UID and
    a higher SEQUENCE to everyone invited (RFC 5546 3.2.5); pending reminders
    are skipped. Raises Conflict when it is already cancelled or held."""
    if workshop.state in ("cancelled", "held"):
        raise Conflict(N_("Workshop #{id} is {state}; it cannot be scheduled."),
                       id=workshop.id, state=workshop.state)
    was_confirmed = workshop.state == "confirmed"
    workshop.state = "cancelled"
    workshop.updated_at = utcnow()
    reminders.skip_pending(session, workshop.id)
    # A workshop that does not happen burdens nobody: its ledger rows go.
    session.execute(delete(WorkshopBurden).where(WorkshopBurden.workshop_id == workshop.id))
    sent = Sent(0, 0, 0)
    if was_confirmed:
        workshop.sequence += 1
        session.flush()
        sent = _send(session, workshop, settings, calendar_platforms, kind="cancel")
    feed_events.store(session, workshop, settings)
    record(session=session, actor=actor, action="workshop.cancel", subject_type="workshop",
           subject_id=workshop.id, sequence=workshop.sequence)
    return sent


def observers_and_members(invitees: list[availability.Invitee]) -> dict[str, int]:
    """Counts of invitees by role (for the attendee list)."""
    out: dict[str, int] = {}
    for inv in invitees:
        for r in inv.roles:
            out[str(Role(r))] = out.get(str(Role(r)), 0) + 1
    return out
