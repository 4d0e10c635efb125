"""Dates as items write them, in en, fr and es: a day and a month ("23
October", "October 23", "23 de octubre", "23 octobre"), agreed on in any
language (:mod:`digests.related`), and where in a text each one is
(:mod:`digests.acts`: a law's step dated long before an item is history)."""

from __future__ import annotations

import re

from digests.classify import fold

#: Month names in en, fr and es (accent-folded; abbreviations too): a day
#: and a month are a date, agreed on in any language.
MONTHS = {m: n for n, names_ in enumerate((
    "january jan enero janvier janv", "february feb febrero fevrier fevr",
    "march mar marzo mars", "april apr abril avril avr", "may mayo mai", "june jun junio juin",
    "july jul julio juillet juil", "august aug agosto aout",
    "september sept sep septiembre setiembre septembre",
    "october oct octubre octobre", "november nov noviembre novembre",
    "december dec diciembre decembre"), 1) for m in names_.split()}
#: Weekday names in en, fr and es: capitalised in English, never an actor.
DAYS = frozenset("monday tuesday wednesday thursday friday saturday sunday lunes martes "
                 "miercoles jueves viernes sabado domingo lundi mardi mercredi jeudi "
                 "vendredi samedi dimanche".split())
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_DATE = re.compile(rf"(?<!\d)(\d{{1,2}})(?:st|nd|rd|th|er)?\.?\s+(?:de\s+)?({_MONTH})\b\.?"
                   rf"|\b({_MONTH})\.?\s+(\d{{1,2}})(?!\d)")


def written_dates(text: str) -> list[tuple[int, int, int]]:
    """The dates of ``text`` as (offset in the accent-folded text, day, month)."""
    out = []
    for m in _DATE.finditer(fold(text)):
        day, month = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
        if 1 <= int(day) <= 31:
            out.append((m.start(), int(day), MONTHS[month]))
    return out


def dates(text: str) -> set[str]:
    """The dates (a day and a month: "23 October", "October 23", "23 de
    octubre", "23 octobre") of ``text``, as "day-month" keys (any language)."""
    return {f"{day}-{month}" for _at, day, month in written_dates(text)}
