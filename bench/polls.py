"""Benchmark: consensus polls at alliance scale, on PostgreSQL.

1. 2,000 eligible voters cast stances concurrently through ``Bot.dispatch``;
   the baseline is bare SQLAlchemy inserts of the same rows, one row a
   transaction, at the same concurrency, in the same run. Targets: throughput
   at least 0.6 x the baseline (issue 16; 0.5 before); p99 dispatch latency at most 150 ms.
2. The email round's fan-out to the 2,000 voters through aiosmtpd on loopback:
   at least 100 messages per second (queueing + delivery by the outbox worker).
3. ``kill -9`` of ``convene serve`` midway through 2,000 stances cast over HTTP
   (the signed vote links' POST); after the restart the client retries what was
   not acknowledged. Every acknowledged stance must be there, none twice.

Run: ``.venv/bin/python bench/polls.py`` (PostgreSQL at
``$CONVENE_TEST_POSTGRES_URL``, default ``postgresql://postgres@127.0.0.1:5432/test``;
a scratch database is created and dropped). ``--voters N`` and ``--threads N``.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import func, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    SEC,
    drop_postgres,
    free_port,
    pct,
    say,
    scratch_postgres,
    seed_voters_at,
    verdict,
)
from bot.app import Bot  # noqa: E402
from bot.compose import build_app  # noqa: E402
from bot.polls.tokens import mint  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.types import Actor, ButtonPress, Command, Conversation, FormSubmission  # noqa: E402
from storage.base import utcnow  # noqa: E402
from storage.engine import make_engine, make_session_factory  # noqa: E402
from storage.models import (  # noqa: E402
    AuditEntry,
    Group,
    Membership,
    Person,
    Proposal,
    Role,
    Round,
    Stance,
)

SECRET = "bench-secret-key-long-enough-for-convene"


# --- 1. stances through Bot.dispatch vs bare inserts ------------------------------------

def baseline_inserts(url: str, voters: int, threads: int) -> float:
    """Bare SQLAlchemy inserts of the same stance rows, one row a transaction."""
    engine = make_engine(url, pool_size=threads, max_overflow=0)
    factory = make_session_factory(engine)
    with factory() as s, s.begin():
        group_id = s.scalar(select(Group.id))
        pids = list(s.scalars(select(Person.id).order_by(Person.id)).all())[1:voters + 1]
        p = Proposal(group_id=group_id, title="baseline", closes_at=utcnow() + timedelta(days=1))
        s.add(p)
        s.flush()
        rnd = Round(proposal_id=p.id, number=1, closes_at=p.closes_at)
        s.add(rnd)
        s.flush()
        round_id = rnd.id

    def insert(pid: int) -> None:
        with factory() as s, s.begin():
            s.add(Stance(round_id=round_id, voter_key=f"p:{pid}", person_id=pid, stance="agree",
                         reason="", channel="console", version=1))

    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(insert, pids))
    elapsed = time.perf_counter() - start
    with factory() as s, s.begin():
        s.execute(text("DELETE FROM poll_stances WHERE round_id = :r"), {"r": round_id})
        s.execute(text("DELETE FROM poll_rounds WHERE id = :r"), {"r": round_id})
        s.execute(text("DELETE FROM poll_proposals WHERE title = 'baseline'"))
    engine.dispose()
    return voters / elapsed


def dispatch_stances(bot: Bot, voters: int, threads: int) -> tuple[float, list[float], int]:
    """Create a proposal, then every voter takes a stance concurrently (voter 0 blocks,
    with a reason, so round 1 fails). Returns (stances/s, latencies in s, poll id)."""
    where = Conversation("console", "", "bench", is_direct=True)
    closes = (utcnow() + timedelta(days=3)).isoformat(timespec="seconds")
    bot.dispatch(Command("poll", f"new Bench proposal | Adopt the bench protocol. | {closes}",
                         Actor("console", "", SEC), where, uuid.uuid4().hex))
    with bot.session_factory() as s:
        pid = s.scalar(select(func.max(Proposal.id)))
    assert pid is not None
    events = []
    for i in range(voters):
        actor = Actor("console", "", f"v{i:04d}@bench.example")
        if i == 0:
            events.append(FormSubmission("poll.reason", (("reason", "Not yet."),), actor, where,
                                         uuid.uuid4().hex, context=f"{pid}:1:block"))
        else:
            events.append(ButtonPress("poll.stance", f"{pid}:1:{('agree', 'abstain')[i % 2]}",
                                      actor, where, uuid.uuid4().hex))
    latencies: list[float] = []
    lock = threading.Lock()

    def one(ev: object) -> None:
        t0 = time.perf_counter()
        replies = bot.dispatch(ev)  # type: ignore[arg-type]
        dt = time.perf_counter() - t0
        text = replies[0].message.text if replies else ""
        assert text and " 1" in text and "went wrong" not in text, replies
        with lock:
            latencies.append(dt)

    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, events))
    elapsed = time.perf_counter() - start
    return voters / elapsed, latencies, int(pid)


# --- 2. the email round's fan-out through aiosmtpd ---------------------------------------

def fan_out(bot: Bot, pid: int, received: list[int]) -> tuple[float, float, float, int]:
    """Open round 2 (queue the ballots), then deliver them with the outbox worker.
    Returns (seconds queueing, seconds delivering, seconds end to end, ballots
    received by aiosmtpd)."""
    where = Conversation("console", "", "bench", is_direct=True)
    before = received[0]
    t0 = time.perf_counter()
    replies = bot.dispatch(Command("poll", f"email-round {pid}", Actor("console", "", SEC),
                                   where, "email-round"))
    queued = time.perf_counter()
    assert "is open by email" in replies[0].message.text, replies[0].message.text
    worker = bot.new_worker()
    worker.batch_size = 200
    worker.drain(max_passes=1000)
    done = time.perf_counter()
    return queued - t0, done - queued, done - t0, received[0] - before


# --- 3. kill -9 of `convene serve` midway ---------------------------------------------

def start_serve(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, "-c", "from bot.cli import main; main()", "serve"],
                            env=env, cwd=log.parent, stdout=log.open("ab"),
                            stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"convene serve exited: {log.read_text()[-2000:]}")
        time.sleep(0.2)
    raise RuntimeError("convene serve did not become healthy")


def kill_midway(url: str, pid: int, voters: int, threads: int, tmp: Path) -> dict[str, int]:
    port = free_port()
    env = dict(os.environ, CONVENE_DATABASE_URL=url, CONVENE_SECRET_KEY=SECRET,
               CONVENE_HTTP__PORT=str(port), CONVENE_MAIL__OUTBOX_DIR=str(tmp / "outbox"),
               CONVENE_CONFIG=str(tmp / "convene.toml"), CONVENE_LOG_LEVEL="WARNING")
    (tmp / "convene.toml").write_text("")
    engine = make_engine(url)
    with make_session_factory(engine)() as s:
        rnd = s.scalars(select(Round).where(Round.proposal_id == pid, Round.number == 2)).one()
        people = s.execute(select(Person.id).join(Membership).where(
            Membership.role == Role.MEMBER).order_by(Person.id)).scalars().all()
    tokens = {p: mint(key=SECRET, person_id=p, poll_id=pid, round_no=2,
                      stance=("agree", "abstain")[p % 2], expires_at=rnd.closes_at)
              for p in people[:voters]}
    acked: set[int] = set()
    refused: dict[int, int] = {}
    lock = threading.Lock()
    stop = threading.Event()
    log = tmp / "serve.log"
    proc = start_serve(env, port, log)

    def post(person: int) -> None:
        if stop.is_set():
            return
        try:
            r = httpx.post(f"http://127.0.0.1:{port}/polls/{pid}/vote",
                           data={"t": tokens[person], "confirm": "yes"},
                           headers={"Origin": f"http://127.0.0.1:{port}"}, timeout=30)
        except httpx.HTTPError:
            return  # not acknowledged: the client will retry
        with lock:
            if r.status_code == 200:  # the page says "Stance recorded" in the voter's language
                acked.add(person)
            elif r.status_code == 409:  # committed before the kill, refused as used now
                acked.add(person)
                refused[person] = r.status_code
            else:
                refused[person] = r.status_code

    def killer() -> None:
        while len(acked) < voters // 2:
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
        stop.set()

    k = threading.Thread(target=killer)
    k.start()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(post, list(tokens)))
    k.join()
    proc.wait()
    acked_before_kill = len(acked)
    proc = start_serve(env, port, log)
    stop.clear()
    retry = [p for p in tokens if p not in acked]
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(post, retry))
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
    with make_session_factory(engine)() as s:
        round_id = s.scalar(select(Round.id).where(Round.proposal_id == pid, Round.number == 2))
        rows = s.execute(select(Stance.person_id, Stance.voter_key)
                         .where(Stance.round_id == round_id)).all()
        audit_rows = s.scalar(select(func.count(AuditEntry.id)).where(
            AuditEntry.action.like("poll.stance%"), AuditEntry.channel == "web"))
    engine.dispose()
    present = {p for p, _ in rows}
    keys = [k for _, k in rows]
    return {"acked_before_kill": acked_before_kill, "acked": len(acked),
            "retried": len(retry), "already_used_on_retry": sum(
                1 for c in refused.values() if c == 409),
            "missing": len(acked - present), "rows": len(rows),
            "duplicates": len(keys) - len(set(keys)), "audit_rows": audit_rows or 0}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--voters", type=int, default=2000)
    ap.add_argument("--threads", type=int, default=16)
    ap.add_argument("--low-threads", type=int, default=4,
                    help="a second, lower concurrency measured first")
    ap.add_argument("--http-voters", type=int, default=600,
                    help="stances cast over HTTP in the kill -9 part (keeps the run short)")
    args = ap.parse_args()
    from aiosmtpd.controller import Controller

    received = [0]

    class Count:
        async def handle_DATA(self, server, session, envelope):
            received[0] += 1
            return "250 OK"

    smtp_port = free_port()
    controller = Controller(Count(), hostname="127.0.0.1", port=smtp_port)
    controller.start()
    url, name = scratch_postgres()
    tmp = Path(tempfile.mkdtemp(prefix="convene-bench-"))
    try:
        seed_voters_at(url, args.voters, languages=("en", "fr", "es"))
        say(f"PostgreSQL scratch database {name}; {args.voters} voters")
        settings = Settings(database_url=url, secret_key=SECRET,
                            mail={"outbox_dir": tmp / "outbox"},  # type: ignore[arg-type]
                            smtp={"host": "127.0.0.1", "port": smtp_port,  # type: ignore[arg-type]
                                  "security": "none"})
        bot = build_app(settings, engine=make_engine(url, pool_size=args.threads,
                                                      max_overflow=8))
        pid = 0
        for threads in sorted({args.low_threads, args.threads}):
            base = baseline_inserts(url, args.voters, threads)
            rate, lat, pid = dispatch_stances(bot, args.voters, threads)
            p50, p99 = pct(lat, 0.50) * 1000, pct(lat, 0.99) * 1000
            say(f"\n1. {threads} concurrent callers: stances through Bot.dispatch {rate:7.1f} /s; "
                f"bare inserts of the same rows, one a transaction, {base:7.1f} /s; ratio "
                f"{rate / base:.2f} (target >= 0.6: {verdict(rate >= 0.6 * base)})")
            say(f"   dispatch latency p50 {p50:.1f} ms, p99 {p99:.1f} ms, max "
                f"{max(lat) * 1000:.1f} ms (target p99 <= 150 ms: {verdict(p99 <= 150)})")
            with bot.session_factory() as s:
                p = s.get(Proposal, pid)
                assert p is not None
                n = s.scalar(select(func.count(Stance.id)).join(Round).where(
                    Round.proposal_id == pid))
                say(f"   {n} stance rows; round 1 closed early when complete: state={p.state}")
        queue_s, deliver_s, total_s, got = fan_out(bot, pid, received)
        say(f"\n2. email round fan-out: {got} ballots received by aiosmtpd; queued in "
            f"{queue_s:.1f} s, delivered in {deliver_s:.1f} s = {got / deliver_s:.1f} msg/s "
            f"(target >= 100 msg/s: {verdict(got / deliver_s >= 100)}); end to end "
            f"{got / total_s:.1f} msg/s ({verdict(got / total_s >= 100)})")
        bot.engine.dispose()
        r = kill_midway(url, pid, min(args.http_voters, args.voters), args.threads, tmp)
        ok = r["missing"] == 0 and r["duplicates"] == 0 and r["rows"] == r["audit_rows"] \
            and r["acked"] == min(args.http_voters, args.voters)
        say(f"\n3. kill -9 of `convene serve` after {r['acked_before_kill']} acknowledged "
              f"stances; restarted; {r['retried']} retried by the client "
              f"({r['already_used_on_retry']} had been committed before the kill and were "
              "refused as already used)")
        say(f"   acknowledged {r['acked']}, missing {r['missing']}, rows {r['rows']}, "
              f"counted twice {r['duplicates']}, audit rows {r['audit_rows']}: {verdict(ok)}")
    finally:
        controller.stop()
        drop_postgres(name)


if __name__ == "__main__":
    main()
