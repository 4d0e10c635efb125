"""Signed per-person links (itsdangerous), one salt per purpose.

``availability``: ``{"p": person, "w": workshop, "exp"}`` opens the person's
availability page; ``rsvp``: ``{"p", "w", "a": answer, "exp"}`` confirms an
RSVP from the invite email; ``feed``: ``{"p", "v": key version}`` is a
calendar feed URL, revoked by raising the person's key version. The
signature is checked first, then the expiry; the role is checked again by
the core every time the link is used.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

from bot.errors import N_

SALTS = {"availability": "convene.workshops.availability.v1",
         "rsvp": "convene.workshops.rsvp.v1", "feed": "convene.workshops.feed.v1"}


class LinkRefused(Exception):
    """A link that cannot be used: ``code`` (``tampered``, ``expired``,
    ``other-workshop``, ``revoked``, ``not-allowed``) and ``reason`` (a msgid)."""

    def __init__(self, code: str, reason: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.reason = reason
        self.params = params


TAMPERED = N_("This link is not valid: it was changed or cut short. Use the link exactly "
              "as it came in the email.")


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
    if expires_at is not None:
        if expires_at.tzinfo is None:
            raise ValueError("expires_at must be aware")
        data["exp"] = int(expires_at.timestamp())
    return str(URLSafeSerializer(key, salt=SALTS[purpose]).dumps(data))


def verify(token: str, *, key: str, purpose: str, now: datetime,
           workshop_id: int | None = None) -> LinkData:
    """Check a token. Raises LinkRefused: ``tampered`` (bad signature or shape),
    ``other-workshop``, ``expired``."""
    try:
        data = URLSafeSerializer(key, salt=SALTS[purpose]).loads(token)
        exp = data.get("exp")
        link = LinkData(int(data["p"]), int(data.get("w", 0)), str(data.get("a", "")),
                        int(data.get("v", 0)),
                        datetime.fromtimestamp(int(exp), UTC) if exp is not None else None)
    except (BadSignature, KeyError, TypeError, ValueError, AttributeError):
        raise LinkRefused("tampered", TAMPERED) from None
    if workshop_id is not None and link.workshop_id != workshop_id:
        raise LinkRefused("other-workshop", N_("This link belongs to another workshop."))
    if link.expires_at is not None and now >= link.expires_at:
        raise LinkRefused("expired", N_("This link has expired. Ask for a new one in chat "
                                        "(workshop slots {id}) or from the secretariat."),
                          id=link.workshop_id)
    return link


def digest(token: str) -> str:
    """A short digest standing for a token in event ids and logs (never the token)."""
    return hashlib.sha256(token.encode()).hexdigest()[:32]
