"""Every .ics Convene writes is read back by icalendar, recurring-ical-events
and vobject with the same UTC instants (across the daylight-saving changes of
Europe/Paris and Australia/Sydney); the real calendars in ../shared/fixtures
are read, Windows zone names with the right instants; invites look like the
real Outlook/Google ones."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
import recurring_ical_events
import vobject

from bot.workshops.ical import (
    Attendee,
    Meeting,
    calendar_bytes,
    cancellation,
    invite,
    parse_replies,
    read_events,
)
from tests.conftest import need

PARIS = ZoneInfo("Europe/Paris")


def meeting(start: datetime, *, zone: str = "Europe/Paris", seq: int = 0,
            uid: str = "workshop-1@alliance.example") -> Meeting:
    return Meeting(uid=uid, sequence=seq, starts_at=start.astimezone(UTC),
                   ends_at=(start + timedelta(minutes=90)).astimezone(UTC), zone=zone,
                   summary="Atelier : sol vivant", description="Rejoindre : https://meet.x/y",
                   organizer_email="calendar@alliance.example", organizer_name="Alliance",
                   attendees=(Attendee("claire@inst.example", "Dubois, Claire"),
                              Attendee("tom@agri.example", "Tom", "OPT-PARTICIPANT")),
                   url="https://meet.x/y", language="fr")


def quarterly(zone: str, year: int) -> list[datetime]:
    """15:00 local on the 10th of each month of ``year``: crosses both clock changes."""
    tz = ZoneInfo(zone)
    return [datetime(year, m, 10, 15, 0, tzinfo=tz) for m in range(1, 13)]


def three_readers(data: bytes) -> dict[str, list[tuple[str, datetime]]]:
    out: dict[str, list[tuple[str, datetime]]] = {}
    cal = icalendar.Calendar.from_ical(data)
    out["icalendar"] = sorted((str(e["uid"]), e["dtstart"].dt.astimezone(UTC))
                              for e in cal.walk("VEVENT"))
    evs = recurring_ical_events.of(cal).between(datetime(2000, 1, 1, tzinfo=UTC),
                                                datetime(2100, 1, 1, tzinfo=UTC))
    out["recurring-ical-events"] = sorted((str(e["uid"]), e["dtstart"].dt.astimezone(UTC))
                                          for e in evs)
    v = vobject.readOne(data.decode("utf-8"))
    out["vobject"] = sorted((str(e.uid.value), e.dtstart.value.astimezone(UTC))
                            for e in v.vevent_list)
    return out


@pytest.mark.parametrize("zone", ["Europe/Paris", "Australia/Sydney"])
def test_a_series_across_dst_reads_the_same_in_three_libraries(zone: str) -> None:
    starts = quarterly(zone, 2027)
    data = calendar_bytes([meeting(s, zone=zone, uid=f"workshop-{i}@a.example")
                           for i, s in enumerate(starts)], method=None)
    readers = three_readers(data)
    expected = sorted((f"workshop-{i}@a.example", s.astimezone(UTC))
                      for i, s in enumerate(starts))
    for name, got in readers.items():
        assert got == expected, name
    # the local hour stays 15:00 across the clock changes, so the UTC hour moves
    assert len({s.astimezone(UTC).hour for s in starts}) == 2
    assert {s.hour for s in starts} == {15}
    assert b"BEGIN:VTIMEZONE" in data and f"TZID:{zone}".encode() in data


def test_invite_is_rfc5546_request() -> None:
    start = datetime(2027, 3, 11, 15, 0, tzinfo=PARIS)
    data = invite(meeting(start))
    cal = icalendar.Calendar.from_ical(data)
    assert cal["method"] == "REQUEST"
    (tz,) = cal.walk("VTIMEZONE")
    assert tz["tzid"] == "Europe/Paris"
    (ev,) = cal.walk("VEVENT")
    assert ev["dtstart"].params["TZID"] == "Europe/Paris"
    assert b"DTSTART;TZID=Europe/Paris:20270311T150000" in data
    assert ev["dtstart"].dt.astimezone(UTC) == datetime(2027, 3, 11, 14, 0, tzinfo=UTC)
    assert ev["uid"] == "workshop-1@alliance.example" and ev["sequence"] == 0
    assert "dtstamp" in ev and str(ev["status"]) == "CONFIRMED"
    assert str(ev["organizer"]).lower() == "mailto:calendar@alliance.example"
    attendees = ev["attendee"]
    assert [a.params["PARTSTAT"] for a in attendees] == ["NEEDS-ACTION"] * 2
    assert [a.params["RSVP"] for a in attendees] == ["TRUE"] * 2
    assert [a.params["ROLE"] for a in attendees] == ["REQ-PARTICIPANT", "OPT-PARTICIPANT"]
    assert attendees[0].params["CN"] == "Dubois, Claire"
    assert b"\r\n" in data and all(len(line) <= 75 for line in data.split(b"\r\n"))


def test_update_and_cancel_keep_the_uid_and_raise_the_sequence() -> None:
    start = datetime(2027, 3, 11, 15, 0, tzinfo=PARIS)
    first = icalendar.Calendar.from_ical(invite(meeting(start)))
    moved = icalendar.Calendar.from_ical(invite(meeting(start + timedelta(days=1), seq=1)))
    gone = icalendar.Calendar.from_ical(cancellation(meeting(start + timedelta(days=1),
                                                             seq=2)))
    uids = {c.walk("VEVENT")[0]["uid"] for c in (first, moved, gone)}
    assert len(uids) == 1
    assert [c.walk("VEVENT")[0]["sequence"] for c in (first, moved, gone)] == [0, 1, 2]
    assert gone["method"] == "CANCEL"
    assert str(gone.walk("VEVENT")[0]["status"]) == "CANCELLED"
    assert "RSVP" not in gone.walk("VEVENT")[0]["attendee"][0].params


def test_structure_matches_the_real_outlook_and_google_invites(shared_fixtures: Path) -> None:
    ours = icalendar.Calendar.from_ical(invite(meeting(datetime(2027, 3, 11, 15, 0,
                                                                tzinfo=PARIS))))
    exchange = icalendar.Calendar.from_ical((shared_fixtures / "itip" /
                                             "nylas_invite_w_rsvps1.ics").read_bytes())
    for cal in (ours, exchange):
        assert cal["method"] == "REQUEST"
        (ev,) = cal.walk("VEVENT")
        for prop in ("uid", "dtstamp", "dtstart", "dtend", "organizer", "attendee",
                     "summary", "sequence"):
            assert prop in ev, prop
        assert "TZID" in ev["dtstart"].params
        assert {tz["tzid"] for tz in cal.walk("VTIMEZONE")} == {ev["dtstart"].params["TZID"]}
        att = ev["attendee"] if isinstance(ev["attendee"], list) else [ev["attendee"]]
        assert any(a.params.get("RSVP") == "TRUE" and a.params.get("PARTSTAT") ==
                   "NEEDS-ACTION" for a in att)


ALL_CALENDARS = sorted([p for p in (Path(__file__).resolve().parents[3] / "shared" /
                                    "fixtures").glob("ics/*.ics")] +
                       [p for p in (Path(__file__).resolve().parents[3] / "shared" /
                                    "fixtures").glob("itip/*.ics")], key=str)


@pytest.mark.parametrize("path", ALL_CALENDARS, ids=lambda p: p.name)
def test_real_calendars_are_read_without_error(path: Path) -> None:
    events = read_events(path.read_bytes())
    assert events and all(e.starts_at.tzinfo is not None for e in events)
    parse_replies(path.read_bytes())  # never raises on a real calendar


@pytest.mark.parametrize(("name", "utc"), [
    # W. Europe Standard Time = CEST in August: 11:00 local
    ("itip/tine20_outlook_invitation.ics", datetime(2017, 8, 14, 9, 0, tzinfo=UTC)),
    # Romance Standard Time = CEST on 1 April 2015: 16:00 local
    ("itip/nylas_invite_w_rsvps1.ics", datetime(2015, 4, 1, 14, 0, tzinfo=UTC)),
])
def test_windows_zone_names_give_the_right_instant(shared_fixtures: Path, name: str,
                                                   utc: datetime) -> None:
    data = (shared_fixtures / name).read_bytes()
    assert b"Standard Time" in data
    (ev,) = read_events(data)
    assert ev.starts_at == utc


def test_fle_standard_time_in_the_outlook_email(shared_fixtures: Path) -> None:
    import email
    from email import policy

    msg = email.message_from_bytes((shared_fixtures / "itip" /
                                    "comm-central_outlook-test-invite.eml").read_bytes(),
                                   policy=policy.default)
    (part,) = [p for p in msg.walk() if p.get_content_type() == "text/calendar"]
    data = part.get_payload(decode=True)
    assert b"FLE Standard Time" in data
    (ev,) = read_events(data)
    # FLE (Helsinki, Kyiv) is UTC+2 in November: the file says 09:00 local
    assert b"DTSTART;TZID=FLE Standard Time:20211127T090000" in data
    assert ev.starts_at == datetime(2021, 11, 27, 7, 0, tzinfo=UTC)


def test_an_outlook_style_parse_gives_our_instant() -> None:
    """What Outlook and Google do: resolve DTSTART's TZID through the file's own
    VTIMEZONE (not the reader's zoneinfo), then convert to UTC."""
    start = datetime(2027, 10, 28, 15, 0, tzinfo=PARIS)  # Paris leaves CEST on 31 Oct
    cal = icalendar.Calendar.from_ical(invite(meeting(start)))
    (vtz,) = cal.walk("VTIMEZONE")
    tz = vtz.to_tz()
    (ev,) = cal.walk("VEVENT")
    naive = ev["dtstart"].dt.replace(tzinfo=None)
    assert naive.replace(tzinfo=tz).astimezone(UTC) == start.astimezone(UTC)
    assert start.astimezone(UTC) == datetime(2027, 10, 28, 13, 0, tzinfo=UTC)
    assert date(2027, 10, 28) == naive.date()


def _icaljs() -> Path:
    from tests.icaljs import icaljs

    package, why = icaljs()
    need(package is not None, why)
    assert package is not None
    return package


def test_a_feed_over_two_years_is_read_right_by_icaljs() -> None:
    """Issue 22: icalendar lists a zone's later transitions as RDATEs, which
    ical.js 2.2 misreads (three summer workshops an hour late); each
    transition is now its own observance."""
    from tests.icaljs import read_four

    starts = [datetime(y, m, 10, 15, 0, tzinfo=PARIS) for y in (2027, 2028)
              for m in (1, 4, 7, 10)]
    meetings = [meeting(s, uid=f"w{s:%Y%m}@alliance.example") for s in starts]
    data = calendar_bytes(meetings, method=None)
    assert b"RDATE" not in data
    [got] = read_four([data], _icaljs())
    want = sorted((m.uid, m.starts_at, m.ends_at) for m in meetings)
    assert got["ical.js"] == want
    assert {k: v for k, v in got.items() if v != want} == {}


def test_the_repeated_hour_is_written_in_utc_and_read_alike() -> None:
    """02:30 on the night Paris goes back happens twice: written as UTC (a
    trailing Z) so every reader sees the same non-zero-length event."""
    from tests.icaljs import read_four

    first = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST
    m = Meeting(uid="dst@alliance.example", sequence=0, starts_at=first,
                ends_at=first + timedelta(hours=1), zone="Europe/Paris", summary="x",
                description="", organizer_email="c@alliance.example", organizer_name="A")
    data = invite(m)
    assert b"DTSTART:20261025T003000Z" in data and b"DTEND:20261025T013000Z" in data
    [got] = read_four([data], _icaljs())
    assert all(v == [(m.uid, m.starts_at, m.ends_at)] for v in got.values()), got
    # an unambiguous hour keeps its zone
    later = replace(m, starts_at=first + timedelta(hours=3), ends_at=first + timedelta(hours=4))
    assert b"DTSTART;TZID=Europe/Paris:20261025T043000" in invite(later)


def test_a_local_time_that_happens_twice_is_refused_like_the_missing_hour() -> None:
    from bot.errors import InvalidInput
    from bot.workshops.series import parse_local

    with pytest.raises(InvalidInput) as err:
        parse_local("2026-10-25 02:30", zone="Europe/Paris")
    assert "happens twice" in err.value.msgid
    with pytest.raises(InvalidInput):
        parse_local("2026-03-29 02:30", zone="Europe/Paris")
    # with its offset, either instant can be named
    assert parse_local("2026-10-25T02:30+01:00", zone="Europe/Paris")[0] == \
        datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    assert parse_local("2026-10-25 03:30", zone="Europe/Paris")[0] == \
        datetime(2026, 10, 25, 2, 30, tzinfo=UTC)
