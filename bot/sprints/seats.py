"""Sign-ups: taking a seat, joining the waitlist, leaving, and one's position.

Every change locks the sprint first (:func:`bot.sprints.common.lock_sprint`),
so two people asking for the last seat at once are served one after the
other: exactly one gets it and the other is told their place in the line.
UNIQUE (sprint, seat) and UNIQUE (sprint, person) hold the same rules in the
database should a lock ever be missed. A leaving person's seat always
returns to the sprint and is offered on at once (:func:`offers.fill`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import and_, bindparam, func, insert, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bot import audit
from bot.audit import record
from bot.errors import N_, Conflict, InvalidInput, NotFound
from bot.permissions import Authorized
from bot.settings import Settings
from bot.sprints import offers
from bot.sprints.common import ACTIVE, HOLDING, OpenSprint, local, lock_for
from storage.models import AuditEntry, Organisation, Person, SprintSignup

ROLES = ("contributor", "lead")
MAX_PARTY = 10


class Joiner(Protocol):
    """Who signs up: a roster :class:`Person`, or :func:`joiner` (the four
    columns a sign-up reads, without loading the ORM object)."""

    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def timezone(self) -> str: ...
    @property
    def organisation_id(self) -> int | None: ...


@dataclass(frozen=True, slots=True)
class _Joiner:
    id: int
    name: str
    timezone: str
    organisation_id: int | None


_JOINER = select(Person.name, Person.timezone, Person.organisation_id).where(
    Person.id == bindparam("person_id"))


def joiner(session: Session, person_id: int) -> Joiner:
    """Person ``person_id`` as a :class:`Joiner` read in one Core statement (a
    sign-up is the hot path: no ORM object). Raises NotFound."""
    row = session.connection().execute(_JOINER, {"person_id": person_id}).first()
    if row is None:
        raise NotFound(N_("You are not in the alliance roster, so I cannot act for you."))
    return _Joiner(person_id, row.name, row.timezone, row.organisation_id)


@dataclass(frozen=True, slots=True)
class Joined:
    """The outcome of a sign-up: ``status`` ``seated`` or ``waitlisted``;
    ``seats`` the seat numbers (seated); ``position`` in the waitlist of the
    person who asked (waitlisted, 1-based); ``capped`` the organisation name
    when the cap, not the capacity, kept them waiting; ``title`` the sprint's."""

    status: str
    seats: tuple[int, ...]
    position: int
    capped: str = ""
    title: str = ""


def signup_of(session: Session, sprint_id: int, person_id: int) -> SprintSignup | None:
    """The person's sign-up row in the sprint (any status), or None."""
    return session.scalars(select(SprintSignup).where(
        SprintSignup.sprint_id == sprint_id, SprintSignup.person_id == person_id)).first()


def position(session: Session, signup: SprintSignup) -> int:
    """1-based place of a waitlisted ``signup`` in the order the line is served."""
    ahead = session.scalar(select(func.count()).select_from(SprintSignup).where(
        SprintSignup.sprint_id == signup.sprint_id, SprintSignup.status == "waitlisted",
        or_(SprintSignup.priority > signup.priority,
            and_(SprintSignup.priority == signup.priority,
                 or_(SprintSignup.asked_at < signup.asked_at,
                     and_(SprintSignup.asked_at == signup.asked_at,
                          SprintSignup.id < signup.id))))))
    return int(ahead or 0) + 1


def counts(session: Session, sprint_id: int) -> dict[str, int]:
    """How many sign-ups of each status the sprint has."""
    rows = session.execute(select(SprintSignup.status, func.count())
                           .where(SprintSignup.sprint_id == sprint_id)
                           .group_by(SprintSignup.status)).all()
    return {str(s): int(n) for s, n in rows}


def counts_of(session: Session, sprint_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """:func:`counts` of each of ``sprint_ids`` in one statement (a page or a
    job listing every open sprint); a sprint without sign-ups maps to {}."""
    ids = set(sprint_ids)
    out: dict[int, dict[str, int]] = {i: {} for i in ids}
    if ids:
        for sid, status, n in session.execute(
                select(SprintSignup.sprint_id, SprintSignup.status, func.count())
                .where(SprintSignup.sprint_id.in_(ids))
                .group_by(SprintSignup.sprint_id, SprintSignup.status)):
            out[int(sid)][str(status)] = int(n)
    return out


def _check_open(sprint: OpenSprint, now: datetime, zone: str) -> None:
    if sprint.state != "open":
        raise Conflict(N_("Sprint #{id} is not open for sign-ups."), id=sprint.id)
    if now >= sprint.signup_closes_at:
        raise Conflict(N_("Sign-ups for sprint #{id} closed at {when}."), id=sprint.id,
                       when=local(sprint.signup_closes_at, zone))


def join(session: Session, *, actor: Authorized, sprint_id: int, person: Joiner,
         role: str = "contributor", companions: tuple[Joiner, ...] = (),
         settings: Settings, now: datetime, channel: str = "") -> Joined:
    """Sign ``person`` (and ``companions``, seated together or not at all) up.

    ``actor`` holds ``sprint.signup`` (``sprint.lead`` for a lead) in the
    sprint's group; the caller authorized each companion too. Seats them when
    enough seats are free and every organisation stays within the cap;
    otherwise puts them in the waitlist. Raises Conflict after the cutoff,
    when not open, when someone is already in, when the leads are taken or
    when the party alone exceeds the cap; InvalidInput for a bad role.

    The sprint's lock brings its sign-up counts back (kept on its row by
    triggers, see :class:`storage.models.Sprint`), so under the lock a
    sign-up reads the held seats only when some may be free or a cap applies,
    and earlier rows only when the person has one (found by the insert: a
    second statement then) or brings companions; then it writes each row once.
    """
    if role not in ROLES:
        raise InvalidInput(N_("The role is lead or contributor."))
    party = [person, *companions]
    if len({p.id for p in party}) != len(party) or len(party) > MAX_PARTY:
        raise InvalidInput(N_("Name each companion once, at most {n} people in all."),
                           n=MAX_PARTY)
    joined = _join(session, actor=actor, sprint_id=sprint_id, party=party, role=role,
                   now=now, channel=channel, known=bool(companions))
    if joined is None:  # the person has a row in the sprint: decide again with it
        joined = _join(session, actor=actor, sprint_id=sprint_id, party=party, role=role,
                       now=now, channel=channel, known=True)
    assert joined is not None
    return joined


def _join(session: Session, *, actor: Authorized, sprint_id: int, party: list[Joiner],
          role: str, now: datetime, channel: str, known: bool) -> Joined | None:
    """:func:`join` of ``party`` (the person first); None, with nothing
    written, when not ``known`` and the person turned out to have a row."""
    person = party[0]
    sprint = lock_for(session, sprint_id, actor=actor,
                      capability="sprint.lead" if role == "lead" else "sprint.signup",
                      refusal=N_("You cannot sign up for this sprint."), columns=True)
    _check_open(sprint, now, person.timezone)
    earlier: dict[int, SprintSignup] = {}
    if known:
        earlier = {r.person_id: r for r in session.scalars(select(SprintSignup).where(
            SprintSignup.sprint_id == sprint.id,
            SprintSignup.person_id.in_([p.id for p in party])))}
    rows: list[SprintSignup] = []
    for p in party:
        row = earlier.get(p.id)
        if row is not None and row.status in ACTIVE:
            raise Conflict(N_("{name} is already signed up for sprint #{id} ({status})."),
                           name=p.name, id=sprint.id, status=STATUS_LABELS[row.status])
        rows.append(row if row is not None else
                    SprintSignup(sprint_id=sprint.id, person_id=p.id, status="new"))
    if role == "lead" and sprint.lead_count >= sprint.max_leads:
        raise Conflict(N_("Sprint #{id} already has its lead; sign up as a contributor."),
                       id=sprint.id)
    party_key = uuid.uuid4().hex if len(party) > 1 else ""
    # The line is served in the order the lock was taken: a request that read
    # the clock earlier but locked later must not go ahead of one already in.
    last = sprint.last_asked_at
    asked = max(now, last + timedelta(microseconds=1)) if last is not None else now
    for p, row in zip(party, rows, strict=True):
        row.organisation_id, row.role = p.organisation_id, role if p is person else \
            "contributor"
        row.status, row.seat, row.priority, row.party = "waitlisted", None, 0, party_key
        row.asked_at, row.updated_at = asked, now
        row.channel = channel or actor.channel
    if sprint.org_cap:
        per_org: dict[int, int] = {}
        for p in party:
            if p.organisation_id is not None:
                per_org[p.organisation_id] = per_org.get(p.organisation_id, 0) + 1
        if any(n > sprint.org_cap for n in per_org.values()):
            raise Conflict(N_("One organisation may hold at most {cap} seats in sprint #{id}; "
                              "your party has more from one organisation."),
                           cap=sprint.org_cap, id=sprint.id)
    free: list[int] = []
    problem: tuple[int | None, int] | None = None
    if sprint.capacity - sprint.held_count >= len(party) or sprint.org_cap:
        free, held = offers.seat_map(session, sprint)
        problem = offers.cap_problem(session, sprint, rows, held)
    names = ", ".join(p.name for p in party)
    if len(free) >= len(party) and problem is None:
        seats = tuple(free[:len(party)])
        for row, seat in zip(rows, seats, strict=True):
            row.status, row.seat = "seated", seat
        if _write(session, rows, audit.values(
                actor=actor, action="sprint.join", subject_type="sprint", subject_id=sprint.id,
                seats=list(seats), role=role, people=names,
                reason=f"seat {', '.join(map(str, seats))} to {names}: free on sign-up")) is None:
            return None
        return Joined("seated", seats, 0, title=sprint.title)
    capped = ""
    if problem is not None:
        org = session.get(Organisation, problem[0]) if problem[0] is not None else None
        capped = org.name if org else "?"
    why = (f"{capped} already has {problem[1]} of {sprint.org_cap}" if problem is not None
           else f"{max(0, sprint.capacity - sprint.held_count)} seat(s) free for a party of "
                f"{len(party)}")

    def waitlisted(where: int) -> dict[str, object]:
        return audit.values(actor=actor, action="sprint.waitlist", subject_type="sprint",
                            subject_id=sprint.id, position=where, role=role, people=names,
                            reason=f"{names} waitlisted at {where}: {why}")

    if len(party) > 1:
        ids = _write(session, rows)
        assert ids is not None  # known: no new row of theirs can meet an old one
        # Companions share the asked time; those with a lower row id stand first.
        where = sprint.ahead_count + 1 + sum(1 for i in ids[1:] if i < ids[0])
        audit.write(session, waitlisted(where))
    else:
        where = sprint.ahead_count + 1
        if _write(session, rows, waitlisted(where)) is None:
            return None
    return Joined("waitlisted", (), where, capped, title=sprint.title)


_COLUMNS = ("sprint_id", "person_id", "organisation_id", "role", "status", "seat", "priority",
            "party", "channel", "asked_at", "updated_at")
_AUDIT_COLUMNS = ("at", "person_id", "channel", "action", "subject_type", "subject_id",
                  "detail")


def _new_rows(dialect_insert: Callable[..., Any]) -> Any:
    # A person's second row in a sprint is refused by its key, not raised: the
    # caller then reads the row there and decides again (see join).
    return dialect_insert(SprintSignup).values({c: bindparam(c) for c in _COLUMNS}) \
        .on_conflict_do_nothing(index_elements=["sprint_id", "person_id"])


#: One new sign-up row, by dialect; RETURNING its id (none: the person has one).
_INSERT = {"postgresql": _new_rows(pg_insert).returning(SprintSignup.id),
           "sqlite": _new_rows(sqlite_insert).returning(SprintSignup.id)}
_SIGNUP = _new_rows(pg_insert).returning(SprintSignup.id).cte("signup")
_AUDIT = AuditEntry.__table__.c
#: PostgreSQL: the sign-up row and its audit row in one statement (a data-
#: modifying WITH), so the sprint's lock is held one round trip less; the audit
#: row is written only with the sign-up row, and its id says whether it was.
_INSERT_AUDITED = insert(AuditEntry).from_select(
    _AUDIT_COLUMNS, select(*(bindparam(f"audit_{c}", type_=_AUDIT[c].type)
                             for c in _AUDIT_COLUMNS)).select_from(_SIGNUP)
).add_cte(_SIGNUP).returning(AuditEntry.id)


def _write(session: Session, rows: list[SprintSignup],
           audited: dict[str, object] | None = None) -> list[int] | None:
    """Write the party's rows, in order, and the audit row ``audited`` (the
    parameters of :func:`bot.audit.values`) when given, and return the rows'
    ids: a row read from the database is changed through the ORM (flushed
    now); a new one is one prebuilt INSERT, with no ORM object to flush. One
    new row with its audit row on PostgreSQL is a single statement, and its
    id is not read (returned as 0). None, with nothing written, when a new row
    met the person's row already in the sprint (only possible for one person:
    a party's rows were read first)."""
    conn = session.connection()
    dialect = conn.dialect.name
    if audited is not None and len(rows) == 1 and rows[0].id is None \
            and dialect == "postgresql":
        done = conn.execute(_INSERT_AUDITED, {
            **{c: getattr(rows[0], c) for c in _COLUMNS},
            **{f"audit_{c}": audited[c] for c in _AUDIT_COLUMNS}}).first()
        return None if done is None else [0]
    if any(r.id is not None for r in rows):
        session.flush()
    ids: list[int] = []
    for r in rows:
        if r.id is None:
            got = conn.execute(_INSERT[dialect], {c: getattr(r, c) for c in _COLUMNS}).first()
            if got is None:
                return None
            ids.append(int(got[0]))
        else:
            ids.append(r.id)
    if audited is not None:
        audit.write(session, audited)
    return ids


def leave(session: Session, *, actor: Authorized, sprint_id: int, person: Person,
          settings: Settings, now: datetime) -> str:
    """Withdraw ``person``: a seat (or an offered one) returns to the sprint and
    is offered to the next in line at once; an open offer becomes void.
    Returns the status left. Raises NotFound when they are not in it."""
    sprint = lock_for(session, sprint_id, actor=actor, capability="sprint.signup",
                      refusal=N_("You cannot sign up for this sprint."))
    row = signup_of(session, sprint.id, person.id)
    if row is None or row.status not in ACTIVE:
        raise NotFound(N_("You are not signed up for sprint #{id}."), id=sprint.id)
    was, seat = row.status, row.seat
    if was == "offered":
        for offer in offers.open_offers_for(session, sprint.id, row.id):
            offers.void_offer(session, offer, now, back_to_line=True)
    row.status, row.seat, row.updated_at = "withdrawn", None, now
    record(session=session, actor=actor, action="sprint.leave", subject_type="sprint",
           subject_id=sprint.id, was=was, seat=seat,
           reason=f"{person.name} left ({was}" + (f", seat {seat} returned)" if seat else ")"))
    if was in HOLDING:
        offers.fill(session, actor=actor, sprint=sprint, settings=settings, now=now,
                    cause=f"{person.name} left seat {seat}")
    return was


def set_priority(session: Session, *, actor: Authorized, sprint_id: int, person: Person,
                 priority: int) -> SprintSignup:
    """Set a waitlisted person's priority (higher is served first; secretariat)."""
    sprint = lock_for(session, sprint_id, actor=actor, capability="sprint.manage",
                      refusal=N_("Only the secretariat can change priorities."))
    row = signup_of(session, sprint.id, person.id)
    if row is None or row.status != "waitlisted":
        raise NotFound(N_("{name} is not in the waitlist of sprint #{id}."), name=person.name,
                       id=sprint.id)
    row.priority = priority
    record(session=session, actor=actor, action="sprint.priority", subject_type="sprint",
           subject_id=sprint.id, person=person.name, priority=priority,
           reason=f"{person.name} given priority {priority}")
    return row


STATUS_LABELS = {
    "seated": N_("seated"), "offered": N_("a seat is offered to you"),
    "waitlisted": N_("in the waitlist"), "withdrawn": N_("withdrawn"),
    "declined": N_("declined an offer"), "expired": N_("an offer expired"),
}
