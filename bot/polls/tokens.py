"""Signed vote-link tokens (itsdangerous), one person, poll, round and stance.

A token is ``URLSafeTimedSerializer(settings.signing_key(), salt=VOTE_SALT)``
over ``{"person", "poll", "round", "stance", "exp", "v"}``; ``exp`` is the
round's close (epoch seconds, UTC), ``v`` the text version the link was sent
for (a link for an older text is refused with the new one). The signature is
checked first, then the expiry; whether the round is still open and the
person may vote is checked again by the core when the stance is cast, every time.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from itsdangerous import BadSignature, URLSafeTimedSerializer

from bot.errors import N_
from bot.polls.stances import STANCES

#: Salt for vote links; other purposes use other salts, so a token minted for
#: one purpose is refused by every other.
VOTE_SALT = "convene.polls.vote-link.v1"


class TokenRefused(Exception):
    """A link that cannot be used; ``reason`` is a gettext msgid saying why and
    ``code`` one of ``tampered``, ``expired``, ``other-poll``, ``used``, ``closed``,
    ``not-allowed``, ``old-version``, ``unavailable``. ``person_id`` is the
    person a validly signed token names (their language for the page), or None."""

    def __init__(self, code: str, reason: str, *, person_id: int | None = None,
                 **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.reason = reason
        self.person_id = person_id
        self.params = params


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


def _serializer(key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(key, salt=VOTE_SALT)


def mint(*, key: str, person_id: int, poll_id: int, round_no: int, stance: str,
         expires_at: datetime, version: int = 1) -> str:
    """A URL-safe signed token. Raises ValueError for an unknown stance or a
    naive ``expires_at``."""
    if stance not in STANCES:
        raise ValueError(f"unknown stance {stance!r}")
    if expires_at.tzinfo is None:
        raise ValueError("expires_at must be aware")
    return str(_serializer(key).dumps({
        "person": person_id, "poll": poll_id, "round": round_no, "stance": stance,
        "exp": int(expires_at.timestamp()), "v": version}))


def verify(token: str, *, key: str, poll_id: int, now: datetime) -> VoteToken:
    """Check ``token`` for the link of proposal ``poll_id`` at ``now`` (aware).

    Raises TokenRefused: ``tampered`` (bad signature or shape), ``expired`` (past
    the round's close), ``other-poll`` (signed for another proposal).
    """
    try:
        data = _serializer(key).loads(token)
        vt = VoteToken(int(data["person"]), int(data["poll"]), int(data["round"]),
                       str(data["stance"]), datetime.fromtimestamp(int(data["exp"]), UTC),
                       int(data.get("v", 1)))
    except (BadSignature, KeyError, TypeError, ValueError):
        raise TokenRefused("tampered", N_("This link is not valid: it was changed or cut "
                                          "short. Use the link exactly as it came in the "
                                          "email.")) from None
    if vt.stance not in STANCES:
        raise TokenRefused("tampered", N_("This link is not valid: it was changed or cut "
                                          "short. Use the link exactly as it came in the "
                                          "email."))
    if vt.poll_id != poll_id:
        raise TokenRefused("other-poll", N_("This link belongs to another proposal "
                                            "(#{other}), not #{id}."),
                           person_id=vt.person_id, other=vt.poll_id, id=poll_id)
    if now >= vt.expires_at:
        raise TokenRefused("expired", N_("This link has expired: round {round} of proposal "
                                         "#{id} closed."), person_id=vt.person_id,
                           round=vt.round_no, id=vt.poll_id)
    return vt


def event_id(token: str) -> str:
    """The event id of a link's use: a digest of the token, so that using the
    same link twice is one event (the core drops the second)."""
    return "vote-link:" + hashlib.sha256(token.encode()).hexdigest()[:40]
