"""Scale benchmark (issue 24): how Convene's scheduled work and pages grow
with the roster.

An alliance of 500, 1,000, 2,500 and 5,000 people in 40 groups, with 50 open
proposals, 20 workshops with 60 candidate slots, 30 open sprints and 1,000
feeds (bench/scale_seed.py says the shape), in a scratch database per size.
Timed once each, on a fresh database:

- ``polls tick``: the ``polls.tick`` job (two rounds closed, reminders queued
  for the rounds closing within 24 hours);
- ``reminders planned``: the reminders of the 20 confirmed workshops planned
  (what confirming them does);
- ``reminder wave``: the ``workshops.tick`` job sending every due reminder
  (the ten workshops starting within the hour);
- ``nudges``: the weekly ``sprints.nudge`` (30 open sprints);
- ``home page``: one person's home page (the mean of 10 members);
- ``weekly build``: the press review of the week built and sent from 1,000
  local feeds (interest notes to everyone whose interests match).

For each: wall time, CPU time (this process, every thread) and the number of
statements sent to the database (a SQLAlchemy ``before_cursor_execute``
listener), then the ratio from the smallest to the largest size. At the
largest size each distinct statement of each operation is explained
(``EXPLAIN QUERY PLAN`` on SQLite, ``EXPLAIN`` on PostgreSQL) and a full
scan of a hot table is named: a statement that reads a whole table by design
(no WHERE clause) is listed apart.

    .venv/bin/python bench/scale.py                 # SQLite, 500..5,000 people
    .venv/bin/python bench/scale.py --postgres URL  # and PostgreSQL (or set
                                                    # CONVENE_TEST_POSTGRES_URL)
    .venv/bin/python bench/scale.py --only postgresql --postgres URL
    .venv/bin/python bench/scale.py --quick         # make bench: 500 people, 200 feeds
    .venv/bin/python bench/scale.py --top 5         # the most repeated statements per operation

No figure here is asserted: tests/core/test_scale_queries.py holds the query
counts flat in people; this prints what they are.

What the first run found (statements at 500 -> 5,000 people, SQLite; PostgreSQL
within a few of each, but for the weekly build's 386 -> 2,992): polls tick 1,531 ->
11,609, reminders planned 604 -> 5,194, reminder wave 6,534 -> 65,123, nudges 1,189
-> 11,811, weekly build 588 -> 3,194 (an email, an address or a person's roles read
one a person), home page 33 -> 32. After batching (outbox ``enqueue_emails``, a
wave's people, workshops and declines read once a batch, roles primed in one
statement, the home page's stances and seat counts in one each) and migration
``scale_0950_indexes``: 466 -> 520, 64 -> 118, 48 -> 448 (one batch of 200 reminders
costs 8), 7 -> 22, 294 -> 308, 12 -> 12; CPU at 5,000 people 6.4 -> 4.3 s, 5.7 ->
0.8 s, 14.5 -> 2.1 s, 3.6 -> 1.5 s, 10 -> 10 ms, 4.2 -> 4.8 s (load 7-9 on 2 cores:
other sessions' work; wall times were two to four times the CPU times).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import drop_postgres, loadavg, say, scratch_database  # noqa: E402
from bench.scale_seed import WEEK, WEEK_MONDAY, Seeded, seed  # noqa: E402
from bot.app import Bot  # noqa: E402
from bot.compose import build_app  # noqa: E402
from bot.settings import Settings  # noqa: E402
from storage.engine import make_engine  # noqa: E402

SIZES = (500, 1000, 2500, 5000)
#: Tables whose full scan grows with the roster or the year's activity.
HOT = ("people", "email_addresses", "memberships", "identities", "poll_proposals",
       "poll_rounds", "poll_stances", "poll_ballots", "workshops", "workshop_reminders",
       "workshop_rsvps", "workshop_availability", "workshop_slots", "workshop_burdens",
       "sprints", "sprint_signups", "sprint_offers", "outbox", "digest_items",
       "digest_feeds", "audit_log")
HOME_PAGES = 10
#: A table with fewer rows is scanned by any planner (PostgreSQL reads a
#: table of a few pages whole even by primary key): listed apart.
SMALL = 1000


@dataclass
class Counted:
    """Statements seen on an engine while ``active``: how many, and each
    distinct one (its IN lists folded) with its first parameters."""

    active: bool = False
    n: int = 0
    seen: Counter[str] = field(default_factory=Counter)
    first: dict[str, tuple[str, Any]] = field(default_factory=dict)

    def attach(self, engine: Engine) -> None:
        def count(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
                  executemany: bool) -> None:
            if not self.active:
                return
            self.n += 1
            shape = _fold(statement)
            self.seen[shape] += 1
            if shape not in self.first and not executemany:
                self.first[shape] = (statement, parameters)

        event.listen(engine, "before_cursor_execute", count)

    def reset(self) -> None:
        self.n, self.seen, self.first = 0, Counter(), {}


def _fold(statement: str) -> str:
    s = re.sub(r"\?(?:, \?)+", "?, ...", statement)
    s = re.sub(r"%\(\w+\)s(?:, %\(\w+\)s)+", "%s, ...", s)
    return re.sub(r"\s+", " ", s).strip()


@dataclass(frozen=True, slots=True)
class Figure:
    wall_ms: float
    cpu_ms: float
    queries: float


def timed(counter: Counted, work: Callable[[], object], per: int = 1) -> Figure:
    """Run ``work`` once with the counter on; figures divided by ``per``."""
    counter.reset()
    counter.active = True
    w, c = time.perf_counter(), time.process_time()
    try:
        work()
    finally:
        counter.active = False
    return Figure((time.perf_counter() - w) * 1000 / per, (time.process_time() - c) * 1000 / per,
                  counter.n / per)


# -- the operations ---------------------------------------------------------------------

def op_polls_tick(bot: Bot, now: datetime) -> None:
    from bot.polls.jobs import run

    closed, reminded = run(bot, now=now)
    assert closed == 2 and reminded > 0, (closed, reminded)


def op_plan(bot: Bot, now: datetime) -> None:
    from sqlalchemy import select

    from bot.workshops.reminders import plan
    from storage.models import Workshop

    with bot.session_factory() as s, s.begin():
        n = sum(plan(s, w, bot.settings) for w in s.scalars(select(Workshop).order_by(Workshop.id)))
    assert n > 0


def op_wave(bot: Bot, now: datetime) -> None:
    from bot.workshops.reminders import send_due

    # Due at the latest when planned (the clock's now, after the earlier operations).
    later = max(now, datetime.now(UTC)) + timedelta(minutes=1)
    assert send_due(bot.session_factory, bot.settings, now=later) > 0


def op_nudges(bot: Bot, now: datetime) -> None:
    from bot.sprints.jobs import send_nudges

    assert send_nudges(bot, now=now) > 0


def op_home(bot: Bot, emails: list[str]) -> None:
    from bot.home import home_message
    from bot.types import Actor

    for address in emails:
        home_message(bot, Actor("console", "", address))


def op_build(bot: Bot) -> None:
    from bot.digest import service as svc

    out = svc.build(session_factory=bot.session_factory, settings=bot.settings, week=WEEK,
                    send=True, now=WEEK_MONDAY + timedelta(days=7, hours=1))
    assert out.items > 0 and not out.failed, (out.items, out.failed[:2])


OPERATIONS = ("polls tick", "reminders planned", "reminder wave", "nudges", "home page",
              "weekly build")


def run_size(kind: str, url: str, people: int, *, feeds: int, explain: bool, top: int
             ) -> tuple[dict[str, Figure], dict[str, list[str]]]:
    """Seed ``people`` into the database at ``url``, then time each operation.
    Returns (figures, seq-scan findings per operation when ``explain``)."""
    engine = make_engine(url)
    now = datetime.now(UTC).replace(microsecond=0)
    with tempfile.TemporaryDirectory(prefix="convene-scale-") as tmp:
        t = time.perf_counter()
        seeded = seed(engine, people, now=now, feed_dir=Path(tmp) / "feeds", feeds=feeds)
        say(f"  {kind} {people:>5} people: seeded in {time.perf_counter() - t:.1f} s")
        settings = Settings(database_url=url, secret_key="bench-" + "k" * 40,
                            mail={"outbox_dir": Path(tmp) / "outbox"},  # type: ignore[arg-type]
                            digest={"feed_dir": seeded.feed_dir})  # type: ignore[arg-type]
        bot = build_app(settings, engine=engine, plugins=False)
        counter = Counted()
        counter.attach(engine)
        step = max(1, len(seeded.member_emails) // HOME_PAGES)
        homes = seeded.member_emails[::step][:HOME_PAGES]
        work: dict[str, tuple[Callable[[], object], int]] = {
            "polls tick": (lambda: op_polls_tick(bot, now), 1),
            "reminders planned": (lambda: op_plan(bot, now), 1),
            "reminder wave": (lambda: op_wave(bot, now), 1),
            "nudges": (lambda: op_nudges(bot, now), 1),
            "home page": (lambda: op_home(bot, homes), len(homes)),
            "weekly build": (lambda: op_build(bot), 1),
        }
        figures: dict[str, Figure] = {}
        scans: dict[str, list[str]] = {}
        for name in OPERATIONS:
            fn, per = work[name]
            figures[name] = timed(counter, fn, per)
            if top:
                for shape, n in counter.seen.most_common(top):
                    say(f"    {name}: {n:>6} x {shape[:150]}")
            if explain:
                scans[name] = seq_scans(engine, counter)
        _check(seeded)
        engine.dispose()
    return figures, scans


def _check(seeded: Seeded) -> None:
    assert seeded.people and seeded.member_emails


def seq_scans(engine: Engine, counter: Counted) -> list[str]:
    """Each distinct statement ``counter`` saw, explained; the full scans of
    :data:`HOT` tables it would do, one line each."""
    out: list[str] = []
    small: set[str] = set()
    pg = engine.dialect.name == "postgresql"
    with engine.connect() as conn:
        sizes = {t: int(conn.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar() or 0)
                 for t in HOT}
        for shape, (statement, params) in counter.first.items():
            head = statement.lstrip().split(None, 1)[0].upper()
            if head not in ("SELECT", "UPDATE", "DELETE", "WITH", "INSERT"):
                continue
            if head == "INSERT" and " SELECT " not in statement.upper():
                continue
            try:
                rows = conn.exec_driver_sql(("EXPLAIN " if pg else "EXPLAIN QUERY PLAN ")
                                            + statement, params).all()
            except Exception as exc:  # noqa: BLE001 - a plan we cannot get is said, not fatal
                out.append(f"(no plan: {type(exc).__name__}) {shape[:100]}")
                conn.rollback()
                continue
            lines = [str(r[0]) if pg else str(r[-1]) for r in rows]
            for table in HOT:
                # SQLite: "SCAN t" reads every row, "SCAN t USING [COVERING] INDEX i"
                # every entry of an index (only SEARCH seeks); PostgreSQL: a Seq Scan.
                hit = [ln.strip() for ln in lines
                       if (re.search(rf"Seq Scan on {table}\b", ln) if pg
                           else re.match(rf"SCAN {table}\b", ln.strip()))]
                if hit and sizes[table] < SMALL:
                    small.add(f"{table} ({sizes[table]} rows)")
                elif hit:
                    whole = " WHERE " not in shape.upper()
                    out.append(f"{'(whole table by design) ' if whole else ''}{table} "
                               f"({sizes[table]:,} rows) x{counter.seen[shape]} "
                               f"[{hit[0][:60]}]: {shape[:110]}")
        conn.rollback()
    if small:
        out.append("(small tables, where a scan is the cheapest plan: "
                   + ", ".join(sorted(small)) + ")")
    return out


def table(kind: str, results: dict[int, dict[str, Figure]]) -> None:
    sizes = sorted(results)
    say(f"\n{kind}: wall ms / CPU ms / queries per operation ({loadavg()})")
    head = f"{'operation':<18}" + "".join(f"{n:>22,}" for n in sizes)
    if len(sizes) > 1:
        head += f"   ratio {sizes[0]:,} -> {sizes[-1]:,} (people x{sizes[-1] / sizes[0]:g})"
    say(head)
    for name in OPERATIONS:
        line = f"{name:<18}"
        for n in sizes:
            f = results[n][name]
            line += f"{f.wall_ms:>9.1f}/{f.cpu_ms:>7.1f}/{f.queries:>5.0f}"
        if len(sizes) > 1:
            a, b = results[sizes[0]][name], results[sizes[-1]][name]
            line += (f"   wall x{b.wall_ms / max(a.wall_ms, 1e-9):.1f}, "
                     f"CPU x{b.cpu_ms / max(a.cpu_ms, 1e-9):.1f}, "
                     f"queries x{b.queries / max(a.queries, 1e-9):.1f}")
        say(line)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="one size (500 people), 200 feeds, SQLite only: make bench")
    ap.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], default=None)
    ap.add_argument("--feeds", type=int, default=None)
    ap.add_argument("--postgres", default=os.environ.get("CONVENE_TEST_POSTGRES_URL", ""),
                    help="PostgreSQL server for a second run (default "
                         "$CONVENE_TEST_POSTGRES_URL; empty: SQLite only)")
    ap.add_argument("--only", choices=("sqlite", "postgresql"), default=None,
                    help="one database of the two")
    ap.add_argument("--top", type=int, default=0,
                    help="print the N most repeated statements of each operation")
    args = ap.parse_args(argv)
    sizes = args.sizes or ([500] if args.quick else list(SIZES))
    feeds = args.feeds or (200 if args.quick else 1000)
    kinds = ["sqlite"]
    if args.postgres and not args.quick and args.only != "sqlite":
        os.environ["CONVENE_TEST_POSTGRES_URL"] = args.postgres
        kinds.append("postgresql")
    if args.only:
        kinds = [k for k in kinds if k == args.only]
    say(f"bench/scale.py: sizes {sizes}, {feeds} feeds, databases {kinds}; {loadavg()}")
    for kind in kinds:
        if kind == "postgresql":
            import bench.common as common

            common.PG = args.postgres
        results: dict[int, dict[str, Figure]] = {}
        scans: dict[str, list[str]] = {}
        for people in sizes:
            url, pg_name = scratch_database(kind, prefix="convene-scale-")
            try:
                results[people], found = run_size(kind, url, people, feeds=feeds,
                                                  explain=people == max(sizes), top=args.top)
                scans = found or scans
            finally:
                drop_postgres(pg_name)
        table(kind, results)
        say(f"\n{kind}: full scans of hot tables at {max(sizes):,} people "
            f"({'EXPLAIN' if kind == 'postgresql' else 'EXPLAIN QUERY PLAN'}; a planner rightly "
            "scans a table when a statement asks for a large share of it, as an IN list of "
            "200 of 500 people does):")
        for name in OPERATIONS:
            found = scans.get(name, [])
            say(f"  {name}: {'none' if not found else ''}")
            for line in found:
                say(f"    {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
