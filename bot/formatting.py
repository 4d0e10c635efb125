"""What a person reads of a moment, a date, a number or an amount, in their
language: one place, Babel (CLDR) underneath, never ``isoformat()``,
``strftime`` or ``str(float)``.

Every function takes the reader's ``language`` (``en``, ``fr``, ``es``; a
region such as ``fr-CA`` is accepted) and returns text for a person, never for
a machine (files, logs and audit rows keep ISO 8601).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal


@lru_cache(maxsize=1024)
def zone_info(name: str) -> ZoneInfo:
    """The IANA zone ``name``, kept: ``ZoneInfo``'s own cache holds only the
    eight most recent zones strongly, so a job writing to people in nine
    zones in turn would read each zone's file again for every person.
    Raises ZoneInfoNotFoundError (a KeyError) for an unknown name."""
    return ZoneInfo(name)


def _locale(language: str) -> str:
    return (language or "en").replace("-", "_")


def moment(value: datetime, *, zone: str, language: str) -> str:
    """An aware ``value`` in the IANA ``zone``, for a reader of ``language``:
    ``Thu 12 Mar 2026, 15:00 CET (Europe/Paris)``, ``jeu. 12 mars 2026, 15:00
    CET (Europe/Paris)``; the abbreviation *and* the zone's name, so nobody
    guesses which CST is meant. Raises ValueError for a naive ``value``."""
    if value.tzinfo is None:
        raise ValueError("moment() needs an aware datetime")
    tz = zone_info(zone)
    local = value.astimezone(tz)
    text = format_datetime(local, "EEE d MMM y, HH:mm", tzinfo=tz, locale=_locale(language))
    abbr = local.tzname() or ""
    if abbr and not abbr[0].isalpha():
        abbr = f"UTC{abbr}"
    return f"{text} {abbr} ({zone})" if zone != "UTC" else f"{text} UTC"


def day(value: date, *, language: str) -> str:
    """A calendar date: ``12 Mar 2026``, ``12 mars 2026``, ``12 mar 2026``."""
    if isinstance(value, datetime):
        value = value.date()
    return str(format_date(value, "medium", locale=_locale(language)))


def number(value: int | float | Decimal, *, language: str, places: int = 2) -> str:
    """A count or measure: ``1,500`` / ``1 500``; ``4.5`` / ``4,5``; at most
    ``places`` decimals, trailing zeros dropped."""
    fmt = "#,##0" + ("." + "#" * places if places > 0 else "")
    return str(format_decimal(value, format=fmt, locale=_locale(language)))


def language_name(code: str, *, language: str) -> str:
    """The name of language ``code`` in ``language`` (CLDR): ``fr`` -> ``français``
    for a French reader, ``francés`` for a Spanish one; ``code`` when unknown."""
    try:
        name = Locale.parse(code.replace("-", "_")).get_display_name(_locale(language))
    except (ValueError, UnknownLocaleError):
        return code
    return name or code


@dataclass(frozen=True, slots=True)
class Moment:
    """An instant to show in ``zone`` to whoever reads the sentence it is put in:
    a :class:`bot.i18n.Translator` fills a ``Moment`` parameter in its own
    language (so a refusal raised deep in a service reads right in French).
    ``value``: aware datetime; ``zone``: IANA name."""

    value: datetime
    zone: str

    def text(self, language: str) -> str:
        """See :func:`moment`."""
        return moment(self.value, zone=self.zone, language=language)

    def __str__(self) -> str:
        return self.text("en")


@dataclass(frozen=True, slots=True)
class Day:
    """A calendar date filled in by a Translator in its language (see :func:`day`)."""

    value: date

    def text(self, language: str) -> str:
        """See :func:`day`."""
        return day(self.value, language=language)

    def __str__(self) -> str:
        return self.text("en")
