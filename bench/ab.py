"""Benchmark: the working tree against an earlier commit, alternated in one run.

A figure measured an hour ago on this shared machine says little about a
change: the load moves under it. This bench checks the earlier commit out in a
git worktree under /tmp (``--rev``, default ``HEAD~1``), starts one worker
process per tree (each imports only its own tree's code, seeds its own SQLite
file and PostgreSQL scratch database, and starts what that tree's
``convene chat`` starts) and then alternates them, round after round: the
same closed loop of typed ``vote ID STANCE`` through the console adapter as
bench/dispatch.py, ``--n`` stances per turn, durable writes, optionally Errbot's
``!vote`` too (``--errbot``, the venv of ../shared/peers). Every turn prints
p50/p99 with the load average; the summary prints the medians of the rounds
and, per round, the ratio of the working tree's p99 to the earlier commit's
(below 1: the working tree is faster) and to Errbot's.

Run: ``.venv/bin/python bench/ab.py [--rev HEAD~1] [--rounds 3] [--n 1000]
[--database sqlite|postgresql|both] [--background-load N] [--errbot]``.
Without arguments: one round of 300 stances on SQLite against HEAD~1 (about
half a minute, for ``make bench``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VOTERS = 400


# -- the worker: runs inside one tree ---------------------------------------------------
def worker(tree: str) -> None:  # pragma: no cover - a child process
    """Read ``KIND N`` lines on stdin, answer one JSON line of latencies each."""
    sys.path.insert(0, tree)
    os.chdir(tree)
    from sqlalchemy import func, select

    from adapters.console import ConsoleSession
    from bench.common import drop_postgres, scratch_postgres, seed_voters
    from bot.compose import build_app
    from bot.serve import settle_heap
    from bot.settings import Settings
    from storage.engine import make_engine
    from storage.models import Proposal

    tmp = Path(tempfile.mkdtemp(prefix="convene-ab-"))
    bots: dict[str, Any] = {}
    started: list[Any] = []
    pg_name = ""

    def bot_for(kind: str) -> Any:
        nonlocal pg_name
        if kind not in bots:
            if kind == "sqlite":
                url = f"sqlite:///{tmp / 'convene.db'}"
            else:
                url, pg_name = scratch_postgres()
            engine = make_engine(url)
            seed_voters(engine, VOTERS * 2)
            engine.dispose()
            bots[kind] = bot = build_app(Settings(
                database_url=url, secret_key="bench-secret-key-long-enough",
                mail={"outbox_dir": tmp / "outbox"}))  # type: ignore[arg-type]
            try:  # what this tree's `convene chat` starts beside the bot
                from storage.checkpoint import WalCheckpointer
            except ImportError:
                pass
            else:
                started.append(WalCheckpointer(bot.engine).start())
            settle_heap()
        return bots[kind]

    def loop(kind: str, n: int) -> list[float]:
        bot = bot_for(kind)
        sec = ConsoleSession(dispatch=bot.dispatch, email="secretariat@bench.example")
        out = sec.feed("poll new Bench proposal | Adopt the bench protocol. | 2031-01-15 17:00")
        assert "is open for stances" in out, out
        with bot.session_factory() as s:
            pid = int(s.scalar(select(func.max(Proposal.id))) or 0)
        sessions = [ConsoleSession(dispatch=bot.dispatch, email=f"v{i:04d}@bench.example")
                    for i in range(VOTERS)]
        lat: list[float] = []
        for i in range(100 + n):
            s = sessions[i % VOTERS]
            stance = ("agree", "abstain")[(i // VOTERS) % 2]
            t0 = time.perf_counter()
            got = s.feed(f"vote {pid} {stance}")
            dt = (time.perf_counter() - t0) * 1000
            s.transcript.clear()
            if not got.startswith(f"Your stance on proposal #{pid}"):
                raise RuntimeError(f"unexpected reply: {got[:200]}")
            if i >= 100:
                lat.append(dt)
        return lat

    try:
        for line in sys.stdin:
            kind, n = line.split()
            print(json.dumps(loop(kind, int(n))), flush=True)
    finally:
        for c in started:
            c.stop()
        for bot in bots.values():
            bot.leadership.stop()
            bot.engine.dispose()
        if pg_name:
            drop_postgres(pg_name)


# -- the driver -----------------------------------------------------------------------------
class Tree:
    """A worker process on ``path``, labelled ``label``."""

    def __init__(self, label: str, path: Path) -> None:
        self.label = label
        self.path = path
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "ab.py"), "--worker", str(path)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=path)

    def run(self, kind: str, n: int) -> list[float]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(f"{kind} {n}\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the {self.label} worker stopped (exit {self.proc.wait()})")
        return [float(x) for x in json.loads(line)]

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def checkout(rev: str) -> tuple[Path, str]:
    """A detached worktree of ``rev`` under /tmp, and its short hash."""
    sha = subprocess.run(["git", "rev-parse", "--short", rev], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout.strip()
    path = Path(tempfile.gettempdir()) / f"convene-ab-{sha}"
    if not (path / "bot").is_dir():
        shutil.rmtree(path, ignore_errors=True)
        subprocess.run(["git", "worktree", "add", "--detach", "--force", str(path), sha],
                       cwd=ROOT, check=True, capture_output=True)
    return path, sha


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--rev", default="HEAD~1", help="the earlier commit (default HEAD~1)")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--n", type=int, default=300, help="stances per turn")
    ap.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="sqlite")
    ap.add_argument("--background-load", type=int, default=0, metavar="N",
                    help="N busy processes beside the bench for the whole run")
    ap.add_argument("--errbot", action="store_true", help="Errbot's !vote in every round too")
    args = ap.parse_args()
    if args.worker:
        worker(args.worker)
        return
    sys.path.insert(0, str(ROOT))
    from bench.common import BackgroundLoad, loadavg, pct, say
    from bench.dispatch import errbot

    old_path, sha = checkout(args.rev)
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                           capture_output=True, text=True).stdout.strip()
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    say(f"working tree{' (uncommitted changes)' if dirty else ''} vs {args.rev} ({sha}): "
        f"{args.rounds} round(s) of {args.n} stances per turn, alternated; "
        f"{args.background_load} busy processes beside")
    trees = [Tree("before", old_path), Tree("after", ROOT)]
    got: dict[tuple[str, str], list[tuple[float, float]]] = {}
    erb: list[float] = []
    try:
        with BackgroundLoad(args.background_load):
            for r in range(1, args.rounds + 1):
                say(f"round {r}")
                for kind in kinds:
                    # the order flips each round: neither tree always goes first
                    for tree in trees if r % 2 else trees[::-1]:
                        lat = tree.run(kind, args.n)
                        got.setdefault((tree.label, kind), []).append(
                            (pct(lat, 0.5), pct(lat, 0.99)))
                        say(f"  {tree.label:<6} {kind:<10} p50 {pct(lat, 0.5):6.2f} ms  "
                            f"p99 {pct(lat, 0.99):6.2f} ms  max {max(lat):7.2f} ms  "
                            f"({loadavg()})")
                if args.errbot:
                    e = errbot(args.n)
                    if isinstance(e, str):
                        say(f"  Errbot not measured: {e}")
                    else:
                        erb.append(e[1])
                        say(f"  Errbot !vote      p50 {e[0]:6.2f} ms  p99 {e[1]:6.2f} ms  "
                            f"({loadavg()})")
    finally:
        for tree in trees:
            tree.close()
    say("\nsummary (medians of the rounds)")
    for kind in kinds:
        b, a = got[("before", kind)], got[("after", kind)]
        for label, v in (("before", b), ("after", a)):
            say(f"  {label:<6} {kind:<10} p50 {statistics.median(x for x, _ in v):6.2f} ms  "
                f"p99 {statistics.median(y for _, y in v):6.2f} ms")
        ratios = [y[1] / x[1] for x, y in zip(b, a, strict=True)]
        say(f"  {kind}: p99 after/before {statistics.median(ratios):.2f} "
            f"(rounds: {', '.join(f'{x:.2f}' for x in ratios)}); p50 after/before "
            f"{statistics.median(y[0] / x[0] for x, y in zip(b, a, strict=True)):.2f}")
        if erb:
            for label, v in (("before", b), ("after", a)):
                rs = [x[1] / e for x, e in zip(v, erb, strict=False)]
                say(f"  {kind} {label}: p99 / Errbot's p99 median {statistics.median(rs):.2f} "
                    f"(rounds: {', '.join(f'{x:.2f}' for x in rs)})")


if __name__ == "__main__":
    main()
