"""iCalendar in and out (RFC 5545, iTIP RFC 5546), with the icalendar library.

Out: an invitation (``METHOD:REQUEST``), an update (same UID, higher
SEQUENCE) or a cancellation (``METHOD:CANCEL``, ``STATUS:CANCELLED``, same UID,
higher SEQUENCE), each with a VTIMEZONE for the anchor zone and DTSTART/DTEND
carrying its TZID, so Outlook and Google show the same instant; and calendar
feeds (no METHOD) for subscriptions.

In: :func:`parse_replies` reads a calendar client's ``METHOD:REPLY`` (Apple,
Google, Thunderbird, BlackBerry, Outlook) into :class:`ItipReply` values, and
:func:`read_events` any calendar (Windows zone names resolve through the
file's own VTIMEZONE) into UTC instants. Neither raises on a well-formed file
with features Convene does not use.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any, Literal
from zoneinfo import ZoneInfo

import icalendar

from bot.numbers import INT32_MAX, bounded
from storage.base import utcnow

PRODID = "-//Convene//Workshops 1.0//EN"
Method = Literal["REQUEST", "CANCEL", "PUBLISH"]
PARTSTATS = {"ACCEPTED": "accepted", "TENTATIVE": "tentative", "DECLINED": "declined"}


@dataclass(frozen=True, slots=True)
class Attendee:
    """An invitee: ``role`` is ``REQ-PARTICIPANT``, ``OPT-PARTICIPANT`` (observers)
    or ``CHAIR``; ``partstat`` ``NEEDS-ACTION`` in an invite."""

    email: str
    name: str
    role: str = "REQ-PARTICIPANT"
    partstat: str = "NEEDS-ACTION"


@dataclass(frozen=True, slots=True)
class Meeting:
    """One event to write. ``starts_at``/``ends_at`` aware (UTC); ``zone`` the
    anchor zone they are written in; ``sequence`` RFC 5545 3.8.7.4;
    ``language`` the RFC 5646 tag of SUMMARY/DESCRIPTION."""

    uid: str
    sequence: int
    starts_at: datetime
    ends_at: datetime
    zone: str
    summary: str
    description: str
    organizer_email: str
    organizer_name: str
    attendees: tuple[Attendee, ...] = ()
    url: str = ""
    location: str = ""
    language: str = "en"
    cancelled: bool = False
    dtstamp: datetime | None = None


@lru_cache(maxsize=256)
def _vtimezone(zone: str, first: date, last: date) -> icalendar.Timezone:
    """The VTIMEZONE of ``zone`` from ``first`` to ``last``: one STANDARD or
    DAYLIGHT observance per transition, each with its own DTSTART and no
    RDATE (icalendar lists later transitions of the same offsets as RDATEs,
    which ical.js 2.2, Thunderbird's parser, misreads: a feed over two years
    put its summer events an hour late)."""
    # Building a VTIMEZONE walks the zone's transitions: cache per (zone, years).
    # The component is only ever serialised, never changed, so it can be shared.
    built = icalendar.Timezone.from_tzid(zone, first_date=first, last_date=last)
    out = icalendar.Timezone()
    for name, value in built.property_items(recursive=False):
        if name not in ("BEGIN", "END"):
            out.add(name, value, encode=False)
    for sub in built.subcomponents:
        rdates: Any = sub.get("rdate")
        first_start: Any = sub["dtstart"]
        starts = [first_start.dt]
        for rd in rdates if isinstance(rdates, list) else [rdates] if rdates else []:
            starts += [p.dt for p in rd.dts]
        for start in sorted(starts):
            one = type(sub)()
            for name, value in sub.property_items(recursive=False):
                if name not in ("BEGIN", "END", "RDATE", "DTSTART"):
                    one.add(name, value, encode=False)
            one.add("dtstart", start)
            out.add_component(one)
    return out


def _zone_span(zone: str, events: Sequence[Vevent]) -> tuple[str, date, date] | None:
    # The years a zone's VTIMEZONE must cover, padded by a day each side.
    if zone == "UTC" or not events:
        return None
    first = min(e.starts_at for e in events).date().replace(month=1, day=1)
    last = max(e.ends_at for e in events).date().replace(month=12, day=31)
    return zone, first - timedelta(days=1), last + timedelta(days=1)


@lru_cache(maxsize=256)
def _frame(method: Method | None, name: str,
           spans: tuple[tuple[str, date, date], ...]) -> tuple[bytes, bytes]:
    # The VCALENDAR's own lines and VTIMEZONEs before the events, and its END
    # after them, serialised once per (method, name, zones and years): every
    # invitation of a workshop shares them.
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if method is not None:
        cal.add("method", method)
    if name:
        cal.add("x-wr-calname", name)
    for span in spans:
        cal.add_component(_vtimezone(*span))
    head, end = bytes(cal.to_ical()).rsplit(b"END:VCALENDAR", 1)
    return head, b"END:VCALENDAR" + end


def _local(moment: datetime, zone: str) -> tuple[datetime, dict[str, str]]:
    # The wall-clock time in ``zone`` with its TZID named outright: the same
    # DTSTART;TZID=... line icalendar writes for an aware datetime, without
    # its search for the zone's name among equivalent ones (a sixth of a
    # feed's time). UTC is written as UTC (a trailing Z, no TZID), and so is
    # a wall-clock time that happens twice in ``zone`` (the hour the clocks
    # go back): RFC 5545 3.3.5 lets a reader take either, so only UTC names
    # that instant for every reader.
    if zone == "UTC":
        return moment.astimezone(UTC), {}
    local = moment.astimezone(ZoneInfo(zone))
    if local.replace(fold=1 - local.fold).astimezone(UTC) != moment.astimezone(UTC):
        return moment.astimezone(UTC), {}
    return local.replace(tzinfo=None), {"TZID": zone}


def _event(m: Meeting, *, method: Method, now: datetime) -> icalendar.Event:
    ev = icalendar.Event()
    ev.add("uid", m.uid)
    ev.add("dtstamp", (m.dtstamp or now).astimezone(UTC))
    ev.add("sequence", m.sequence)
    for name, moment in (("dtstart", m.starts_at), ("dtend", m.ends_at)):
        value, params = _local(moment, m.zone)
        ev.add(name, value, parameters=params)
    ev.add("summary", m.summary, parameters={"LANGUAGE": m.language})
    if m.description:
        ev.add("description", m.description, parameters={"LANGUAGE": m.language})
    if m.url:
        ev.add("url", m.url)
    if m.location or m.url:
        ev.add("location", m.location or m.url)
    ev.add("status", "CANCELLED" if m.cancelled or method == "CANCEL" else "CONFIRMED")
    ev.add("transp", "OPAQUE")
    org = icalendar.vCalAddress(f"mailto:{m.organizer_email}")
    org.params["CN"] = icalendar.vText(m.organizer_name)
    ev.add("organizer", org)
    for a in m.attendees:
        addr = icalendar.vCalAddress(f"mailto:{a.email}")
        addr.params["CN"] = icalendar.vText(a.name)
        addr.params["CUTYPE"] = icalendar.vText("INDIVIDUAL")
        addr.params["ROLE"] = icalendar.vText(a.role)
        addr.params["PARTSTAT"] = icalendar.vText(a.partstat)
        if method == "REQUEST":
            addr.params["RSVP"] = icalendar.vText("TRUE")
        ev.add("attendee", addr)
    return ev


@dataclass(frozen=True, slots=True)
class Vevent:
    """One VEVENT as icalendar serialises it (``ics``: CRLF lines folded at 75
    octets, ``BEGIN:VEVENT`` to ``END:VEVENT``), with what the calendar around
    it needs: ``uid``, the anchor ``zone`` of its VTIMEZONE and its
    ``starts_at``/``ends_at`` (aware)."""

    uid: str
    zone: str
    starts_at: datetime
    ends_at: datetime
    ics: bytes


def vevent(m: Meeting, *, method: Method | None, now: datetime | None = None) -> Vevent:
    """``m`` serialised as a VEVENT by icalendar; DTSTAMP is ``m.dtstamp``, else
    ``now`` (default: the current time). ``method`` as in :func:`calendar_bytes`."""
    stamp = m.dtstamp or now or utcnow()
    return Vevent(m.uid, m.zone, m.starts_at, m.ends_at,
                  bytes(_event(m, method=method or "PUBLISH", now=stamp).to_ical()))


def calendar_of(events: Sequence[Vevent], *, method: Method | None, name: str = "") -> bytes:
    """A VCALENDAR around ``events`` (already serialised, in order): its own
    lines, one VTIMEZONE per zone used (covering the events' years) and
    ``X-WR-CALNAME`` ``name`` when given. ``method`` as in :func:`calendar_bytes`."""
    spans = (_zone_span(zone, [e for e in events if e.zone == zone])
             for zone in sorted({e.zone for e in events}))
    head, end = _frame(method, name, tuple(s for s in spans if s is not None))
    return head + b"".join(e.ics for e in events) + end


def calendar_bytes(meetings: Sequence[Meeting], *, method: Method | None,
                   now: datetime | None = None, name: str = "") -> bytes:
    """A VCALENDAR with one VEVENT per meeting (CRLF, folded at 75 octets).

    ``method``: ``REQUEST`` (invite or update), ``CANCEL``, or None for a feed
    (``PUBLISH``-less subscription). One VTIMEZONE per zone used.
    """
    now = now or utcnow()
    return calendar_of([vevent(m, method=method, now=now) for m in meetings],
                       method=method, name=name)


def invite(meeting: Meeting, *, now: datetime | None = None) -> bytes:
    """``METHOD:REQUEST`` for one meeting (an invitation or an update)."""
    return calendar_bytes([meeting], method="REQUEST", now=now)


def cancellation(meeting: Meeting, *, now: datetime | None = None) -> bytes:
    """``METHOD:CANCEL`` with ``STATUS:CANCELLED`` (RFC 5546 3.2.5); the caller
    raises ``sequence`` first."""
    return calendar_bytes([meeting], method="CANCEL", now=now)


# --- reading -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ItipReply:
    """One attendee's answer in a ``METHOD:REPLY`` (RFC 5546 3.2.3).

    ``partstat``: ``accepted``, ``tentative``, ``declined`` (others such as
    DELEGATED are ``other``); ``email`` lower-case, ``mailto:`` removed;
    ``recurrence_id`` aware UTC or None; ``comment`` the attendee's note."""

    uid: str
    sequence: int
    email: str
    partstat: str
    recurrence_id: datetime | None
    dtstamp: datetime | None
    comment: str = ""


@dataclass(frozen=True, slots=True)
class EventInstant:
    """An event read from any calendar: ``starts_at``/``ends_at`` aware UTC
    (None for a date-only event's end), ``uid``, ``summary``, ``method``."""

    uid: str
    summary: str
    starts_at: datetime
    ends_at: datetime | None
    method: str
    sequence: int


def _utc(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)  # floating time: the best we can say
        return value.astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return None


def _address(value: object) -> str:
    text = str(value).strip()
    text = re.sub(r"^mailto:", "", text, flags=re.IGNORECASE)
    return re.sub(r"\s+", "", text).lower()


def _calendars(data: bytes) -> list[icalendar.Calendar]:
    # Some clients (Apple iCal 5) omit the last line break; icalendar needs none.
    cals = icalendar.Calendar.from_ical(data, multiple=True)
    return [c for c in cals if isinstance(c, icalendar.Calendar)]


def _sequence(ev: Any) -> int:
    """A VEVENT's SEQUENCE (RFC 5545 section 3.8.7.4: a non-negative integer),
    0 when absent. Raises ValueError past what the column holds (2**31 - 1)."""
    value = bounded(str(ev.get("sequence", 0)), high=INT32_MAX)
    if value is None:
        raise ValueError("SEQUENCE is not a number Convene reads")
    return value


def parse_replies(data: bytes) -> list[ItipReply]:
    """Every attendee answer in ``data`` if its METHOD is REPLY (else ``[]``).

    Apple iCal 3 sends no ``method=`` in the MIME type but has it in the file;
    Google's ORGANIZER may lack ``mailto:``; CNs may be folded. Raises
    ValueError when ``data`` is not iCalendar at all.
    """
    out: list[ItipReply] = []
    for cal in _calendars(data):
        if str(cal.get("method", "")).upper() != "REPLY":
            continue
        for ev in cal.walk("VEVENT"):
            attendees = ev.get("attendee")
            if attendees is None:
                continue
            if not isinstance(attendees, list):
                attendees = [attendees]
            rid = ev.get("recurrence-id")
            stamp = ev.get("dtstamp")
            for a in attendees:
                raw = str(a.params.get("PARTSTAT", "NEEDS-ACTION")).upper()
                out.append(ItipReply(
                    uid=str(ev.get("uid", "")).strip(),
                    sequence=_sequence(ev),
                    email=_address(a.params.get("EMAIL") or a),
                    partstat=PARTSTATS.get(raw, "other"),
                    recurrence_id=_utc(rid.dt) if rid is not None else None,
                    dtstamp=_utc(stamp.dt) if stamp is not None else None,
                    comment=str(ev.get("comment", "")).strip()))
    return out


def read_events(data: bytes) -> list[EventInstant]:
    """Every VEVENT in ``data`` with its start and end as UTC instants. TZIDs
    (IANA or Windows names such as ``W. Europe Standard Time``) resolve through
    the file's VTIMEZONEs. Raises ValueError when ``data`` is not iCalendar."""
    out: list[EventInstant] = []
    for cal in _calendars(data):
        method = str(cal.get("method", "")).upper()
        for ev in cal.walk("VEVENT"):
            start = ev.get("dtstart")
            if start is None:
                continue
            s = _utc(start.dt)
            if s is None:
                continue
            end = ev.get("dtend")
            out.append(EventInstant(
                uid=str(ev.get("uid", "")), summary=str(ev.get("summary", "")).strip(),
                starts_at=s, ends_at=_utc(end.dt) if end is not None else None,
                method=method, sequence=_sequence(ev)))
    return out
