"""The Discord adapter's tables: one-time link codes and published scheduled events."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, utcnow


class DiscordLinkCode(Base):
    """A one-time code that links a Discord account to a roster person.

    Made by ``/convene link ADDRESS`` and emailed to that roster address; the
    code itself is never stored, only ``code_hash`` (HMAC-SHA256 under the
    instance's secret key, hex). It is good for the Discord account
    (``guild_id``, ``user_id``) that asked, until ``expires_at`` (aware UTC),
    for one use (``used_at``) and ``attempts`` wrong guesses at most.
    """

    __tablename__ = "discord_link_codes"
    __table_args__ = (Index("ix_discord_link_codes_user", "guild_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    guild_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(64))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()
    attempts: Mapped[int] = mapped_column(default=0)


class DiscordScheduledEvent(Base):
    """A Guild Scheduled Event that Convene created for a calendar event.

    ``event_id`` is Discord's snowflake; ``uid`` the core's calendar uid
    (``bot.types.CalendarEvent.uid``), so that a member's "interested" can be
    told to the core as an attendance of that uid; ``ref`` the outbox ref.
    """

    __tablename__ = "discord_scheduled_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    guild_id: Mapped[str] = mapped_column(String(64))
    uid: Mapped[str] = mapped_column(String(255))
    ref: Mapped[str] = mapped_column(String(128))
    cancelled: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
