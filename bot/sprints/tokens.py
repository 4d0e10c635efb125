"""Signed, expiring links of sprints (itsdangerous, the settings' secret).

Two purposes, each with its own salt so a token minted for one is refused by
the other (and by vote links): an *offer* link (accept or decline a freed
seat: ``{"p": person, "o": offer, "exp"}``, expiring with the offer) and a
*join* link in the announcement email (``{"p": person, "s": sprint, "exp"}``,
expiring at the sign-up cutoff). The signature is checked first, then the
purpose and the expiry; whether the person may act is decided again by the
core when the link is used, every time. Tokens are never logged.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from itsdangerous import BadSignature, URLSafeSerializer

from bot.errors import N_

Purpose = Literal["offer", "join"]
SALTS: dict[Purpose, str] = {"offer": "convene.sprints.offer-link.v1",
                             "join": "convene.sprints.join-link.v1"}
_FIELD: dict[Purpose, str] = {"offer": "o", "join": "s"}


class LinkRefused(Exception):
    """A link that cannot be used. ``code``: ``tampered``, ``expired``, ``used``,
    ``cancelled``, ``not-allowed``, ``cross-site``; ``reason`` a gettext msgid."""

    def __init__(self, code: str, reason: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.reason = reason
        self.params = params


TAMPERED = N_("This link is not valid: it was changed or cut short. Use the link exactly "
              "as it came in the email.")


@dataclass(frozen=True, slots=True)
class LinkToken:
    """A verified token: ``target`` is the offer id or the sprint id."""

    purpose: Purpose
    person_id: int
    target: int
    expires_at: datetime


def mint(*, key: str, purpose: Purpose, person_id: int, target: int,
         expires_at: datetime) -> str:
    """A URL-safe signed token. Raises ValueError for a naive ``expires_at``."""
    if expires_at.tzinfo is None:
        raise ValueError("expires_at must be aware")
    return str(URLSafeSerializer(key, salt=SALTS[purpose]).dumps(
        {"p": person_id, _FIELD[purpose]: target, "exp": int(expires_at.timestamp())}))


def verify(token: str, *, key: str, purpose: Purpose, target: int, now: datetime) -> LinkToken:
    """Check ``token`` for ``purpose`` on ``target`` at ``now`` (aware).

    Raises LinkRefused: ``tampered`` (bad signature or shape, another purpose,
    another target), ``expired``.
    """
    try:
        data = URLSafeSerializer(key, salt=SALTS[purpose]).loads(token)
        lt = LinkToken(purpose, int(data["p"]), int(data[_FIELD[purpose]]),
                       datetime.fromtimestamp(int(data["exp"]), UTC))
    except (BadSignature, KeyError, TypeError, ValueError):
        raise LinkRefused("tampered", TAMPERED) from None
    if lt.target != target:
        raise LinkRefused("tampered", TAMPERED)
    if now >= lt.expires_at:
        raise LinkRefused("expired", N_("This link has expired."))
    return lt


def event_id(token: str) -> str:
    """The event id of a link's use: a digest of the token (never the token), so
    using the same link twice is one event that the core acts on once."""
    return "sprint-link:" + hashlib.sha256(token.encode()).hexdigest()[:40]
