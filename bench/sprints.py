"""Benchmark: innovation-sprint sign-ups under contention, on PostgreSQL and SQLite.

1. 2,000 sign-ups for 200 seats, from 16 threads at once, through
   ``Bot.dispatch`` (the ``sprint.join`` button); the baseline is bare
   SQLAlchemy inserts of the same sign-up rows, one row a transaction, at the
   same concurrency, the two taking turns in slices (both meet the same
   load). Targets: throughput at least 0.3 x the baseline, p99
   latency at most 200 ms. Checks: exactly 200 seated, 1,800 waitlisted.
2. The last seat: 16 threads ask for one seat at the same instant; exactly
   one gets it. Prints p99 and the spread.
3. Fairness: N random runs (random arrival jitter, random withdrawals that
   free seats); the waitlist is served in the order it was joined (priority
   then time): the number of inversions (someone offered a seat while a
   person who joined before them, and fits, still waits) must be 0.

Run: ``.venv/bin/python bench/sprints.py`` (PostgreSQL at
``$CONVENE_TEST_POSTGRES_URL``; a scratch database is created and dropped).
``--people N --seats N --threads N --runs N --database postgresql|sqlite|both``
(SQLite: a scratch file). ``--rev REV [--rounds N]``: only part 1, the working
tree against ``REV`` (a detached worktree under /tmp, as bench/ab.py makes),
alternated in one run, each turn a fresh process on a fresh database, each
line with the load average; the summary gives the median ratio of each.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine, Table, insert, select

ROOT = Path(__file__).resolve().parent.parent
#: ``--tree PATH``: run the code of that tree (a baseline's worktree).
TREE = Path(sys.argv[sys.argv.index("--tree") + 1]) if "--tree" in sys.argv else ROOT
sys.path.insert(0, str(TREE))

from bench.common import drop_postgres, say, scratch_postgres  # noqa: E402
from bot.app import Bot  # noqa: E402
from bot.compose import build_app  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.types import Actor, ButtonPress, Command, Conversation, FormSubmission  # noqa: E402
from storage.base import utcnow  # noqa: E402
from storage.engine import make_engine, make_session_factory  # noqa: E402
from storage.migrate import upgrade_engine  # noqa: E402
from storage.models import (  # noqa: E402
    EmailAddress,
    Group,
    Membership,
    Organisation,
    Person,
    Role,
    SprintSignup,
)

WHERE = Conversation("console", "", "bench", is_direct=True)


def seed(bot: Bot, n: int, *, orgs: int) -> list[str]:
    emails = []
    with bot.session_factory() as s, s.begin():
        g = Group(name="Alliance", is_alliance=True)
        s.add(g)
        orgs_ = [Organisation(name=f"Org {i}") for i in range(orgs)]
        s.add_all(orgs_)
        for i in range(n):
            p = Person(name=f"Person {i}", organisation=orgs_[i % orgs], language="en",
                       timezone="Europe/Paris", interests=[])
            e = f"p{i}@bench.example"
            p.emails.append(EmailAddress(address=e))
            s.add_all([p, Membership(person=p, group=g, role=Role.MEMBER)])
            emails.append(e)
        sec = Person(name="Secretariat", language="en", timezone="UTC", interests=[])
        sec.emails.append(EmailAddress(address="sec@bench.example"))
        s.add_all([sec, Membership(person=sec, group=g, role=Role.SECRETARIAT)])
    return emails


def new_sprint(bot: Bot, emails: list[str], seats: int, org_cap: int = 0) -> int:
    def day(n: int) -> str:
        return (utcnow() + timedelta(days=n)).isoformat()

    values = {"title": "Bench", "aim": "Bench", "topics": "soil_measurement",
              "starts": day(20), "ends": day(21), "cutoff": day(10), "capacity": str(seats),
              "org_cap": str(org_cap)}
    bot.dispatch(FormSubmission("sprint.propose", tuple(values.items()),
                                Actor("console", "", emails[0]), WHERE, uuid.uuid4().hex))
    from storage.models import Sprint

    with bot.session_factory() as s:
        sid = int(s.scalar(select(Sprint.id).order_by(Sprint.id.desc())) or 0)
    bot.dispatch(Command("sprint", f"approve {sid}", Actor("console", "", "sec@bench.example"),
                         WHERE, uuid.uuid4().hex))
    return sid


def join(bot: Bot, email: str, sid: int) -> float:
    t0 = time.perf_counter()
    text_ = bot.dispatch(ButtonPress("sprint.join", f"{sid}:contributor",
                                     Actor("console", "", email), WHERE,
                                     uuid.uuid4().hex))[0].message.text
    assert "seat" in text_ or "waitlist" in text_, text_
    return time.perf_counter() - t0


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(len(s) * p))]


def bare_signups(engine: Engine) -> Table:
    """A table shaped as ``sprint_signups`` (its columns, keys, indexes and
    foreign keys) without what a tree adds to keep counts (triggers): the
    baseline's, the same for every tree compared."""
    table = SprintSignup.metadata.tables.get("bench_bare_signups")
    if table is None:  # once a process (a second database reuses it)
        table = SprintSignup.__table__.to_metadata(SprintSignup.metadata,
                                                   name="bench_bare_signups")
        for named in (*table.indexes, *table.constraints):
            if named.name:
                named.name = f"bench_{named.name}"
    table.create(engine)
    return table


def bench_throughput(bot: Bot, emails: list[str], seats: int, threads: int,
                     slices: int = 8) -> None:
    sid = new_sprint(bot, emails, seats)
    # baseline: the same rows, bare inserts, one a transaction, same concurrency
    factory = make_session_factory(bot.engine)
    with factory() as s:
        pids = dict(s.execute(select(EmailAddress.address, EmailAddress.person_id)).all())
    base_sid = new_sprint(bot, emails, seats)
    bare_table = bare_signups(bot.engine)

    def bare(email: str) -> None:
        with factory() as s, s.begin():
            s.execute(insert(bare_table).values(
                sprint_id=base_sid, person_id=pids[email], status="waitlisted", role="",
                priority=0, party="", channel="", asked_at=utcnow(), updated_at=utcnow()))

    # Sign-ups and bare inserts take turns, a slice each, so that both meet the
    # same load on a shared machine (one after the other, the load moved
    # between them more than the change being measured).
    lat: list[float] = []
    wall = base = 0.0
    size = -(-len(emails) // slices)
    with ThreadPoolExecutor(threads) as pool:
        for i in range(0, len(emails), size):
            part = emails[i:i + size]
            t0 = time.perf_counter()
            lat += list(pool.map(lambda e: join(bot, e, sid), part))
            wall += time.perf_counter() - t0
            t1 = time.perf_counter()
            list(pool.map(bare, part))
            base += time.perf_counter() - t1
    with bot.session_factory() as s:
        rows = s.execute(select(SprintSignup.status).where(SprintSignup.sprint_id == sid)).all()
    seated = sum(r[0] == "seated" for r in rows)
    n = len(emails)
    say(f"1. {n} sign-ups for {seats} seats, {threads} threads: {n / wall:.0f}/s "
        f"(bare inserts {n / base:.0f}/s, in {slices} slices taking turns) -> ratio "
        f"{base / wall:.2f}x (target >= 0.3x); p50 {pct(lat, .5) * 1000:.0f} ms, "
        f"p99 {pct(lat, .99) * 1000:.0f} ms (target <= 200 ms); "
        f"seated {seated}, waitlisted {len(rows) - seated}")
    assert seated == seats and len(rows) == n
    say(f"RATIO {base / wall:.4f}")


def bench_last_seat(bot: Bot, emails: list[str], rounds: int = 5) -> None:
    lat: list[float] = []
    winners = []
    for _ in range(rounds):
        sid = new_sprint(bot, emails, 1)
        barrier = threading.Barrier(16)

        def go(e: str, sid: int = sid, barrier: threading.Barrier = barrier) -> float:
            barrier.wait()
            return join(bot, e, sid)

        with ThreadPoolExecutor(16) as pool:
            lat += list(pool.map(go, emails[:16]))
        with bot.session_factory() as s:
            winners.append(len(s.execute(select(SprintSignup.id).where(
                SprintSignup.sprint_id == sid, SprintSignup.status == "seated")).all()))
    say(f"2. 16 threads on the last seat x{rounds}: seated per round {winners} (must be all 1); "
        f"p50 {pct(lat, .5) * 1000:.0f} ms, p99 {pct(lat, .99) * 1000:.0f} ms")
    assert winners == [1] * rounds


def bench_fairness(bot: Bot, emails: list[str], runs: int) -> None:
    rng = random.Random(7)
    inversions = 0
    for _ in range(runs):
        people = rng.sample(emails, 24)
        sid = new_sprint(bot, emails, 6)

        def go(e: str, sid: int = sid) -> None:
            time.sleep(rng.random() / 50)
            join(bot, e, sid)

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(go, people))
        for _leave in range(rng.randint(1, 4)):
            with bot.session_factory() as s:
                seated = s.execute(select(EmailAddress.address).join(
                    SprintSignup, SprintSignup.person_id == EmailAddress.person_id).where(
                    SprintSignup.sprint_id == sid, SprintSignup.status.in_(
                        ("seated",)))).scalars().all()
            bot.dispatch(Command("sprint", f"leave {sid}", Actor("console", "", rng.choice(
                list(seated))), WHERE, uuid.uuid4().hex))
        with bot.session_factory() as s:
            rows = s.execute(select(SprintSignup.status, SprintSignup.asked_at,
                                    SprintSignup.id).where(
                SprintSignup.sprint_id == sid, SprintSignup.status.in_(
                    ("offered", "waitlisted")))).all()
        offered = [(a, i) for st, a, i in rows if st == "offered"]
        waiting = [(a, i) for st, a, i in rows if st == "waitlisted"]
        inversions += sum(1 for o in offered for w in waiting if w < o)
    say(f"3. fairness: {runs} random runs, inversions {inversions} (target 0)")
    assert inversions == 0


def run(args: argparse.Namespace, database: str) -> None:
    """Parts 1 to 3 (1 only with ``--throughput-only``) on a scratch database."""
    tmp_db = tempfile.TemporaryDirectory()
    if database == "postgresql":
        url, name = scratch_postgres()
    else:
        url, name = f"sqlite:///{tmp_db.name}/bench.db", ""
    say(f"-- {database}, code of {TREE}")
    try:
        engine = make_engine(url)
        upgrade_engine(engine)
        with tempfile.TemporaryDirectory() as tmp:
            bot = build_app(Settings(database_url=url, secret_key="bench-" + "k" * 40,
                                     mail={"outbox_dir": Path(tmp)}),  # type: ignore[arg-type]
                            engine=engine, plugins=False)
            emails = seed(bot, args.people, orgs=max(1, args.people // 10))
            bench_throughput(bot, emails, args.seats, args.threads)
            if not args.throughput_only:
                bench_last_seat(bot, emails)
                bench_fairness(bot, emails, args.runs)
        engine.dispose()
    finally:
        if name:
            drop_postgres(name)
        tmp_db.cleanup()


def alternate(args: argparse.Namespace, databases: list[str]) -> None:
    """Part 1 of ``--rev`` and of the working tree, alternated: each turn a
    process of its own (its own imports, database and seed)."""
    from bench.ab import checkout

    base, sha = checkout(args.rev)
    ratios: dict[tuple[str, str], list[float]] = {}
    for n in range(args.rounds):
        for database in databases:
            trees = [(sha, base), ("working tree", ROOT)]
            for label, tree in trees if n % 2 == 0 else trees[::-1]:
                out = subprocess.run(
                    [sys.executable, __file__, "--tree", str(tree), "--database", database,
                     "--throughput-only", "--people", str(args.people), "--seats",
                     str(args.seats), "--threads", str(args.threads)],
                    capture_output=True, text=True, check=True, cwd=tree).stdout
                line = next(ln for ln in out.splitlines() if ln.startswith("1."))
                ratio = float(re.findall(r"^RATIO (\S+)", out, re.M)[0])
                ratios.setdefault((database, label), []).append(ratio)
                say(f"round {n + 1} {database:10} {label:12} load "
                    f"{os.getloadavg()[0]:.2f}: {line}")
    for (database, label), got in ratios.items():
        say(f"{database:10} {label:12} ratio median {statistics.median(got):.2f} "
            f"({', '.join(f'{r:.2f}' for r in got)}; target >= 0.3)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=2000)
    ap.add_argument("--seats", type=int, default=200)
    ap.add_argument("--threads", type=int, default=16)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--database", choices=("postgresql", "sqlite", "both"),
                    default="postgresql")
    ap.add_argument("--rev", help="alternate part 1 with this commit (e.g. main)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--throughput-only", action="store_true")
    ap.add_argument("--tree", help=argparse.SUPPRESS)
    args = ap.parse_args()
    databases = ["postgresql", "sqlite"] if args.database == "both" else [args.database]
    if args.rev:
        alternate(args, databases)
        return
    for database in databases:
        run(args, database)


if __name__ == "__main__":
    main()
