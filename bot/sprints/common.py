"""What every part of sprints shares: the clock, finding and locking a sprint,
the statuses, and the scope topics people and sprints are matched on."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import date, datetime
from functools import cache
from typing import TYPE_CHECKING, Any, Literal, overload

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from bot.dates import end_of_day
from bot.errors import N_, InvalidInput, NotFound, PermissionDenied
from bot.formatting import Moment
from bot.formatting import day as formatting_day
from bot.numbers import bounded, fits, id_number
from storage.models import Sprint

if TYPE_CHECKING:
    from bot.i18n import Translator
    from bot.permissions import Authorized

#: Sign-ups that hold a seat (an offered seat is held for the person offered it).
HOLDING = ("seated", "offered")
#: Sign-ups still in the sprint: holding a seat or waiting for one.
ACTIVE = ("seated", "offered", "waitlisted")
def sprint_id(raw: str) -> int:
    """``12`` or ``#12`` as a sprint id. Raises InvalidInput naming the fix."""
    sid = id_number(raw)
    if sid is None:
        raise InvalidInput(N_("Name the sprint by its number, e.g. 3."))
    return sid


def find_sprint(session: Session, raw: str | int) -> Sprint:
    """The sprint ``raw`` names. Raises InvalidInput or NotFound."""
    sid = raw if isinstance(raw, int) else sprint_id(raw)
    sprint = session.get(Sprint, sid) if fits(sid) else None
    if sprint is None:
        raise NotFound(N_("There is no sprint #{id}."), id=sid)
    return sprint


_GROUP = select(Sprint.group_id).where(Sprint.id == bindparam("sprint_id"))


def sprint_group(session: Session, raw: str | int) -> int:
    """The group of the sprint ``raw`` names, read as one column (scope
    resolvers run before every sign-up; no ORM object is built). Raises
    InvalidInput or NotFound like :func:`find_sprint`."""
    sid = raw if isinstance(raw, int) else sprint_id(raw)
    group = session.connection().execute(_GROUP, {"sprint_id": sid}).scalar() \
        if fits(sid) else None
    if group is None:
        raise NotFound(N_("There is no sprint #{id}."), id=sid)
    return int(group)


def lock_sprints(session: Session, ids: Iterable[int]) -> list[Sprint]:
    """Lock the sprints ``ids`` for the rest of the unit of work, in ascending id
    order (so two units of work locking the same sprints never deadlock), and
    return them freshly read. PostgreSQL: ``SELECT .. FOR UPDATE``; SQLite's
    ``BEGIN IMMEDIATE`` (storage.engine) already serialises writers."""
    out: list[Sprint] = []
    for sid in sorted(set(ids)):
        sprint = session.scalars(select(Sprint).where(Sprint.id == sid).with_for_update()
                                 .execution_options(populate_existing=True)).first()
        if sprint is None:
            raise NotFound(N_("There is no sprint #{id}."), id=sid)
        out.append(sprint)
    return out


def lock_sprint(session: Session, sid: int) -> Sprint:
    """:func:`lock_sprints` for one sprint."""
    return lock_sprints(session, [sid])[0]


@dataclass(frozen=True, slots=True)
class OpenSprint:
    """The columns of a sprint that a sign-up decides on, read under its lock
    by :func:`lock_for` with ``columns=True`` (no ORM object on the hot path),
    its sign-up counts included (kept by triggers: :class:`storage.models.
    Sprint`; the locking statement returns the row as the last holder of the
    lock left it). ``signup_closes_at`` and ``last_asked_at``: aware UTC."""

    id: int
    group_id: int
    state: str
    signup_closes_at: datetime
    capacity: int
    org_cap: int
    max_leads: int
    title: str
    held_count: int
    ahead_count: int
    lead_count: int
    last_asked_at: datetime | None


_LOCK_OPEN = select(*(getattr(Sprint, f.name) for f in fields(OpenSprint))).where(
    Sprint.id == bindparam("sprint_id")).with_for_update()


@overload
def lock_for(session: Session, sprint_id: int, *, actor: Authorized, capability: str,
             refusal: str, columns: Literal[False] = False) -> Sprint: ...
@overload
def lock_for(session: Session, sprint_id: int, *, actor: Authorized, capability: str,
             refusal: str, columns: Literal[True]) -> OpenSprint: ...
def lock_for(session: Session, sprint_id: int, *, actor: Authorized, capability: str,
             refusal: str, columns: bool = False) -> Sprint | OpenSprint:
    """:func:`lock_sprint` for a change by ``actor``, who must hold
    ``capability`` in the sprint's own group (the dispatcher checked it in the
    group the route's scope named; this binds it to the sprint locked). With
    ``columns``, the sprint comes back as an :class:`OpenSprint` read by one
    Core statement. Raises NotFound, or PermissionDenied with ``refusal`` (a
    msgid)."""
    sprint: Sprint | OpenSprint
    if columns:
        row = session.connection().execute(_LOCK_OPEN, {"sprint_id": sprint_id}).first()
        if row is None:
            raise NotFound(N_("There is no sprint #{id}."), id=sprint_id)
        sprint = OpenSprint(*row)
    else:
        sprint = lock_sprint(session, sprint_id)
    if actor.capability != capability or actor.group_id != sprint.group_id:
        raise PermissionDenied(refusal)
    return sprint


def postgresql(session: Session) -> bool:
    """Whether ``session`` talks to PostgreSQL."""
    return session.get_bind().dialect.name == "postgresql"


@cache
def _taxonomy() -> Any:
    from digests.taxonomy import load_taxonomy

    return load_taxonomy()


def topic_keys() -> tuple[str, ...]:
    """The scope topics' keys (the alliance's terms of reference, via the
    press review's taxonomy), in their order."""
    return tuple(t.key for t in _taxonomy().topics)


def topic_label(key: str, language: str) -> str:
    """The label of topic ``key`` in ``language`` (the key when unknown)."""
    topic = _taxonomy().topic(key)
    return str(topic.label(language)) if topic is not None else key


def parse_topics(raw: str) -> list[str]:
    """``soil_measurement, carbon_markets`` (keys, or 1-based numbers in
    :func:`topic_keys` order) as topic keys. Raises InvalidInput listing the keys."""
    keys = topic_keys()
    out: list[str] = []
    for word in filter(None, (w.strip().lower() for w in raw.replace(";", ",").split(","))):
        n = bounded(word, low=1, high=len(keys))
        if n is not None:
            word = keys[n - 1]
        if word not in keys:
            raise InvalidInput(N_("{topic!r} is not a scope topic; use: {topics}."),
                               topic=word, topics=", ".join(keys))
        if word not in out:
            out.append(word)
    return out


def local(moment: datetime, zone: str) -> Moment:
    """``moment`` (aware) in the IANA ``zone``, written in the language of the
    sentence it fills (:class:`bot.formatting.Moment`)."""
    return Moment(moment, zone)


def day_text(day: date, language: str) -> str:
    """A calendar day in ``language`` (:func:`bot.formatting.day`): the same
    day for every reader, whatever their zone."""
    return formatting_day(day, language=language)


def closing_text(sprint: Sprint, tr: Translator, zone: str) -> str:
    """When sign-ups close, for a reader in ``zone``: the cut-off day and the
    zone its end is counted in, then that instant in the reader's zone."""
    instant = local(sprint.signup_closes_at, zone)
    if sprint.signup_closes_at == end_of_day(sprint.signup_closes_on, sprint.zone):
        return tr.gettext(N_("at the end of {day} ({zone}); your time: {instant}"),
                          day=day_text(sprint.signup_closes_on, tr.language),
                          zone=sprint.zone, instant=instant)
    return instant.text(tr.language)
