"""Benchmark: several ``convene serve`` replicas on one PostgreSQL database.

1. Outbox throughput to a loopback SMTP sink (aiosmtpd): N email rows queued
   while one replica, then two, are running; messages/s from the insert to the
   last row recorded ``sent``, and the two-to-one ratio.
2. Fail-over of the scheduler lease: SIGKILL the holder, time until the other
   replica's /readyz says it holds the lease (``[jobs] lease_check_seconds``
   0.5 here; the default is 10). The median of 5, the killed replica restarted
   between rounds.

Run: ``.venv/bin/python bench/replicas.py [--rows N] [--rounds N]`` (needs the
test PostgreSQL, ``CONVENE_TEST_POSTGRES_URL``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.mail import OutgoingEmail  # noqa: E402
from bot.outbox import enqueue_email  # noqa: E402
from storage.engine import make_engine, make_session_factory  # noqa: E402
from storage.models import OutboxMessage  # noqa: E402
from tests.replica_helpers import (  # noqa: E402
    CountingSink,
    Replica,
    drop_database,
    scratch_database,
)


def throughput(n_replicas: int, rows: int, work: Path) -> float:
    """Messages/s delivered by ``n_replicas`` replicas draining ``rows`` rows."""
    admin_url, url = scratch_database("convene_bench")
    sink = CountingSink()
    sink.start()
    engine = make_engine(url)
    sf = make_session_factory(engine)
    replicas = [Replica(f"r{i}", db_url=url, cwd=work / f"t{n_replicas}", smtp_port=sink.port)
                for i in range(n_replicas)]
    try:
        for r in replicas:
            r.ready(120)
        with sf() as session, session.begin():
            for i in range(rows):
                enqueue_email(session=session, key=f"bench:{i}", email=OutgoingEmail(
                    to=(f"member{i % 97}@alliance.example",), subject=f"Message {i}",
                    text=f"Body {i}", message_id=f"<bench-{i}@replicas.example>"))
        start = time.perf_counter()  # the rows are visible from the commit on
        while True:
            with sf() as session:
                sent = session.scalar(select(func.count()).select_from(OutboxMessage)
                                      .where(OutboxMessage.status == "sent")) or 0
            if sent >= rows:
                break
            time.sleep(0.05)
        elapsed = time.perf_counter() - start
        assert sink.accepted() == rows, (sink.accepted(), rows)
        return rows / elapsed
    finally:
        for r in replicas:
            r.stop()
        sink.stop()
        engine.dispose()
        drop_database(admin_url, url)


def failover(rounds: int, work: Path) -> list[float]:
    """Seconds from SIGKILL of the lease holder to the other holding it."""
    admin_url, url = scratch_database("convene_bench")
    names = ["a", "b"]
    reps = {n: Replica(n, db_url=url, cwd=work / "failover") for n in names}
    out: list[float] = []
    try:
        for r in reps.values():
            r.ready(120)
        for k in range(rounds):
            deadline = time.monotonic() + 30
            holder = None
            while holder is None and time.monotonic() < deadline:
                holder = next((n for n, r in reps.items() if r.leader()), None)
                time.sleep(0.05)
            assert holder is not None, "nobody holds the lease"
            other = next(n for n in names if n != holder)
            reps[holder].kill()
            t0 = time.perf_counter()
            while not reps[other].leader():
                time.sleep(0.02)
            out.append(time.perf_counter() - t0)
            reps[holder].stop()
            reps[holder] = Replica(holder, db_url=url, cwd=work / f"failover{k}")
            reps[holder].ready(120)
    finally:
        for r in reps.values():
            r.stop()
        drop_database(admin_url, url)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        one = throughput(1, args.rows, work)
        two = throughput(2, args.rows, work)
        print(f"outbox, {args.rows} emails to a loopback SMTP sink:")
        print(f"  1 replica : {one:8.1f} messages/s")
        print(f"  2 replicas: {two:8.1f} messages/s   ratio {two / one:.2f}x")
        times = failover(args.rounds, work)
        print(f"scheduler lease fail-over after SIGKILL (lease_check_seconds=0.5), "
              f"{len(times)} rounds:")
        print(f"  median {statistics.median(times):.2f} s   "
              f"(min {min(times):.2f}, max {max(times):.2f})")


if __name__ == "__main__":
    main()
