"""Workshop figures against the targets of issue 12.

- recommendation for 1,000 respondents x 60 candidate slots with an
  8-quarter ledger: target <= 200 ms;
- a calendar feed of 500 events: target <= 100 ms;
- invitations to 500 attendees (iCalendar + MIME built, sent through a
  loopback SMTP server by the SMTP transport): target >= 100 messages/s.

Each target is measured twice: the library step alone (``calendar_bytes``;
prebuilt emails handed to the SMTP transport), and the product's own path on
a SQLite database: ``GET /workshops/feed/<token>.ics`` of a person in whose
group 500 workshops are confirmed, and ``invites.confirm`` of a workshop with
500 invitees followed by the outbox worker delivering every invitation
through the loopback SMTP server (queueing and delivery both counted).

The feed alone, this tree against an earlier commit, alternated (a new
process each turn; "cold" empties every in-process cache of the feed path,
"first" the stored events too):

    .venv/bin/python bench/workshops.py
    .venv/bin/python bench/workshops.py --feed-ab main --rounds 3 [--background-load N]
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

# CONVENE_BENCH_TREE: import the code of another tree (--feed-ab's earlier commit).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, os.environ.get("CONVENE_BENCH_TREE", sys.path[0]))

from bot.mail import Attachment, OutgoingEmail, build_mime
from bot.workshops.ical import Attendee, Meeting, calendar_bytes, invite
from bot.workshops.scoring import Candidate, Ledger, Respondent, score_slots

ZONES = ["Australia/Sydney", "Asia/Tokyo", "Africa/Nairobi", "Europe/Paris",
         "America/Sao_Paulo", "America/Los_Angeles", "Asia/Kolkata", "Europe/London"]


def _timed(fn, runs: int = 5, clock=time.perf_counter) -> float:  # type: ignore[no-untyped-def]
    # ``clock=time.process_time``: this process's CPU time, which other
    # processes on the shared machine move less than the wall clock.
    times = []
    for _ in range(runs):
        t = clock()
        fn()
        times.append(clock() - t)
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


def _product_bot(tmp: Path, people: int):  # type: ignore[no-untyped-def]
    from bot.compose import build_app
    from bot.settings import Settings
    from storage.engine import make_engine
    from storage.migrate import upgrade_engine
    from storage.models import EmailAddress, Group, Membership, Person, Role

    url = f"sqlite:///{tmp}/bench.db"
    engine = make_engine(url)
    upgrade_engine(engine)
    bot = build_app(Settings(database_url=url, secret_key="bench-" + "k" * 40,  # type: ignore[arg-type]
                             mail={"outbox_dir": tmp}), engine=engine, plugins=False)
    with bot.session_factory() as s, s.begin():
        group = Group(name="Alliance", is_alliance=True)
        s.add(group)
        for i in range(people):
            p = Person(name=f"Person {i}", language=("en", "fr", "es")[i % 3],
                       timezone=ZONES[i % len(ZONES)], interests=[])
            p.emails.append(EmailAddress(address=f"p{i}@org{i % 40}.example"))
            s.add_all([p, Membership(person=p, group=group,
                                     role=Role.OBSERVER if i % 5 == 0 else Role.MEMBER)])
    return bot


def _series(bot, s):  # type: ignore[no-untyped-def]
    from storage.models import Group, WorkshopSeries

    group = s.query(Group).one()
    series = WorkshopSeries(group_id=group.id, title="Soil carbon", topic="Measurement",
                            anchor_zone="Europe/Paris", join_url="https://meet.example/soil")
    s.add(series)
    s.flush()
    return group, series


def _forget_feed_caches() -> None:
    # A process just started: every in-process cache of the feed path empty
    # (the serialised events' of earlier trees, the VCALENDAR frames, the
    # VTIMEZONEs, the store's probes); what is in the database stays.
    from bot.workshops import ical

    for name in ("_stamped_event", "_frame", "_vtimezone"):
        cached = getattr(ical, name, None)
        if cached is not None:
            cached.cache_clear()
    try:
        from bot.workshops import feed_events
    except ImportError:  # a tree from before the store
        return
    feed_events._PROBES.clear()


def product_feed() -> dict[str, float | str]:
    """The personal feed's HTTP handler on 500 confirmed workshops, in ms:
    ``first`` with nothing stored (rows from before the store; the store
    emptied before each), ``cold`` with every in-process cache emptied before
    each request, ``warm``; ``sha`` of the body (the same bytes in every tree)."""
    import hashlib
    import tempfile

    from sqlalchemy import inspect, text
    from starlette.requests import Request

    from bot.workshops.feeds import feed_response, feed_url
    from storage.models import Person, Workshop

    with tempfile.TemporaryDirectory() as tmp:
        bot = _product_bot(Path(tmp), 5)
        with bot.session_factory() as s, s.begin():
            group, series = _series(bot, s)
            for i in range(500):
                start = datetime(2027, 1, 5, 14, tzinfo=UTC) + timedelta(days=3 * i)
                s.add(Workshop(series_id=series.id, group_id=group.id, quarter=f"q{i}",
                               title=f"Workshop {i}", state="confirmed", starts_at=start,
                               ends_at=start + timedelta(minutes=90),
                               uid=f"workshop-{i}@alliance.example",
                               join_url="https://meet.example/x",
                               updated_at=datetime(2026, 12, 1, tzinfo=UTC)))
            person = s.query(Person).order_by(Person.id).first()
            token = feed_url(s, bot.settings, person.id).rsplit("/", 1)[1][:-len(".ics")]
        request = Request({"type": "http", "method": "GET", "headers": [],
                           "path": f"/workshops/feed/{token}.ics"})
        stored = inspect(bot.engine).has_table("workshop_feed_events")
        body = b""

        def get() -> None:
            nonlocal body
            response = feed_response(bot, request, token=token)
            assert response.status_code == 200
            body = bytes(response.body)
            assert body.count(b"BEGIN:VEVENT") == 500

        def first() -> None:
            if stored:
                with bot.engine.begin() as conn:
                    conn.execute(text("DELETE FROM workshop_feed_events"))
            cold()

        def cold() -> None:
            _forget_feed_caches()
            get()

        out: dict[str, float | str] = {"first": _timed(first), "cold": _timed(cold),
                                       "warm": _timed(get),
                                       "cold_cpu": _timed(cold, clock=time.process_time)}
        out["sha"] = hashlib.sha256(body).hexdigest()[:12]
        out["code"] = str(Path(sys.modules["bot"].__file__ or "").parent.parent)
        return out


def feed_ab(rev: str, rounds: int, background: int) -> None:
    """The feed figures of this tree and of ``rev``, alternated: each turn a
    new process of one tree (bench/ab.py's worktree of ``rev``), ``rounds``
    rounds, the load printed with every turn."""
    import json
    import os
    import subprocess

    from bench.ab import checkout
    from bench.common import BackgroundLoad, loadavg

    root = Path(__file__).resolve().parent.parent
    other, sha = checkout(rev)
    trees = [(f"{rev} ({sha})", other), ("this tree", root)]
    got: dict[str, list[dict[str, float | str]]] = {label: [] for label, _ in trees}
    with BackgroundLoad(background):
        for r in range(rounds):
            for label, tree in trees if r % 2 == 0 else trees[::-1]:
                out = subprocess.run(
                    [sys.executable, __file__, "--feed-once"], check=True, text=True,
                    capture_output=True, env={**os.environ, "CONVENE_BENCH_TREE": str(tree)},
                    cwd=tree).stdout
                figures = json.loads(out.strip().splitlines()[-1])
                assert Path(str(figures["code"])) == tree, (figures["code"], tree)
                got[label].append(figures)
                print(f"round {r + 1} {label:>16}: first {figures['first']:6.1f} ms, cold "
                      f"{figures['cold']:6.1f} ms ({figures['cold_cpu']:5.1f} ms CPU), warm "
                      f"{figures['warm']:6.1f} ms, body {figures['sha']} ({loadavg()})",
                      flush=True)
    for label, runs in got.items():
        med = {k: statistics.median(float(f[k]) for f in runs)
               for k in ("first", "cold", "cold_cpu", "warm")}
        print(f"median {label:>16}: first {med['first']:6.1f} ms, cold {med['cold']:6.1f} ms "
              f"({med['cold_cpu']:5.1f} ms CPU), warm {med['warm']:6.1f} ms (target: cold "
              "<= 100 ms)")


def product_invites() -> tuple[float, float, int]:
    import tempfile

    from adapters.email.smtp import SmtpMailTransport
    from bot.permissions import authorize_system
    from bot.settings import SmtpSettings
    from bot.workshops import invites as inv
    from storage.models import Workshop
    from tests.smtp_helpers import SmtpServer

    server = SmtpServer()
    server.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            bot = _product_bot(Path(tmp), 500)
            bot.mail = SmtpMailTransport(SmtpSettings(host="127.0.0.1", port=server.port,
                                                      security="none"))
            with bot.session_factory() as s, s.begin():
                group, series = _series(bot, s)
                ws = Workshop(series_id=series.id, group_id=group.id, quarter="2027-Q1",
                              title="Soil carbon 2027-Q1", uid="ws-bench@alliance.example",
                              join_url="https://meet.example/soil")
                s.add(ws)
            t = time.perf_counter()
            with bot.session_factory() as s, s.begin():
                ws = s.get(Workshop, ws.id)
                sent = inv.confirm(session=s, actor=authorize_system(
                    capability="workshop.manage", channel="cli", group_id=group.id),
                    workshop=ws, starts_at=datetime.now(UTC) + timedelta(days=30),
                    settings=bot.settings, calendar_platforms=set())
            queued = time.perf_counter() - t
            worker = bot.new_worker()
            worker.drain(max_passes=10_000)
            total = time.perf_counter() - t
            deadline = time.time() + 10
            while len(server.messages) < sent.emails and time.time() < deadline:
                time.sleep(0.05)
            return sent.emails / queued, sent.emails / total, len(server.messages)
    finally:
        server.stop()


def main() -> None:
    r = recommendation()
    print(f"recommendation 1000 x 60 with ledger: {r:7.1f} ms (target <= 200 ms)")
    f = feed()
    print(f"calendar feed of 500 events:          {f:7.1f} ms (target <= 100 ms)")
    pf = product_feed()
    print(f"  personal feed, HTTP handler:        {pf['cold']:7.1f} ms cold, {pf['warm']:.1f} ms "
          f"warm, {pf['first']:.1f} ms with nothing stored (target <= 100 ms)")
    rate, got = invites()
    print(f"invites to 500 via loopback SMTP:     {rate:7.1f} msg/s (target >= 100), "
          f"{got} received")
    queued, whole, got = product_invites()
    print(f"  confirm + outbox worker + SMTP:     {whole:7.1f} msg/s (target >= 100), "
          f"{got} received; queueing alone {queued:.1f} msg/s")


if __name__ == "__main__":
    import argparse
    import json

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--feed-ab", metavar="REV",
                    help="only the personal feed, this tree and REV alternated")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--background-load", type=int, default=0, metavar="N")
    ap.add_argument("--feed-once", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.feed_once:
        print(json.dumps(product_feed()))
    elif args.feed_ab:
        feed_ab(args.feed_ab, args.rounds, args.background_load)
    else:
        main()
