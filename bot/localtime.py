"""Times people type: ``YYYY-MM-DD [HH:MM]`` in their own zone, or ISO 8601."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

_LOCAL = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[ T](\d{1,2}:\d{2}))?$")


def parse_local_time(text: str, *, zone: str) -> datetime:
    """``YYYY-MM-DD HH:MM`` (or ``YYYY-MM-DD``: midnight) in ``zone`` (an IANA
    name: the person's), or ISO 8601 (with an offset; without one, in ``zone``),
    as an aware UTC datetime. Surrounding spaces are ignored. Raises ValueError
    when ``text`` is neither (the caller words the refusal), and
    ``zoneinfo.ZoneInfoNotFoundError`` for an unknown ``zone``."""
    raw = text.strip()
    m = _LOCAL.match(raw)
    if m:
        when = datetime.fromisoformat(f"{m.group(1)}T{m.group(2) or '00:00'}").replace(
            tzinfo=ZoneInfo(zone))
    else:
        when = datetime.fromisoformat(raw)
        if when.tzinfo is None:
            when = when.replace(tzinfo=ZoneInfo(zone))
    return when.astimezone(UTC)
