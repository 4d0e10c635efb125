"""``[slack] dispatch``: under ``convene serve`` on PostgreSQL the durable
inbox is worked off in a process of its own (bot/dispatch_process.py).

Shown on a real ``convene serve`` (a subprocess) and signed presses: the
presses are recorded by the child (the HTTP process starts no inbox worker);
kill -9 of the child mid-burst loses and doubles nothing (the parent starts
another, which takes back what the dead one held); kill -9 of the parent
takes the child with it. On SQLite ``auto`` keeps the workers in the HTTP
process."""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from adapters.slack.plugin import plugin as slack_plugin
from bot.app import Bot
from tests.adapters.slack import kill_harness as kh
from tests.adapters.slack.fake_slack import FakeSlack
from tests.smtp_helpers import free_port

N = 400
CONCURRENCY = 16

pytestmark = pytest.mark.slow


def _children(serve: kh.Serve) -> list[int]:
    """Dispatch children started so far, from the serve log (pid per start)."""
    log = (serve.folder / f"serve-{serve.port}.log").read_text(errors="replace")
    return [int(p) for p in re.findall(r"slack dispatch process started \(pid (\d+)", log)]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"  # a zombie is dead
    except FileNotFoundError:
        return False


def _until(cond: Callable[[], bool], timeout: float) -> bool:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            return False
        time.sleep(0.05)
    return True


def _send_all(port: int, bodies: list[tuple[str, str]], todo: set[int], acked: set[int],
              kill_after: int | None = None, kill: Callable[[], None] | None = None,
              server_dies: bool = False) -> None:
    """Send the presses in ``todo`` not yet acknowledged, resending refusals
    (503 + Retry-After, as Slack does) until all are acknowledged; with
    ``kill``, call it once ``kill_after`` of them were acknowledged (and stop
    there if ``server_dies``)."""
    killed: list[bool] = []
    mine: set[int] = set()

    def kill_once() -> None:
        assert kill is not None
        kill()
        killed.append(True)

    for _ in range(60):
        rest = [(i, bodies[i][1]) for i in sorted(todo - acked)]
        if not rest:
            assert kill is None or killed, "not killed midway"
            return
        armed = kill is not None and not killed
        got = kh.send(port, rest, concurrency=CONCURRENCY,
                      kill_after=(kill_after or 0) - len(mine) if armed else None,
                      kill=kill_once if armed else None).acked
        mine |= got
        acked |= got
        if killed and server_dies:
            return
        time.sleep(0.5 if todo - acked else 0)
    raise AssertionError(f"{len(todo - acked)} presses never acknowledged")


def test_auto_keeps_threads_on_sqlite_and_outside_serve(make_bot: Callable[..., Bot],
                                                        db_url: str) -> None:
    slack = {"enabled": True, "bot_token": "xoxb-t", "signing_secret": "s" * 32}
    bots = [make_bot(db_url, roster=None, slack=slack)]
    try:
        assert not slack_plugin.dispatch_process(bots[0])  # not convene serve
        bots[0].main_job = True
        assert slack_plugin.dispatch_process(bots[0]) == db_url.startswith("postgresql")
        for dispatch, mode, expected in (("threads", "http", False),
                                         ("process", "http", True),
                                         ("process", "socket", False)):
            bots.append(make_bot(db_url, roster=None,
                                 slack={**slack, "dispatch": dispatch, "mode": mode}))
            bots[-1].main_job = True
            assert slack_plugin.dispatch_process(bots[-1]) is expected, (dispatch, mode)
    finally:
        for bot in bots:
            slack_plugin.adapter(bot).close(wait=False)


def test_the_child_works_the_inbox_and_a_kill_9_of_either_loses_nothing(
        db_url: str, tmp_path: Path, bare_fake_slack: FakeSlack,
        make_bot: Callable[..., Bot]) -> None:
    pid = kh.prepare(db_url, tmp_path, N)
    bodies = kh.press_bodies(pid, N, bare_fake_slack.url)
    stance_of = {kh.voter_user(i): s for i, (s, _) in enumerate(bodies)}
    reader = make_bot(db_url, roster=None)
    port = free_port()
    serve = kh.Serve(db_url, tmp_path, bare_fake_slack.api_url, port).start()
    acked: set[int] = set()
    if not db_url.startswith("postgresql"):
        # SQLite: "auto" keeps the workers in the HTTP process.
        try:
            _send_all(port, bodies, set(range(N // 4)), acked)
            assert _until(lambda: len(kh.recorded_stances(reader, pid)) == N // 4, 15)
        finally:
            serve.stop()
        assert not _children(serve)
        return
    try:
        assert _until(lambda: len(_children(serve)) == 1, 10), serve.log()
        first = _children(serve)[0]
        # 1. The first quarter, worked by the child.
        _send_all(port, bodies, set(range(N // 4)), acked)
        assert _until(lambda: len(kh.recorded_stances(reader, pid)) == N // 4, 15)
        # 2. kill -9 of the child in the middle of the second quarter.
        _send_all(port, bodies, set(range(N // 4, N // 2)), acked, kill_after=N // 8,
                  kill=lambda: os.kill(first, signal.SIGKILL))
        assert _until(lambda: len(_children(serve)) == 2, 15), serve.log()
        second = _children(serve)[1]
        assert not _alive(first) and _alive(second)
        _send_all(port, bodies, set(range(N // 2, 3 * N // 4)), acked)
        users = {kh.voter_user(i) for i in acked}
        assert _until(lambda: users <= set(kh.recorded_stances(reader, pid)), 15), \
            len(users - set(kh.recorded_stances(reader, pid)))
        # 3. kill -9 of the parent: the child goes with it; a new serve (same
        # port and instance ids) takes back what both held.
        _send_all(port, bodies, set(range(3 * N // 4, N)), acked, kill_after=N // 8,
                  kill=serve.kill, server_dies=True)
        assert _until(lambda: not _alive(second), 5), "the child outlived its parent"
        serve = kh.Serve(db_url, tmp_path, bare_fake_slack.api_url, port).start()
        _send_all(port, bodies, set(range(N)), acked)
        assert acked == set(range(N))
        assert _until(lambda: set(stance_of) <= set(kh.recorded_stances(reader, pid)), 15)
        time.sleep(0.5)
        got = kh.recorded(reader, pid)
    finally:
        serve.stop()
    assert got.stances == stance_of
    doubled = {u: n for u, n in got.audits.items() if n != 1}
    assert not doubled, f"{len(doubled)} stances written more than once"
    assert got.events == N
    replies: dict[str, int] = {}
    for call in bare_fake_slack.of("hook"):
        replies[call.path] = replies.get(call.path, 0) + 1
    assert max(replies.values()) == 1, "a press was confirmed twice"
    assert "took back" in serve.log() or got.events == N


def broken_inbox(bot: Bot) -> object:
    """A dispatch process factory that fails (imported by the child)."""
    raise RuntimeError("no inbox here")


def test_a_child_that_cannot_start_stops_the_start_at_once(make_bot: Callable[..., Bot],
                                                            db_url: str) -> None:
    from bot.dispatch_process import DispatchProcess
    from bot.inbox import Inbox

    bot = make_bot(db_url, roster=None)
    inbox = Inbox(bot.session_factory, platform="slack", handler=lambda item: None, workers=1)
    child = DispatchProcess(bot, inbox, factory=f"{__name__}:broken_inbox")
    started = time.monotonic()
    try:
        with pytest.raises(RuntimeError, match="exited with 1 before it was ready"):
            child.start(wait=60)
        assert time.monotonic() - started < 30  # not the whole wait
        assert inbox.retry_after() == 1  # no child: the endpoint says "later"
    finally:
        child.close(wait=1)
        inbox.close()


def test_the_endpoint_refuses_when_the_child_stops_reading(make_bot: Callable[..., Bot],
                                                          db_url: str) -> None:
    """No child spawned: the parent's side alone, its ready flag and pipe queue
    set by hand."""
    from bot import dispatch_process as dp
    from bot.inbox import Inbox
    from bot.inbox_item import InboxItem

    bot = make_bot(db_url, roster=None)
    inbox = Inbox(bot.session_factory, platform="slack", handler=lambda item: None, workers=1)
    try:
        child = dp.DispatchProcess(bot, inbox, factory=f"{__name__}:broken_inbox")
        assert inbox.queue.instance == dp.child_instance(bot.instance_id, "slack")
        assert inbox.retry_after() == 1  # not ready
        child._ready.set()
        assert inbox.retry_after() is None
        child._retry.value = 2.3  # the child's backlog is past its limit
        assert inbox.retry_after() == 3
        child._retry.value = 0.0
        for i in range(dp.STUCK_BATCHES + 1):  # the sender never started: nothing read
            child.send([InboxItem(i, "k", {})])
        assert inbox.retry_after() == 1
    finally:
        inbox.close()
