"""Dates and times as people write them: one reading for every capability.

A date without a time is a calendar date: it is the same day for every reader
(a sprint from 2027-04-01 to 2027-04-30 is those days in Bogotá and in Sydney).
Where a date stands for a deadline ("closes on 2026-12-15", a sprint's sign-up
cut-off), the deadline is the end of that day in a named zone: the author's
for a poll, the alliance's for a sprint. A date with a time is an instant in
the writer's zone unless it carries an offset.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from bot.localtime import parse_local_time

_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
#: The last second of a day: a deadline "on" a day holds until then.
END_OF_DAY = time(23, 59, 59)


def parse_date(text: str) -> date:
    """A calendar date written ``YYYY-MM-DD``. Raises ValueError otherwise
    (a time, an offset or another order of the parts)."""
    m = _DATE.match(text.strip())
    if not m:
        raise ValueError(f"not a date: {text!r}")
    return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))


def end_of_day(day: date, zone: str) -> datetime:
    """The last second of ``day`` in the IANA ``zone``, as an aware UTC datetime."""
    return datetime.combine(day, END_OF_DAY, ZoneInfo(zone)).astimezone(UTC)


def parse_deadline(text: str, *, zone: str) -> datetime:
    """A deadline as a person writes it, as an aware UTC datetime:
    ``2026-12-15`` is the end of that day in ``zone``; ``2026-12-15 17:00`` is
    that time in ``zone``; ISO 8601 with an offset is taken as written (the
    last two by :func:`bot.localtime.parse_local_time`). ``zone`` is the
    writer's IANA zone. Raises ValueError when unreadable."""
    raw = text.strip()
    if _DATE.match(raw):
        return end_of_day(parse_date(raw), zone)
    return parse_local_time(raw, zone=zone)


def local_text(moment: datetime, zone: str) -> str:
    """``moment`` (aware) as ``YYYY-MM-DD HH:MM Zone`` in the IANA ``zone``: the
    plain-text form of an instant for a reader in that zone."""
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M ") + zone
