"""Signed per-person workshop links (bot.tokens), one purpose each.

``availability``: ``{"p": person, "w": workshop}`` (expiring) opens the
person's availability page; ``rsvp``: ``{"p", "w", "a": answer}`` (expiring)
confirms an RSVP from the invite email; ``feed``: ``{"p", "v": key version}``
(no expiry) is a calendar feed URL, revoked by raising the person's key
version. The signature is checked first, then the workshop, then the expiry;
the role is checked again by the core every time the link is used. A refusal
after the signature held names the person (``LinkRefused.person_id``), so its
page is in their language.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot import tokens
from bot.errors import N_
from bot.tokens import LinkRefused

SALTS = {"availability": "convene.workshops.availability.v1",
         "rsvp": "convene.workshops.rsvp.v1", "feed": "convene.workshops.feed.v1"}


@dataclass(frozen=True, slots=True)
class LinkData:
    """A verified link: ``expires_at`` aware UTC (None for feeds)."""

    person_id: int
    workshop_id: int
    answer: str
    version: int
    expires_at: datetime | None


def mint(*, key: str, purpose: str, person_id: int, workshop_id: int = 0, answer: str = "",
         version: int = 0, expires_at: datetime | None = None) -> str:
    """A URL-safe signed token. Raises ValueError for a naive ``expires_at``."""
    data: dict[str, Any] = {"p": person_id}
    if workshop_id:
        data["w"] = workshop_id
    if answer:
        data["a"] = answer
    if version:
        data["v"] = version
    return tokens.mint(key=key, purpose=SALTS[purpose], payload=data, expires_at=expires_at)


def _read(data: dict[str, Any]) -> tuple[int, int, str, int]:
    return int(data["p"]), int(data.get("w", 0)), str(data.get("a", "")), int(data.get("v", 0))


def verify(token: str, *, key: str, purpose: str, now: datetime,
           workshop_id: int | None = None) -> LinkData:
    """Check a token. Raises LinkRefused: ``tampered`` (bad signature or shape),
    ``other-workshop``, ``expired``."""
    found = tokens.verify(token, key=key, purpose=SALTS[purpose], read=_read)
    link = LinkData(*found.value, expires_at=found.expires_at)
    if workshop_id is not None and link.workshop_id != workshop_id:
        raise LinkRefused("other-workshop", N_("This link belongs to another workshop."),
                          person_id=link.person_id)
    if found.expired(now):
        raise LinkRefused("expired", N_("This link has expired. Ask for a new one in chat "
                                        "(workshop slots {id}) or from the secretariat."),
                          person_id=link.person_id, id=link.workshop_id)
    return link
