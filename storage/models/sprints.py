"""Innovation-sprint tables: sprints, sign-ups (seats and the waitlist),
offers of freed seats, co-funding pledges and followers."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, utcnow


class Sprint(Base):
    """An innovation sprint proposed by a member of ``group_id``.

    ``state``: ``proposed`` (waiting for the secretariat), ``open`` (approved:
    sign-ups until ``signup_closes_at``), ``declined`` (with
    ``decision_reason``) or ``cancelled`` (by the secretariat, or because it
    missed its funding minimum). ``topics``: scope-topic keys of the
    taxonomy (``soil_measurement``). ``capacity``: seats; ``org_cap``: at most
    that many seats per organisation (0: no cap); ``max_leads``: leads allowed.
    Money is in minor units of ``currency`` (ISO 4217; EUR cents):
    ``goal_minor`` and ``minimum_minor`` (0: none); ``funding_deadline``;
    ``funding_state``: ``none`` (no minimum), ``pending``, ``funded`` or
    ``not_funded``. Every ``*_at``: aware, UTC.

    ``starts_on`` and ``ends_on`` are calendar days, the same for every reader;
    ``ends_on`` is the sprint's last day (inclusive). ``signup_closes_on`` is
    the cut-off day and ``signup_closes_at`` the instant sign-ups close: the end
    of that day in ``zone`` (the alliance's IANA zone, ``[sprints] timezone``),
    or the time given when the proposer gave one.

    The sign-up counts are kept by triggers on ``sprint_signups`` (migration
    ``sprint_0960_counts``), in the transaction that changes a sign-up, and
    come back with the sprint's lock: ``held_count`` (``seated`` or
    ``offered``), ``waitlisted_count``, ``ahead_count`` (waitlisted with
    priority >= 0: whom a newcomer stands behind), ``lead_count`` (leads
    seated, offered or waitlisted) and ``last_asked_at`` (the newest
    ``asked_at`` of any sign-up; aware, UTC; None before the first). Never
    written by the application.
    """

    __tablename__ = "sprints"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    proposer_id: Mapped[int | None] = mapped_column(ForeignKey("people.id",
                                                               ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(300))
    aim: Mapped[str] = mapped_column(Text)
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    language: Mapped[str] = mapped_column(String(8), default="en")
    starts_on: Mapped[date] = mapped_column()
    ends_on: Mapped[date] = mapped_column()
    signup_closes_on: Mapped[date] = mapped_column()
    signup_closes_at: Mapped[datetime] = mapped_column()
    zone: Mapped[str] = mapped_column(String(64), default="Europe/Paris")
    capacity: Mapped[int] = mapped_column()
    org_cap: Mapped[int] = mapped_column(default=0)
    max_leads: Mapped[int] = mapped_column(default=1)
    offer_hours: Mapped[int] = mapped_column(default=48)
    currency: Mapped[str] = mapped_column(String(3), default="")
    goal_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    minimum_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    funding_deadline: Mapped[datetime | None] = mapped_column()
    funding_state: Mapped[str] = mapped_column(String(16), default="none")
    state: Mapped[str] = mapped_column(String(16), default="proposed")
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column()
    origin_platform: Mapped[str] = mapped_column(String(16), default="")
    origin_workspace: Mapped[str] = mapped_column(String(64), default="")
    origin_channel: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    held_count: Mapped[int] = mapped_column(server_default="0")
    waitlisted_count: Mapped[int] = mapped_column(server_default="0")
    ahead_count: Mapped[int] = mapped_column(server_default="0")
    lead_count: Mapped[int] = mapped_column(server_default="0")
    last_asked_at: Mapped[datetime | None] = mapped_column()


class SprintSignup(Base):
    """One person's place in a sprint: a seat or a place in the waitlist.

    One row per (sprint, person): signing up again after leaving reuses it,
    at the back of the line. ``role``: ``lead`` or ``contributor``.
    ``status``: ``seated``, ``offered`` (a freed seat is held for them by an
    open :class:`SprintOffer`), ``waitlisted``, ``withdrawn``, ``declined``
    (refused an offer) or ``expired`` (let an offer lapse). ``seat`` (1 ..
    capacity) is set while seated or offered; UNIQUE (sprint, seat) makes a
    double allocation impossible whatever the locks do. The waitlist is served
    by ``priority`` (higher first), then ``asked_at``, then ``id``.
    ``party``: people who asked together share it and are seated together or
    not at all. ``organisation_id``: the person's organisation when they asked
    (for the per-organisation cap).
    """

    __tablename__ = "sprint_signups"
    __table_args__ = (UniqueConstraint("sprint_id", "person_id"),
                      UniqueConstraint("sprint_id", "seat"),
                      Index("ix_sprint_signups_line", "sprint_id", "status"),
                      Index("ix_sprint_signups_person", "person_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    sprint_id: Mapped[int] = mapped_column(ForeignKey("sprints.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id",
                                                                   ondelete="SET NULL"))
    role: Mapped[str] = mapped_column(String(16), default="contributor")
    status: Mapped[str] = mapped_column(String(16))
    seat: Mapped[int | None] = mapped_column()
    priority: Mapped[int] = mapped_column(default=0)
    party: Mapped[str] = mapped_column(String(32), default="")
    channel: Mapped[str] = mapped_column(String(16), default="")
    asked_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SprintOffer(Base):
    """A freed seat (or, for a party, seats) held for the head of the line.

    ``signup_ids``: the sign-ups it seats (one, or a whole party);
    ``person_id``: who answers it. ``status``: ``open``, ``accepted``,
    ``declined``, ``expired`` or ``void`` (the sprint was cancelled or the
    person withdrew). It leaves ``open`` exactly once, by a conditional
    UPDATE, so an offer cannot be used twice nor expire twice.
    ``expires_at``: aware, UTC.
    """

    __tablename__ = "sprint_offers"
    __table_args__ = (Index("ix_sprint_offers_due", "status", "expires_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sprint_id: Mapped[int] = mapped_column(ForeignKey("sprints.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    signup_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="open")
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    answered_at: Mapped[datetime | None] = mapped_column()


class SprintPledge(Base):
    """A co-funding pledge: ``amount_minor`` in minor units of ``currency``
    (ISO 4217: 12.50 EUR is 1250), never a float. One per (sprint, person):
    pledging again replaces the amount. ``status``: ``active`` or ``withdrawn``."""

    __tablename__ = "sprint_pledges"
    __table_args__ = (UniqueConstraint("sprint_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sprint_id: Mapped[int] = mapped_column(ForeignKey("sprints.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id",
                                                                   ondelete="SET NULL"))
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default="active")
    channel: Mapped[str] = mapped_column(String(16), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SprintFollower(Base):
    """Someone (an observer too) who gets a sprint's updates."""

    __tablename__ = "sprint_followers"
    __table_args__ = (UniqueConstraint("sprint_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sprint_id: Mapped[int] = mapped_column(ForeignKey("sprints.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

