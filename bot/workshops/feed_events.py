"""The calendar feeds' stored events: each workshop's VEVENT, serialised by
icalendar (:func:`bot.workshops.ical.vevent`) when the workshop is written and
kept in ``workshop_feed_events``, so a feed, even the first one a process just
started serves, joins stored bytes instead of building a component per event.

Stored bytes are served only under the key they were made with: a digest of
every input of the VEVENT (the workshop's columns, its series' topic, language
and zone, the organizer and alliance name) and of a probe of the code and the
catalogs (the bytes of one fixed workshop in that language, made once per
process). An event stored before the store existed, under other catalogs or
code, or by a write that did not store it, is built by the feed that reads it
and stored after that feed (best effort: the feed is served either way).

Nothing per person enters: a feed's VEVENT lists no ATTENDEE and is written in
the series' language. The personal feeds (join links) and the public one
(without) are two variants of each event.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, joinedload, sessionmaker

from bot.settings import Settings
from bot.topics import topic_text
from bot.workshops.ical import Vevent, vevent
from bot.workshops.meetings import meeting_for, organizer
from storage.engine import dialect_insert
from storage.models import Workshop, WorkshopFeedEvent, WorkshopSeries

log = logging.getLogger(__name__)

#: What a feed's VEVENT is made of, in the order :func:`_key` reads them.
_INPUTS = (Workshop.id, Workshop.uid, Workshop.sequence, Workshop.starts_at,
           Workshop.ends_at, Workshop.state, Workshop.title, Workshop.join_url,
           Workshop.updated_at, WorkshopSeries.topic, WorkshopSeries.language,
           WorkshopSeries.anchor_zone)

#: (language, with_join, organizer, alliance) -> digest of the probe's bytes.
_PROBES: dict[tuple[str, bool, str, str], str] = {}


@dataclass(frozen=True, slots=True)
class Built:
    """An event a feed had to build (nothing stored under its key): to store."""

    workshop_id: int
    with_join: bool
    key: str
    ics: bytes


@dataclass(frozen=True, slots=True)
class FeedEvents:
    """A feed's events in start order, its last change (aware UTC; 2000-01-01
    when empty) and the events built for it rather than read (to :func:`keep`)."""

    events: list[Vevent]
    changed: datetime
    built: list[Built]


def _vevent(ws: Workshop, settings: Settings, *, with_join: bool) -> Vevent:
    # Without METHOD, an event's DTSTAMP is when it was last revised (RFC 5545
    # 3.8.7.2): its own updated_at, so an unchanged event is the same bytes.
    meeting = meeting_for(ws, settings, person=None, cancelled=ws.state == "cancelled",
                          with_join=with_join)
    return vevent(replace(meeting, dtstamp=ws.updated_at.replace(microsecond=0)),
                  method=None)


def _probe(settings: Settings, language: str, with_join: bool) -> str:
    # One fixed workshop through the same code as every event: a changed
    # catalog, template or icalendar changes its bytes, so every key changes.
    at = (language, with_join, organizer(settings), settings.alliance_name)
    found = _PROBES.get(at)
    if found is None:
        when = datetime(2030, 3, 11, 14, tzinfo=UTC)
        ws = Workshop(id=1, uid="probe@convene.invalid", sequence=1, starts_at=when,
                      ends_at=when.replace(hour=15), state="confirmed", title="Probe",
                      join_url="https://probe.invalid/j", updated_at=when,
                      series=WorkshopSeries(title="Probe", topic="", language=language,
                                            anchor_zone="Europe/Paris"))
        ics = _vevent(ws, settings, with_join=with_join).ics
        found = _PROBES[at] = hashlib.blake2b(ics, digest_size=16).hexdigest()
    return found


class _Keys:
    """The keys of one variant's events: what they share (the organizer, the
    alliance, each language's probe, each topic's words) worked out once."""

    def __init__(self, settings: Settings, *, with_join: bool) -> None:
        self.settings = settings
        self.with_join = with_join
        self.common = (with_join, organizer(settings), settings.alliance_name)
        self.salts: dict[tuple[str, str], tuple[str, str]] = {}

    def __call__(self, values: Sequence[Any]) -> str:
        """The digest of one event's inputs (``values`` in the order of ``_INPUTS``)."""
        (wid, uid, sequence, starts_at, ends_at, state, title, join_url, updated_at,
         topic, language, zone) = values
        salt = self.salts.get((topic, language))
        if salt is None:
            salt = self.salts[(topic, language)] = (
                topic_text(topic, language) if topic else "",
                _probe(self.settings, language, self.with_join))
        # Instants as POSIX seconds: the same on SQLite and PostgreSQL whatever
        # tzinfo object either driver hands back.
        parts = (wid, uid, sequence, starts_at.timestamp(), ends_at.timestamp(),
                 state == "cancelled", title, join_url if self.with_join else "",
                 int(updated_at.timestamp()), language, zone, salt, self.common)
        return hashlib.blake2b(repr(parts).encode(), digest_size=24).hexdigest()


def _values(ws: Workshop) -> tuple[Any, ...]:
    return (ws.id, ws.uid, ws.sequence, ws.starts_at, ws.ends_at, ws.state, ws.title,
            ws.join_url, ws.updated_at, ws.series.topic, ws.series.language,
            ws.series.anchor_zone)


def _build(ws: Workshop, keys: _Keys) -> tuple[Vevent, Built]:
    ev = _vevent(ws, keys.settings, with_join=keys.with_join)
    return ev, Built(ws.id, keys.with_join, keys(_values(ws)), ev.ics)


def _upsert(session: Session, built: Sequence[Built]) -> None:
    ins = dialect_insert(session.get_bind().dialect.name)(WorkshopFeedEvent)
    upsert = ins.on_conflict_do_update(index_elements=["workshop_id", "with_join"],
                                       set_={"key": ins.excluded.key, "ics": ins.excluded.ics})
    # 500 rows a statement: four parameters each stay far below SQLite's and
    # PostgreSQL's limits on a statement's parameters, however big the feed.
    for at in range(0, len(built), 500):
        session.execute(upsert.values([{"workshop_id": b.workshop_id, "with_join": b.with_join,
                                        "key": b.key, "ics": b.ics}
                                       for b in built[at:at + 500]]))


def store(session: Session, ws: Workshop, settings: Settings) -> None:
    """Serialise ``ws``'s feed event, both variants, into the caller's unit of
    work (every write that changes what a feed shows of it calls this). A
    workshop without a time is in no feed: nothing is stored."""
    if ws.starts_at is None or ws.ends_at is None:
        return
    session.flush()
    _upsert(session, [_build(ws, _Keys(settings, with_join=j))[1] for j in (True, False)])


def read(session: Session, settings: Settings, *, where: ColumnElement[bool],
         with_join: bool) -> FeedEvents:
    """The events of the workshops with a time matching ``where`` (a condition
    on ``Workshop``), in start order: the stored bytes where their key still
    matches, else built now (listed in ``built``, for :func:`keep`)."""
    stored = WorkshopFeedEvent
    # Plain rows (no ORM entities to make): 500 of them are most of a cold feed.
    rows = session.connection().execute(
        select(*_INPUTS, stored.key, stored.ics)
        .join(WorkshopSeries, WorkshopSeries.id == Workshop.series_id)
        .outerjoin(stored, and_(stored.workshop_id == Workshop.id,
                                stored.with_join == with_join))
        .where(Workshop.starts_at.is_not(None), Workshop.ends_at.is_not(None), where)
        .order_by(Workshop.starts_at, Workshop.id)).all()
    keys = _Keys(settings, with_join=with_join)
    events: list[Vevent | None] = []
    missing: dict[int, int] = {}
    for i, row in enumerate(rows):
        values = row[:len(_INPUTS)]
        if row.ics is not None and row.key == keys(values):
            events.append(Vevent(row.uid, row.anchor_zone, row.starts_at, row.ends_at,
                                 row.ics))
        else:
            events.append(None)
            missing[row.id] = i
    built: list[Built] = []
    if missing:
        for ws in session.scalars(select(Workshop).options(joinedload(Workshop.series))
                                  .where(Workshop.id.in_(missing))):
            events[missing[ws.id]], b = _build(ws, keys)
            built.append(b)
    changed = max((row.updated_at for row in rows), default=datetime(2000, 1, 1, tzinfo=UTC))
    return FeedEvents([e for e in events if e is not None], changed, built)


def keep(session_factory: sessionmaker[Session], built: Sequence[Built]) -> None:
    """Store what a feed built, in a unit of work of its own. Best effort: a
    failure (a workshop deleted meanwhile, a busy database) is logged, and the
    next feed builds those events again."""
    if not built:
        return
    try:
        with session_factory() as session, session.begin():
            _upsert(session, built)
    except SQLAlchemyError:
        log.warning("workshops: could not store %d feed event(s)", len(built),
                    exc_info=True)
