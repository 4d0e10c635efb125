"""Issue 11, "Acknowledged, then lost": kill -9 of a real ``convene serve``
(a subprocess, the durable inbox on by default) during 1,000 signed button
presses (``poll.stance`` by 1,000 roster members, 32 in flight on keep-alive
connections). Each run is killed once 250 of its presses were acknowledged and
restarted: on SQLite first on the same port (the same instance id: it takes its
own rows back at start), then on a new port (a new instance id: the dead one's
rows are taken over once its heartbeat is ``[queue] stale_seconds`` old); on
PostgreSQL on a new port (a replica taking over). Presses that got no 200 are
sent again, as Slack's retry or the person would.

Shown: every acknowledged press is recorded with its stance, none twice (one
audit row and one processed event per person, at most one confirmation per
press), and what a killed process had acknowledged is recorded within 5 s of
the restarted one answering /healthz (not after a 30 s lease)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.app import Bot
from tests.adapters.slack import kill_harness as kh
from tests.adapters.slack.fake_slack import FakeSlack
from tests.smtp_helpers import free_port

N = 1000
CONCURRENCY = 32
#: Each run is killed once this many of its presses were acknowledged.
KILL_AFTER = 250
#: "all recorded within 5 s of the restart" (issue 11, Must show).
RECOVERY_SECONDS = 5.0
#: How each database's runs are restarted: on the same port or a new one.
PLANS = {"sqlite": ("same port", "new port"), "postgresql": ("new port",)}

pytestmark = pytest.mark.slow


def _wait_recorded(bot: Bot, pid: int, users: set[str], timeout: float) -> float:
    """Seconds until every user in ``users`` has a stance (or ``timeout`` passed)."""
    start = time.monotonic()
    while users - set(kh.recorded_stances(bot, pid)) and time.monotonic() - start < timeout:
        time.sleep(0.05)
    return time.monotonic() - start


def test_kill_9_during_1000_presses_loses_and_doubles_nothing(
        db_url: str, tmp_path: Path, bare_fake_slack: FakeSlack,
        make_bot: Callable[..., Bot]) -> None:
    plan = PLANS[db_url.split(":", 1)[0].split("+", 1)[0]]
    pid = kh.prepare(db_url, tmp_path, N)
    bodies = kh.press_bodies(pid, N, bare_fake_slack.url)
    stance_of = {kh.voter_user(i): s for i, (s, _) in enumerate(bodies)}
    reader = make_bot(db_url, roster=None)
    port = free_port()
    acked: set[int] = set()
    recovery: list[float] = []
    serves = [kh.Serve(db_url, tmp_path, bare_fake_slack.api_url, port).start()]
    try:
        for restart in plan:
            # Presses refused under backpressure (503 + Retry-After) are sent
            # again after a second, as Slack does, until the kill point.
            this: set[int] = set()
            killed: list[bool] = []

            def kill() -> None:
                serves[-1].kill()
                killed.append(True)

            for _ in range(30):
                rest = [(i, bodies[i][1]) for i in range(N) if i not in acked]
                sent = kh.send(port, rest, concurrency=CONCURRENCY,
                               kill_after=KILL_AFTER - len(this), kill=kill)
                this |= sent.acked
                acked |= sent.acked
                if killed:
                    break
                time.sleep(1.0)
            assert killed and len(this) >= KILL_AFTER and len(acked) < N, "not killed midway"
            if restart == "new port":
                port = free_port()
            serves.append(kh.Serve(db_url, tmp_path, bare_fake_slack.api_url, port).start())
            users = {kh.voter_user(i) for i in acked}
            recovery.append(_wait_recorded(reader, pid, users, 30))
        for _ in range(30):  # refused under backpressure (503 + Retry-After): sent again
            rest = [(i, bodies[i][1]) for i in range(N) if i not in acked]
            if not rest:
                break
            acked |= kh.send(port, rest, concurrency=CONCURRENCY).acked
            time.sleep(1.0 if len(acked) < N else 0)
        assert acked == set(range(N)), sorted(set(range(N)) - acked)[:20]
        _wait_recorded(reader, pid, set(stance_of), 30)
        time.sleep(0.5)  # confirmations still on their way
        got = kh.recorded(reader, pid)
    finally:
        for s in serves:
            s.stop()
    print(f"\nrecorded after the restart ({', '.join(plan)}): "
          f"{', '.join(f'{r:.2f} s' for r in recovery)}")
    lost = {u for u in stance_of if u not in got.stances}
    assert not lost, f"{len(lost)} acknowledged presses lost"
    assert got.stances == stance_of
    doubled = {u: n for u, n in got.audits.items() if n != 1}
    assert not doubled, f"{len(doubled)} stances written more than once"
    assert got.events == N
    replies: dict[str, int] = {}
    for call in bare_fake_slack.of("hook"):
        replies[call.path] = replies.get(call.path, 0) + 1
    assert max(replies.values()) == 1, "a press was confirmed twice"
    # A press acted on just before a kill but not yet confirmed gets no
    # confirmation (its redelivery is dropped as seen): at most a few per kill.
    assert len(replies) >= N - 2 * CONCURRENCY * len(plan)
    assert all(r <= RECOVERY_SECONDS for r in recovery), \
        f"acknowledged presses recorded only {recovery} s after the restart"
