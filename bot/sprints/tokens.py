"""Signed, expiring links of sprints (bot.tokens, the settings' secret).

Two purposes, each with its own salt so a token minted for one is refused by
the other (and by vote links): an *offer* link (accept or decline a freed
seat: ``{"p": person, "o": offer}``, expiring with the offer) and a *join*
link in the announcement email (``{"p": person, "s": sprint}``, expiring at
the sign-up cutoff). The signature is checked first, then the target and the
expiry; whether the person may act is decided again by the core when the
link is used, every time. Tokens are never logged.

Every refusal of a token whose signature held names its person
(``LinkRefused.person_id``), so the page is in their language; a forged or
cut token names no one (the default language).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from bot import tokens
from bot.errors import N_
from bot.tokens import TAMPERED, LinkRefused

Purpose = Literal["offer", "join"]
SALTS: dict[Purpose, str] = {"offer": "convene.sprints.offer-link.v1",
                             "join": "convene.sprints.join-link.v1"}
_FIELD: dict[Purpose, str] = {"offer": "o", "join": "s"}


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
    return tokens.mint(key=key, purpose=SALTS[purpose], expires_at=expires_at,
                       payload={"p": person_id, _FIELD[purpose]: target})


def _verified(token: str, *, key: str, purpose: Purpose) -> tokens.Verified[tuple[int, int]]:
    """The token's (person id, target) with its expiry; LinkRefused ``tampered``."""
    def read(data: dict[str, Any]) -> tuple[int, int]:
        if "exp" not in data:
            raise KeyError("exp")
        return int(data["p"]), int(data[_FIELD[purpose]])

    return tokens.verify(token, key=key, purpose=SALTS[purpose], read=read)


def person_of(token: str, *, key: str, purpose: Purpose) -> int | None:
    """The id of the person ``token`` names if its signature for ``purpose``
    holds (whatever its target or expiry), else None: for refusing a request
    in their language before the link itself is checked."""
    try:
        return _verified(token, key=key, purpose=purpose).value[0]
    except LinkRefused:
        return None


def verify(token: str, *, key: str, purpose: Purpose, target: int, now: datetime) -> LinkToken:
    """Check ``token`` for ``purpose`` on ``target`` at ``now`` (aware).

    Raises LinkRefused: ``tampered`` (bad signature or shape, another purpose:
    ``person_id`` None; another target: ``person_id`` the token's person),
    ``expired`` (``person_id`` the token's person).
    """
    found = _verified(token, key=key, purpose=purpose)
    assert found.expires_at is not None
    lt = LinkToken(purpose, *found.value, expires_at=found.expires_at)
    if lt.target != target:
        raise LinkRefused("tampered", TAMPERED, person_id=lt.person_id)
    if found.expired(now):
        raise LinkRefused("expired", N_("This link has expired."), person_id=lt.person_id)
    return lt


def event_id(token: str) -> str:
    """The event id of a link's use: a digest of the token (never the token), so
    using the same link twice is one event that the core acts on once."""
    return "sprint-link:" + tokens.digest(token)
