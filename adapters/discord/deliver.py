"""The outbox's Discord deliverer: ``bot.chat_deliverers["discord"]``.

A chat payload (``bot.outbox.enqueue_chat``) is posted with ``POST
/channels/{id}/messages`` (multipart when it carries files); given
``existing_id`` (the message id of an earlier post with the same ref) it is
edited in place with ``PATCH``, so a live tally stays one message; if that
message was deleted (10008), a new one is posted. Discord has no ephemeral
post outside an interaction, so a payload naming a ``user_id`` goes to that
user's direct messages. Returns the message id.

A calendar payload (``bot.outbox.enqueue_calendar``) becomes a Guild
Scheduled Event in ``workspace_id`` (the guild): external, located at the
event's url (or location), created with ``POST
/guilds/{guild}/scheduled-events``, changed with ``PATCH`` and, when
``cancelled``, set to status 4 (cancelled). One event per occurrence. The
event id is returned and remembered with the uid (table
``discord_scheduled_events``) so that "interested" can be told to the core.
Raises on failure so the outbox retries.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from adapters.discord.limits import EVENT_DESCRIPTION, EVENT_LOCATION, EVENT_NAME
from adapters.discord.markdown import MentionLookup, plain
from adapters.discord.models import DiscordScheduledEvent
from adapters.discord.outbound import render_message
from adapters.discord.rest import Rest, is_unknown
from bot.types import CalendarEvent, from_data, message_from_data
from storage.base import utcnow
from storage.models import Identity

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

UNKNOWN_MESSAGE = 10008
UNKNOWN_EVENT = 10070
EXTERNAL = 3
GUILD_ONLY = 2
CANCELLED = 4


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def event_body(event: CalendarEvent) -> dict[str, Any]:
    """The scheduled-event JSON for ``event`` (names and texts cut to Discord's
    limits). A link is never cut: one longer than the location's 100
    characters leads the description (1,000) whole, and the location names its
    host."""
    where = event.url or event.location or "-"
    description = event.description
    if event.url and event.location and event.location != event.url:
        description = f"{description}\n\n{event.location}".strip()
    if event.url and len(event.url) > EVENT_LOCATION:
        where = urlsplit(event.url).hostname or "-"
        description = f"{event.url}\n\n{description}".strip()
    return {
        "name": plain(event.title, EVENT_NAME) or "-",
        "description": plain(description, EVENT_DESCRIPTION),
        "scheduled_start_time": _iso(event.starts_at),
        "scheduled_end_time": _iso(event.ends_at),
        "privacy_level": GUILD_ONLY,
        "entity_type": EXTERNAL,
        "entity_metadata": {"location": plain(where, EVENT_LOCATION)},
        "channel_id": None,
    }


class DiscordDeliverer:
    """Callable ``(payload, *, existing_id) -> id | None`` for the outbox worker."""

    def __init__(self, rest: Rest, session_factory: sessionmaker[Session]) -> None:
        self.rest = rest
        self.session_factory = session_factory

    def __call__(self, payload: Mapping[str, Any], *, existing_id: str | None) -> str | None:
        if payload.get("calendar_event") is not None:
            return self.calendar(payload, existing_id=existing_id)
        return self.chat(payload, existing_id=existing_id)

    # -- chat ---------------------------------------------------------------------------
    def mentions(self, guild: str) -> MentionLookup:
        """person id -> their linked Discord user id in ``guild`` (one query per message)."""
        cache: dict[int, str | None] = {}

        def lookup(person_id: int) -> str | None:
            if person_id not in cache:
                with self.session_factory() as s:
                    cache[person_id] = s.scalar(select(Identity.user_id).where(
                        Identity.person_id == person_id, Identity.platform == "discord",
                        Identity.workspace_id == guild))
            return cache[person_id]

        return lookup

    def chat(self, payload: Mapping[str, Any], *, existing_id: str | None) -> str | None:
        message = message_from_data(payload["message"])
        rendered = render_message(message, mentions=self.mentions(
            str(payload.get("workspace_id") or "")))
        channel = str(payload.get("thread_id") or payload.get("channel_id") or "")
        user = payload.get("user_id")
        if user:
            channel = str(self.rest.request("POST", "/users/@me/channels",
                                             json_body={"recipient_id": str(user)})["id"])
        if not channel:
            raise ValueError("outbox payload names neither a channel nor a user")
        if existing_id and not user:
            body = dict(rendered.body)
            body.setdefault("content", "")
            body.setdefault("attachments", [])  # an edit replaces the files too
            try:
                data = self.rest.request("PATCH", "/channels/{channel_id}/messages/{message_id}",
                                         channel_id=channel, message_id=existing_id,
                                         json_body=body, files=rendered.files)
                return str(data["id"])
            except Exception as exc:
                if not is_unknown(exc, UNKNOWN_MESSAGE):
                    raise
                log.info("Discord message %s in %s is gone; posting anew", existing_id, channel)
        data = self.rest.request("POST", "/channels/{channel_id}/messages", channel_id=channel,
                                 json_body=rendered.body, files=rendered.files)
        return str(data["id"])

    # -- scheduled events ---------------------------------------------------------------
    def calendar(self, payload: Mapping[str, Any], *, existing_id: str | None) -> str | None:
        event = from_data(payload["calendar_event"])
        if not isinstance(event, CalendarEvent):
            raise ValueError("calendar_event is not a CalendarEvent")
        guild = str(payload.get("workspace_id") or "")
        if not guild:
            raise ValueError("a Discord scheduled event needs a guild (workspace_id)")
        path = "/guilds/{guild_id}/scheduled-events/{event_id}"
        if existing_id:
            body = {"status": CANCELLED} if event.cancelled else event_body(event)
            try:
                self.rest.request("PATCH", path, guild_id=guild, event_id=existing_id,
                                  json_body=body)
                self._remember(guild, existing_id, event, str(payload.get("ref") or ""))
                return existing_id
            except Exception as exc:
                if not is_unknown(exc, UNKNOWN_EVENT):
                    raise
                log.info("Discord scheduled event %s is gone", existing_id)
                if event.cancelled:
                    return existing_id
        if event.cancelled:
            return None  # never published: nothing to cancel
        if event.starts_at <= utcnow():
            log.info("not publishing %s on Discord: it starts in the past", event.uid)
            return None
        data = self.rest.request("POST", "/guilds/{guild_id}/scheduled-events", guild_id=guild,
                                 json_body=event_body(event))
        event_id = str(data["id"])
        self._remember(guild, event_id, event, str(payload.get("ref") or ""))
        return event_id

    def _remember(self, guild: str, event_id: str, event: CalendarEvent, ref: str) -> None:
        try:
            with self.session_factory() as s, s.begin():
                row = s.scalars(select(DiscordScheduledEvent).where(
                    DiscordScheduledEvent.event_id == event_id)).first()
                if row is None:
                    s.add(DiscordScheduledEvent(event_id=event_id, guild_id=guild,
                                                uid=event.uid, ref=ref,
                                                cancelled=event.cancelled))
                else:
                    row.uid, row.cancelled, row.updated_at = event.uid, event.cancelled, utcnow()
        except IntegrityError:  # written by a concurrent delivery of the same event
            log.debug("scheduled event %s already remembered", event_id)


def uid_of(session_factory: sessionmaker[Session], event_id: str) -> str | None:
    """The calendar uid Convene published as scheduled event ``event_id``, or None."""
    with session_factory() as s:
        return s.scalar(select(DiscordScheduledEvent.uid).where(
            DiscordScheduledEvent.event_id == event_id))
