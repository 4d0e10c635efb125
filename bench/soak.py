"""Benchmark: does the server's memory stay flat under a long mixed load?

The rig of bench/load.py (a real ``convene serve`` with the durable Slack
inbox, the fake Slack API, the same mix of signed presses, vote-link GETs and
POSTs, calendar feeds and /healthz) at ``--in-flight`` requests for
``--minutes``. Prints, each period (a minute; 10 s with ``--quick``), the
server's RSS, the requests served and the acknowledgement -> confirmation lag
of the period's presses; then the growth in MB a minute (least squares over
one sample a second, the first period left out as warm-up). Goal: flat.

``--rev main`` runs a second server from that commit's tree (a git worktree
under /tmp, as bench/ab.py) beside the working tree's, each on its own
database and fake Slack, both driven at the same time with ``--in-flight``
each: the same minutes and the same machine load for before and after.
``--database both`` does SQLite, then PostgreSQL. ``--trace FOLDER`` dumps
each server's heap figures (and, with ``--trace-frames`` above 0, tracemalloc
snapshots) at the end of each period and prints what grew (bench/memtrace.py).

Run: ``.venv/bin/python bench/soak.py [--minutes 5] [--in-flight 50]
[--database sqlite|postgresql|both] [--rev main] [--quick]
[--trace FOLDER [--trace-frames N]]`` (``--quick``: 40 s, periods of 10 s).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import loadavg, pct, say  # noqa: E402
from bench.load import Result, Rig, RssSampler, drive, lags, slope_mb_per_min  # noqa: E402
from bench.memtrace import report, server_env  # noqa: E402


@dataclass
class Side:
    """One server under the soak: ``label`` (before/after), its tree, its rig."""

    label: str
    tree: Path
    trace: Path | None
    rig: Rig | None = None
    sampler: RssSampler | None = None
    lines: list[str] = field(default_factory=list)

    def start(self, database: str, frames: int) -> Side:
        env = {"PYTHONPATH": str(self.tree)}
        if self.trace is not None:
            env = server_env(self.trace, frames=frames, tree=self.tree)
        self.rig = Rig(database, env).start()
        assert self.rig.serve is not None and self.rig.serve.proc is not None
        self.sampler = RssSampler(self.rig.serve.proc.pid).start()
        return self

    @property
    def pid(self) -> int:
        assert self.rig is not None and self.rig.serve is not None
        return int(self.rig.serve.proc.pid)

    def close(self) -> None:
        if self.sampler is not None:
            self.sampler.stop()
        if self.rig is not None:
            self.rig.close()


def dump(pid: int, folder: Path, n: int) -> None:
    """Ask the traced server for dump ``n`` and wait for it."""
    os.kill(pid, signal.SIGUSR1)
    deadline = time.monotonic() + 120
    while not (folder / f"done-{n}").exists() and time.monotonic() < deadline:
        time.sleep(0.2)


async def drive_all(sides: list[Side], in_flight: int, seconds: float, seed: int
                    ) -> list[Result]:
    return list(await asyncio.gather(*(
        drive(s.rig.world, in_flight, seconds, seed=seed)  # type: ignore[union-attr,arg-type]
        for s in sides)))


def soak(database: str, sides: list[Side], *, in_flight: int, period: float, total: float,
         frames: int) -> dict[str, float]:
    """One soak of ``sides`` on ``database``; returns label -> MB/min after warm-up."""
    names = " and ".join(f"{s.label} ({s.tree.name})" for s in sides)
    say(f"soak: convene serve ({database}, durable Slack inbox), {names}, {in_flight} in "
        f"flight each for {total / 60:.1f} min, a line every {period:g} s")
    try:
        for s in sides:
            s.start(database, frames)
        start = time.monotonic()
        n = 0
        warm_end = start
        while time.monotonic() - start < total - 0.5:
            n += 1
            results = asyncio.run(drive_all(sides, in_flight, period, n))
            if n == 1:
                warm_end = time.monotonic()
            for s, res in zip(sides, results, strict=True):
                assert s.rig is not None and s.sampler is not None
                got, missing = lags(s.rig, res.acked, 0.0)  # what arrived by now
                served = sum(sum(c.values()) for c in res.status.values())
                rss = s.sampler.rss()
                if s.trace is not None:
                    dump(s.pid, s.trace, n)
                say(f"  {time.monotonic() - start:6.0f} s  {s.label:<6} RSS {rss:6.1f} MB  "
                    f"{served / res.wall:6.1f} req/s  press lag p50 "
                    f"{pct(got or [0.0], 0.5):5.2f} s  p99 {pct(got or [0.0], 0.99):5.2f} s "
                    f"(not yet confirmed {missing})  ({loadavg()})")
        out = {}
        for s in sides:
            assert s.sampler is not None
            samples = s.sampler.samples
            after_warm = [x for x in samples if x[0] >= warm_end]
            out[s.label] = slope_mb_per_min(after_warm)
            say(f"{database} {s.label}: server RSS (with its children) {samples[0][1]:.0f} -> "
                f"{samples[-1][1]:.0f}"
                f" MB; growth after the first period {out[s.label]:+.1f} MB/min (whole run "
                f"{slope_mb_per_min(samples):+.1f} MB/min, {len(samples)} samples; goal: "
                f"flat)")
            if s.trace is not None and n > 1:
                first = 2 if n > 2 and frames else 1  # tracing starts at the end of period 1
                say(f"  what grew in the {s.label} server between the end of period {first} "
                    f"and of period {n}:")
                for line in report(s.trace, first, n):
                    say(line)
        return out
    finally:
        for s in sides:
            s.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("--in-flight", type=int, default=50)
    ap.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="sqlite")
    ap.add_argument("--rev", default=None,
                    help="also soak this commit's server at the same time (before/after)")
    ap.add_argument("--quick", action="store_true", help="40 s in periods of 10 s")
    ap.add_argument("--trace", type=Path, default=None, metavar="FOLDER",
                    help="dump each server's heap figures into FOLDER and print what grew "
                         "after the first period (bench/memtrace.py)")
    ap.add_argument("--trace-frames", type=int, default=0, metavar="N",
                    help="also tracemalloc with N frames a trace (slows the server ~10x)")
    args = ap.parse_args()
    period = 10.0 if args.quick else 60.0
    total = 40.0 if args.quick else args.minutes * 60
    trees = [("after", ROOT)]
    if args.rev:
        from bench.ab import checkout

        old, sha = checkout(args.rev)
        say(f"before: {args.rev} ({sha}) in {old}")
        trees.insert(0, ("before", old))
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    got: dict[str, dict[str, float]] = {}
    for kind in kinds:
        sides = [Side(label, tree, args.trace / f"{kind}-{label}" if args.trace else None)
                 for label, tree in trees]
        got[kind] = soak(kind, sides, in_flight=args.in_flight, period=period, total=total,
                         frames=args.trace_frames)
    say("\nsummary: RSS growth after the first period, MB/min (goal: flat)")
    for kind, by in got.items():
        say(f"  {kind:<10} " + "  ".join(f"{k} {v:+.2f}" for k, v in by.items()))


if __name__ == "__main__":
    main()
