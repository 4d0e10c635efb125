"""The one parser for numbers and ids that people (and other programs) type.

``str.isdigit()`` is True for ``²`` and ``٣``, and ``int()`` takes ``" 12 "``,
``"1_000"``, ``"+5"`` and Arabic-Indic digits: neither says whether a text is a
number Convene should read. Here a number is ASCII digits ``0-9`` only, and an
id must also fit the database column (``INTEGER``: at most 2**31 - 1 on
PostgreSQL, which refuses a larger value with an error rather than finding no
row). A well-formed number out of range is read as "no such row", so a person
gets the same sentence as for an id that does not exist.
"""

from __future__ import annotations

import re
from typing import Final

#: The largest value of an ``INTEGER`` column (PostgreSQL, SQLite's rowid is wider).
INT32_MAX: Final = 2**31 - 1
_DIGITS = re.compile(r"[0-9]{1,40}")


def digits(text: str) -> int | None:
    """``text`` (surrounding spaces ignored) as a non-negative int when it is
    ASCII digits only (at most 40 of them), else None: ``"12"`` -> 12,
    ``"²"``, ``"1_0"``, ``"+5"``, ``"١٢"`` -> None."""
    text = text.strip()
    return int(text) if _DIGITS.fullmatch(text) else None


def id_number(text: str | int) -> int | None:
    """An id as typed, ``12`` or ``#12``: the number (any size: see
    :func:`fits`), or None when it is not ASCII digits."""
    if isinstance(text, int):
        return text
    return digits(text.strip().removeprefix("#"))


def fits(value: int, *, low: int = 1, high: int = INT32_MAX) -> bool:
    """Whether ``value`` lies in ``low..high`` (default: a row id of an ``INTEGER``
    column); an id outside it names no row."""
    return low <= value <= high


def bounded(text: str, *, low: int = 0, high: int = INT32_MAX) -> int | None:
    """``text`` as ASCII digits within ``low..high``, else None (a count, a
    sequence number, a priority)."""
    value = digits(text)
    return value if value is not None and low <= value <= high else None


__all__ = ["INT32_MAX", "bounded", "digits", "fits", "id_number"]
