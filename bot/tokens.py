"""Signed, expiring, purpose-bound link tokens (itsdangerous), for every
capability's links: vote links, workshop availability, RSVP and feed links,
sprint offer and sign-up links.

A token is ``URLSafeSerializer(key, salt=purpose).dumps(payload)`` where
``key`` is :meth:`bot.settings.Settings.signing_key` (bot/signing.py keeps
it) and ``purpose`` a salt naming what the token is for, such as
``convene.sprints.offer-link.v1``: a token minted for one purpose fails the
signature check of every other. An expiring token carries ``exp`` (epoch
seconds, UTC) inside the signed payload, so its expiry cannot be changed
without breaking the signature. :func:`verify` checks the signature first,
then the payload's shape; the caller then checks the expiry. What the
token names (the person, the poll, the offer) and whether that person may
still act are the capability's to check, every time the link is used.

Vote links minted before this module used ``URLSafeTimedSerializer`` (a
signed timestamp after the payload); :func:`verify` still reads them, so a
ballot email already sent keeps working until its round closes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from itsdangerous import BadPayload, BadSignature, URLSafeSerializer, URLSafeTimedSerializer

from bot.errors import N_

T = TypeVar("T")

#: The reason given for a token whose signature or shape is wrong.
TAMPERED = N_("This link is not valid: it was changed or cut short. Use the link exactly "
              "as it came in the email.")


class LinkRefused(Exception):
    """A link that cannot be used. ``code`` says why, for the page's HTTP status
    (``tampered``, ``expired``, and the capability's own: ``other-poll``,
    ``used``, ``closed``, ``revoked``, ``not-allowed``, ...); ``reason`` is a
    gettext msgid filled with ``params``; ``person_id`` the person a validly
    signed token names (their language for the page), or None."""

    def __init__(self, code: str, reason: str, *, person_id: int | None = None,
                 **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.reason = reason
        self.person_id = person_id
        self.params = params


@dataclass(frozen=True, slots=True)
class Verified(Generic[T]):
    """A token whose signature held: ``value`` is what the caller's reader made
    of its payload; ``expires_at`` aware UTC, or None for a token that does
    not expire (a calendar feed, revoked by other means)."""

    value: T
    expires_at: datetime | None

    def expired(self, now: datetime) -> bool:
        """Whether the token is past its expiry at ``now`` (aware)."""
        return self.expires_at is not None and now >= self.expires_at


def mint(*, key: str, purpose: str, payload: Mapping[str, object],
         expires_at: datetime | None = None) -> str:
    """A URL-safe token signing ``payload`` (JSON-ready; the key ``exp`` is
    reserved) for ``purpose``, expiring at ``expires_at`` (aware) if given.
    Raises ValueError for a naive ``expires_at`` or a payload holding ``exp``."""
    if "exp" in payload:
        raise ValueError("'exp' is reserved for the expiry")
    data = dict(payload)
    if expires_at is not None:
        if expires_at.tzinfo is None:
            raise ValueError("expires_at must be aware")
        data["exp"] = int(expires_at.timestamp())
    return str(URLSafeSerializer(key, salt=purpose).dumps(data))


def _load(token: str, key: str, purpose: str) -> Any:
    try:
        return URLSafeSerializer(key, salt=purpose).loads(token)
    except BadPayload:
        # A vote link of the timed format: the signature covers payload and
        # timestamp, so the plain serializer accepts it but cannot decode it.
        return URLSafeTimedSerializer(key, salt=purpose).loads(token)


def verify(token: str, *, key: str, purpose: str,
           read: Callable[[dict[str, Any]], T]) -> Verified[T]:
    """Check ``token``'s signature for ``purpose`` and return its payload as
    ``read`` makes it, with its expiry. Raises LinkRefused ``tampered``
    (:data:`TAMPERED`) when the signature does not hold (forged, edited, cut
    short, or signed for another purpose) or when ``read`` fails on the
    payload (KeyError, TypeError, ValueError). The expiry is the caller's to
    check (:meth:`Verified.expired`), after what must be said first (a link
    of another poll says so even when it has expired too).
    """
    try:
        data = _load(token, key, purpose)
        if not isinstance(data, dict):
            raise TypeError("the payload is not an object")
        exp = data.get("exp")
        return Verified(read(data), datetime.fromtimestamp(int(exp), UTC)
                        if exp is not None else None)
    except (BadSignature, KeyError, TypeError, ValueError, OverflowError):
        raise LinkRefused("tampered", TAMPERED) from None


def digest(token: str) -> str:
    """A digest standing for ``token`` in event ids and logs (never the token
    itself): 40 hexadecimal characters of its SHA-256. Using the same link
    twice gives the same digest, so the core acts on it once."""
    return hashlib.sha256(token.encode()).hexdigest()[:40]
