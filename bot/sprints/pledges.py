"""Co-funding pledges: amounts in a currency, totals per currency, and the
all-or-nothing minimum.

A sprint with a minimum goes ahead only if its active pledges in the
sprint's currency reach it by the funding deadline; otherwise the
``sprints.tick`` job marks it not funded (and cancelled) and tells every
pledger. Pledges in other currencies are shown beside it, never converted
nor added. A pledge may be changed or withdrawn until the deadline.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.audit import record
from bot.errors import N_, Conflict, NotFound
from bot.permissions import Authorized, authorize_system
from bot.sprints import money, notify, offers, proposals
from bot.sprints.common import local, lock_for, lock_sprint
from storage.models import Person, Sprint, SprintFollower, SprintOffer, SprintPledge


def totals(session: Session, sprint_id: int) -> dict[str, int]:
    """Active pledges per currency, in minor units (never summed across currencies)."""
    return money.totals(session.execute(
        select(SprintPledge.currency, SprintPledge.amount_minor).where(
            SprintPledge.sprint_id == sprint_id, SprintPledge.status == "active")).all())


def _check_window(sprint: Sprint, now: datetime, zone: str) -> None:
    if sprint.state != "open":
        raise Conflict(N_("Sprint #{id} is not open for pledges."), id=sprint.id)
    if sprint.funding_deadline is not None and now >= sprint.funding_deadline:
        raise Conflict(N_("Pledges for sprint #{id} closed at {when}."), id=sprint.id,
                       when=local(sprint.funding_deadline, zone))


def pledge(session: Session, *, actor: Authorized, sprint_id: int, person: Person,
           amount: Decimal, currency: str, now: datetime) -> SprintPledge:
    """Pledge ``amount`` (Decimal, > 0) of ``currency`` (ISO 4217) to the sprint;
    a second pledge replaces the first. ``actor`` holds ``sprint.pledge`` in
    the sprint's group. Raises Conflict when closed or past the deadline."""
    sprint = lock_for(session, sprint_id, actor=actor, capability="sprint.pledge",
                      refusal=N_("You cannot pledge to this sprint."))
    _check_window(sprint, now, person.timezone)
    code = money.currency_code(currency)
    minor = money.to_minor(amount, code)
    row = session.scalars(select(SprintPledge).where(SprintPledge.sprint_id == sprint.id,
                                                     SprintPledge.person_id == person.id)
                          ).first()
    if row is None:
        row = SprintPledge(sprint_id=sprint.id, person_id=person.id, created_at=now)
        session.add(row)
    row.organisation_id, row.currency, row.amount_minor = person.organisation_id, code, minor
    row.status, row.channel, row.updated_at = "active", actor.channel, now
    session.flush()
    record(session=session, actor=actor, action="sprint.pledge", subject_type="sprint",
           subject_id=sprint.id, currency=code, amount=str(money.from_minor(minor, code)),
           person=person.name)
    return row


def withdraw(session: Session, *, actor: Authorized, sprint_id: int, person: Person,
             now: datetime) -> SprintPledge:
    """Withdraw the person's pledge before the deadline. Raises NotFound, Conflict."""
    sprint = lock_for(session, sprint_id, actor=actor, capability="sprint.pledge",
                      refusal=N_("You cannot pledge to this sprint."))
    _check_window(sprint, now, person.timezone)
    row = session.scalars(select(SprintPledge).where(
        SprintPledge.sprint_id == sprint.id, SprintPledge.person_id == person.id,
        SprintPledge.status == "active")).first()
    if row is None:
        raise NotFound(N_("You have no pledge to sprint #{id}."), id=sprint.id)
    row.status, row.updated_at = "withdrawn", now
    record(session=session, actor=actor, action="sprint.unpledge", subject_type="sprint",
           subject_id=sprint.id, currency=row.currency,
           amount=str(money.from_minor(row.amount_minor, row.currency)), person=person.name)
    return row


def settle_due(session_factory: sessionmaker[Session], *, now: datetime) -> int:
    """Decide every sprint whose funding deadline has passed, once each (a
    conditional UPDATE on ``funding_state``): funded, or not funded, cancelled,
    its open offers void and every pledger and follower told. Returns how many
    this call decided."""
    with session_factory() as session:
        due = session.scalars(select(Sprint.id).where(
            Sprint.funding_state == "pending", Sprint.state == "open",
            Sprint.funding_deadline <= now).order_by(Sprint.id)).all()
    done = 0
    for sid in due:
        with session_factory() as session, session.begin():
            sprint = lock_sprint(session, sid)
            got = totals(session, sid).get(sprint.currency, 0)
            funded = got >= sprint.minimum_minor
            res = session.execute(update(Sprint).where(
                Sprint.id == sid, Sprint.funding_state == "pending")
                .values(funding_state="funded" if funded else "not_funded")
                .execution_options(synchronize_session=False))
            if res.rowcount != 1:  # type: ignore[attr-defined]
                continue
            sprint.funding_state = "funded" if funded else "not_funded"
            actor = authorize_system(capability="sprint.manage", channel="job",
                                     group_id=sprint.group_id)
            record(session=session, actor=actor, action="sprint.funding",
                   subject_type="sprint", subject_id=sid, funded=funded,
                   total_minor=got, minimum_minor=sprint.minimum_minor,
                   currency=sprint.currency)
            ids = set(session.scalars(select(SprintPledge.person_id).where(
                SprintPledge.sprint_id == sid, SprintPledge.status == "active")).all())
            ids |= set(session.scalars(select(SprintFollower.person_id).where(
                SprintFollower.sprint_id == sid)).all())
            if not funded:
                sprint.state = "cancelled"
                sprint.decision_reason = "not funded"
                for offer in session.scalars(select(SprintOffer).where(
                        SprintOffer.sprint_id == sid, SprintOffer.status == "open")).all():
                    offers.void_offer(session, offer, now, back_to_line=False)
                ids |= proposals.involved(session, sid)
            for person in notify.people(session, ids):
                lang = person.language
                notify.funding_outcome(
                    session, sprint=sprint, people=[person], funded=funded,
                    total=money.format_money(got, sprint.currency, lang),
                    minimum=money.format_money(sprint.minimum_minor, sprint.currency, lang))
            done += 1
    return done
