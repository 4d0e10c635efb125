"""Series and workshops: creating them, candidate slots, looking them up.

A series keeps its anchor zone as an IANA *name* (``Europe/Paris``), so the
usual 15:00 there stays 15:00 across daylight saving; every instant is stored
aware in UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.audit import record
from bot.errors import N_, Conflict, InvalidInput, NotFound, PermissionDenied
from bot.permissions import Authorized
from storage.base import utcnow
from storage.models import (
    Group,
    Workshop,
    WorkshopAction,
    WorkshopAgendaItem,
    WorkshopSeries,
    WorkshopSlot,
)

_QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)
_YEAR = re.compile(r"^(\d{4})$")
_LOCAL = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T](\d{1,2}:\d{2})(?:\s+(\S+))?$")
_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def check_zone(name: str) -> str:
    """``name`` if it is an IANA zone; raises InvalidInput naming the fix."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(N_("{zone!r} is not a time zone name: write one such as "
                              "Europe/Paris or Australia/Sydney."), zone=name) from None
    return name


def parse_local(text: str, *, zone: str) -> tuple[datetime, str]:
    """``YYYY-MM-DD HH:MM [Zone/Name]`` (or ISO 8601 with an offset) as
    ``(aware UTC instant, zone it was entered in)``. Without a zone the
    ``zone`` given (the series' anchor) is used, never the server's. A local
    time that does not exist (skipped by a clock change) is refused; one that
    happens twice takes the first. Raises InvalidInput."""
    raw = text.strip()
    m = _LOCAL.match(raw)
    try:
        if m:
            entered = check_zone(m.group(3)) if m.group(3) else zone
            tz = ZoneInfo(entered)
            naive = datetime.fromisoformat(f"{m.group(1)}T{m.group(2).zfill(5)}")
            local = naive.replace(tzinfo=tz, fold=0)
            if local.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive:
                raise InvalidInput(N_("{text} does not exist in {zone}: the clocks change "
                                      "then. Pick another time."), text=raw, zone=entered)
            return local.astimezone(UTC), entered
        when = datetime.fromisoformat(raw)
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise InvalidInput(N_("I cannot read the time {text!r}: write it as 2026-03-12 15:00 "
                              "Europe/Paris (the zone is optional: the series' zone)."),
                           text=raw)
    return when.astimezone(UTC), "UTC"


def quarter_label(text: str, kind: str) -> str:
    """``2026-Q2`` for a quarterly series, ``2026`` for the annual meeting.
    Raises InvalidInput."""
    raw = text.strip()
    if kind == "annual":
        m = _YEAR.match(raw)
        if m:
            return m.group(1)
        raise InvalidInput(N_("Name the year of the annual meeting, e.g. 2026."))
    m = _QUARTER.match(raw)
    if not m:
        raise InvalidInput(N_("Name the quarter as 2026-Q2."))
    return f"{m.group(1)}-Q{m.group(2)}"


def period_bounds(label: str) -> tuple[date, date]:
    """The first and last day of a period label (``2026-Q2`` or ``2026``)."""
    m = _QUARTER.match(label)
    if m:
        year, q = int(m.group(1)), int(m.group(2))
        first = date(year, 3 * q - 2, 1)
        last = date(year + (q == 4), 1 if q == 4 else 3 * q + 1, 1) - timedelta(days=1)
        return first, last
    year = int(label)
    return date(year, 1, 1), date(year, 12, 31)


def next_period(kind: str, now: datetime) -> str:
    """The label of the next period a series of ``kind`` can open after
    ``now`` (aware): the coming quarter (``2027-Q1``) or the coming year."""
    if kind == "annual":
        return str(now.year + 1)
    q = (now.month - 1) // 3 + 1
    year, q = (now.year + 1, 1) if q == 4 else (now.year, q + 1)
    return f"{year}-Q{q}"


def example_slot(workshop: Workshop, now: datetime) -> date:
    """A day to suggest for a first candidate slot of ``workshop``: a weekday
    inside its period, at least a week after ``now`` (aware) when the period
    allows it, else the period's last weekday; never in the past."""
    first, last = period_bounds(workshop.quarter)
    day = max(first, (now + timedelta(days=7)).date())
    if day > last:
        day = max(last, (now + timedelta(days=1)).date())
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def create_series(*, session: Session, actor: Authorized, group: Group, title: str,
                  zone: str, at: str, minutes: int, topic: str = "", kind: str = "quarterly",
                  join_url: str = "", language: str = "en") -> WorkshopSeries:
    """A new series in ``group``; ``actor`` holds ``workshop.manage`` there.
    ``at``: ``HH:MM`` in ``zone``. Raises InvalidInput, PermissionDenied."""
    _require(actor, "workshop.manage", group.id)
    if not title.strip():
        raise InvalidInput(N_("A series needs a title."))
    if kind not in ("quarterly", "annual"):
        raise InvalidInput(N_("A series is quarterly or annual."))
    if not _HHMM.match(at.strip()):
        raise InvalidInput(N_("Write the usual time as HH:MM, e.g. 15:00."))
    if not 15 <= minutes <= 600:
        raise InvalidInput(N_("A workshop lasts between 15 and 600 minutes."))
    if join_url and not join_url.startswith(("https://", "http://")):
        raise InvalidInput(N_("The join link must start with https://."))
    series = WorkshopSeries(group_id=group.id, title=title.strip()[:300],
                            topic=topic.strip()[:300], kind=kind, anchor_zone=check_zone(zone),
                            anchor_time=at.strip().zfill(5), duration_minutes=minutes,
                            join_url=join_url.strip(), language=language)
    session.add(series)
    session.flush()
    record(session=session, actor=actor, action="workshop.series", subject_type="series",
           subject_id=series.id, title=series.title, zone=zone, at=at)
    return series


def _require(actor: Authorized, capability: str, group_id: int) -> None:
    if not actor.is_system and (actor.capability != capability or actor.group_id != group_id):
        raise PermissionDenied(N_("You cannot manage workshops in this group."))


def open_workshop(*, session: Session, actor: Authorized, series: WorkshopSeries,
                  quarter: str, domain: str) -> Workshop:
    """Open the workshop of ``quarter`` in ``series`` (collecting availability);
    open action items of earlier workshops of the series are carried into its
    agenda. ``domain`` names the UID's host. Raises Conflict when it exists."""
    _require(actor, "workshop.manage", series.group_id)
    label = quarter_label(quarter, series.kind)
    if session.scalar(select(Workshop.id).where(Workshop.series_id == series.id,
                                                Workshop.quarter == label)) is not None:
        raise Conflict(N_("The {quarter} workshop of this series is already open."),
                       quarter=label)
    ws = Workshop(series_id=series.id, group_id=series.group_id, quarter=label,
                  title=f"{series.title} {label}", state="finding",
                  uid=f"pending-{series.id}-{label}-{utcnow().timestamp()}",
                  join_url=series.join_url)
    session.add(ws)
    session.flush()
    ws.uid = f"workshop-{ws.id}@{domain}"
    earlier = select(Workshop.id).where(Workshop.series_id == series.id, Workshop.id != ws.id)
    for action in session.scalars(select(WorkshopAction).where(
            WorkshopAction.workshop_id.in_(earlier), WorkshopAction.done_at.is_(None))
            .order_by(WorkshopAction.id)).all():
        session.add(WorkshopAgendaItem(workshop_id=ws.id, person_id=action.owner_id,
                                       text=action.text, state="accepted",
                                       carried_from_action=action.id))
    record(session=session, actor=actor, action="workshop.open", subject_type="workshop",
           subject_id=ws.id, quarter=label)
    return ws


def add_slot(*, session: Session, actor: Authorized, workshop: Workshop, text: str
             ) -> WorkshopSlot:
    """A candidate slot from ``YYYY-MM-DD HH:MM [Zone]`` (default: the anchor
    zone). Raises InvalidInput (past, unreadable), Conflict (not collecting)."""
    _require(actor, "workshop.manage", workshop.group_id)
    if workshop.state != "finding":
        raise Conflict(N_("Workshop #{id} is no longer collecting availability."),
                       id=workshop.id)
    when, zone = parse_local(text, zone=workshop.series.anchor_zone)
    if when <= utcnow():
        raise InvalidInput(N_("A candidate slot must be in the future."))
    existing = session.scalar(select(WorkshopSlot).where(
        WorkshopSlot.workshop_id == workshop.id, WorkshopSlot.starts_at == when))
    if existing is not None:
        return existing
    slot = WorkshopSlot(starts_at=when, entered_zone=zone)
    workshop.slots.append(slot)  # keeps a loaded collection (and slot numbers) current
    session.flush()
    record(session=session, actor=actor, action="workshop.slot", subject_type="workshop",
           subject_id=workshop.id, starts_at=when.isoformat(), zone=zone)
    return slot


def slot_numbers(workshop: Workshop) -> dict[int, int]:
    """Slot id -> the slot's number within ``workshop`` (1, 2, ...), in the
    order the slots were proposed, so a number once shown keeps meaning the
    same slot when an earlier time is added later. Every workshop's slots start
    at 1 (slot ids are the database's, shared by all workshops)."""
    return {sid: k for k, sid in enumerate(sorted(s.id for s in workshop.slots), start=1)}


def slot_by_number(workshop: Workshop, raw: str) -> WorkshopSlot:
    """The slot numbered ``raw`` (``3`` or ``#3``) in ``workshop``, as
    :func:`slot_numbers` numbers them. Raises InvalidInput (not a number),
    NotFound (no such slot in this workshop)."""
    text = raw.strip().lstrip("#")
    if not (text.isascii() and text.isdigit()) or len(text) > 6:
        raise InvalidInput(N_("Name the slot by its number (see workshop slots {id})."),
                           id=workshop.id)
    by_number = {n: sid for sid, n in slot_numbers(workshop).items()}
    sid = by_number.get(int(text))
    slot = next((s for s in workshop.slots if s.id == sid), None)
    if slot is None:
        raise NotFound(N_("Workshop #{id} has no slot {slot}."), id=workshop.id, slot=text)
    return slot


def anchor_instant(series: WorkshopSeries, day: date) -> datetime:
    """The series' usual local time on ``day`` in its anchor zone, as UTC."""
    hh, mm = (int(x) for x in series.anchor_time.split(":"))
    local = datetime.combine(day, time(hh, mm), tzinfo=ZoneInfo(series.anchor_zone))
    return local.astimezone(UTC)


def find_series(session: Session, raw: str) -> WorkshopSeries:
    """The series numbered ``raw``. Raises NotFound."""
    try:
        sid = int(raw.lstrip("#"))
    except ValueError:
        raise NotFound(N_("Name the series by its number, e.g. 1.")) from None
    series = session.get(WorkshopSeries, sid)
    if series is None:
        raise NotFound(N_("There is no workshop series #{id}."), id=sid)
    return series


def find_workshop(session: Session, raw: str) -> Workshop:
    """The workshop numbered ``raw`` (``12`` or ``#12``). Raises NotFound."""
    try:
        wid = int(raw.strip().lstrip("#"))
    except ValueError:
        raise NotFound(N_("Name the workshop by its number, e.g. 12.")) from None
    ws = session.get(Workshop, wid)
    if ws is None:
        raise NotFound(N_("There is no workshop #{id}."), id=wid)
    return ws


def workshop_by_uid(session: Session, uid: str) -> Workshop | None:
    """The workshop whose iCalendar UID is ``uid`` (case-sensitive, as RFC 5545)."""
    return session.scalar(select(Workshop).where(Workshop.uid == uid.strip()))


def ends_at(workshop: Workshop, starts_at: datetime) -> datetime:
    """The end of ``workshop`` if it starts at ``starts_at``."""
    return starts_at + timedelta(minutes=workshop.series.duration_minutes)


def list_workshops(session: Session, *, limit: int = 20) -> list[Workshop]:
    """The newest workshops, newest first."""
    return list(session.scalars(select(Workshop).order_by(Workshop.id.desc()).limit(limit)))
