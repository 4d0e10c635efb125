"""RSVPs: one record per person and workshop, the latest answer wins, from
every path (chat buttons, the email link, the calendar client's iTIP REPLY,
a platform's "interested", the terminal)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.audit import record
from bot.errors import N_, Conflict, InvalidInput
from bot.permissions import Authorized
from storage.base import utcnow
from storage.engine import dialect_insert
from storage.models import Person, Workshop, WorkshopRsvp

RSVPS = ("accepted", "tentative", "declined")
_WORDS = {
    "accept": "accepted", "accepted": "accepted", "yes": "accepted", "attend": "accepted",
    "accepter": "accepted", "accepte": "accepted", "oui": "accepted", "aceptar": "accepted",
    "acepto": "accepted", "si": "accepted", "sí": "accepted",
    "tentative": "tentative", "maybe": "tentative", "provisoire": "tentative",
    "peut-être": "tentative", "provisional": "tentative", "quizás": "tentative",
    "decline": "declined", "declined": "declined", "no": "declined", "refuser": "declined",
    "non": "declined", "decliner": "declined", "rechazar": "declined",
}


def parse_rsvp(word: str) -> str:
    """``accepted``/``tentative``/``declined`` from a word (en/fr/es).
    Raises InvalidInput."""
    found = _WORDS.get(word.strip().lower().rstrip(".!"))
    if found is None:
        raise InvalidInput(N_("Answer accept, tentative or decline."))
    return found


@dataclass(frozen=True, slots=True)
class RsvpResult:
    """What :func:`set_rsvp` did: ``changed`` False when the answer was already
    that (or an older iTIP sequence arrived late)."""

    answer: str
    changed: bool
    previous: str | None


def set_rsvp(*, session: Session, actor: Authorized, workshop: Workshop, person_id: int,
             answer: str, sequence: int | None = None) -> RsvpResult:
    """Record ``person_id``'s answer to ``workshop``. ``actor`` holds
    ``workshop.attend`` in its group. ``sequence``: the invite SEQUENCE an
    iTIP REPLY answered; a reply to an older sequence than one already
    recorded changes nothing (mail arrives out of order). Raises Conflict for a
    cancelled or past workshop, or one without a time yet. Never commits."""
    if answer not in RSVPS:
        raise InvalidInput(N_("Answer accept, tentative or decline."))
    if workshop.state == "cancelled":
        raise Conflict(N_("Workshop #{id} was cancelled; there is nothing to answer."),
                       id=workshop.id)
    if workshop.starts_at is None or workshop.state != "confirmed":
        raise Conflict(N_("Workshop #{id} has no confirmed time yet: answer its candidate "
                          "slots instead (workshop slots {id})."), id=workshop.id)
    if workshop.ends_at is not None and workshop.ends_at <= utcnow():
        raise Conflict(N_("Workshop #{id} is over; its RSVPs are closed."), id=workshop.id)
    existing = session.scalar(select(WorkshopRsvp).where(
        WorkshopRsvp.workshop_id == workshop.id, WorkshopRsvp.person_id == person_id)
        .with_for_update())
    previous = existing.answer if existing is not None else None
    if existing is not None and sequence is not None and sequence < existing.sequence:
        return RsvpResult(existing.answer, False, previous)
    seq = workshop.sequence if sequence is None else sequence
    now = utcnow()
    ins = dialect_insert(session.get_bind().dialect.name)(WorkshopRsvp).values(
        workshop_id=workshop.id, person_id=person_id, answer=answer, channel=actor.channel,
        sequence=seq, replied_at=now, updated_at=now)
    session.execute(ins.on_conflict_do_update(
        index_elements=["workshop_id", "person_id"],
        set_={"answer": answer, "channel": actor.channel, "sequence": seq,
              "replied_at": now, "updated_at": now}))
    record(session=session, actor=actor, action="workshop.rsvp", subject_type="workshop",
           subject_id=workshop.id, person=person_id, answer=answer, previous=previous)
    return RsvpResult(answer, previous != answer, previous)


def rsvp_of(session: Session, workshop_id: int, person_id: int) -> str:
    """The person's answer, or ``""``."""
    return session.scalar(select(WorkshopRsvp.answer).where(
        WorkshopRsvp.workshop_id == workshop_id, WorkshopRsvp.person_id == person_id)) or ""


def counts(session: Session, workshop_id: int) -> dict[str, int]:
    """answer -> how many."""
    return {a: n for a, n in session.execute(
        select(WorkshopRsvp.answer, func.count(WorkshopRsvp.id))
        .where(WorkshopRsvp.workshop_id == workshop_id)
        .group_by(WorkshopRsvp.answer)).all()}


def declined(session: Session, workshop_id: int) -> dict[int, bool]:
    """person id -> True for everyone who declined."""
    return {pid: True for pid in session.scalars(select(WorkshopRsvp.person_id).where(
        WorkshopRsvp.workshop_id == workshop_id, WorkshopRsvp.answer == "declined"))}


def attendee_list(session: Session, workshop_id: int) -> list[tuple[Person, str, str]]:
    """(person, answer, channel) for every RSVP, by name."""
    rows = session.execute(select(Person, WorkshopRsvp.answer, WorkshopRsvp.channel)
                           .join(WorkshopRsvp, WorkshopRsvp.person_id == Person.id)
                           .where(WorkshopRsvp.workshop_id == workshop_id)
                           .order_by(Person.name)).all()
    return [(p, a, c) for p, a, c in rows]
