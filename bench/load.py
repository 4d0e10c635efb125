"""Benchmark: sustained mixed load on a real ``convene serve``.

A ``convene serve`` subprocess (HTTP mode Slack, the product's defaults, the
durable inbox) on SQLite or PostgreSQL; a fake Slack Web API in another
process, which also receives the confirmations at each press's response_url
and notes when; this process is the client (raw asyncio HTTP/1.1 on keep-alive
connections, each taking its next request once its previous response is
read). The mix, drawn per request: signed Slack stance presses (40%), vote-link
GETs (20%) and POSTs (10%, a fresh signed link each time), personal calendar
feeds (20%) and /healthz (10%).

At 10, 50 and 200 in flight, ``--seconds`` each (default 60; ``--quick``: 5),
it prints requests/s, p50/p99 per kind with the statuses, the lag between a
press's acknowledgement and its confirmation arriving at the response_url
(goal: under 5 s; confirmations missing after 30 s are counted), and the
server's RSS growth per minute (least squares over one sample a second).
Then 1,000 in flight for a few seconds: how much is shed (503 with
Retry-After) rather than queued, and the p99 of what was served. Every figure
with the load average.

Run: ``.venv/bin/python bench/load.py [--seconds 60] [--quick]
[--database sqlite|postgresql] [--levels 10,50,200] [--burst 1000]
[--burst-seconds 10] [--set CONVENE_NAME=VALUE] [--honour-retry-after]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import drop_postgres, free_port, loadavg, pct, say, scratch_database  # noqa: E402
from tests.adapters.slack import kill_harness as kh  # noqa: E402
from tests.adapters.slack.conftest import form_headers  # noqa: E402
from tests.adapters.slack.fake_slack import TEAM, FakeSlack  # noqa: E402

KINDS = (("press", 40), ("vote_get", 20), ("vote_post", 10), ("feed", 20), ("healthz", 10))
LAG_GOAL_S = 5.0
VOTERS = 1000


# -- the fake Slack, with the time each confirmation arrived ---------------------------------
class TimedSlack(FakeSlack):
    """Keeps, for every response_url hook, the wall-clock time it arrived (and
    no call list for hooks: a long run would grow the fake, not the server)."""

    hook_times: dict[str, float]

    def _record(self, call: Any) -> None:
        if call.method == "hook":
            self.hook_times[call.path.rsplit("/", 1)[-1]] = time.time()
            return
        super()._record(call)


def run_fake(port: int, times_port: int) -> None:  # pragma: no cover - a child process
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    # http.server listens with a backlog of 5: on a busy machine the confirmations'
    # connections then wait for SYN retransmissions (1, 3, 7, 15, 31 s), which
    # Slack's servers never cost. The fake's lag is not Convene's.
    ThreadingHTTPServer.request_queue_size = 1024
    fake = TimedSlack()
    fake.hook_times = {}
    fake.start(port)

    class Times(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            with fake.lock:
                body = json.dumps(fake.hook_times).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    ThreadingHTTPServer(("127.0.0.1", times_port), Times).serve_forever()


# -- the world the requests act on ------------------------------------------------------------
@dataclass
class World:
    port: int
    hooks: str
    poll_id: int
    key: str
    people: list[int]
    feeds: list[str]
    seq: int = 0

    def request(self, kind: str, rng: random.Random) -> tuple[bytes, str]:
        """The bytes of one request of ``kind`` and its press name ('' if none)."""
        from bot.polls.tokens import mint
        from storage.base import utcnow

        host = f"Host: 127.0.0.1:{self.port}\r\n"
        if kind == "healthz":
            return f"GET /healthz HTTP/1.1\r\n{host}\r\n".encode(), ""
        if kind == "feed":
            return f"GET {rng.choice(self.feeds)} HTTP/1.1\r\n{host}\r\n".encode(), ""
        if kind in ("vote_get", "vote_post"):
            t = mint(key=self.key, person_id=rng.choice(self.people), poll_id=self.poll_id,
                     round_no=1, stance=rng.choice(["agree", "abstain"]),
                     expires_at=utcnow() + timedelta(days=1))
            path = f"/polls/{self.poll_id}/vote"
            if kind == "vote_get":
                return f"GET {path}?t={t} HTTP/1.1\r\n{host}\r\n".encode(), ""
            body = urlencode({"t": t, "confirm": "yes"}).encode()
            return (f"POST {path} HTTP/1.1\r\n{host}Origin: http://127.0.0.1:{self.port}\r\n"
                    f"Content-Type: application/x-www-form-urlencoded\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n").encode() + body, ""
        self.seq += 1
        name = f"p{self.seq}"
        voter = rng.randrange(VOTERS)
        stance = rng.choice(["agree", "abstain"])
        payload = {
            "type": "block_actions", "user": {"id": kh.voter_user(voter), "team_id": TEAM},
            "team": {"id": TEAM, "domain": "alliance"}, "api_app_id": "A1",
            "container": {"type": "message", "message_ts": "1.000001",
                          "channel_id": kh.CHANNEL},
            "channel": {"id": kh.CHANNEL, "name": "general"},
            "trigger_id": f"load.{name}.{rng.getrandbits(32)}",
            "response_url": f"{self.hooks}/hooks/{name}",
            "message": {"ts": "1.000001", "blocks": []},
            "actions": [{"action_id": "poll.stance", "block_id": "b1", "type": "button",
                         "value": f"{self.poll_id}:1:{stance}",
                         "action_ts": f"{time.time():.6f}",
                         "text": {"type": "plain_text", "text": stance}}]}
        body = "payload=" + quote(json.dumps(payload))
        head = f"POST /slack/events HTTP/1.1\r\n{host}" + "".join(
            f"{k}: {v}\r\n" for k, v in form_headers(body).items())
        return (head + f"Content-Length: {len(body)}\r\n\r\n").encode() + body.encode(), name


@dataclass
class Result:
    """What one level saw."""

    wall: float = 0.0
    latency: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    status: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    acked: dict[str, float] = field(default_factory=dict)  # press -> wall-clock ack time
    shed_with_retry_after: int = 0
    shed_without: int = 0


async def _response(reader: asyncio.StreamReader) -> tuple[int, float]:
    """(status, Retry-After in seconds: 0.0 when absent, 1.0 when not a number)."""
    head = await reader.readuntil(b"\r\n\r\n")
    length, retry = 0, 0.0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"retry-after":
            try:
                retry = max(float(value), 1.0)
            except ValueError:
                retry = 1.0
    await reader.readexactly(length)
    return int(head[9:12]), retry


async def drive(world: World, in_flight: int, seconds: float, seed: int, *,
                honour_retry_after: bool = False) -> Result:
    """``in_flight`` connections, each sending its next request on the previous
    response, for ``seconds``; with ``honour_retry_after``, a connection refused
    with a Retry-After waits that long first (as Slack and a polite client do;
    without it, an impatient or hostile client's refusal storm)."""
    res = Result()
    kinds = [k for k, _ in KINDS]
    weights = [w for _, w in KINDS]
    end = time.monotonic() + seconds

    async def connection(i: int) -> None:
        rng = random.Random(seed * 100_003 + i)
        reader = writer = None
        while time.monotonic() < end:
            kind = rng.choices(kinds, weights)[0]
            data, press = world.request(kind, rng)
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection("127.0.0.1", world.port)
                assert reader is not None
                t0 = time.perf_counter()
                writer.write(data)
                status, retry = await asyncio.wait_for(_response(reader), 120)
            except (OSError, asyncio.IncompleteReadError, ValueError, TimeoutError):
                res.status[kind][0] += 1
                if writer is not None:
                    writer.close()
                reader = writer = None
                await asyncio.sleep(0.05)
                continue
            res.latency[kind].append((time.perf_counter() - t0) * 1000)
            res.status[kind][status] += 1
            if status == 503:
                if retry:
                    res.shed_with_retry_after += 1
                    if honour_retry_after:
                        # a fresh connection after the wait: the server drops
                        # keep-alive connections idle for 5 s
                        writer.close()
                        reader = writer = None
                        await asyncio.sleep(max(0.0, min(retry, end - time.monotonic())))
                else:
                    res.shed_without += 1
            if press and status == 200:
                res.acked[press] = time.time()
        if writer is not None:
            writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(connection(i) for i in range(in_flight)))
    res.wall = time.perf_counter() - t0
    return res


# -- the server's memory ----------------------------------------------------------------------
def descendants(pid: int) -> list[int]:
    """The processes ``pid`` started, and theirs (Linux: /proc/<pid>/task/*/children)."""
    out: list[int] = []
    todo = [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*/children"):
            try:
                kids = [int(k) for k in task.read_text().split()]
            except OSError:
                continue
            out += kids
            todo += kids
    return out


class RssSampler:
    """The RSS (MB) of process ``pid`` and every process it started (under
    ``convene serve`` on PostgreSQL: the Slack dispatch process and
    multiprocessing's resource tracker), once a ``every`` seconds, in a thread."""

    def __init__(self, pid: int, every: float = 1.0) -> None:
        self.pid = pid
        self.every = every
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def rss(self) -> float:
        total = self._rss(self.pid)  # raises OSError once the server is gone
        for child in descendants(self.pid):
            try:
                total += self._rss(child)
            except OSError:
                continue  # exited meanwhile
        return total

    @staticmethod
    def _rss(pid: int) -> float:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return 0.0

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.samples.append((time.monotonic(), self.rss()))
            except OSError:
                return
            self._stop.wait(self.every)

    def start(self) -> RssSampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def between(self, t0: float, t1: float) -> list[tuple[float, float]]:
        return [(t, r) for t, r in self.samples if t0 <= t <= t1]


def slope_mb_per_min(samples: list[tuple[float, float]]) -> float:
    """Least-squares growth of (seconds, MB) samples, in MB a minute."""
    if len(samples) < 3:
        return 0.0
    ts = [t for t, _ in samples]
    rs = [r for _, r in samples]
    mt, mr = statistics.fmean(ts), statistics.fmean(rs)
    var = sum((t - mt) ** 2 for t in ts)
    return 60 * sum((t - mt) * (r - mr) for t, r in samples) / var if var else 0.0


# -- set-up ----------------------------------------------------------------------------------
@dataclass
class Rig:
    """The fake Slack process, the server and the world; :meth:`close` stops them."""

    database: str
    env: dict[str, str] = field(default_factory=dict)
    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="convene-load-")))
    scratch: str = ""
    fake: Any = None
    serve: Any = None
    world: World | None = None
    times_url: str = ""

    def start(self) -> Rig:
        from sqlalchemy import select

        from bot.compose import build_app
        from bot.settings import Settings
        from bot.workshops.feeds import feed_url
        from storage.migrate import upgrade
        from storage.models import EmailAddress

        url, self.scratch = scratch_database(self.database, prefix="convene-load-")
        upgrade(url)
        fake_port, times_port = free_port(), free_port()
        self.fake = mp.get_context("spawn").Process(target=run_fake,
                                                    args=(fake_port, times_port), daemon=True)
        self.fake.start()
        self.times_url = f"http://127.0.0.1:{times_port}/"
        pid = kh.prepare(url, self.folder, VOTERS)
        port = free_port()
        settings = Settings(database_url=url, secret_key=kh.KEY,
                            mail={"outbox_dir": self.folder / "out"},  # type: ignore[arg-type]
                            http={"port": port})  # type: ignore[arg-type]
        bot = build_app(settings, plugins=False)
        try:
            with bot.session_factory() as s, s.begin():
                people = [int(p) for p in s.scalars(select(EmailAddress.person_id).where(
                    EmailAddress.address.like("voter%@kill.example")))]
                feeds = ["/workshops/feed/" + feed_url(s, settings, p).rsplit("/", 1)[-1]
                         for p in people[:200]]
        finally:
            bot.leadership.stop()
            bot.engine.dispose()
        self.serve = kh.Serve(url, self.folder, f"http://127.0.0.1:{fake_port}/api/", port,
                              extra={"CONVENE_LOG_LEVEL": "WARNING", **self.env}).start(timeout=240)
        self.world = World(port, f"http://127.0.0.1:{fake_port}", pid, kh.KEY, people, feeds)
        return self

    def hook_times(self) -> dict[str, float]:
        return {str(k): float(v) for k, v in httpx.get(self.times_url, timeout=30).json().items()}

    def close(self) -> None:
        if self.serve is not None:
            self.serve.stop()
        if self.fake is not None:
            self.fake.terminate()
            self.fake.join(10)
        drop_postgres(self.scratch)


def lags(rig: Rig, acked: dict[str, float], wait: float) -> tuple[list[float], int]:
    """Seconds from each acknowledged press to its confirmation (waiting up to
    ``wait`` seconds for the last ones), and how many never came."""
    deadline = time.monotonic() + wait
    while True:
        seen = rig.hook_times()
        missing = [p for p in acked if p not in seen]
        if not missing or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    return [max(0.0, seen[p] - t) for p, t in acked.items() if p in seen], len(missing)


def report(level: str, res: Result, rss: list[tuple[float, float]],
           lag: tuple[list[float], int] | None) -> None:
    total = sum(sum(c.values()) for c in res.status.values())
    say(f"{level}: {total / res.wall:7.1f} requests/s over {res.wall:.1f} s  ({loadavg()})")
    for kind, _ in KINDS:
        lat = res.latency.get(kind) or [0.0]
        codes = ", ".join(f"{k or 'failed'} x{v}" for k, v in sorted(res.status[kind].items()))
        say(f"  {kind:<10} p50 {pct(lat, 0.5):8.1f} ms  p99 {pct(lat, 0.99):8.1f} ms  "
            f"({codes})")
    if res.shed_with_retry_after or res.shed_without:
        say(f"  shed: 503 with Retry-After {res.shed_with_retry_after}, without "
            f"{res.shed_without}")
    if lag is not None:
        got, missing = lag
        if got:
            say(f"  ack -> confirmation lag: p50 {pct(got, 0.5):6.2f} s  p99 "
                f"{pct(got, 0.99):6.2f} s  max {max(got):6.2f} s over {len(got)} presses; "
                f"missing {missing} (goal < {LAG_GOAL_S:g} s: "
                f"{'MET' if max(got) < LAG_GOAL_S and not missing else 'NOT MET'})")
        else:
            say(f"  ack -> confirmation lag: no press acknowledged (missing {missing})")
    if rss:
        say(f"  server RSS (with its children) {rss[0][1]:.0f} -> {rss[-1][1]:.0f} MB, growth "
            f"{slope_mb_per_min(rss):+.1f} MB/min")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0, help="per level")
    ap.add_argument("--quick", action="store_true", help="5 s per level, a 3 s burst")
    ap.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--levels", default="10,50,200", help="requests in flight, in turn")
    ap.add_argument("--honour-retry-after", action="store_true",
                    help="a connection refused with Retry-After waits that long before its "
                         "next request (Slack does); default: it sends at once")
    ap.add_argument("--burst", type=int, default=1000, help="in flight at the end (0: none)")
    ap.add_argument("--burst-seconds", type=float, default=None,
                    help="how long the burst lasts (default 10; --quick: 3)")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                    help="a setting of the server, as its environment variable "
                         "(CONVENE_HTTP__MAX_IN_FLIGHT=8); repeatable")
    args = ap.parse_args()
    env = dict(kv.split("=", 1) for kv in args.set)
    seconds = 5.0 if args.quick else args.seconds
    say(f"sustained mixed load on convene serve ({args.database}, durable Slack inbox): "
        f"{', '.join(f'{k} {w}%' for k, w in KINDS)}; {seconds:g} s per level; "
        f"client, server and fake Slack on {os.cpu_count()} cores"
        + "".join(f"; {kv}" for kv in args.set)
        + ("; clients honour Retry-After" if args.honour_retry_after else ""))
    rig = Rig(args.database, env).start()
    assert rig.world is not None and rig.serve is not None and rig.serve.proc is not None
    sampler = RssSampler(rig.serve.proc.pid).start()
    try:
        asyncio.run(drive(rig.world, 4, 1.0, seed=0))  # warm-up
        for n, level in enumerate(int(x) for x in args.levels.split(",")):
            t0 = time.monotonic()
            res = asyncio.run(drive(rig.world, level, seconds, seed=n + 1,
                                    honour_retry_after=args.honour_retry_after))
            t1 = time.monotonic()
            report(f"{level} in flight", res, sampler.between(t0, t1),
                   lags(rig, res.acked, 30.0))
        if args.burst:
            burst_s = args.burst_seconds or (3.0 if args.quick else 10.0)
            t0 = time.monotonic()
            res = asyncio.run(drive(rig.world, args.burst, burst_s, seed=99))
            report(f"{args.burst} in flight ({burst_s:g} s)", res,
                   sampler.between(t0, time.monotonic()), lags(rig, res.acked, 60.0))
            served = [x for k in res.latency.values() for x in k]
            shed = res.shed_with_retry_after + res.shed_without
            total = sum(sum(c.values()) for c in res.status.values())
            say(f"  at {args.burst} in flight: {shed} of {total} shed "
                f"({res.shed_with_retry_after} with Retry-After), p99 of all answers "
                f"{pct(served or [0.0], 0.99) / 1000:.1f} s (goal: shed, not 30 s queues)")
        samples = sampler.samples
        say(f"server RSS (with its children) over the run: {samples[0][1]:.0f} -> "
            f"{samples[-1][1]:.0f} MB "
            f"({slope_mb_per_min(samples):+.1f} MB/min over {len(samples)} samples)")
    finally:
        sampler.stop()
        rig.close()


if __name__ == "__main__":
    main()
