"""Offers of freed seats: who is next, for how long, and what happens on an
answer or at the deadline.

A freed seat goes to the first in line (priority, then the time they asked)
who *fits*: a party needs as many free seats as it has people (seated
together or not at all) and every organisation must stay within the sprint's
per-organisation cap. Whoever does not fit keeps their place and is skipped,
with the reason written to the audit log and, for a cap, told to them. The
offer holds the seats for ``offer_hours`` stretched to cover at least
``min_waking_hours`` of waking time in the recipient's own zone. An offer
leaves ``open`` once (a conditional UPDATE): accepted, declined, expired (by
the ``sprints.tick`` job) or void (the sprint was cancelled, the person
left); a decline or an expiry passes the seats on at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.audit import record
from bot.errors import N_, Conflict, NotFound, PermissionDenied
from bot.permissions import Authorized, authorize_system
from bot.settings import Settings, SprintSettings
from bot.sprints import notify
from bot.sprints.common import OpenSprint, local, lock_for, lock_sprint, postgresql
from storage.models import Organisation, Person, Sprint, SprintOffer, SprintSignup

STEP = timedelta(minutes=15)


def offer_deadline(start: datetime, *, zone: str, hours: int, cfg: SprintSettings) -> datetime:
    """When an offer made at ``start`` (aware) ends: ``hours`` later, or later
    still until it spans ``cfg.min_waking_hours`` between ``cfg.waking_start``
    and ``cfg.waking_end`` o'clock in ``zone`` (an IANA name). Aware, UTC."""
    tz = ZoneInfo(zone)
    end = start + timedelta(hours=hours)
    need = timedelta(hours=cfg.min_waking_hours)
    awake = timedelta(0)
    t = start
    while t < end or awake < need:
        hour = t.astimezone(tz).hour
        if cfg.waking_start <= hour < cfg.waking_end:
            awake += STEP
        t += STEP
        if t - start > timedelta(days=30):  # waking hours that never come: a bad config
            break
    return t.astimezone(ZoneInfo("UTC"))


def line(session: Session, sprint_id: int) -> list[SprintSignup]:
    """The waitlist in the order it is served: priority (higher first), then
    the time asked, then the row id."""
    return list(session.scalars(
        select(SprintSignup).where(SprintSignup.sprint_id == sprint_id,
                                   SprintSignup.status == "waitlisted")
        .order_by(SprintSignup.priority.desc(), SprintSignup.asked_at, SprintSignup.id)).all())


def parties(signups: list[SprintSignup]) -> Iterator[list[SprintSignup]]:
    """Group a line into parties, each at the place of its first member."""
    seen: dict[str, list[SprintSignup]] = {}
    order: list[list[SprintSignup]] = []
    for s in signups:
        key = s.party or f"#{s.id}"
        if key not in seen:
            seen[key] = []
            order.append(seen[key])
        seen[key].append(s)
    yield from order


def seat_map(session: Session, sprint: Sprint | OpenSprint
             ) -> tuple[list[int], dict[int | None, int]]:
    """``(free seat numbers, lowest first; seats held per organisation id)``
    in one read of the held seats (a seat is set exactly while seated or
    offered, so at most ``capacity`` rows)."""
    rows = session.execute(select(SprintSignup.seat, SprintSignup.organisation_id).where(
        SprintSignup.sprint_id == sprint.id, SprintSignup.seat.is_not(None))).all()
    used = {seat for seat, _ in rows}
    held: dict[int | None, int] = {}
    for _, org in rows:
        held[org] = held.get(org, 0) + 1
    return [n for n in range(1, sprint.capacity + 1) if n not in used], held


def free_seats(session: Session, sprint: Sprint) -> list[int]:
    """Seat numbers 1..capacity not held by anyone, lowest first."""
    return seat_map(session, sprint)[0]


def cap_problem(session: Session, sprint: Sprint | OpenSprint, members: list[SprintSignup],
                held: dict[int | None, int]) -> tuple[int | None, int] | None:
    """``(organisation id, seats it holds)`` of the first organisation the party
    would push over the cap, or None when it fits."""
    if not sprint.org_cap:
        return None
    wanted: dict[int | None, int] = {}
    for s in members:
        if s.organisation_id is not None:
            wanted[s.organisation_id] = wanted.get(s.organisation_id, 0) + 1
    for org, n in sorted(wanted.items(), key=lambda kv: kv[0] or 0):
        if held.get(org, 0) + n > sprint.org_cap:
            return org, held.get(org, 0)
    return None


def _names(session: Session, members: list[SprintSignup]) -> list[str]:
    return [p.name for p in notify.people(session, (s.person_id for s in members))]


def fill(session: Session, *, actor: Authorized, sprint: Sprint, settings: Settings,
         now: datetime, cause: str) -> list[SprintOffer]:
    """Offer every free seat to the first in line who fits (the sprint must be
    locked by the caller). Nothing is offered once sign-ups have closed or the
    sprint is not open. ``cause`` says why seats are free, for the audit log.
    Returns the offers made."""
    if sprint.state != "open" or now >= sprint.signup_closes_at:
        return []
    free, held = seat_map(session, sprint)
    if not free:
        return []
    skips: list[str] = []
    made: list[SprintOffer] = []
    for members in parties(line(session, sprint.id)):
        if not free:
            break
        names = _names(session, members)
        if len(members) > len(free):
            skips.append(f"{', '.join(names)} skipped: a party of {len(members)} needs "
                         f"{len(members)} seats together, {len(free)} free")
            continue
        problem = cap_problem(session, sprint, members, held)
        if problem is not None:
            org_id, n = problem
            org = session.get(Organisation, org_id) if org_id is not None else None
            org_name = org.name if org else "?"
            skips.append(f"{', '.join(names)} skipped: {org_name} already has {n} of "
                         f"{sprint.org_cap}")
            for s in members:
                person = session.get(Person, s.person_id)
                if person is not None and s.organisation_id == org_id:
                    notify.skipped(session, sprint=sprint, person=person,
                                   organisation=org_name, held=n, cap=sprint.org_cap)
            continue
        seats, free = free[:len(members)], free[len(members):]
        head = session.get(Person, members[0].person_id)
        assert head is not None
        for s, seat in zip(members, seats, strict=True):
            s.status, s.seat, s.updated_at = "offered", seat, now
            held[s.organisation_id] = held.get(s.organisation_id, 0) + 1
        why = "first in line" if not skips else "first in line who fits"
        reason = f"seat {', '.join(map(str, seats))} to {', '.join(names)}: {why}" + \
            "".join(f"; {s}" for s in skips) + f" ({cause})"
        offer = SprintOffer(sprint_id=sprint.id, person_id=head.id,
                            signup_ids=[s.id for s in members], status="open", reason=reason,
                            created_at=now, expires_at=offer_deadline(
                                now, zone=head.timezone, hours=sprint.offer_hours,
                                cfg=settings.sprints))
        session.add(offer)
        session.flush()
        record(session=session, actor=actor, action="sprint.offer", subject_type="sprint",
               subject_id=sprint.id, offer=offer.id, seats=seats, people=names,
               reason=reason, expires_at=offer.expires_at.isoformat())
        notify.offer_made(session, settings=settings, sprint=sprint, offer=offer, person=head,
                          seats=seats, party=names)
        made.append(offer)
        skips = []
    if skips:
        record(session=session, actor=actor, action="sprint.skip", subject_type="sprint",
               subject_id=sprint.id, reason="; ".join(skips) + f" ({cause})")
    return made


def _close(session: Session, offer: SprintOffer, status: str, now: datetime) -> bool:
    """Move ``offer`` out of ``open`` once; False when something else did first."""
    res = session.execute(update(SprintOffer).where(SprintOffer.id == offer.id,
                                                    SprintOffer.status == "open")
                          .values(status=status, answered_at=now)
                          .execution_options(synchronize_session=False))
    if res.rowcount != 1:  # type: ignore[attr-defined]
        return False
    offer.status, offer.answered_at = status, now
    return True


def _release(session: Session, offer: SprintOffer, status: str, now: datetime) -> None:
    for s in session.scalars(select(SprintSignup).where(
            SprintSignup.id.in_(offer.signup_ids))).all():
        if s.status == "offered":
            s.status, s.seat, s.updated_at = status, None, now


Answer = Literal["accept", "decline"]

REFUSALS = {
    "accepted": N_("You already accepted this offer; your seat in sprint #{id} is yours."),
    "declined": N_("You declined this offer; it can no longer be used."),
    "expired": N_("This offer expired; the seat went to the next person in line."),
    "void": N_("This offer was withdrawn (the sprint was cancelled, or you left it); it can "
               "no longer be used."),
}


def open_offer(session: Session, *, sprint_id: int, person_id: int) -> SprintOffer | None:
    """The person's open offer in the sprint, if any."""
    return session.scalars(select(SprintOffer).where(
        SprintOffer.sprint_id == sprint_id, SprintOffer.person_id == person_id,
        SprintOffer.status == "open").order_by(SprintOffer.id.desc())).first()


def answer(session: Session, *, actor: Authorized, offer_id: int, person_id: int,
           choice: Answer, settings: Settings, now: datetime) -> SprintOffer:
    """Accept or decline offer ``offer_id`` for ``person_id`` (who must be the
    one it was made to; ``actor`` holds ``sprint.signup`` in the sprint's group).
    Raises NotFound, PermissionDenied, Conflict (used, expired, void,
    cancelled) with a sentence. A decline passes the seats on at once."""
    found = session.get(SprintOffer, offer_id)
    if found is None:
        raise NotFound(N_("There is no such offer."))
    sprint = lock_for(session, found.sprint_id, actor=actor, capability="sprint.signup",
                      refusal=N_("You cannot answer offers in this sprint."))
    offer = session.scalars(select(SprintOffer).where(SprintOffer.id == offer_id)
                            .execution_options(populate_existing=True)).one()
    if offer.person_id != person_id:
        raise PermissionDenied(N_("This offer was made to someone else."))
    if offer.status != "open":
        raise Conflict(REFUSALS.get(offer.status, REFUSALS["void"]), id=sprint.id)
    if sprint.state != "open":
        raise Conflict(REFUSALS["void"], id=sprint.id)
    if now >= offer.expires_at:
        person = session.get(Person, person_id)
        raise Conflict(N_("This offer expired at {when}; the seat goes to the next person in "
                          "line. Sign up again to rejoin the waitlist."),
                       when=local(offer.expires_at, person.timezone if person else "UTC"))
    if not _close(session, offer, "accepted" if choice == "accept" else "declined", now):
        raise Conflict(N_("This offer was already answered."))
    if choice == "accept":
        for s in session.scalars(select(SprintSignup).where(
                SprintSignup.id.in_(offer.signup_ids))).all():
            s.status, s.updated_at = "seated", now
        record(session=session, actor=actor, action="sprint.accept", subject_type="sprint",
               subject_id=sprint.id, offer=offer.id, reason=f"offer {offer.id} accepted")
        return offer
    _release(session, offer, "declined", now)
    record(session=session, actor=actor, action="sprint.decline", subject_type="sprint",
           subject_id=sprint.id, offer=offer.id, reason=f"offer {offer.id} declined")
    fill(session, actor=actor, sprint=sprint, settings=settings, now=now,
         cause=f"offer {offer.id} declined")
    return offer


def void_offer(session: Session, offer: SprintOffer, now: datetime, *,
               back_to_line: bool) -> bool:
    """Make an open offer unusable; its sign-ups return to the waitlist (a
    party member left) or stay as they are (the sprint was cancelled)."""
    if not _close(session, offer, "void", now):
        return False
    if back_to_line:
        _release(session, offer, "waitlisted", now)
    return True


def due_offers(session: Session, *, now: datetime) -> list[tuple[int, int]]:
    """``(sprint id, offer id)`` of open offers past their deadline, oldest first."""
    return [(int(s), int(o)) for s, o in session.execute(
        select(SprintOffer.sprint_id, SprintOffer.id).where(
            SprintOffer.status == "open", SprintOffer.expires_at <= now)
        .order_by(SprintOffer.expires_at, SprintOffer.id)).all()]


def expire_due(session_factory: sessionmaker[Session], settings: Settings, *,
               now: datetime) -> int:
    """Expire every open offer past its deadline, each in its own unit of work,
    and pass its seats on. On PostgreSQL the offer row is claimed with ``FOR
    UPDATE SKIP LOCKED`` (after its sprint's lock, the order every path takes);
    the conditional UPDATE makes each expiry happen once, whatever the number
    of replicas or restarts. Returns how many this call expired."""
    with session_factory() as session:
        due = due_offers(session, now=now)
    done = 0
    for sid, oid in due:
        with session_factory() as session, session.begin():
            sprint = lock_sprint(session, sid)
            q = select(SprintOffer).where(SprintOffer.id == oid, SprintOffer.status == "open",
                                          SprintOffer.expires_at <= now)
            if postgresql(session):
                q = q.with_for_update(skip_locked=True)
            offer = session.scalars(q.execution_options(populate_existing=True)).first()
            if offer is None or not _close(session, offer, "expired", now):
                continue
            actor = authorize_system(capability="sprint.manage", channel="job",
                                     group_id=sprint.group_id)
            _release(session, offer, "expired", now)
            person = session.get(Person, offer.person_id)
            record(session=session, actor=actor, action="sprint.expire", subject_type="sprint",
                   subject_id=sid, offer=oid, reason=f"offer {oid} to "
                   f"{person.name if person else '?'} expired unanswered at "
                   f"{notify.stamp(offer.expires_at)}")
            if person is not None:
                notify.offer_lapsed(session, sprint=sprint, offer=offer, person=person)
            fill(session, actor=actor, sprint=sprint, settings=settings, now=now,
                 cause=f"offer {oid} expired")
            done += 1
    return done


def open_offers_for(session: Session, sprint_id: int, signup_id: int) -> list[SprintOffer]:
    """Open offers of the sprint that hold ``signup_id``'s seat."""
    return [o for o in session.scalars(select(SprintOffer).where(
        SprintOffer.sprint_id == sprint_id, SprintOffer.status == "open")).all()
        if signup_id in (o.signup_ids or [])]
