"""The calendar feeds' stored events (bot.workshops.feed_events): a feed read
from the store is byte for byte the feed built from scratch, on many random
workshops; every write that changes what a feed shows (confirm, move, cancel)
stores the new event in its own unit of work; bytes stored under another key
(another title, catalog, organizer) are never served; rows with nothing
stored (written before the store) are built, served, then stored."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, true, update
from sqlalchemy.orm import Session, joinedload

from bot.app import Bot
from bot.members import person_by_email
from bot.workshops import feed_events, feeds
from bot.workshops.ical import calendar_bytes, read_events
from bot.workshops.meetings import meeting_for
from storage.models import Group, Workshop, WorkshopFeedEvent, WorkshopSeries
from tests.conftest import MEMBER, SECRETARIAT
from tests.workshops.helpers import YEAR, confirmed_workshop, say

ZONES = ["Europe/Paris", "UTC", "America/Los_Angeles", "Asia/Kolkata", "Australia/Sydney"]
TITLES = ["Soil carbon", "Mesure du carbone des sols, 2e partie; suite",
          "Financiación: pago por tonelada \\ ronda", "Long " + "title word " * 20, "Ü ß 日本"]


def _scratch(session: Session, bot: Bot, *, with_join: bool) -> bytes:
    """The feed as it was built before the store: every event from its
    workshop row, through meeting_for and icalendar."""
    rows = session.scalars(select(Workshop).options(joinedload(Workshop.series))
                           .where(Workshop.starts_at.is_not(None))
                           .order_by(Workshop.starts_at, Workshop.id)).all()
    meetings = [replace(meeting_for(w, bot.settings, person=None, with_join=with_join,
                                    cancelled=w.state == "cancelled"),
                        dtstamp=w.updated_at.replace(microsecond=0)) for w in rows]
    return calendar_bytes(meetings, method=None, name=bot.settings.alliance_name)


def _served(bot: Bot, *, person: bool) -> tuple[bytes, list[feed_events.Built]]:
    """A feed as the route serves it (the member's, or the public one), and
    what it built; what it built is stored, as the route does."""
    with bot.session_factory() as s:
        who = person_by_email(s, MEMBER) if person else None
        body, _changed, built = feeds.feed_bytes(s, bot.settings, person=who)
    feed_events.keep(bot.session_factory, built)
    return body, built


def _stored(bot: Bot, wid: int) -> dict[bool, bytes]:
    with bot.session_factory() as s:
        return {j: ics for j, ics in s.execute(select(
            WorkshopFeedEvent.with_join, WorkshopFeedEvent.ics).where(
            WorkshopFeedEvent.workshop_id == wid)).all()}


def _random_workshops(bot: Bot, n: int, seed: int) -> None:
    rng = random.Random(seed)
    with bot.session_factory() as s, s.begin():
        group = s.scalars(select(Group).where(Group.is_alliance.is_(True))).one()
        series = [WorkshopSeries(group_id=group.id, title=f"Series {i}", anchor_zone=zone,
                                 topic=rng.choice(["", "soil_measurement", "Free text, topic"]),
                                 language=rng.choice(["en", "fr", "es"]),
                                 join_url="https://meet.example/s")
                  for i, zone in enumerate(ZONES)]
        s.add_all(series)
        s.flush()
        for i in range(n):
            start = (datetime(YEAR, 1, 1, tzinfo=UTC) + timedelta(hours=rng.randrange(24 * 700))
                     + timedelta(minutes=rng.choice([0, 30, 45])))
            state = rng.choice(["confirmed", "confirmed", "cancelled", "held", "finding"])
            s.add(Workshop(series_id=rng.choice(series).id, group_id=group.id,
                           quarter=f"r{seed}-{i}", title=rng.choice(TITLES), state=state,
                           starts_at=None if state == "finding" else start,
                           ends_at=None if state == "finding" else start + timedelta(
                               minutes=rng.choice([60, 90, 150])),
                           uid=f"random-{seed}-{i}@alliance.example",
                           sequence=rng.randrange(5), join_url=rng.choice(
                               ["", "https://meet.example/x?a=1&b=2"]),
                           updated_at=start - timedelta(days=rng.randrange(90),
                                                        microseconds=rng.randrange(10**6))))


def test_stored_feed_equals_the_feed_built_from_scratch(bot: Bot) -> None:
    _random_workshops(bot, 60, seed=7)
    for person in (True, False):
        with bot.session_factory() as s:
            want = _scratch(s, bot, with_join=person)
        first, built = _served(bot, person=person)  # nothing stored yet: built
        assert built and first == want
        again, built = _served(bot, person=person)  # now read from the store
        assert not built and again == want
        assert want.count(b"BEGIN:VEVENT") == len(read_events(want)) > 40


def test_every_write_stores_what_the_feed_shows(bot: Bot) -> None:
    wid = confirmed_workshop(bot)
    stored = _stored(bot, wid)  # the write stored both variants...
    body, built = _served(bot, person=True)
    assert not built and stored[True] in body  # ...and the feed read them
    with bot.session_factory() as s:
        assert body == _scratch(s, bot, with_join=True)
    assert b"SEQUENCE:0" in stored[True] and b"meet.example/soil" in stored[True]
    assert b"meet.example/soil" not in stored[False]

    assert "moves" in say(bot, SECRETARIAT, f"workshop reschedule {wid} {YEAR}-04-08 15:00")
    moved = _stored(bot, wid)
    assert moved[True] != stored[True] and b"SEQUENCE:1" in moved[True]
    assert f"DTSTART;TZID=Europe/Paris:{YEAR}0408T150000".encode() in moved[True]
    body, built = _served(bot, person=True)
    assert not built and moved[True] in body
    with bot.session_factory() as s:
        assert body == _scratch(s, bot, with_join=True)

    # an answer is nobody else's business: it is not in the feed
    say(bot, MEMBER, f"workshop rsvp {wid} accept")
    assert _served(bot, person=True)[0] == body

    assert "cancel" in say(bot, SECRETARIAT, f"workshop cancel {wid}").lower()
    gone = _stored(bot, wid)
    assert b"STATUS:CANCELLED" in gone[True] and b"SEQUENCE:2" in gone[True]
    assert b"STATUS:CANCELLED" in gone[False]
    body, built = _served(bot, person=False)
    assert not built and gone[False] in body and b"METHOD" not in body
    with bot.session_factory() as s:
        assert body == _scratch(s, bot, with_join=False)


def test_bytes_stored_under_another_key_are_never_served(bot: Bot) -> None:
    wid = confirmed_workshop(bot)
    with bot.session_factory() as s, s.begin():  # a write that does not store
        s.execute(update(Workshop).where(Workshop.id == wid).values(title="Renamed"))
    body, built = _served(bot, person=True)
    assert [b.workshop_id for b in built] == [wid] and b"Workshop: Renamed" in body
    with bot.session_factory() as s:
        assert body == _scratch(s, bot, with_join=True)

    later = datetime(YEAR, 3, 11, 13, 15, tzinfo=UTC)  # the workshop is at 14:00 UTC
    changes = [(Workshop, {"sequence": 7}), (Workshop, {"starts_at": later}),
               (Workshop, {"ends_at": later + timedelta(hours=5)}),
               (Workshop, {"state": "cancelled"}), (Workshop, {"join_url": "https://j.example"}),
               (Workshop, {"updated_at": later}), (WorkshopSeries, {"topic": "soil_measurement"}),
               (WorkshopSeries, {"language": "fr"}),
               (WorkshopSeries, {"anchor_zone": "Asia/Tokyo"})]
    for table, values in changes:  # each input of the event, changed behind the store's back
        with bot.session_factory() as s, s.begin():
            s.execute(update(table).values(**values))
        body, built = _served(bot, person=True)
        assert [b.workshop_id for b in built] == [wid], values
        with bot.session_factory() as s:
            assert body == _scratch(s, bot, with_join=True), values

    # another organizer (or catalog: the probe) is another key
    bot.settings.workshops.calendar_address = "other@alliance.example"
    body, built = _served(bot, person=True)
    assert built and b"other@alliance.example" in body
    assert b"other@alliance.example" in _stored(bot, wid)[True]


def test_stored_bytes_under_their_key_are_what_is_served(bot: Bot) -> None:
    """The feed reads the store: bytes under the right key are served as they are."""
    wid = confirmed_workshop(bot)
    marked = _stored(bot, wid)[False].replace(b"SUMMARY;LANGUAGE=en:Workshop: ",
                                              b"SUMMARY;LANGUAGE=en:Stored: ")
    with bot.session_factory() as s, s.begin():
        s.execute(update(WorkshopFeedEvent).where(WorkshopFeedEvent.workshop_id == wid,
                                                  WorkshopFeedEvent.with_join.is_(False))
                  .values(ics=marked))
    assert b"Stored: " in marked and marked in _served(bot, person=False)[0]


def test_rows_from_before_the_store_are_built_then_stored(bot: Bot) -> None:
    wid = confirmed_workshop(bot)
    with bot.session_factory() as s, s.begin():
        s.execute(WorkshopFeedEvent.__table__.delete())
    assert _stored(bot, wid) == {}
    body, built = _served(bot, person=False)
    assert [b.workshop_id for b in built] == [wid]
    assert _stored(bot, wid)[False] in body
    with bot.session_factory() as s:
        got = feed_events.read(s, bot.settings, where=true(), with_join=False)
    assert not got.built and len(got.events) == 1
