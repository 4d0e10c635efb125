"""The iCalendar view of a workshop (:class:`bot.workshops.ical.Meeting`):
what invitations, the chat's .ics and the calendar feeds all write, and the
ORGANIZER they name."""

from __future__ import annotations

from bot.errors import N_
from bot.i18n import translator
from bot.settings import Settings
from bot.topics import topic_text
from bot.workshops.ical import Attendee, Meeting
from storage.models import Person, Workshop


def organizer(settings: Settings) -> str:
    """The ORGANIZER address: a mailbox Convene reads, so replies come back."""
    return (settings.workshops.calendar_address or settings.mail.from_address).lower()


def meeting_for(ws: Workshop, settings: Settings, *, person: Person | None,
                role: str = "REQ-PARTICIPANT", cancelled: bool = False,
                with_join: bool = True) -> Meeting:
    """The iCalendar view of ``ws`` for ``person`` (their language; only them
    as ATTENDEE), or without attendees for feeds and chat."""
    assert ws.starts_at is not None and ws.ends_at is not None
    lang = person.language if person else ws.series.language
    tr = translator(lang)
    summary = tr.gettext(N_("Workshop: {title}"), title=ws.title)
    parts = [topic_text(ws.series.topic, lang)] if ws.series.topic else []
    if with_join and ws.join_url:
        parts.append(tr.gettext(N_("Join: {url}"), url=ws.join_url))
    parts.append(tr.gettext(N_("Answer with your calendar's Accept / Decline buttons, or "
                               "in chat: workshop rsvp {id} accept|tentative|decline"),
                            id=ws.id))
    attendees: tuple[Attendee, ...] = ()
    if person is not None and person.primary_email:
        attendees = (Attendee(person.primary_email, person.name, role),)
    return Meeting(uid=ws.uid, sequence=ws.sequence, starts_at=ws.starts_at,
                   ends_at=ws.ends_at, zone=ws.series.anchor_zone, summary=summary,
                   description="\n\n".join(parts), organizer_email=organizer(settings),
                   organizer_name=settings.alliance_name, attendees=attendees,
                   url=ws.join_url if with_join else "", language=lang, cancelled=cancelled)
