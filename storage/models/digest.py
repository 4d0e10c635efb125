"""Press-review tables: feeds, weekly digests, their items and sources,
suggestions, the secretariat's include/exclude edits and recipients.

``Digest.week`` (ISO week, ``2026-W47``) is unique: exactly one digest per week.
Every datetime is aware UTC.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.base import Base, utcnow


class DigestFeed(Base):
    """A source: an http(s) URL or a local path. ``weight`` scales its items'
    rank (1.0 neutral); ``language`` overrides detection when set.
    ``etag``/``last_modified`` are the validators of the last 200 response;
    ``cached_entries`` the normalised entries of that response (reused on 304)."""

    __tablename__ = "digest_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(1000), unique=True)
    title: Mapped[str] = mapped_column(String(300), default="")
    weight: Mapped[float] = mapped_column(default=1.0)
    language: Mapped[str | None] = mapped_column(String(8))
    enabled: Mapped[bool] = mapped_column(default=True)
    etag: Mapped[str | None] = mapped_column(String(300))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    last_status: Mapped[str] = mapped_column(String(16), default="")
    last_error: Mapped[str | None] = mapped_column(Text)
    last_fetched_at: Mapped[datetime | None] = mapped_column()
    cached_entries: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Digest(Base):
    """One week's press review. ``status``: ``draft`` then ``sent`` (frozen).
    ``report`` lists each source's outcome (ok, unchanged, bozo, failed + reason)."""

    __tablename__ = "digests"

    id: Mapped[int] = mapped_column(primary_key=True)
    week: Mapped[str] = mapped_column(String(8), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    subject: Mapped[str] = mapped_column(String(300), default="")
    html: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    report: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    built_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column()

    items: Mapped[list[DigestItem]] = relationship(
        back_populates="digest", cascade="all, delete-orphan",
        order_by="DigestItem.position")
    recipients: Mapped[list[DigestRecipient]] = relationship(
        back_populates="digest", cascade="all, delete-orphan")


class DigestItem(Base):
    """A story in a digest (the same story from several sources is one item).

    ``position`` is 1-based among selected items, None for a candidate not
    selected; ``excluded`` set by the secretariat; ``why`` names matched terms."""

    __tablename__ = "digest_items"
    __table_args__ = (UniqueConstraint("digest_id", "canonical_url"),
                      Index("ix_digest_items_url", "canonical_url"))

    id: Mapped[int] = mapped_column(primary_key=True)
    digest_id: Mapped[int] = mapped_column(ForeignKey("digests.id", ondelete="CASCADE"))
    position: Mapped[int | None] = mapped_column()
    canonical_url: Mapped[str] = mapped_column(String(1000))
    title: Mapped[str] = mapped_column(String(500))
    summary: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(8), default="other")
    published_at: Mapped[datetime] = mapped_column()
    topic: Mapped[str] = mapped_column(String(64), default="")
    themes: Mapped[list[str]] = mapped_column(JSON, default=list)
    matched: Mapped[list[str]] = mapped_column(JSON, default=list)
    score: Mapped[float] = mapped_column(default=0.0)
    excluded: Mapped[bool] = mapped_column(default=False)
    pinned: Mapped[bool] = mapped_column(default=False)
    suggested_by: Mapped[str | None] = mapped_column(String(300))
    by_observer: Mapped[bool] = mapped_column(default=False)
    #: How much what the secretariat taught moved the score (0: nothing), and
    #: why ("included 4 similar items"): see :mod:`digests.learn`.
    learned: Mapped[float] = mapped_column(default=0.0)
    learned_note: Mapped[str] = mapped_column(String(300), default="")
    #: Why several write-ups are this one item ("" when it is one).
    merged: Mapped[str] = mapped_column(String(500), default="")

    digest: Mapped[Digest] = relationship(back_populates="items")
    sources: Mapped[list[DigestItemSource]] = relationship(
        back_populates="item", cascade="all, delete-orphan", order_by="DigestItemSource.id")


class DigestItemSource(Base):
    """One source's entry for an item: the feed's title and the entry's link."""

    __tablename__ = "digest_item_sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("digest_items.id", ondelete="CASCADE"))
    feed_title: Mapped[str] = mapped_column(String(300), default="")
    feed_url: Mapped[str] = mapped_column(String(1000), default="")
    link: Mapped[str] = mapped_column(String(1000))
    #: The entry's own title (an item split apart shows it).
    title: Mapped[str] = mapped_column(String(500), default="")
    #: The publisher named by the entry (its <source> element), else "".
    publisher: Mapped[str] = mapped_column(String(300), default="")

    item: Mapped[DigestItem] = relationship(back_populates="sources")


class DigestSuggestion(Base):
    """A URL suggested in chat for ``week``; ``by_observer`` marks an observer's.
    ``title``: the article's own title, fetched after the suggestion is
    recorded; ``title_status``: ``pending`` (being fetched), ``fetched`` or
    ``unavailable`` (the page could not be fetched or has no title: ``title``
    is ""); ``note``: what the member wrote, kept apart."""

    __tablename__ = "digest_suggestions"
    __table_args__ = (UniqueConstraint("week", "canonical_url"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    week: Mapped[str] = mapped_column(String(8))
    url: Mapped[str] = mapped_column(String(1000))
    canonical_url: Mapped[str] = mapped_column(String(1000))
    note: Mapped[str] = mapped_column(Text, default="")
    title: Mapped[str] = mapped_column(String(500), default="", server_default="")
    title_status: Mapped[str] = mapped_column(String(16), default="pending",
                                              server_default="unavailable")
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    by_observer: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DigestEdit(Base):
    """A secretariat edit of a week's draft: ``action`` is include or exclude."""

    __tablename__ = "digest_edits"

    id: Mapped[int] = mapped_column(primary_key=True)
    week: Mapped[str] = mapped_column(String(8), index=True)
    action: Mapped[str] = mapped_column(String(16))
    canonical_url: Mapped[str] = mapped_column(String(1000))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DigestExample(Base):
    """One thing the secretariat taught the press review: ``action`` is
    include, exclude, split or suggest; ``label`` +1 (wanted), -1 (not
    wanted) or 0 (a split: no verdict on relevance); the item's text as it
    was read. Kept across weeks and restarts; ``digest learned reset``
    deletes them."""

    __tablename__ = "digest_examples"

    id: Mapped[int] = mapped_column(primary_key=True)
    week: Mapped[str] = mapped_column(String(8), index=True)
    action: Mapped[str] = mapped_column(String(16))
    label: Mapped[int] = mapped_column(default=0)
    canonical_url: Mapped[str] = mapped_column(String(1000))
    title: Mapped[str] = mapped_column(String(500), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(8), default="other")
    topic: Mapped[str] = mapped_column(String(64), default="")
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DigestNoteOptOut(Base):
    """A person who asked not to get the weekly interest note (``digest notes off``)."""

    __tablename__ = "digest_note_optouts"

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"),
                                           primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DigestRecipient(Base):
    """Who a digest was sent to, and under which outbox key."""

    __tablename__ = "digest_recipients"
    __table_args__ = (UniqueConstraint("digest_id", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    digest_id: Mapped[int] = mapped_column(ForeignKey("digests.id", ondelete="CASCADE"))
    address: Mapped[str] = mapped_column(String(320))
    kind: Mapped[str] = mapped_column(String(16), default="email")
    outbox_key: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    digest: Mapped[Digest] = relationship(back_populates="recipients")
