"""Consensus-poll tables: proposals, text versions, rounds, stances, comments."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.base import Base, utcnow


class Proposal(Base):
    """A proposal the members of ``group_id`` decide by consensus.

    ``state``: ``open`` (a round is open), ``failed`` (the last round closed
    without consensus; waiting for the next step), ``escalated`` (waiting for the
    chair), ``decided``. ``outcome`` (when decided): ``consensus``, ``upheld`` or
    ``rejected`` (the chair's determination). ``visibility``: ``live`` (who
    stands where is shown while open) or ``hidden`` (counts only until the close).
    ``rule``: ``consensus`` (quorum and no block) or ``unanimity`` (quorum, no
    block and no disagree). ``closes_at`` and every ``*_at``: aware, UTC.
    """

    __tablename__ = "poll_proposals"
    __table_args__ = (Index("ix_poll_proposals_state", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(300))
    language: Mapped[str] = mapped_column(String(8), default="en")
    rule: Mapped[str] = mapped_column(String(16), default="consensus")
    quorum_percent: Mapped[int] = mapped_column(default=50)
    visibility: Mapped[str] = mapped_column(String(8), default="live")
    state: Mapped[str] = mapped_column(String(16), default="open")
    outcome: Mapped[str | None] = mapped_column(String(16))
    current_round: Mapped[int] = mapped_column(default=1)
    version: Mapped[int] = mapped_column(default=1)
    closes_at: Mapped[datetime] = mapped_column()
    origin_platform: Mapped[str] = mapped_column(String(16), default="")
    origin_workspace: Mapped[str] = mapped_column(String(64), default="")
    origin_channel: Mapped[str] = mapped_column(String(128), default="")
    discussion: Mapped[str] = mapped_column(String(500), default="")
    determination_note: Mapped[str | None] = mapped_column(Text)
    determined_by: Mapped[int | None] = mapped_column(ForeignKey("people.id",
                                                                 ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    versions: Mapped[list[ProposalVersion]] = relationship(
        back_populates="proposal", cascade="all, delete-orphan",
        order_by="ProposalVersion.number")
    rounds: Mapped[list[Round]] = relationship(
        back_populates="proposal", cascade="all, delete-orphan", order_by="Round.number")


class ProposalVersion(Base):
    """One version of a proposal's text (Markdown). Editing after stances exist
    adds a version; stances on an older version no longer count."""

    __tablename__ = "poll_versions"
    __table_args__ = (UniqueConstraint("proposal_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("poll_proposals.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column()
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    proposal: Mapped[Proposal] = relationship(back_populates="versions")


class Round(Base):
    """A round of a proposal: ``number`` 1 is in chat, 2 by email.

    ``closed_at`` is set exactly once (a conditional UPDATE), so two processes
    cannot close a round twice. ``result`` is the tally frozen at the close
    (counts, dissent, blocks, eligible, quorum_met, outcome).
    """

    __tablename__ = "poll_rounds"
    __table_args__ = (UniqueConstraint("proposal_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("poll_proposals.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column()
    medium: Mapped[str] = mapped_column(String(8), default="chat")
    opens_at: Mapped[datetime] = mapped_column(default=utcnow)
    closes_at: Mapped[datetime] = mapped_column()
    closed_at: Mapped[datetime | None] = mapped_column()
    outcome: Mapped[str | None] = mapped_column(String(16))
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    proposal: Mapped[Proposal] = relationship(back_populates="rounds")


class Stance(Base):
    """The one stance of a voting unit in a round, whatever the channel.

    ``voter_key`` is ``p:<person id>`` or, where the group votes by
    organisation, ``o:<organisation id>``; the UNIQUE (round, voter_key) makes
    a second stance an update (the last one counts). ``stance``: agree,
    abstain, disagree, block. ``version``: the text version it was cast on.
    """

    __tablename__ = "poll_stances"
    __table_args__ = (UniqueConstraint("round_id", "voter_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("poll_rounds.id", ondelete="CASCADE"))
    voter_key: Mapped[str] = mapped_column(String(32))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    stance: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    channel: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(default=1)
    cast_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class RoundCount(Base):
    """The stances of a round on one text version, kept up to date by database
    triggers on ``poll_stances`` (insert, update, delete: storage migrations
    ``stance_0800_counts`` and, a moved stance in one statement on PostgreSQL,
    ``stance_0960_counts_move``), so the count is never recomputed over the round.

    Spread over ``shard`` = stance id mod :data:`COUNT_SHARDS` rows so concurrent
    stances rarely wait for one another's row lock; a round's count on a version
    is the sum over its shards (a shard may go negative when stances move).
    """

    __tablename__ = "poll_round_counts"

    round_id: Mapped[int] = mapped_column(ForeignKey("poll_rounds.id", ondelete="CASCADE"),
                                          primary_key=True)
    version: Mapped[int] = mapped_column(primary_key=True)
    shard: Mapped[int] = mapped_column(primary_key=True)
    agree: Mapped[int] = mapped_column(default=0)
    abstain: Mapped[int] = mapped_column(default=0)
    disagree: Mapped[int] = mapped_column(default=0)
    block: Mapped[int] = mapped_column(default=0)


#: Rows a round's count is spread over (see :class:`RoundCount`).
COUNT_SHARDS = 64


class PollComment(Base):
    """A comment on a proposal; ``advisory`` when the author holds no vote (observers)."""

    __tablename__ = "poll_comments"
    __table_args__ = (Index("ix_poll_comments_proposal", "proposal_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("poll_proposals.id", ondelete="CASCADE"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    advisory: Mapped[bool] = mapped_column(default=False)
    channel: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Ballot(Base):
    """A ballot email sent to ``person_id`` for round ``round_no`` of a
    proposal on text version ``version``. ``message_id`` (``<poll.<id>.<round>.
    <signed token>.<kind>@domain>``) is what a reply must reference: a reply is
    accepted only for a ballot sent to its sender, on the current text."""

    __tablename__ = "poll_ballots"
    __table_args__ = (UniqueConstraint("message_id"),
                      Index("ix_poll_ballots_voter", "proposal_id", "round_no", "person_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("poll_proposals.id", ondelete="CASCADE"))
    round_no: Mapped[int] = mapped_column()
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column()
    message_id: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
