"""bot.workshops.ical writes each VEVENT line by line, without icalendar's
component objects: its bytes must be the very bytes icalendar writes for the
same properties, for text that needs escaping, quoting, RFC 6868 and folding
(multi-byte characters, a backslash or caret at the fold), in every method."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import icalendar
import pytest

from bot.workshops import ical
from bot.workshops.ical import Attendee, Meeting


def icalendar_event(m: Meeting, *, method: str, now: datetime) -> bytes:
    """The reference: the VEVENT built as icalendar components and serialised."""
    ev = icalendar.Event()
    ev.add("uid", m.uid)
    ev.add("dtstamp", (m.dtstamp or now).astimezone(UTC))
    ev.add("sequence", m.sequence)
    for name, moment in (("dtstart", m.starts_at), ("dtend", m.ends_at)):
        value, params = ical._local(moment, m.zone)
        ev.add(name, value, parameters=params)
    ev.add("summary", m.summary, parameters={"LANGUAGE": m.language})
    if m.description:
        ev.add("description", m.description, parameters={"LANGUAGE": m.language})
    if m.url:
        ev.add("url", m.url)
    if m.location or m.url:
        ev.add("location", m.location or m.url)
    ev.add("status", "CANCELLED" if m.cancelled or method == "CANCEL" else "CONFIRMED")
    ev.add("transp", "OPAQUE")
    org = icalendar.vCalAddress(f"mailto:{m.organizer_email}")
    org.params["CN"] = icalendar.vText(m.organizer_name)
    ev.add("organizer", org)
    for a in m.attendees:
        addr = icalendar.vCalAddress(f"mailto:{a.email}")
        addr.params["CN"] = icalendar.vText(a.name)
        addr.params["CUTYPE"] = icalendar.vText("INDIVIDUAL")
        addr.params["ROLE"] = icalendar.vText(a.role)
        addr.params["PARTSTAT"] = icalendar.vText(a.partstat)
        if method == "REQUEST":
            addr.params["RSVP"] = icalendar.vText("TRUE")
        ev.add("attendee", addr)
    return bytes(ev.to_ical())


PIECES = ["a", "Z", " ", ",", ";", ":", "\\", "\\N", "^", '"', "'", "\u2019", "\n", "\r\n",
          "\r", "é", "ü", "中", "😀", "x" * 30, "Dubois, Claire", "Soil carbon"]
ZONES = ["Europe/Paris", "UTC", "Australia/Sydney", "America/Sao_Paulo", "Asia/Kolkata"]


def text(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(PIECES) for _ in range(rng.randint(0, n)))


def random_meeting(rng: random.Random) -> Meeting:
    start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=15 * rng.randint(0, 70_000),
                                                         seconds=rng.choice([0, 7]))
    attendees = tuple(Attendee(f"p{i}@ex.example", text(rng, 6),
                               rng.choice(["REQ-PARTICIPANT", "OPT-PARTICIPANT", "CHAIR"]),
                               rng.choice(["NEEDS-ACTION", "ACCEPTED"]))
                      for i in range(rng.randint(0, 3)))
    return Meeting(uid=f"w-{rng.randint(1, 10**6)}{text(rng, 3)}@alliance.example",
                   sequence=rng.randint(0, 40), starts_at=start,
                   ends_at=start + timedelta(minutes=rng.choice([45, 90, 600])),
                   zone=rng.choice(ZONES), summary=text(rng, 12), description=text(rng, 40),
                   organizer_email="calendar@alliance.example", organizer_name=text(rng, 5),
                   attendees=attendees, url=rng.choice(["", "https://meet.example/a,b;c"]),
                   location=rng.choice(["", text(rng, 8)]), language=rng.choice(["en", "fr"]),
                   cancelled=rng.random() < 0.2,
                   dtstamp=rng.choice([None, start - timedelta(days=3, microseconds=5)]))


@pytest.mark.parametrize("method", ["REQUEST", "CANCEL", "PUBLISH"])
def test_the_writer_writes_what_icalendar_writes(method: str) -> None:
    rng = random.Random(method)
    now = datetime(2026, 3, 29, 1, 30, 12, 345, tzinfo=UTC)
    for _ in range(400):
        m = random_meeting(rng)
        assert ical._event(m, method=method, now=now) == icalendar_event(  # type: ignore[arg-type]
            m, method=method, now=now), m


PLAIN = Meeting(uid="w-1@alliance.example", sequence=0,
                starts_at=datetime(2026, 5, 4, 12, tzinfo=UTC),
                ends_at=datetime(2026, 5, 4, 13, tzinfo=UTC), zone="Europe/Paris", summary="",
                description="", organizer_email="calendar@alliance.example",
                organizer_name="Alliance")


def test_folds_are_at_75_octets_and_never_split_an_escape() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    for k in range(40, 160):
        m = replace(PLAIN, description="é" * (k % 7) + "x" * k + ";", summary="中" * (k // 3))
        out = ical._event(m, method="PUBLISH", now=now)
        lines = out.split(b"\r\n")
        assert max(len(line) for line in lines) <= 75
        assert not any(line.endswith(b"\\") for line in lines)  # "\;" kept whole
        assert icalendar.Event.from_ical(out)["description"] == m.description
        assert out == icalendar_event(m, method="PUBLISH", now=now)
