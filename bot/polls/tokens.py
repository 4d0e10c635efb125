"""Vote-link tokens: one person, poll, round and stance (signed by bot.tokens).

The payload is ``{"person", "poll", "round", "stance", "v"}`` under the
purpose :data:`VOTE_SALT`, expiring at the round's close; ``v`` is the text
version the link was sent for (a link for an older text is refused with the
new one). The signature is checked first, then the poll, then the expiry;
whether the round is still open and the person may vote is checked again by
the core when the stance is cast, every time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot import tokens
from bot.errors import N_
from bot.polls.stances import STANCES
from bot.tokens import LinkRefused

#: The purpose (salt) of vote links; a token of any other purpose is refused.
VOTE_SALT = "convene.polls.vote-link.v1"


@dataclass(frozen=True, slots=True)
class VoteToken:
    """A verified token's payload. ``expires_at``: aware datetime, UTC."""

    person_id: int
    poll_id: int
    round_no: int
    stance: str
    expires_at: datetime
    version: int = 1

    @property
    def value(self) -> str:
        """The ``poll.stance`` button value this token stands for."""
        return f"{self.poll_id}:{self.round_no}:{self.stance}"


def mint(*, key: str, person_id: int, poll_id: int, round_no: int, stance: str,
         expires_at: datetime, version: int = 1) -> str:
    """A URL-safe signed token. Raises ValueError for an unknown stance or a
    naive ``expires_at``."""
    if stance not in STANCES:
        raise ValueError(f"unknown stance {stance!r}")
    return tokens.mint(key=key, purpose=VOTE_SALT, expires_at=expires_at, payload={
        "person": person_id, "poll": poll_id, "round": round_no, "stance": stance,
        "v": version})


def _read(data: dict[str, Any]) -> tuple[int, int, int, str, int]:
    stance = str(data["stance"])
    if stance not in STANCES or "exp" not in data:
        raise ValueError("not a vote link")
    return (int(data["person"]), int(data["poll"]), int(data["round"]), stance,
            int(data.get("v", 1)))


def verify(token: str, *, key: str, poll_id: int, now: datetime) -> VoteToken:
    """Check ``token`` for the link of proposal ``poll_id`` at ``now`` (aware).

    Raises LinkRefused: ``tampered`` (bad signature or shape), ``other-poll``
    (signed for another proposal), ``expired`` (past the round's close).
    """
    found = tokens.verify(token, key=key, purpose=VOTE_SALT, read=_read)
    person, poll, round_no, stance, version = found.value
    assert found.expires_at is not None
    vt = VoteToken(person, poll, round_no, stance, found.expires_at, version)
    if vt.poll_id != poll_id:
        raise LinkRefused("other-poll", N_("This link belongs to another proposal "
                                           "(#{other}), not #{id}."),
                          person_id=vt.person_id, other=vt.poll_id, id=poll_id)
    if found.expired(now):
        raise LinkRefused("expired", N_("This link has expired: round {round} of proposal "
                                        "#{id} closed."), person_id=vt.person_id,
                          round=vt.round_no, id=vt.poll_id)
    return vt


def person_of(token: str, *, key: str) -> int | None:
    """The person a well-signed vote link names (expired or not), else None:
    enough to answer a refusal in that person's language, never to act."""
    try:
        return tokens.verify(token, key=key, purpose=VOTE_SALT, read=_read).value[0]
    except (LinkRefused, ValueError, KeyError, TypeError):
        return None


def event_id(token: str) -> str:
    """The event id of a link's use: a digest of the token, so that using the
    same link twice is one event (the core drops the second)."""
    return "vote-link:" + tokens.digest(token)
