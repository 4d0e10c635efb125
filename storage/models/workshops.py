"""Workshop tables: series, workshops, candidate slots, availability answers,
RSVPs, the burden ledger, reminders (due rows), agenda items, action items,
calendar-feed keys, and the feeds' stored events.

Every ``*_at`` column is an aware datetime stored in UTC
(:class:`storage.base.UTCDateTime`); zones are IANA names kept as text so
daylight saving cannot drift a series.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.base import Base, utcnow


class WorkshopSeries(Base):
    """A recurring workshop: ``kind`` is ``quarterly`` or ``annual``; ``anchor_zone``
    an IANA zone (``Europe/Paris``) and ``anchor_time`` ``HH:MM`` local there;
    ``duration_minutes`` the length of each workshop."""

    __tablename__ = "workshop_series"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(300))
    topic: Mapped[str] = mapped_column(String(300), default="")
    kind: Mapped[str] = mapped_column(String(16), default="quarterly")
    anchor_zone: Mapped[str] = mapped_column(String(64))
    anchor_time: Mapped[str] = mapped_column(String(5), default="15:00")
    duration_minutes: Mapped[int] = mapped_column(default=90)
    join_url: Mapped[str] = mapped_column(String(500), default="")
    language: Mapped[str] = mapped_column(String(8), default="en")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    workshops: Mapped[list[Workshop]] = relationship(back_populates="series",
                                                     order_by="Workshop.id")


class Workshop(Base):
    """One workshop of a series (one quarter's, or the annual meeting).

    ``state``: ``finding`` (collecting availability), ``confirmed``, ``cancelled``,
    ``held`` (notes recorded). ``starts_at``/``ends_at``: aware UTC once confirmed.
    ``uid`` is the iCalendar UID (RFC 5545 3.8.4.7), stable for the workshop's
    life; ``sequence`` rises with every change sent (3.8.7.4).
    """

    __tablename__ = "workshops"

    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("workshop_series.id",
                                                      ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    quarter: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(300))
    state: Mapped[str] = mapped_column(String(16), default="finding")
    starts_at: Mapped[datetime | None] = mapped_column()
    ends_at: Mapped[datetime | None] = mapped_column()
    uid: Mapped[str] = mapped_column(String(255), unique=True)
    sequence: Mapped[int] = mapped_column(default=0)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    join_url: Mapped[str] = mapped_column(String(500), default="")
    agenda_deadline: Mapped[datetime | None] = mapped_column()
    agenda_published_at: Mapped[datetime | None] = mapped_column()
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    series: Mapped[WorkshopSeries] = relationship(back_populates="workshops")
    slots: Mapped[list[WorkshopSlot]] = relationship(
        back_populates="workshop", cascade="all, delete-orphan",
        order_by="WorkshopSlot.starts_at")

    __table_args__ = (UniqueConstraint("series_id", "quarter"),
                      Index("ix_workshops_group", "group_id"))


class WorkshopSlot(Base):
    """A candidate time: ``starts_at`` aware UTC; ``entered_zone`` the zone the
    secretariat typed it in (for the record only)."""

    __tablename__ = "workshop_slots"
    __table_args__ = (UniqueConstraint("workshop_id", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshops.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column()
    entered_zone: Mapped[str] = mapped_column(String(64), default="UTC")

    workshop: Mapped[Workshop] = relationship(back_populates="slots")


class WorkshopAvailability(Base):
    """A person's answer for a slot: ``yes``, ``ifneedbe`` or ``no`` (the latest wins)."""

    __tablename__ = "workshop_availability"
    __table_args__ = (UniqueConstraint("slot_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("workshop_slots.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    answer: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class WorkshopRsvp(Base):
    """One record per person and workshop: ``answer`` is ``accepted``,
    ``tentative`` or ``declined`` (the latest wins); ``sequence`` the invite
    sequence it answered (iTIP REPLY), ``channel`` the path it came by."""

    __tablename__ = "workshop_rsvps"
    __table_args__ = (UniqueConstraint("workshop_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshops.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    answer: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16), default="")
    sequence: Mapped[int] = mapped_column(default=0)
    replied_at: Mapped[datetime | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class WorkshopBurden(Base):
    """The burden ledger: the local hour (``local_hour``, 0-24, float) at which
    ``person_id`` was asked to attend ``workshop_id`` and its ``burden``
    (night 00-06 heaviest; see bot/workshops/scoring.py); ``zone`` at the time."""

    __tablename__ = "workshop_burdens"
    __table_args__ = (UniqueConstraint("workshop_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshops.id", ondelete="CASCADE"))
    series_id: Mapped[int] = mapped_column(ForeignKey("workshop_series.id",
                                                      ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    zone: Mapped[str] = mapped_column(String(64))
    local_hour: Mapped[float] = mapped_column(Float)
    burden: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WorkshopReminder(Base):
    """A reminder due at ``due_at`` (aware UTC): ``kind`` is ``before:<minutes>``
    for a workshop reminder or ``action`` for an action item's. ``key`` is unique
    so each reminder exists, and is sent, once. ``status``: ``pending``, ``sent``,
    ``skipped`` (declined meanwhile, or the workshop moved or was cancelled)."""

    __tablename__ = "workshop_reminders"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(255), unique=True)
    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshops.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    action_id: Mapped[int | None] = mapped_column(ForeignKey("workshop_actions.id",
                                                             ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    due_at: Mapped[datetime] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), default="pending")
    sent_at: Mapped[datetime | None] = mapped_column()

    __table_args__ = (Index("ix_workshop_reminders_due", "status", "due_at"),
                      Index("ix_workshop_reminders_workshop", "workshop_id", "status"))


class WorkshopAgendaItem(Base):
    """An agenda item: ``state`` ``proposed``, ``accepted`` or ``dropped``;
    ``position`` its order once the secretariat orders the agenda;
    ``carried_from_action`` an open action item carried from an earlier workshop."""

    __tablename__ = "workshop_agenda_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshops.id", ondelete="CASCADE"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(default=0)
    state: Mapped[str] = mapped_column(String(16), default="proposed")
    carried_from_action: Mapped[int | None] = mapped_column(
        ForeignKey("workshop_actions.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WorkshopAction(Base):
    """An action item agreed at a workshop: ``owner_id`` does it by ``due_at``
    (aware UTC; entered in the owner's zone); ``done_at`` when closed."""

    __tablename__ = "workshop_actions"
    __table_args__ = (Index("ix_workshop_actions_owner", "owner_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshops.id", ondelete="CASCADE"))
    owner_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
    due_at: Mapped[datetime] = mapped_column()
    done_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WorkshopFeedKey(Base):
    """A person's calendar-feed key version: a feed URL signs ``(person, version)``;
    raising ``version`` revokes every earlier URL."""

    __tablename__ = "workshop_feed_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"),
                                           unique=True)
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class WorkshopFeedEvent(Base):
    """A workshop's VEVENT as the calendar feeds serve it, serialised by
    icalendar when the workshop was written (bot.workshops.feed_events), so a
    feed joins stored bytes instead of building every event.

    ``with_join``: the personal feeds' variant (join links) or the public
    one's; ``key``: a digest of everything the bytes were made from (the
    workshop's and its series' columns, the organizer, the catalogs), so bytes
    made from anything else are never served; ``ics``: ``BEGIN:VEVENT`` to
    ``END:VEVENT``, CRLF, folded. Nothing per person: a feed's events carry no
    ATTENDEE and are written in the series' language."""

    __tablename__ = "workshop_feed_events"

    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshops.id", ondelete="CASCADE"),
                                             primary_key=True)
    with_join: Mapped[bool] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    ics: Mapped[bytes] = mapped_column(LargeBinary)
