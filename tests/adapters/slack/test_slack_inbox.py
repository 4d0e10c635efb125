"""The durable inbox: a signed request is in ``inbox`` (platform ``slack``) before Slack gets
its 200; a crash after the acknowledgement loses nothing (a new runtime on the
same database finishes the work at start); a redelivery acts once."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from adapters.slack.app import SlackAdapter
from adapters.slack.plugin import SERVICE
from adapters.slack.plugin import plugin as slack_plugin
from bot.app import Bot
from storage.base import utcnow
from storage.models import InboxItem, ProcessedEvent, Stance
from tests.adapters.slack.conftest import (
    SECRET,
    Served,
    action_body,
    form_headers,
    slash_body,
)
from tests.adapters.slack.fake_slack import FakeSlack


def _rows(bot: Bot) -> list[InboxItem]:
    with bot.session_factory() as s:
        rows = list(s.scalars(select(InboxItem).order_by(InboxItem.id)))
        s.expunge_all()
        return rows


def _count(bot: Bot, model: Any, *where: Any) -> int:
    with bot.session_factory() as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _until(cond: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _expire(bot: Bot, row_id: int) -> None:
    """Row ``row_id`` as a worker that died holding it leaves it, lease run out."""
    with bot.session_factory() as s, s.begin():
        s.execute(update(InboxItem).where(InboxItem.id == row_id)
                  .values(status="working", claimed_by="dead-worker",
                          lease_until=utcnow() - timedelta(seconds=1)))


def _paused(bot: Bot) -> tuple[SlackAdapter, Served]:
    """The HTTP app with the adapter's inbox workers not started (the adapter
    that build_app started is stopped first: its sweep would take the rows)."""
    slack_plugin.adapter(bot).close(wait=False)
    adapter = SlackAdapter(bot, start_workers=False)
    bot.adapters[SERVICE] = adapter
    return adapter, Served(bot)


def _poll_and_agree(bot: Bot, adapter: SlackAdapter, srv: Served,
                    fake: FakeSlack) -> tuple[str, int]:
    """Create a poll (its inbox row worked by hand) and press "agree" (left in
    the inbox). Returns the press body and its row id."""
    closes = (utcnow() + timedelta(days=7)).strftime("%Y-%m-%d 17:00")
    body = slash_body(f"poll new Budget 2027 | Adopt the budget | {closes}",
                      response_url=fake.hook_url("create"))
    assert srv.post(body, form_headers(body)).status_code == 200
    [row] = _rows(bot)
    assert (row.kind, row.status) == ("command", "working")
    assert row.claimed_by == adapter.inbox.token
    assert fake.of("hook") == []  # acknowledged, not yet dispatched
    assert adapter.inbox.work_queued() == 1
    _until(lambda: _rows(bot)[0].status == "done")
    bot.new_worker().drain()  # the poll message, posted through the outbox
    [post] = fake.wait_for("chat.postMessage")
    agree = next(e for b in post.args["blocks"] if b["type"] == "actions"
                 for e in b["elements"] if str(e.get("value", "")).endswith(":agree"))
    ts = next(ts for (_, ts) in fake.messages)
    press = action_body(agree["action_id"], agree["value"], message_ts=ts,
                        response_url=fake.hook_url("agree"))
    assert srv.post(press, form_headers(press)).status_code == 200
    rows = _rows(bot)
    assert [r.status for r in rows] == ["done", "working"]
    assert rows[1].kind == "actions" and rows[1].payload["body"]["actions"]
    return press, rows[1].id


@pytest.fixture
def slack_bot(make_bot: Callable[..., Bot], db_url: str, fake_slack: FakeSlack) -> Bot:
    """The Slack bot of conftest.py, with ``[slack] durable_inbox = true``."""
    return make_bot(db_url, slack={"enabled": True, "bot_token": "xoxb-test-token",
                                   "signing_secret": SECRET, "api_url": fake_slack.api_url,
                                   "durable_inbox": True})


def test_button_press_is_in_the_inbox_before_any_dispatch(
        slack_bot: Bot, fake_slack: FakeSlack) -> None:
    adapter, srv = _paused(slack_bot)
    try:
        _, row_id = _poll_and_agree(slack_bot, adapter, srv, fake_slack)
        assert _count(slack_bot, Stance) == 0
        assert len(fake_slack.of("hook")) == 1  # only the poll's creation answered
        assert adapter.inbox.work_queued() == 1
        assert _count(slack_bot, Stance) == 1
        _until(lambda: _rows(slack_bot)[1].status == "done")
        assert not adapter.inbox.work(row_id)  # done: nothing left to claim
    finally:
        srv.stop()
        adapter.close(wait=False)


def test_crash_after_ack_is_finished_by_the_next_start_once(
        slack_bot: Bot, make_bot: Callable[..., Bot], db_url: str,
        fake_slack: FakeSlack) -> None:
    adapter, srv = _paused(slack_bot)
    press, row_id = _poll_and_agree(slack_bot, adapter, srv, fake_slack)
    # The crash: the acknowledged press was never dispatched.
    srv.stop()
    adapter.close(wait=False)
    assert _count(slack_bot, Stance) == 0
    _expire(slack_bot, row_id)  # the dead process's lease runs out

    restarted = make_bot(db_url, roster=None,
                         slack={"enabled": True, "bot_token": "xoxb-test-token",
                                "durable_inbox": True,
                                "signing_secret": SECRET, "api_url": fake_slack.api_url})
    stop = slack_plugin.start(restarted)
    assert stop is not None
    srv2 = Served(restarted)
    try:
        _until(lambda: [r.status for r in _rows(restarted)] == ["done", "done"])
        assert _count(restarted, Stance) == 1
        [hook] = [h for h in fake_slack.wait_for("hook", 2) if h.path == "/hooks/agree"]
        assert "#1" in hook.args["text"]

        # Slack's retry of the same press: no second row, no second act.
        assert srv2.post(press, form_headers(press)).status_code == 200
        # A redelivery after a crash mid-dispatch (the lease ran out): acts once.
        _expire(restarted, row_id)
        assert slack_plugin.adapter(restarted).inbox.sweep() == 1
        _until(lambda: _rows(restarted)[1].status == "done")
        time.sleep(0.3)
        assert len(_rows(restarted)) == 2
        assert _count(restarted, Stance) == 1
        event_id = str(_rows(restarted)[1].key).removeprefix("slack:")
        assert _count(restarted, ProcessedEvent, ProcessedEvent.event_id == event_id) == 1
        assert len([h for h in fake_slack.of("hook") if h.path == "/hooks/agree"]) == 1
    finally:
        srv2.stop()
        stop()


def test_a_pending_row_is_not_worked_twice(slack_bot: Bot, fake_slack: FakeSlack) -> None:
    adapter, srv = _paused(slack_bot)
    try:
        _, row_id = _poll_and_agree(slack_bot, adapter, srv, fake_slack)
        assert adapter.inbox.claim(row_id) is None  # leased to its writer's workers
        assert adapter.inbox.sweep() == 0
        _expire(slack_bot, row_id)
        first = adapter.inbox.claim(row_id)
        assert first is not None and first.kind == "actions"
        assert adapter.inbox.claim(row_id) is None  # leased again: one claim wins
    finally:
        srv.stop()
        adapter.close(wait=False)


def test_a_backlog_past_its_limit_is_refused_with_retry_after(
        slack_bot: Bot, fake_slack: FakeSlack) -> None:
    """Backpressure (issue 24): past the backlog's limit the endpoint answers 503
    with Retry-After and records nothing; once the workers catch up it acks again."""
    from bot.backlog import Backlog

    adapter, srv = _paused(slack_bot)
    try:
        adapter.inbox.backlog = Backlog(max_seconds=3.0, floor=2)
        bodies = [slash_body("help", response_url=fake_slack.hook_url(f"h{i}")) for i in range(4)]
        codes = [srv.post(b, form_headers(b)) for b in bodies]
        assert [r.status_code for r in codes] == [200, 200, 200, 503]
        assert int(codes[3].headers["retry-after"]) >= 1
        assert len(_rows(slack_bot)) == 3  # the refused one was not recorded
        assert adapter.inbox.work_queued() == 3
        assert srv.post(bodies[3], form_headers(bodies[3])).status_code == 200  # Slack's retry
        assert len(_rows(slack_bot)) == 4
    finally:
        srv.stop()
        adapter.close(wait=False)

def test_a_refusal_comes_before_the_body_is_read(
        slack_bot: Bot, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the backlog's limit the refusal (503 + Retry-After) is decided
    before the body is read, verified or parsed: even a request whose signature
    is wrong gets it (it learns only that Convene is busy), nothing reads its
    body and nothing is written."""
    from bot.backlog import Backlog

    adapter, srv = _paused(slack_bot)
    try:
        adapter.inbox.backlog = Backlog(max_seconds=3.0, floor=1)
        for i in range(2):  # past the floor of one
            first = slash_body("help", response_url=fake_slack.hook_url(f"h0{i}"))
            assert srv.post(first, form_headers(first)).status_code == 200
        reads: list[object] = []
        read = adapter.edges.read_parsed

        async def counted(request: Any) -> Any:
            reads.append(request)
            return await read(request)

        monkeypatch.setattr(adapter.edges, "read_parsed", counted)
        body = slash_body("help", response_url=fake_slack.hook_url("h1"))
        for headers in (form_headers(body), form_headers(body, secret="not-the-secret")):
            refused = srv.post(body, headers)
            assert refused.status_code == 503 and int(refused.headers["retry-after"]) >= 1
        assert reads == [] and len(_rows(slack_bot)) == 2
        assert adapter.inbox.work_queued() == 2
        assert srv.post(body, form_headers(body, secret="not-the-secret")).status_code == 401
        assert srv.post(body, form_headers(body)).status_code == 200  # Slack's retry
        assert len(reads) == 2 and len(_rows(slack_bot)) == 3
    finally:
        srv.stop()
        adapter.close(wait=False)


def test_an_ack_past_its_deadline_is_a_503_with_retry_after(
        slack_bot: Bot, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch) -> None:
    """A commit slower than the acknowledgement's deadline is refused as busy
    (Retry-After, which Slack honours), like the backlog's refusal; the row
    still lands, and Slack's retry adds nothing."""
    from adapters.slack import events as module

    adapter, srv = _paused(slack_bot)
    try:
        monkeypatch.setattr(module, "ACK_DEADLINE_SECONDS", 0.05)
        write = adapter.inbox._write

        def slow(*args: Any) -> Any:
            time.sleep(0.3)
            return write(*args)

        monkeypatch.setattr(adapter.inbox, "_write", slow)
        body = slash_body("help", response_url=fake_slack.hook_url("late"))
        refused = srv.post(body, form_headers(body))
        assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
        _until(lambda: len(_rows(slack_bot)) == 1)
        monkeypatch.setattr(module, "ACK_DEADLINE_SECONDS", 2.5)
        assert srv.post(body, form_headers(body)).status_code == 200
        assert len(_rows(slack_bot)) == 1
    finally:
        srv.stop()
        adapter.close(wait=False)


def test_the_backlog_limit_follows_the_workers_pace(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot import backlog as module

    now = [100.0]
    monkeypatch.setattr(module.time, "monotonic", lambda: now[0])
    b = module.Backlog(max_seconds=3.0, floor=1)
    assert b.retry_after(1) is None and b.retry_after(2) == 3  # pace unknown: the floor
    for _ in range(11):  # two requests a second
        b.completed()
        now[0] += 0.5
    assert b.retry_after(6) is None  # three seconds of work
    assert b.retry_after(10) == 2  # four over: two seconds at this pace


def test_a_known_pace_sets_the_limit_whatever_the_floor(monkeypatch: pytest.MonkeyPatch) -> None:
    """Under sustained load (the queue busy for max_seconds) the floor (the
    first burst taken whole) no longer lets requests wait past ``max_seconds``
    at the pace measured since the queue was last empty; a new spell is
    measured against the last spell's pace."""
    from bot import backlog as module

    now = [100.0]
    monkeypatch.setattr(module.time, "monotonic", lambda: now[0])
    b = module.Backlog(max_seconds=3.0, floor=1000)
    assert b.retry_after(900, 0.0, busy=0.0) is None  # nothing known: the floor
    for _ in range(40):  # ten a second
        b.completed()
        now[0] += 0.1
    assert b.retry_after(900, 0.5, busy=2.0) is None  # a burst's first seconds: the floor
    assert b.retry_after(30, 0.5, busy=4.0) is None
    assert b.retry_after(300, 0.5, busy=4.0) == 27  # sustained: ten a second for 3 s
    now[0] += 60  # a quiet minute, then a new burst: the last spell's pace stands in
    assert b.retry_after(30, 0.5, busy=0.5) is None
    assert b.retry_after(900, 0.5, busy=0.5) == 87
    assert b.retry_after(30, 3.0, busy=5.0) == 1  # and the oldest waited max_seconds
    fresh = module.Backlog(max_seconds=3.0, floor=1000)  # the first burst after a start
    assert fresh.retry_after(900, 0.5, busy=2.0) is None


def test_a_falling_pace_lowers_the_limit_within_max_seconds(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Under sustained load the limit follows the pace of the last max_seconds
    when it falls: 200 completions at 40 a second, then 3 s at 4 a second,
    leave a limit of 12 (4 a second for 3 s), not the 60-odd of the whole spell."""
    from bot import backlog as module

    now = [100.0]
    monkeypatch.setattr(module.time, "monotonic", lambda: now[0])
    b = module.Backlog(max_seconds=3.0, floor=1000)
    for _ in range(200):
        b.completed()
        now[0] += 0.025
    for _ in range(13):
        b.completed()
        now[0] += 0.25
    now[0] -= 0.25
    assert b.retry_after(12, 0.5, busy=20.0) is None
    assert b.retry_after(20, 0.5, busy=20.0) == 2  # eight over at 4 a second


def test_the_queue_knows_how_long_it_has_been_busy(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot import backlog as module

    now = [100.0]
    monkeypatch.setattr(module.time, "monotonic", lambda: now[0])
    ready: module.AgedQueue[int] = module.AgedQueue()
    assert ready.busy() == 0.0
    ready.put(1)
    now[0] += 2.0
    ready.put(2)
    assert ready.get() == 1
    now[0] += 2.0
    assert ready.oldest() == 4.0 and ready.pending() == 2  # 1 is taken, not worked off
    ready.task_done()
    assert ready.busy() == 4.0 and ready.oldest() == 2.0  # never empty since 100
    assert ready.get_nowait() == 2 and ready.busy() == 0.0
    ready.put(3)
    now[0] += 1.0
    assert ready.busy() == 1.0


def test_the_backlog_says_no_once_the_oldest_waited_too_long(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Measured on the age of the oldest waiting request, not only the count:
    a few requests within the count limit are refused once the oldest has
    waited ``max_seconds`` (the workers slowed down)."""
    from bot import backlog as module

    now = [100.0]
    monkeypatch.setattr(module.time, "monotonic", lambda: now[0])
    b = module.Backlog(max_seconds=3.0, floor=1000)
    ready: module.AgedQueue[int] = module.AgedQueue()
    assert ready.oldest() == 0.0
    for i in range(3):
        ready.put(i)
        now[0] += 1.0
    assert ready.qsize() == 3 and ready.oldest() == 3.0
    assert b.retry_after(ready.qsize(), 2.9) is None
    assert b.retry_after(ready.qsize(), ready.oldest()) == 3  # pace unknown: max_seconds
    for _ in range(5):  # one a second
        b.completed()
        now[0] += 1.0
    assert ready.get() == 0 and ready.oldest() == 8.0  # taken, not yet worked off
    ready.task_done()
    assert ready.oldest() == 7.0
    assert b.retry_after(ready.qsize(), ready.oldest()) == 3  # pace not known yet: max_seconds
    for _ in range(5):  # one a second, ten recent completions: the pace is known
        b.completed()
        now[0] += 1.0
    assert b.retry_after(ready.qsize(), 1.0) is None  # two waiting, three a limit
    assert b.retry_after(ready.qsize(), ready.oldest()) == 1  # the oldest waited 12 s
    assert ready.get_nowait() == 1 and ready.get_nowait() == 2
    assert ready.pending() == 1  # 2 is held by this thread (taking 2 finished 1)
    ready.task_done()
    assert ready.oldest() == 0.0 and b.retry_after(0, ready.oldest()) is None
