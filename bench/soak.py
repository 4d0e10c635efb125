"""Benchmark: does the server's memory stay flat under a long mixed load?

The rig of bench/load.py (a real ``convene serve`` with the durable Slack
inbox, the fake Slack API, the same mix of signed presses, vote-link GETs and
POSTs, calendar feeds and /healthz) at ``--in-flight`` requests for
``--minutes``. Prints, each period (a minute; 10 s with ``--quick``), the
server's RSS, the requests served and the acknowledgement -> confirmation lag
of the period's presses; then the growth in MB a minute (least squares over
one sample a second, the first period left out as warm-up). Goal: flat.

Run: ``.venv/bin/python bench/soak.py [--minutes 5] [--in-flight 50]
[--database sqlite|postgresql] [--quick]`` (``--quick``: 40 s, periods of 10 s).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import loadavg, pct, say  # noqa: E402
from bench.load import Rig, RssSampler, drive, lags, slope_mb_per_min  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("--in-flight", type=int, default=50)
    ap.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--quick", action="store_true", help="40 s in periods of 10 s")
    args = ap.parse_args()
    period = 10.0 if args.quick else 60.0
    total = 40.0 if args.quick else args.minutes * 60
    say(f"soak: convene serve ({args.database}, durable Slack inbox), {args.in_flight} in "
        f"flight for {total / 60:.1f} min, a line every {period:g} s")
    rig = Rig(args.database).start()
    assert rig.world is not None and rig.serve is not None and rig.serve.proc is not None
    sampler = RssSampler(rig.serve.proc.pid).start()
    try:
        start = time.monotonic()
        n = 0
        warm_end = start
        while time.monotonic() - start < total - 0.5:
            n += 1
            res = asyncio.run(drive(rig.world, args.in_flight, period, seed=n))
            got, missing = lags(rig, res.acked, 0.0)  # what arrived by now
            served = sum(sum(c.values()) for c in res.status.values())
            rss = sampler.rss()
            if n == 1:
                warm_end = time.monotonic()
            say(f"  {time.monotonic() - start:6.0f} s  RSS {rss:6.1f} MB  "
                f"{served / res.wall:6.1f} req/s  press lag p50 "
                f"{pct(got or [0.0], 0.5):5.2f} s  p99 {pct(got or [0.0], 0.99):5.2f} s "
                f"(not yet confirmed {missing})  ({loadavg()})")
        samples = sampler.samples
        after_warm = [s for s in samples if s[0] >= warm_end]
        say(f"server RSS {samples[0][1]:.0f} -> {samples[-1][1]:.0f} MB; growth after the "
            f"first period {slope_mb_per_min(after_warm):+.1f} MB/min (whole run "
            f"{slope_mb_per_min(samples):+.1f} MB/min, {len(samples)} samples; goal: flat)")
    finally:
        sampler.stop()
        rig.close()


if __name__ == "__main__":
    main()
