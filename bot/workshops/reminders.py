"""Reminders as due rows: planned when a workshop is confirmed (or an action
item agreed), claimed when due, sent once through the outbox.

Each row has a unique ``key`` (workshop, person, offset, start instant), so a
reminder exists once however often it is planned; the send marks the row
``sent`` and queues the email under the same key in one transaction, so a
crash before the commit sends nothing and the next pass sends it, and a crash
after sends it never again. On PostgreSQL rows are claimed with
``FOR UPDATE SKIP LOCKED`` so replicas never take the same row.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload, sessionmaker

from bot.errors import N_
from bot.formatting import zone_info
from bot.i18n import translator
from bot.mail import OutgoingEmail
from bot.outbox import enqueue_emails
from bot.settings import Settings
from bot.workshops.render import local_text
from storage.base import utcnow
from storage.engine import dialect_insert
from storage.models import (
    Person,
    Workshop,
    WorkshopAction,
    WorkshopReminder,
    WorkshopRsvp,
)

log = logging.getLogger(__name__)

#: Reminders this many minutes ahead or more arrive in the reader's daytime.
DAYTIME = (8, 20)


def daytime(due: datetime, zone: str) -> datetime:
    """``due`` moved *earlier* into the reader's daytime (08:00-20:00 local), so a
    day-before reminder never arrives at 03:00. Aware in, aware UTC out."""
    tz = zone_info(zone)
    local = due.astimezone(tz)
    start, end = DAYTIME
    if start <= local.hour < end:
        return due
    day = local.date() if local.hour >= end else local.date() - timedelta(days=1)
    return datetime.combine(day, time(end - 2, 0), tzinfo=tz).astimezone(UTC)


def _insert(session: Session, rows: list[dict[str, object]]) -> int:
    """Insert reminder ``rows`` whose key is new; how many were. A few hundred
    rows a statement (SQLite allows 32,766 parameters), not one a person."""
    if not rows:
        return 0
    # A cached statement and a list of parameter sets ("insertmanyvalues"):
    # .values([...]) would compile a new statement for every workshop.
    stmt = (dialect_insert(session.get_bind().dialect.name)(WorkshopReminder)
            .on_conflict_do_nothing(index_elements=["key"]).returning(WorkshopReminder.id))
    session.flush()
    conn = session.connection().execution_options(insertmanyvalues_page_size=500)
    return len(conn.execute(stmt, rows).all())


def due_times(*, starts_at: datetime, offsets: list[int], zone: str, now: datetime
              ) -> dict[int, datetime]:
    """When each reminder of a workshop starting ``starts_at`` goes to a reader
    in ``zone``, planned at ``now`` (aware): ``{minutes before: due, aware UTC}``.

    A reminder whose time is still ahead is due then, a day-scale one (12 h or
    more) moved earlier into the reader's daytime; when that daytime slot has
    passed it is due at once, never dropped. Of the reminders whose time had
    passed already (a workshop confirmed late), the latest is due at once (a
    workshop confirmed 20 hours ahead still gets its day-before reminder),
    unless a day-scale one is still ahead; the earlier ones would say the same
    and are left out. Nothing is due at or after the start."""
    if starts_at <= now:
        return {}
    out: dict[int, datetime] = {}
    passed: list[int] = []
    for minutes in sorted(set(offsets), reverse=True):
        nominal = starts_at - timedelta(minutes=minutes)
        if nominal <= now:
            passed.append(minutes)
            continue
        slot = daytime(nominal, zone) if minutes >= 720 else nominal
        out[minutes] = max(slot, now)
    if passed and not any(m >= 720 for m in out):
        out[min(passed)] = now
    return out


def plan(session: Session, workshop: Workshop, settings: Settings) -> int:
    """Plan the reminders of a confirmed ``workshop`` for everyone invited
    (whether they declined is checked when each is due), due as
    :func:`due_times` says. Pending reminders of an earlier time are
    skipped. Returns how many rows were added."""
    from bot.workshops.availability import invitee_zones

    assert workshop.starts_at is not None
    start = int(workshop.starts_at.timestamp())
    skip_pending(session, workshop.id, keep=f":s{start}")
    now = utcnow()
    rows: list[dict[str, object]] = []
    for person_id, zone in invitee_zones(session, workshop):
        dues = due_times(starts_at=workshop.starts_at,
                         offsets=settings.workshops.reminder_minutes, zone=zone, now=now)
        for minutes, due in dues.items():
            rows.append(dict(key=f"w{workshop.id}:p{person_id}:m{minutes}:s{start}",
                             workshop_id=workshop.id, person_id=person_id,
                             action_id=None, kind=f"before:{minutes}", due_at=due,
                             status="pending"))
    return _insert(session, rows)


def plan_action(session: Session, action: WorkshopAction, owner: Person) -> bool:
    """One reminder to the owner the day before ``action`` is due (daytime)."""
    due = daytime(action.due_at - timedelta(days=1), owner.timezone)
    if due <= utcnow():
        due = utcnow()
    return _insert(session, [dict(key=f"a{action.id}:due{int(action.due_at.timestamp())}",
                                  workshop_id=action.workshop_id, person_id=owner.id,
                                  action_id=action.id, kind="action", due_at=due,
                                  status="pending")]) == 1


def skip_pending(session: Session, workshop_id: int, *, keep: str = "") -> None:
    """Mark the workshop's pending (not action) reminders skipped, except those
    whose key ends with ``keep`` (the current start instant)."""
    q = update(WorkshopReminder).where(
        WorkshopReminder.workshop_id == workshop_id, WorkshopReminder.status == "pending",
        WorkshopReminder.action_id.is_(None))
    if keep:
        q = q.where(~WorkshopReminder.key.endswith(keep))
    session.execute(q.values(status="skipped").execution_options(synchronize_session=False))


def claim_due(session: Session, *, now: datetime, limit: int = 200) -> list[WorkshopReminder]:
    """Due pending rows, locked for this unit of work (SKIP LOCKED on PostgreSQL)."""
    q = (select(WorkshopReminder).where(WorkshopReminder.status == "pending",
                                        WorkshopReminder.due_at <= now)
         .order_by(WorkshopReminder.due_at, WorkshopReminder.id).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        q = q.with_for_update(skip_locked=True)
    return list(session.scalars(q))


@dataclass(frozen=True, slots=True)
class _Batch:
    """What a batch of claimed reminders refers to, read in one statement a
    table (not four a reminder): people with their addresses, workshops,
    action items, and the (workshop, person) pairs that declined."""

    people: dict[int, Person]
    workshops: dict[int, Workshop]
    actions: dict[int, WorkshopAction]
    declined: set[tuple[int, int]]

    @classmethod
    def read(cls, session: Session, rows: list[WorkshopReminder]) -> _Batch:
        pids = {r.person_id for r in rows}
        wids = {r.workshop_id for r in rows}
        aids = {r.action_id for r in rows if r.action_id is not None}
        people = {p.id: p for p in session.scalars(select(Person).where(
            Person.id.in_(pids)).options(selectinload(Person.emails)))}
        workshops = {w.id: w for w in session.scalars(select(Workshop).where(
            Workshop.id.in_(wids)))}
        actions = {a.id: a for a in session.scalars(select(WorkshopAction).where(
            WorkshopAction.id.in_(aids)))} if aids else {}
        declined = {(w, p) for w, p in session.execute(
            select(WorkshopRsvp.workshop_id, WorkshopRsvp.person_id).where(
                WorkshopRsvp.workshop_id.in_(wids), WorkshopRsvp.person_id.in_(pids),
                WorkshopRsvp.answer == "declined"))}
        return cls(people, workshops, actions, declined)


def _reminder_email(batch: _Batch, row: WorkshopReminder, settings: Settings
                    ) -> OutgoingEmail | None:
    person = batch.people.get(row.person_id)
    ws = batch.workshops.get(row.workshop_id)
    if person is None or ws is None or not person.primary_email:
        return None
    tr = translator(person.language)
    if row.action_id is not None:
        action = batch.actions.get(row.action_id)
        if action is None or action.done_at is not None:
            return None
        subject = tr.gettext(N_("Action item due: {text}"), text=action.text[:80])
        body = tr.gettext(N_("Your action item from workshop #{id} is due {when}:\n\n{text}\n\n"
                             "When it is done, write in chat: workshop action done {action}"),
                          id=ws.id, when=local_text(action.due_at, person.timezone,
                                                    person.language),
                          text=action.text, action=action.id)
    else:
        if ws.state != "confirmed" or ws.starts_at is None:
            return None
        if (ws.id, person.id) in batch.declined:
            return None
        subject = tr.gettext(N_("Reminder: {title}"), title=ws.title)
        body = tr.gettext(N_("Workshop #{id} starts {when}."), id=ws.id,
                          when=local_text(ws.starts_at, person.timezone, person.language))
        if ws.join_url:
            body += "\n\n" + tr.gettext(N_("Join: {url}"), url=ws.join_url)
    domain = (settings.workshops.calendar_address or settings.mail.from_address
              ).rsplit("@", 1)[-1]
    return OutgoingEmail(to=(person.primary_email,), subject=subject, text=body,
                         message_id=f"<workshop.{ws.id}.reminder.{row.id}@{domain}>")


def send_due(session_factory: sessionmaker[Session], settings: Settings, *,
             now: datetime | None = None, batch_size: int = 200) -> int:
    """Send every due reminder once, ``batch_size`` a unit of work (each read
    and queued in a few statements, whatever its size); returns how many
    emails were queued. Reminders for people who declined, or for a moved or
    cancelled workshop, are marked ``skipped``."""
    now = now or utcnow()
    sent = 0
    while True:
        with session_factory() as session, session.begin():
            rows = claim_due(session, now=now, limit=batch_size)
            batch = _Batch.read(session, rows) if rows else None
            emails: list[tuple[str, OutgoingEmail]] = []
            for row in rows:
                assert batch is not None
                email = _reminder_email(batch, row, settings)
                row.sent_at = now
                if email is None:
                    row.status = "skipped"
                    continue
                row.status = "sent"
                emails.append((f"workshop-reminder:{row.key}", email))
            sent += len(enqueue_emails(session=session, emails=emails))
        if len(rows) < batch_size:
            return sent
