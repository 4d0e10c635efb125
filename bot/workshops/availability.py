"""Availability answers per slot, the invitees, the burden ledger and the
recommendation built from them (bot/workshops/scoring.py does the ranking)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.audit import record
from bot.errors import N_, Conflict, InvalidInput, NotFound
from bot.members import people_in
from bot.numbers import fits
from bot.permissions import Authorized, prime_roles, roles_in
from bot.workshops.scoring import (
    ANSWERS,
    Candidate,
    Ledger,
    Respondent,
    SlotScore,
    score_slots,
    span_burden,
)
from storage.base import utcnow
from storage.engine import dialect_insert
from storage.models import (
    Membership,
    Person,
    Role,
    Workshop,
    WorkshopAvailability,
    WorkshopBurden,
    WorkshopSlot,
)


@dataclass(frozen=True, slots=True)
class Invitee:
    """A person invited to a workshop: their roles in its group decide their
    ATTENDEE ROLE (observers OPT-PARTICIPANT) and weight."""

    person: Person
    roles: frozenset[Role]

    @property
    def observer_only(self) -> bool:
        """True when the person is only an observer in the group."""
        return not (self.roles - {Role.OBSERVER})


def invitees(session: Session, workshop: Workshop) -> list[Invitee]:
    """Everyone holding a role in the workshop's group, by name."""
    people = people_in(session, group_id=workshop.group_id)
    prime_roles(session, [p.id for p in people])
    return [Invitee(p, roles_in(session, person_id=p.id, group_id=workshop.group_id))
            for p in people]


def invitee_zones(session: Session, workshop: Workshop) -> list[tuple[int, str]]:
    """(person id, IANA zone) of each of :func:`invitees`, in the same order,
    without loading the people (what planning reminders needs, at thousands
    of invitees)."""
    ids = select(Membership.person_id).where(Membership.group_id == workshop.group_id)
    return [(int(pid), str(zone)) for pid, zone in session.execute(
        select(Person.id, Person.timezone).where(Person.id.in_(ids))
        .order_by(Person.name, Person.id))]


def parse_answer(word: str) -> str:
    """``yes``/``ifneedbe``/``no`` from what a person typed (en/fr/es).
    Raises InvalidInput."""
    w = word.strip().lower().replace("-", "").replace(" ", "").replace("_", "")
    table = {"yes": "yes", "y": "yes", "oui": "yes", "si": "yes", "sí": "yes",
             "ifneedbe": "ifneedbe", "maybe": "ifneedbe", "sibesoin": "ifneedbe",
             "peutetre": "ifneedbe", "quizas": "ifneedbe", "quizás": "ifneedbe",
             "no": "no", "n": "no", "non": "no"}
    if w not in table:
        raise InvalidInput(N_("Answer yes, ifneedbe or no."))
    return table[w]


def set_answer(*, session: Session, actor: Authorized, workshop: Workshop, slot_id: int,
               person_id: int, answer: str) -> None:
    """Store ``person_id``'s answer for a slot (the latest wins), against the
    slot's UTC instant. ``actor`` holds ``workshop.attend`` in the workshop's
    group. Raises NotFound (a slot of another workshop), Conflict (no longer
    collecting), InvalidInput."""
    if answer not in ANSWERS:
        raise InvalidInput(N_("Answer yes, ifneedbe or no."))
    if workshop.state != "finding":
        raise Conflict(N_("Workshop #{id} is no longer collecting availability."),
                       id=workshop.id)
    slot = session.get(WorkshopSlot, slot_id) if fits(slot_id) else None
    if slot is None or slot.workshop_id != workshop.id:
        raise NotFound(N_("Workshop #{id} has no slot {slot}."), id=workshop.id, slot=slot_id)
    now = utcnow()
    ins = dialect_insert(session.get_bind().dialect.name)(WorkshopAvailability).values(
        slot_id=slot_id, person_id=person_id, answer=answer, channel=actor.channel,
        updated_at=now)
    session.execute(ins.on_conflict_do_update(
        index_elements=["slot_id", "person_id"],
        set_={"answer": answer, "channel": actor.channel, "updated_at": now}))
    record(session=session, actor=actor, action="workshop.availability",
           subject_type="workshop", subject_id=workshop.id, slot=slot_id, answer=answer)


def answers(session: Session, workshop: Workshop) -> dict[int, dict[int, str]]:
    """person id -> slot id -> answer, for every slot of ``workshop``."""
    out: dict[int, dict[int, str]] = {}
    for pid, sid, ans in session.execute(
            select(WorkshopAvailability.person_id, WorkshopAvailability.slot_id,
                   WorkshopAvailability.answer).join(
                WorkshopSlot, WorkshopSlot.id == WorkshopAvailability.slot_id)
            .where(WorkshopSlot.workshop_id == workshop.id)).all():
        out.setdefault(pid, {})[sid] = ans
    return out


def ledger(session: Session, *, series_id: int, before_workshop: int | None = None) -> Ledger:
    """The series' burden ledger: totals per person and each person's burden
    at the latest earlier workshop they were counted in."""
    q = select(WorkshopBurden.person_id, WorkshopBurden.workshop_id, WorkshopBurden.burden
               ).where(WorkshopBurden.series_id == series_id)
    if before_workshop is not None:
        q = q.where(WorkshopBurden.workshop_id != before_workshop)
    total: dict[int, float] = {}
    last: dict[int, tuple[int, float]] = {}
    for pid, wid, b in session.execute(q).all():
        total[pid] = total.get(pid, 0.0) + b
        if pid not in last or wid > last[pid][0]:
            last[pid] = (wid, b)
    return Ledger(total=total, last={p: b for p, (_w, b) in last.items()})


def respondents(session: Session, workshop: Workshop, *, observer_weight: float
                ) -> list[Respondent]:
    """The invitees as scoring inputs (the lead is required)."""
    given = answers(session, workshop)
    out = []
    for inv in invitees(session, workshop):
        p = inv.person
        out.append(Respondent(
            person_id=p.id, zone=p.timezone, answers=given.get(p.id, {}),
            weight=observer_weight if inv.observer_only else 1.0,
            member=Role.MEMBER in inv.roles, required=p.id == workshop.lead_id,
            organisation=p.organisation.name if p.organisation else "", name=p.name))
    return out


def recommend(session: Session, workshop: Workshop, *, observer_weight: float,
              quorum_percent: int) -> tuple[list[SlotScore], list[Respondent], Ledger]:
    """The workshop's slots ranked (best first), with the inputs used."""
    people = respondents(session, workshop, observer_weight=observer_weight)
    members = sum(r.member for r in people)
    led = ledger(session, series_id=workshop.series_id, before_workshop=workshop.id)
    ranked = score_slots([Candidate(s.id, s.starts_at) for s in workshop.slots], people,
                         ledger=led, minutes=workshop.series.duration_minutes,
                         quorum=-(-members * quorum_percent // 100))
    return ranked, people, led


def record_burdens(session: Session, workshop: Workshop,
                   declined: Mapping[int, bool] | None = None) -> int:
    """Write the ledger rows of a confirmed ``workshop`` (replacing earlier
    ones: a reschedule moves the burden). Returns how many were written."""
    assert workshop.starts_at is not None
    session.execute(delete(WorkshopBurden).where(WorkshopBurden.workshop_id == workshop.id))
    n = 0
    for inv in invitees(session, workshop):
        if declined and declined.get(inv.person.id):
            continue
        b, hour = span_burden(workshop.starts_at, workshop.series.duration_minutes,
                              inv.person.timezone)
        session.add(WorkshopBurden(workshop_id=workshop.id, series_id=workshop.series_id,
                                   person_id=inv.person.id, zone=inv.person.timezone,
                                   local_hour=hour, burden=b))
        n += 1
    return n


def ledger_rows(session: Session, series_id: int) -> list[tuple[str, str, float, int]]:
    """(zone, quarter, worst burden in that zone, people) for the secretariat's view."""
    rows = session.execute(
        select(WorkshopBurden.zone, Workshop.quarter, WorkshopBurden.burden)
        .join(Workshop, Workshop.id == WorkshopBurden.workshop_id)
        .where(WorkshopBurden.series_id == series_id)
        .order_by(Workshop.id, WorkshopBurden.zone)).all()
    agg: dict[tuple[str, str], tuple[float, int]] = {}
    for zone, quarter, b in rows:
        worst, n = agg.get((zone, quarter), (0.0, 0))
        agg[(zone, quarter)] = (max(worst, b), n + 1)
    return [(z, q, w, n) for (z, q), (w, n) in agg.items()]
