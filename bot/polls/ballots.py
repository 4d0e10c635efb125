"""Ballot reply bindings: each ballot email carries a signed token in its
Message-ID, bound to one person, proposal, round and text version.

``<poll.<id>.<round>.<person>-<id>-<round>-<version>.<signature>.<kind>@domain>``:
the signature is HMAC-SHA256 (itsdangerous ``Signer``, salt
:data:`BALLOT_SALT`) of ``<person>-<id>-<round>-<version>``; ``kind`` keeps the
ballot (``b``), a re-sent ballot (``v<version>``) and reminders (``r<hours>``)
apart. The ``poll`` tag routes a reply to the polls capability
(:meth:`bot.types.InboundEmail.tags`). A reply is accepted only when a
Message-ID it references verifies, was recorded as sent
(:class:`storage.models.Ballot`) and names the person the From address
belongs to.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from itsdangerous import BadSignature, Signer
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Ballot

BALLOT_SALT = "convene.polls.ballot-reply.v1"
_MID = re.compile(r"^<?poll\.(\d+)\.(\d+)\.(\d+-\d+-\d+-\d+\.[A-Za-z0-9_-]+)\.([a-z0-9]+)@",
                  re.I)


@dataclass(frozen=True, slots=True)
class BallotRef:
    """What a verified ballot Message-ID stands for."""

    person_id: int
    poll_id: int
    round_no: int
    version: int
    message_id: str


def _signer(key: str) -> Signer:
    return Signer(key, salt=BALLOT_SALT, digest_method=hashlib.sha256)


def message_id(*, key: str, person_id: int, poll_id: int, round_no: int, version: int,
               kind: str, domain: str) -> str:
    """A ballot's Message-ID (angle brackets included); ``kind``: ``[a-z0-9]+``."""
    token = _signer(key).sign(f"{person_id}-{poll_id}-{round_no}-{version}".encode()).decode()
    return f"<poll.{poll_id}.{round_no}.{token}.{kind}@{domain}>"


def read_message_id(mid: str, *, key: str) -> BallotRef | None:
    """The ballot a Message-ID stands for, or None when it is not one of ours
    (not a ballot id, a bad signature, or a tag that disagrees with the token)."""
    m = _MID.match(mid.strip())
    if m is None:
        return None
    try:
        raw = _signer(key).unsign(m.group(3).encode()).decode()
    except BadSignature:
        return None
    person, poll, rnd, version = (int(x) for x in raw.split("-"))
    if (poll, rnd) != (int(m.group(1)), int(m.group(2))):
        return None
    return BallotRef(person, poll, rnd, version, mid.strip())


def referenced(ids: Iterable[str], *, key: str) -> list[BallotRef]:
    """The verified ballots among ``ids`` (In-Reply-To first, then References
    from the nearest), in that order."""
    out: list[BallotRef] = []
    for mid in ids:
        ref = read_message_id(mid, key=key) if mid else None
        if ref is not None and ref not in out:
            out.append(ref)
    return out


def record(session: Session, ref: BallotRef) -> None:
    """Note that the ballot ``ref`` is queued (in the caller's unit of work)."""
    session.add(Ballot(proposal_id=ref.poll_id, round_no=ref.round_no,
                       person_id=ref.person_id, version=ref.version,
                       message_id=ref.message_id[:255]))


def was_sent(session: Session, ref: BallotRef) -> bool:
    """Whether a ballot for that person, proposal, round and version was queued."""
    return session.scalar(select(Ballot.id).where(
        Ballot.proposal_id == ref.poll_id, Ballot.round_no == ref.round_no,
        Ballot.person_id == ref.person_id, Ballot.version == ref.version).limit(1)) is not None
