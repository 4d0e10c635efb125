"""Agenda items, the record (notes) and action items of a workshop.

Anyone in the group may propose an agenda item until the agenda deadline
(observers too: they comment); the secretariat orders, publishes and records.
Open action items are carried into the next workshop's agenda by
:func:`bot.workshops.series.open_workshop`.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.audit import record
from bot.errors import N_, Conflict, InvalidInput, NotFound, PermissionDenied
from bot.i18n import translator
from bot.mail import OutgoingEmail
from bot.outbox import enqueue_email
from bot.permissions import Authorized, authorize_system
from bot.settings import Settings
from bot.workshops import reminders
from bot.workshops.availability import invitees
from bot.workshops.render import local_text
from storage.base import utcnow
from storage.models import Person, Workshop, WorkshopAction, WorkshopAgendaItem

log = logging.getLogger(__name__)


def add_item(*, session: Session, actor: Authorized, workshop: Workshop, person_id: int,
             text: str) -> WorkshopAgendaItem:
    """Propose an agenda item. Raises InvalidInput (empty), Conflict (past the
    deadline, published, or the workshop is over)."""
    text = text.strip()
    if not text:
        raise InvalidInput(N_("Write the agenda item after the workshop number."))
    if workshop.state in ("cancelled", "held"):
        raise Conflict(N_("Workshop #{id} is {state}; its agenda is closed."),
                       id=workshop.id, state=workshop.state)
    if workshop.agenda_deadline is not None and utcnow() > workshop.agenda_deadline:
        raise Conflict(N_("The agenda of workshop #{id} closed for proposals; ask the "
                          "secretariat."), id=workshop.id)
    item = WorkshopAgendaItem(workshop_id=workshop.id, person_id=person_id, text=text[:2000],
                              state="proposed", position=0)
    session.add(item)
    session.flush()
    record(session=session, actor=actor, action="workshop.agenda.add", subject_type="workshop",
           subject_id=workshop.id, item=item.id)
    return item


def items(session: Session, workshop_id: int) -> list[WorkshopAgendaItem]:
    """Every item not dropped: accepted ones in order, then proposals."""
    rows = session.scalars(select(WorkshopAgendaItem).where(
        WorkshopAgendaItem.workshop_id == workshop_id, WorkshopAgendaItem.state != "dropped"))
    return sorted(rows, key=lambda i: (i.state != "accepted", i.position, i.id))


def order(*, session: Session, actor: Authorized, workshop: Workshop, ids: list[int]) -> int:
    """Accept the items ``ids`` in that order and drop the other proposals.
    Raises NotFound for an id of another workshop."""
    mine = {i.id: i for i in items(session, workshop.id)}
    unknown = [i for i in ids if i not in mine]
    if unknown:
        raise NotFound(N_("Workshop #{id} has no agenda item {item}."), id=workshop.id,
                       item=unknown[0])
    for pos, iid in enumerate(ids, start=1):
        mine[iid].state, mine[iid].position = "accepted", pos
    for iid, item in mine.items():
        if iid not in ids and item.carried_from_action is None:
            item.state = "dropped"
    record(session=session, actor=actor, action="workshop.agenda.order",
           subject_type="workshop", subject_id=workshop.id, order=ids)
    return len(ids)


def publish(*, session: Session, actor: Authorized, workshop: Workshop, settings: Settings,
            now: datetime | None = None, tag: str | None = None) -> int:
    """Circulate the agenda by email to every invitee who has not declined,
    in their language and zone. Returns how many emails were queued.

    ``now`` (aware UTC, default the current time) is recorded as
    ``agenda_published_at``. Each email's outbox key is ``workshop:<id>:agenda:
    <tag>:<person>``; ``tag`` defaults to ``now``'s epoch seconds, so every
    manual publication circulates again, while the automatic one
    (:func:`circulate_due`, ``tag="auto"``) can be queued at most once per
    person whatever runs it. Raises Conflict when no item is accepted yet."""
    accepted = [i.text for i in items(session, workshop.id) if i.state == "accepted"]
    if not accepted:
        raise Conflict(N_("Accept some agenda items first: workshop agenda order {id} 1,2,3"),
                       id=workshop.id)
    workshop.agenda_published_at = now or utcnow()
    tag = tag or str(int(workshop.agenda_published_at.timestamp()))
    listing = "\n".join(f"{k}. {t}" for k, t in enumerate(accepted, start=1))
    n = _email_invitees(session=session, workshop=workshop, settings=settings,
                        kind=f"agenda:{tag}", heading=N_("Agenda of workshop #{id} ({when}):"),
                        subject=N_("Agenda: {title}"), text=listing)
    record(session=session, actor=actor, action="workshop.agenda.publish",
           subject_type="workshop", subject_id=workshop.id, emails=n, tag=tag)
    return n


def circulate_due(session_factory: sessionmaker[Session], settings: Settings, *,
                  now: datetime) -> int:
    """Circulate, through :func:`publish`, the agenda of every confirmed
    workshop starting within ``settings.workshops.agenda_days`` days of ``now``
    (aware UTC) that has accepted items and was never published (by hand or by
    this job). Returns how many emails were queued; 0 when ``agenda_days`` is 0
    (automatic circulation off).

    Once per workshop: each is claimed by setting ``agenda_published_at``
    where it is still NULL, in the same transaction as its outbox rows, so a
    restart or a second replica finds it published (on PostgreSQL a
    concurrent claim waits for the first and then matches no row); the outbox
    keys (``tag="auto"``) are unique as well. A cancelled workshop is skipped;
    an agenda ordered after the due time goes out at the next pass; a
    publication by hand before the due time is not repeated."""
    days = settings.workshops.agenda_days
    if days <= 0:
        return 0
    with session_factory() as session:
        due = list(session.scalars(select(Workshop.id).where(
            Workshop.state == "confirmed", Workshop.starts_at > now,
            Workshop.starts_at <= now + timedelta(days=days),
            Workshop.agenda_published_at.is_(None),
            exists().where(WorkshopAgendaItem.workshop_id == Workshop.id,
                           WorkshopAgendaItem.state == "accepted")).order_by(Workshop.id)))
    sent = 0
    for wid in due:
        try:
            with session_factory() as session, session.begin():
                res = session.execute(
                    update(Workshop).where(Workshop.id == wid, Workshop.state == "confirmed",
                                           Workshop.agenda_published_at.is_(None))
                    .values(agenda_published_at=now)
                    .execution_options(synchronize_session=False))
                if res.rowcount != 1:  # type: ignore[attr-defined]
                    continue  # published meanwhile, by hand or by another replica
                ws = session.get(Workshop, wid)
                assert ws is not None
                actor = authorize_system(capability="workshop.manage", channel="job",
                                         group_id=ws.group_id)
                sent += publish(session=session, actor=actor, workshop=ws, settings=settings,
                                now=now, tag="auto")
        except Conflict:
            log.info("workshops: agenda of #%d has no accepted item any more", wid)
    return sent


def set_notes(*, session: Session, actor: Authorized, workshop: Workshop, text: str) -> None:
    """Record the workshop's notes (the record); a held workshop is ``held``."""
    if not text.strip():
        raise InvalidInput(N_("Write the notes after the workshop number."))
    workshop.notes = (workshop.notes + "\n\n" if workshop.notes else "") + text.strip()
    if workshop.state == "confirmed" and workshop.starts_at and workshop.starts_at <= utcnow():
        workshop.state = "held"
    record(session=session, actor=actor, action="workshop.notes", subject_type="workshop",
           subject_id=workshop.id)


def send_notes(*, session: Session, workshop: Workshop, settings: Settings) -> int:
    """Email the workshop's notes (the whole record so far) to every invitee
    who did not decline, in their language. Returns how many were queued.

    Each email's outbox key names a digest of the notes, so the same record is
    sent once however often it is asked for, and an added note sends the
    updated record again."""
    if not workshop.notes:
        return 0
    digest = hashlib.sha256(workshop.notes.encode()).hexdigest()[:16]
    return _email_invitees(session=session, workshop=workshop, settings=settings,
                           kind=f"notes:{digest}", heading=N_("Notes of workshop #{id} ({when}):"),
                           subject=N_("Notes: {title}"), text=workshop.notes)


def _email_invitees(*, session: Session, workshop: Workshop, settings: Settings, kind: str,
                    heading: str, subject: str, text: str) -> int:
    """Email ``text`` under ``heading`` (a msgid with ``{id}`` and ``{when}``)
    to every invitee who did not decline, each in their language and zone;
    outbox key and Message-ID ``workshop:<id>:<kind>:<person>``. Returns how
    many were queued (a key already queued counts 0)."""
    from bot.workshops.rsvp import declined

    skip = declined(session, workshop.id)
    domain = settings.mail.from_address.rsplit("@", 1)[-1]
    n = 0
    for inv in invitees(session, workshop):
        p = inv.person
        if skip.get(p.id) or not p.primary_email:
            continue
        tr = translator(p.language)
        when = (local_text(workshop.starts_at, p.timezone, p.language)
                if workshop.starts_at else tr.gettext(N_("time not fixed yet")))
        body = tr.gettext(heading, id=workshop.id, when=when) + "\n\n" + text
        mid = kind.replace(":", ".")
        n += enqueue_email(session=session, key=f"workshop:{workshop.id}:{kind}:{p.id}",
                           email=OutgoingEmail(
                               to=(p.primary_email,), text=body,
                               subject=tr.gettext(subject, title=workshop.title),
                               message_id=f"<workshop.{workshop.id}.{mid}.{p.id}@{domain}>"))
    return n


def add_action(*, session: Session, actor: Authorized, workshop: Workshop, owner: Person,
               due_at: datetime, text: str) -> WorkshopAction:
    """An action item for ``owner`` due at ``due_at`` (aware; entered in the
    owner's zone), with a reminder the day before. Raises InvalidInput."""
    if not text.strip():
        raise InvalidInput(N_("Write what is to be done."))
    action = WorkshopAction(workshop_id=workshop.id, owner_id=owner.id, text=text.strip(),
                            due_at=due_at)
    session.add(action)
    session.flush()
    reminders.plan_action(session, action, owner)
    record(session=session, actor=actor, action="workshop.action.add",
           subject_type="workshop", subject_id=workshop.id, action_id=action.id,
           owner=owner.id, due_at=due_at.isoformat())
    return action


def close_action(*, session: Session, actor: Authorized, action_id: int, person_id: int,
                 manager: bool) -> WorkshopAction:
    """Mark an action done: its owner or the secretariat. Raises NotFound,
    PermissionDenied, Conflict (already done)."""
    action = session.get(WorkshopAction, action_id)
    if action is None:
        raise NotFound(N_("There is no action item #{id}."), id=action_id)
    if action.owner_id != person_id and not manager:
        raise PermissionDenied(N_("Only the owner or the secretariat can close action item "
                                  "#{id}."), id=action_id)
    if action.done_at is not None:
        raise Conflict(N_("Action item #{id} is already done."), id=action_id)
    action.done_at = utcnow()
    record(session=session, actor=actor, action="workshop.action.done",
           subject_type="action", subject_id=action_id)
    return action


def open_actions(session: Session, *, overdue_only: bool = False,
                 owner_id: int | None = None) -> list[tuple[WorkshopAction, Person]]:
    """Open action items with their owners, earliest due first; ``owner_id``:
    only that person's."""
    q = select(WorkshopAction, Person).join(Person, Person.id == WorkshopAction.owner_id
                                            ).where(WorkshopAction.done_at.is_(None))
    if owner_id is not None:
        q = q.where(WorkshopAction.owner_id == owner_id)
    if overdue_only:
        q = q.where(WorkshopAction.due_at < utcnow())
    return [(a, p) for a, p in session.execute(q.order_by(WorkshopAction.due_at)).all()]
