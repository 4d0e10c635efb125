"""Workshops as Guild Scheduled Events: created, updated and cancelled through the
outbox; a member's "interested" reaches the core as an Attendance of the uid."""

from __future__ import annotations

from datetime import timedelta

from bot.context import Context
from bot.outbox import ChatTarget, enqueue_calendar
from bot.types import Attendance, CalendarEvent, Message
from storage.base import utcnow
from tests.adapters.discord.fake_discord import GUILD
from tests.adapters.discord.harness import Harness, fixture
from tests.conftest import MEMBER

ALICE = "700000000000000001"


def _publish(h: Harness, event: CalendarEvent, key: str) -> None:
    with h.bot.session_factory() as s, s.begin():
        enqueue_calendar(session=s, key=key, target=ChatTarget("discord", GUILD, ""),
                         event=event, ref="workshop:3:1")
    h.drain()


def test_scheduled_event_lifecycle_and_interest_is_an_rsvp(harness: Harness) -> None:
    h = harness
    assert "discord" in h.bot.calendar_platforms
    seen: list[Attendance] = []

    def rsvp(ctx: Context) -> Message:
        assert isinstance(ctx.event, Attendance)
        seen.append(ctx.event)
        return Message("RSVP recorded")

    h.bot.registry.route("attendance", "workshop", rsvp, capability="workshop.attend")
    h.link(MEMBER, ALICE)
    start = utcnow() + timedelta(days=7)
    event = CalendarEvent(uid="workshop-3-1@convene", title="Q1 workshop: soil carbon",
                          starts_at=start, ends_at=start + timedelta(hours=2),
                          description="Agenda to follow", url="https://meet.example/q1")
    _publish(h, event, "ws:3:1:v0")
    (created,) = h.fake.find("POST", f"/guilds/{GUILD}/scheduled-events")
    assert created.body["entity_type"] == 3 and created.body["privacy_level"] == 2
    assert created.body["entity_metadata"] == {"location": "https://meet.example/q1"}
    event_id = next(iter(h.fake.events))
    moved = CalendarEvent(**{**{f: getattr(event, f) for f in event.__slots__},
                             "starts_at": start + timedelta(hours=1),
                             "ends_at": start + timedelta(hours=3), "sequence": 1})
    _publish(h, moved, "ws:3:1:v1")
    (patched,) = h.fake.find("PATCH", f"/guilds/{GUILD}/scheduled-events/{event_id}")
    assert patched.body["scheduled_start_time"] == (start + timedelta(hours=1)).isoformat()
    assert len(h.fake.events) == 1  # one event per occurrence, updated in place

    add = fixture("remora_GUILD_SCHEDULED_EVENT_USER_ADD.json")["d"]
    add.update(guild_scheduled_event_id=event_id, user_id=ALICE, guild_id=GUILD)
    h.feed("GUILD_SCHEDULED_EVENT_USER_ADD", add)
    h.wait(lambda: seen)
    h.feed("GUILD_SCHEDULED_EVENT_USER_REMOVE", add)
    h.wait(lambda: len(seen) == 2)
    assert [(a.uid, a.attending, a.actor.user_id) for a in seen] == [
        ("workshop-3-1@convene", True, ALICE), ("workshop-3-1@convene", False, ALICE)]
    # An event Convene did not publish is not the core's business.
    other = dict(add, guild_scheduled_event_id="999999999999999999")
    h.feed("GUILD_SCHEDULED_EVENT_USER_ADD", other)

    cancelled = CalendarEvent(**{**{f: getattr(moved, f) for f in moved.__slots__},
                                 "cancelled": True, "sequence": 2})
    _publish(h, cancelled, "ws:3:1:v2")
    assert h.fake.events[event_id]["status"] == 4
    assert len(seen) == 2
