"""Workshop figures against the targets of issue 12.

- recommendation for 1,000 respondents x 60 candidate slots with an
  8-quarter ledger: target <= 200 ms;
- a calendar feed of 500 events: target <= 100 ms;
- invitations to 500 attendees (iCalendar + MIME built, sent through a
  loopback SMTP server by the SMTP transport): target >= 100 messages/s.

    .venv/bin/python bench/workshops.py
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.mail import Attachment, OutgoingEmail, build_mime
from bot.workshops.ical import Attendee, Meeting, calendar_bytes, invite
from bot.workshops.scoring import Candidate, Ledger, Respondent, score_slots

ZONES = ["Australia/Sydney", "Asia/Tokyo", "Africa/Nairobi", "Europe/Paris",
         "America/Sao_Paulo", "America/Los_Angeles", "Asia/Kolkata", "Europe/London"]


def _timed(fn, runs: int = 5) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def recommendation() -> float:
    rng = random.Random(1)
    start = datetime(2027, 3, 1, tzinfo=UTC)
    slots = [Candidate(i, start + timedelta(hours=7 * i)) for i in range(60)]
    people = [Respondent(p, rng.choice(ZONES), {s.slot_id: rng.choice(["yes", "ifneedbe", "no"])
                                                for s in slots},
                         weight=1.0 if p % 4 else 0.5, member=bool(p % 4),
                         organisation=f"org{p % 40}") for p in range(1000)]
    ledger = Ledger(total={p: rng.choice([0, 1, 3, 4, 6, 9]) for p in range(1000)},
                    last={p: rng.choice([0, 1, 3]) for p in range(1000)})
    return _timed(lambda: score_slots(slots, people, ledger=ledger, quorum=300))


def _meeting(i: int, attendees: tuple[Attendee, ...] = ()) -> Meeting:
    start = datetime(2027, 1, 5, 14, tzinfo=UTC) + timedelta(days=3 * i)
    return Meeting(uid=f"workshop-{i}@alliance.example", sequence=0, starts_at=start,
                   ends_at=start + timedelta(minutes=90), zone="Europe/Paris",
                   summary=f"Workshop {i}", description="Soil carbon measurement",
                   organizer_email="calendar@alliance.example", organizer_name="Alliance",
                   attendees=attendees, url="https://meet.example/x")


def feed() -> float:
    meetings = [_meeting(i) for i in range(500)]
    return _timed(lambda: calendar_bytes(meetings, method=None))


def invites() -> tuple[float, int]:
    from adapters.email.smtp import SmtpMailTransport
    from bot.settings import SmtpSettings
    from tests.smtp_helpers import SmtpServer

    server = SmtpServer()
    server.start()
    try:
        transport = SmtpMailTransport(SmtpSettings(host="127.0.0.1", port=server.port,
                                                   security="none"))
        t = time.perf_counter()
        mimes = []
        for p in range(500):
            ics = invite(_meeting(1, (Attendee(f"p{p}@org.example", f"Person {p}"),)))
            mail = OutgoingEmail(to=(f"p{p}@org.example",), subject="Invitation",
                                 text="You are invited.", html="<p>You are invited.</p>",
                                 message_id=f"<workshop.1.0.{p}.x@alliance.example>",
                                 attachments=(Attachment("invite.ics", "text/calendar; "
                                                         "method=REQUEST", ics),))
            mimes.append(build_mime(mail, sender="calendar@alliance.example"))
        errors = [e for e in transport.send_batch(mimes) if e is not None]
        elapsed = time.perf_counter() - t
        deadline = time.time() + 10
        while len(server.messages) < 500 and time.time() < deadline:
            time.sleep(0.05)
        return 500 / elapsed, len(server.messages) - len(errors) * 0
    finally:
        server.stop()


def main() -> None:
    r = recommendation()
    print(f"recommendation 1000 x 60 with ledger: {r:7.1f} ms (target <= 200 ms)")
    f = feed()
    print(f"calendar feed of 500 events:          {f:7.1f} ms (target <= 100 ms)")
    rate, got = invites()
    print(f"invites to 500 via loopback SMTP:     {rate:7.1f} msg/s (target >= 100), "
          f"{got} received")


if __name__ == "__main__":
    main()
