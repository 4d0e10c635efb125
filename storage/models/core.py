"""Core tables: organisations, people, identities, groups, roles, audit, outbox, inbox."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.base import Base, utcnow


class Role(enum.StrEnum):
    """A role held in a group (the alliance is one group; working groups are others)."""

    MEMBER = "member"
    OBSERVER = "observer"
    SECRETARIAT = "secretariat"
    CHAIR = "chair"


class Organisation(Base):
    """A member organisation of the alliance (a company, institute or NGO)."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    people: Mapped[list[Person]] = relationship(back_populates="organisation")


class Person(Base):
    """A person in the roster.

    ``language`` is a locale code (``en``, ``fr``, ``es``); ``timezone`` an IANA
    zone name (``Europe/Paris``); ``interests`` a list of free-text topics.
    """

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    language: Mapped[str] = mapped_column(String(8), default="en")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    interests: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    organisation: Mapped[Organisation | None] = relationship(back_populates="people")
    emails: Mapped[list[EmailAddress]] = relationship(
        back_populates="person", cascade="all, delete-orphan"
    )
    identities: Mapped[list[Identity]] = relationship(
        back_populates="person", cascade="all, delete-orphan"
    )
    memberships: Mapped[list[Membership]] = relationship(
        back_populates="person", cascade="all, delete-orphan"
    )

    @property
    def primary_email(self) -> str | None:
        """The first address on file (lower-case), or None."""
        for e in sorted(self.emails, key=lambda e: (not e.primary, e.id or 0)):
            return e.address
        return None


class EmailAddress(Base):
    """An email address of a person, stored lower-case; unique across the roster."""

    __tablename__ = "email_addresses"
    __table_args__ = (Index("ix_email_addresses_person", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    address: Mapped[str] = mapped_column(String(320), unique=True)
    primary: Mapped[bool] = mapped_column(default=True)

    person: Mapped[Person] = relationship(back_populates="emails")


class Identity(Base):
    """A person's account on a chat platform: (platform, workspace id, user id)."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("platform", "workspace_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(16))
    workspace_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    person: Mapped[Person] = relationship(back_populates="identities")


class Group(Base):
    """A group of people: the whole alliance (``is_alliance``) or a working group.

    ``channels`` maps a platform to the conversation where the group is posted,
    e.g. ``{"<platform>": {"workspace_id": "T1", "channel_id": "C1"}}``.
    """

    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    is_alliance: Mapped[bool] = mapped_column(default=False)
    voting_unit: Mapped[str] = mapped_column(String(16), default="person")
    channels: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="group", cascade="all, delete-orphan"
    )


class Membership(Base):
    """One role held by one person in one group."""

    __tablename__ = "memberships"
    # By person: the unique key. By group (a group's voters, invitees) and by
    # role (the secretariat, the chairs): these two, so neither reads every row.
    __table_args__ = (UniqueConstraint("person_id", "group_id", "role"),
                      Index("ix_memberships_group", "group_id", "role", "person_id"),
                      Index("ix_memberships_role", "role", "person_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    person: Mapped[Person] = relationship(back_populates="memberships")
    group: Mapped[Group] = relationship(back_populates="memberships")


class AuditEntry(Base):
    """Who did what, when and through which channel.

    ``at``: aware datetime, UTC. ``channel`` is the platform the action came
    through (an adapter's name, or email, console, web, cli, job).
    """

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_subject", "subject_type", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    channel: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64))
    subject_type: Mapped[str] = mapped_column(String(32), default="")
    subject_id: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class OutboxMessage(Base):
    """Something that leaves the process (an email, a chat post), written in the
    same transaction as the change that caused it.

    ``key`` is unique: writing the same key twice is how a caller makes a send
    happen once (e.g. ``digest:2026-W47:secretariat@example.org``). ``status`` is
    ``pending``, ``sending`` (claimed by ``claimed_by``, a token of the process
    ``owner``, until ``next_attempt_at``, the lease), ``sent`` or ``dead``;
    ``next_attempt_at``: aware datetime, UTC. ``coalesce_key`` (``poll:12:tally:
    <platform>:C1``) is unique among pending rows: a refresh queued while one is
    pending adds nothing, and the worker renders the latest state (bot/queue.py).
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        Index("uq_outbox_pending_coalesce", "coalesce_key", unique=True,
              sqlite_where=text("status = 'pending'"),
              postgresql_where=text("status = 'pending'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(255), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    owner: Mapped[str | None] = mapped_column(String(64))
    coalesce_key: Mapped[str | None] = mapped_column(String(255))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column()
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class ProcessedEvent(Base):
    """A platform event already handled: (platform, event id). Retries are dropped."""

    __tablename__ = "processed_events"
    __table_args__ = (UniqueConstraint("platform", "event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str] = mapped_column(String(255))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class ChatPost(Base):
    """Where a living message (a tally, a summary) was posted, so it can be updated.

    ``ref`` is the core's name for it (``poll:12``); ``external_id`` the
    platform's message id, opaque to the core.
    """

    __tablename__ = "chat_posts"
    __table_args__ = (UniqueConstraint("ref", "platform", "workspace_id", "channel_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(128))
    platform: Mapped[str] = mapped_column(String(16))
    workspace_id: Mapped[str] = mapped_column(String(64))
    channel_id: Mapped[str] = mapped_column(String(128))
    external_id: Mapped[str] = mapped_column(String(128))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class QueueInstance(Base):
    """A running process that claims queue rows: ``id`` is its instance id
    (``[queue] instance_id``, default host:port), ``heartbeat_at`` (aware UTC)
    refreshed every few seconds. Rows claimed by an instance whose heartbeat is
    stale are taken over without waiting out their lease (bot/queue.py)."""

    __tablename__ = "queue_instances"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(default=utcnow)


class InboxItem(Base):
    """One acknowledged chat request waiting to be (or already) dispatched: a
    verified request is written here before its platform gets the
    acknowledgement, so a crash between the two loses nothing (bot/inbox.py).

    ``platform`` is the adapter's name (each adapter sweeps its own rows);
    ``key`` is unique (``<platform>:<event id>``): a platform's retry of a
    request already written adds nothing. ``kind`` is the adapter's word for
    the request; ``payload`` holds ``{"body": <the request body>, ...}``.
    ``status`` is ``pending``, ``working`` (claimed by ``claimed_by`` until
    ``lease_until``, aware UTC; ``owner`` is the claiming process's instance
    id), ``done`` or ``dead`` (gave up after repeated failures, ``last_error``
    says why).
    """

    __tablename__ = "inbox"
    __table_args__ = (Index("ix_inbox_due", "platform", "status", "lease_until"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(255), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column()
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column()


class JobRun(Base):
    """One firing of a periodic job: unique ``(job, scheduled_for)``, so a
    firing on two replicas during a fail-over runs once (bot/jobs.py).
    ``instance`` owns the claim until ``lease_until`` (renewed while the work
    runs); an unfinished run whose lease lapsed, or whose owner's heartbeat is
    stale, is taken over (``attempts`` counts the claims). ``scheduled_for``,
    ``started_at``, ``finished_at``, ``lease_until``: aware UTC."""

    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("job", "scheduled_for"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(128))
    scheduled_for: Mapped[datetime] = mapped_column()
    instance: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()
    error: Mapped[str | None] = mapped_column(Text)
    lease_until: Mapped[datetime | None] = mapped_column()
    attempts: Mapped[int] = mapped_column(default=1, server_default=text("1"))


class StashedForm(Base):
    """A form waiting behind an "open" button in a chat, shared by every
    replica (any of them may receive the press): ``token`` is the button's
    value (URL-safe, at most 32 characters); ``platform`` the adapter that
    stashed it; ``data`` what that adapter needs to show it again (JSON, the
    core's ``to_data`` form of the Form and its message); ``page`` the next
    modal page to open and ``page_values`` the (field, value) pairs of the
    pages before it; ``expires_at`` aware UTC (rows past it are swept)."""

    __tablename__ = "form_stash"

    token: Mapped[str] = mapped_column(String(32), primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    page: Mapped[int] = mapped_column(default=0)
    page_values: Mapped[list[list[str]]] = mapped_column(JSON, default=list)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
