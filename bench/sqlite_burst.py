"""Benchmark: SQLite under a burst, with and without the writers' queue.

1. 8 threads cast stances through ``Bot.dispatch`` (400 voters) on a SQLite
   file: Convene's engine (writers queue on an in-process lock before
   ``BEGIN IMMEDIATE``) against the same engine without it (every writer sleeps
   in SQLite's busy handler), alternated, in one run. Target: p99 <= 100 ms.
2. 16 threads run ``SELECT 1`` as /healthz does, while 4 threads write: a
   read-only unit of work (deferred ``BEGIN``) against one that takes the write
   lock (``BEGIN IMMEDIATE``).

Run: ``.venv/bin/python bench/sqlite_burst.py [--voters N] [--threads N]``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import SEC, pct, seed_voters  # noqa: E402
from bot.compose import build_app  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.types import Actor, ButtonPress, Command, Conversation  # noqa: E402
from storage.base import utcnow  # noqa: E402
from storage.engine import make_engine, read_only  # noqa: E402
from storage.migrate import upgrade_engine  # noqa: E402
from storage.models import Proposal  # noqa: E402


def burst(folder: Path, *, serialise: bool, voters: int, threads: int) -> list[float]:
    path = folder / f"burst-{uuid.uuid4().hex[:6]}.db"
    engine = make_engine(f"sqlite:///{path}", serialise_writers=serialise)
    seed_voters(engine, voters)
    settings = Settings(database_url=f"sqlite:///{path}", secret_key="bench-secret-key-0123456789",
                        mail={"outbox_dir": folder / "outbox"})  # type: ignore[arg-type]
    bot = build_app(settings, engine=engine, plugins=False)
    where = Conversation("console", "", "bench", is_direct=True)
    closes = (utcnow() + timedelta(days=3)).isoformat(timespec="seconds")
    bot.dispatch(Command("poll", f"new Burst | Adopt the burst protocol. | {closes}",
                         Actor("console", "", SEC), where, uuid.uuid4().hex))
    with bot.session_factory() as s:
        pid = s.scalar(select(func.max(Proposal.id)))
    lat: list[float] = []
    lock = threading.Lock()

    def one(i: int) -> None:
        ev = ButtonPress("poll.stance", f"{pid}:1:{('agree', 'abstain')[i % 2]}",
                         Actor("console", "", f"v{i:04d}@bench.example"), where, uuid.uuid4().hex)
        t0 = time.perf_counter()
        replies = bot.dispatch(ev)
        dt = time.perf_counter() - t0
        assert replies and "went wrong" not in replies[0].message.text, replies
        with lock:
            lat.append(dt)

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, range(voters)))
    engine.dispose()
    return lat


def reads(folder: Path, *, readonly: bool, n: int = 800) -> list[float]:
    path = folder / f"reads-{uuid.uuid4().hex[:6]}.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade_engine(engine)
    with engine.begin() as c:
        c.execute(text("CREATE TABLE IF NOT EXISTS bench_w (x INTEGER)"))
    stop = threading.Event()

    def writer() -> None:
        while not stop.is_set():
            with engine.begin() as c:
                c.execute(text("INSERT INTO bench_w VALUES (1)"))

    writers = [threading.Thread(target=writer) for _ in range(4)]
    for w in writers:
        w.start()
    target = read_only(engine) if readonly else engine
    lat: list[float] = []
    lock = threading.Lock()

    def one(_i: int) -> None:
        t0 = time.perf_counter()
        with target.connect() as c:
            c.execute(text("SELECT 1"))
        with lock:
            lat.append(time.perf_counter() - t0)

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(one, range(n)))
    stop.set()
    for w in writers:
        w.join()
    engine.dispose()
    return lat


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--voters", type=int, default=400)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        res: dict[bool, list[float]] = {True: [], False: []}
        for _ in range(args.rounds):
            for serialise in (True, False):
                res[serialise] += burst(folder, serialise=serialise, voters=args.voters,
                                        threads=args.threads)
        print(f"stance burst, {args.threads} threads, {args.voters} voters x {args.rounds}:")
        for serialise, name in ((True, "writers' queue (Convene)"), (False, "busy_timeout only")):
            lat = res[serialise]
            print(f"  {name:26s} p50 {pct(lat, .5) * 1000:7.1f} ms  p99 {pct(lat, .99) * 1000:7.1f}"
                  f" ms  max {max(lat) * 1000:7.1f} ms")
        p99 = pct(res[True], .99) * 1000
        print(f"  target p99 <= 100 ms: {'MET' if p99 <= 100 else 'NOT MET'} ({p99:.1f} ms)")
        ro, rw = reads(folder, readonly=True), reads(folder, readonly=False)
        print("SELECT 1 from 16 threads while 4 threads write:")
        print(f"  read-only (deferred BEGIN)  p50 {pct(ro, .5) * 1000:6.1f} ms  "
              f"p99 {pct(ro, .99) * 1000:6.1f} ms")
        print(f"  write lock (IMMEDIATE)      p50 {pct(rw, .5) * 1000:6.1f} ms  "
              f"p99 {pct(rw, .99) * 1000:6.1f} ms")


if __name__ == "__main__":
    main()
