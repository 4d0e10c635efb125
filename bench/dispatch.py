"""Benchmark: one stance, closed loop, against Errbot's ``!vote``.

1. Closed loop (one stance in flight): ``vote ID STANCE`` typed on the console
   adapter (``ConsoleSession.feed`` -> ``Bot.dispatch`` -> the reply rendered
   as the terminal shows it), a durable write each time (SQLite file in WAL
   mode; PostgreSQL with ``synchronous_commit`` on), voters taking and
   changing stances. Errbot's half is ``../shared/peers/errbot_dispatch.py``
   (its TestBot, ``!vote`` into a dict, nothing durable). The three are
   alternated ``--rounds`` times in one run; each prints p50/p99, and the
   ratio of Convene's p99 to Errbot's p99 of the same round. Targets: at
   most 2x with the machine's load at most 1, at most 3x with background load
   (``--background-load N`` starts N busy processes for the whole run), on
   SQLite and on PostgreSQL. Every figure is printed with the load average.
2. A concurrent burst (``--threads`` callers, the ``poll.stance`` button a
   platform would send, and typed votes) on each database: every reply is
   checked (the stance named, the counts well formed), then every voter's
   stance in the database and the kept counts against a recount. Target: 0
   wrong.

Run: ``.venv/bin/python bench/dispatch.py [--n 2000] [--rounds 3]
[--background-load 2]``; PostgreSQL
at ``$CONVENE_TEST_POSTGRES_URL`` (a scratch database is made and dropped);
Errbot's venv at ``$PEERS_VENV`` (default /tmp/peers-venv; make it with
``bash ../shared/peers/setup.sh``). Without it Convene's figures are printed alone.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from adapters.console import ConsoleSession  # noqa: E402
from bench.common import (  # noqa: E402
    SEC,
    BackgroundLoad,
    drop_postgres,
    loadavg,
    pct,
    say,
    scratch_postgres,
    seed_voters,
    verdict,
)
from bot.app import Bot  # noqa: E402
from bot.compose import build_app  # noqa: E402
from bot.serve import settle_heap  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.types import Actor, ButtonPress, Command, Conversation  # noqa: E402
from storage.checkpoint import WalCheckpointer  # noqa: E402
from storage.engine import make_engine  # noqa: E402
from storage.models import (  # noqa: E402
    EmailAddress,
    Proposal,
    Round,
    Stance,
)

PEERS = ROOT.parent / "shared" / "peers"
VENV = Path(os.environ.get("PEERS_VENV", "/tmp/peers-venv"))
STANCES = ("agree", "abstain")
COUNTS_LINE = re.compile(r"^Agree \d+ · Abstain \d+ · Disagree \d+ · Block \d+$")


def new_poll(bot: Bot) -> int:
    out = ConsoleSession(dispatch=bot.dispatch, email=SEC).feed(
        "poll new Bench proposal | Adopt the bench protocol. | 2031-01-15 17:00")
    assert "is open for stances" in out, out
    with bot.session_factory() as s:
        return int(s.scalar(select(func.max(Proposal.id))) or 0)


def expected_first_line(pid: int, stance: str) -> str:
    return f"Your stance on proposal #{pid}, round 1: {stance.capitalize()}."


def closed_loop(bot: Bot, voters: int, n: int, warmup: int = 100) -> tuple[list[float], int]:
    """``n`` typed stances one at a time on a new proposal; (latencies ms, wrong)."""
    pid = new_poll(bot)
    sessions = [ConsoleSession(dispatch=bot.dispatch, email=f"v{i:04d}@bench.example")
                for i in range(voters)]
    lat: list[float] = []
    wrong = 0
    for i in range(warmup + n):
        s = sessions[i % voters]
        stance = STANCES[(i // voters) % 2]
        t0 = time.perf_counter()
        out = s.feed(f"vote {pid} {stance}")
        dt = (time.perf_counter() - t0) * 1000
        s.transcript.clear()
        lines = out.splitlines()
        if len(lines) != 2 or lines[0] != expected_first_line(pid, stance) or \
                not COUNTS_LINE.match(lines[1]):
            wrong += 1
        if i >= warmup:
            lat.append(dt)
    return lat, wrong


def burst(bot: Bot, voters: int, threads: int, per_voter: int) -> dict[str, int]:
    """Every voter casts ``per_voter`` stances (button presses and typed votes,
    alternating stances), one thread per share of the voters, all at once."""
    pid = new_poll(bot)
    where = Conversation("console", "", "bench", is_direct=True)
    wrong: list[str] = []
    lock = threading.Lock()
    last: dict[int, str] = {}

    def share(t: int) -> None:
        for k in range(per_voter):
            for v in range(t, voters, threads):
                stance = STANCES[(v + k) % 2]
                actor = Actor("console", "", f"v{v:04d}@bench.example")
                ev = (ButtonPress("poll.stance", f"{pid}:1:1:{stance}", actor, where,
                                  uuid.uuid4().hex) if k % 2 else
                      Command("vote", f"{pid} {stance}", actor, where, uuid.uuid4().hex))
                replies = bot.dispatch(ev)
                lines = replies[0].message.text.splitlines() if len(replies) == 1 else []
                if len(lines) != 2 or lines[0] != expected_first_line(pid, stance) or \
                        not COUNTS_LINE.match(lines[1]) or \
                        sum(int(x) for x in re.findall(r"\d+", lines[1])) > voters:
                    with lock:
                        wrong.append(repr(replies)[:200])
                last[v] = stance

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(share, range(threads)))
    with bot.session_factory() as s:
        people = dict(s.execute(select(EmailAddress.address, EmailAddress.person_id)).all())
        round_id = s.scalar(select(Round.id).where(Round.proposal_id == pid, Round.number == 1))
        recount = [s.scalar(select(func.count()).where(Stance.round_id == round_id,
                                                         Stance.stance == st))
                   for st in STANCES]
        try:  # kept counts (a tree before them, run for a baseline, has none)
            from storage.models import RoundCount
        except ImportError:
            kept = recount
        else:
            kept = list(s.execute(select(func.sum(RoundCount.agree),
                                         func.sum(RoundCount.abstain))
                                  .where(RoundCount.round_id == round_id)).one())
        rows = dict(s.execute(select(Stance.voter_key, Stance.stance)
                              .where(Stance.round_id == round_id)).all())
    mismatched = sum(1 for v, st in last.items()
                     if rows.get(f"p:{people[f'v{v:04d}@bench.example']}") != st)
    return {"replies": voters * per_voter, "wrong": len(wrong), "rows": len(rows),
            "final_mismatched": mismatched,
            "counts_off": int(kept != recount)}


def errbot(n: int) -> tuple[float, float] | str:
    """Errbot's closed-loop (p50, p99) in ms, or why it could not run."""
    python = VENV / "bin" / "python"
    script = PEERS / "errbot_dispatch.py"
    if not python.exists() or not script.exists():
        return f"Errbot's venv {python} not found (bash {PEERS}/setup.sh)"
    proc = subprocess.run([str(python), str(script), "--n", str(n), "--rounds", "1"],
                          capture_output=True, text=True, timeout=600, check=False)
    m = re.search(r"reply popped by caller, ms: p50 ([\d.]+)\s+p99 ([\d.]+)", proc.stdout)
    if m is None:
        return f"Errbot's run printed no latency (exit {proc.returncode}): " \
               f"{(proc.stdout + proc.stderr)[-300:]}"
    return float(m.group(1)), float(m.group(2))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000, help="stances per closed loop")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--voters", type=int, default=400)
    ap.add_argument("--threads", type=int, default=8, help="callers in the burst")
    ap.add_argument("--per-voter", type=int, default=4, help="stances per voter in the burst")
    ap.add_argument("--background-load", type=int, default=0, metavar="N",
                    help="start N busy processes beside the bench for the whole run")
    ap.add_argument("--no-burst", action="store_true", help="closed loops only")
    args = ap.parse_args()
    with BackgroundLoad(args.background_load):
        run(args)


def run(args: argparse.Namespace) -> None:
    loads: list[float] = []
    tmp = Path(tempfile.mkdtemp(prefix="convene-dispatch-"))
    sqlite_url = f"sqlite:///{tmp / 'convene.db'}"
    pg_url, pg_name = scratch_postgres()
    bots: dict[str, Bot] = {}
    checkpointers: list[WalCheckpointer] = []
    try:
        for kind, url in (("SQLite", sqlite_url), ("PostgreSQL", pg_url)):
            # as many again who never vote: no round closes early during the bench
            engine = make_engine(url)
            seed_voters(engine, args.voters * 2)
            engine.dispose()
            settings = Settings(database_url=url, secret_key="bench-secret-key-long-enough",
                                mail={"outbox_dir": tmp / "outbox"})  # type: ignore[arg-type]
            bots[kind] = build_app(settings)
            checkpointers.append(WalCheckpointer(bots[kind].engine).start())  # as chat does
        settle_heap()  # as `convene chat` does once it has started (adapters/console_plugin.py)
        say(f"{args.voters} voters (and as many who never vote); {args.n} stances per closed "
            f"loop after 100 unmeasured; SQLite file in WAL mode, PostgreSQL scratch database "
            f"{pg_name}; background load: {args.background_load} busy processes")
        results: dict[str, list[tuple[float, float]]] = {"SQLite": [], "PostgreSQL": [],
                                                         "Errbot": []}
        wrong_total = 0
        errbot_note = ""
        for r in range(1, args.rounds + 1):
            say(f"\nround {r}")
            for kind in ("SQLite", "PostgreSQL"):
                lat, wrong = closed_loop(bots[kind], args.voters, args.n)
                wrong_total += wrong
                results[kind].append((pct(lat, 0.5), pct(lat, 0.99)))
                loads.append(os.getloadavg()[0])
                say(f"  Convene {kind:<10} p50 {pct(lat, 0.5):6.2f} ms  p99 "
                    f"{pct(lat, 0.99):6.2f} ms  max {max(lat):7.2f} ms  wrong replies {wrong}"
                    f"  ({loadavg()})")
            got = errbot(args.n)
            if isinstance(got, str):
                errbot_note = got
                say(f"  Errbot: not measured: {got}")
                continue
            results["Errbot"].append(got)
            loads.append(os.getloadavg()[0])
            say(f"  Errbot  !vote      p50 {got[0]:6.2f} ms  p99 {got[1]:6.2f} ms  ({loadavg()})")
            for kind in ("SQLite", "PostgreSQL"):
                say(f"  ratio p99 Convene {kind} / Errbot: {results[kind][-1][1] / got[1]:.2f}")
        quiet = max(loads, default=0.0) <= 1.0 and not args.background_load
        target = 2.0 if quiet else 3.0
        say(f"\nsummary (medians of the rounds; load {min(loads, default=0):.1f}-"
            f"{max(loads, default=0):.1f}, {args.background_load} busy processes: target p99 "
            f"<= {target:g}x Errbot's)")
        med = {k: (statistics.median(a for a, _ in v), statistics.median(b for _, b in v))
               for k, v in results.items() if v}
        for k, (p50, p99) in med.items():
            say(f"  {k:<10} p50 {p50:6.2f} ms  p99 {p99:6.2f} ms")
        if results["Errbot"]:
            for kind in ("SQLite", "PostgreSQL"):
                ratios = [c[1] / e[1] for c, e in zip(results[kind], results["Errbot"],
                                                       strict=False)]
                ratio = statistics.median(ratios)
                say(f"  closed-loop p99 ratio Convene {kind} / Errbot: median {ratio:.2f} "
                    f"(rounds: {', '.join(f'{x:.2f}' for x in ratios)}; target <= {target:g}: "
                    f"{verdict(ratio <= target)})")
        else:
            say(f"  Errbot could not be run ({errbot_note}); Convene's figures alone")
        say(f"  wrong replies in the closed loops: {wrong_total} ({verdict(wrong_total == 0)})")
        if args.no_burst:
            return
        say(f"\nburst: {args.threads} callers, {args.voters} voters x {args.per_voter} stances "
            "(buttons and typed votes)")
        for kind in ("SQLite", "PostgreSQL"):
            t0 = time.perf_counter()
            b = burst(bots[kind], args.voters, args.threads, args.per_voter)
            dt = time.perf_counter() - t0
            ok = b["wrong"] == 0 and b["final_mismatched"] == 0 and b["counts_off"] == 0 \
                and b["rows"] == args.voters
            say(f"  {kind:<10} {b['replies']} replies in {dt:.1f} s ({b['replies'] / dt:.0f}/s): "
                f"wrong {b['wrong']}, stance rows {b['rows']}, final stance not the last cast "
                f"{b['final_mismatched']}, kept counts differ from a recount "
                f"{b['counts_off']} ({verdict(ok)})")
    finally:
        for c in checkpointers:
            c.stop()
        for bot in bots.values():
            bot.leadership.stop()
            bot.engine.dispose()
        drop_postgres(pg_name)


if __name__ == "__main__":
    main()
