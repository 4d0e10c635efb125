"""Issue 11: with the database down, a Slack press is never acknowledged
silently, and nothing is lost once it is back.

PostgreSQL behind a TCP forwarder that the test cuts (connections reset, new
ones refused) and restores. A press that arrives during the outage gets no 200
(Slack shows the person that the app did not respond) and an ephemeral reply
saying nothing was recorded; a press acknowledged just before the outage, whose
work meets it, is recorded once the database is back (and confirmed once); the
refused presses, pressed again, are recorded once."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from adapters.slack.app import SlackAdapter
from adapters.slack.events import UNRECORDED
from adapters.slack.plugin import SERVICE
from adapters.slack.plugin import plugin as slack_plugin
from bot.app import Bot
from tests.adapters.slack.conftest import SECRET, Served, action_body, form_headers
from tests.adapters.slack.fake_slack import FakeSlack
from tests.conftest import CHAIR, _truncate_pg
from tests.polls.helpers import audits, new_poll, stances
from tests.tcp_proxy import TcpProxy


@pytest.fixture
def proxied_pg(request: pytest.FixtureRequest) -> Iterator[tuple[str, TcpProxy]]:
    """The session's PostgreSQL scratch database (emptied) through a TcpProxy."""
    url = make_url(request.getfixturevalue("_pg_database"))
    engine = create_engine(url)
    _truncate_pg(engine)
    engine.dispose()
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    yield url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False), proxy
    proxy.down()


def _until(cond: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _press(fake: FakeSlack, pid: int, user: str, stance: str, name: str) -> str:
    return action_body("poll.stance", f"{pid}:1:{stance}", user=user,
                       response_url=fake.hook_url(name), trigger=f"trig.{name}")


def _hooks(fake: FakeSlack, name: str) -> list[Any]:
    return [c for c in fake.of("hook") if c.path == f"/hooks/{name}"]


def test_database_down_press_is_refused_and_told_and_nothing_is_lost(
        proxied_pg: tuple[str, TcpProxy], make_bot: Callable[..., Bot],
        fake_slack: FakeSlack) -> None:
    url, proxy = proxied_pg
    bot = make_bot(url, slack={"enabled": True, "bot_token": "xoxb-test-token",
                               "signing_secret": SECRET, "api_url": fake_slack.api_url})
    assert bot.settings.slack.durable_inbox  # the default
    slack_plugin.adapter(bot).close(wait=False)
    adapter = SlackAdapter(bot, start_workers=False)  # its workers start after the cut
    bot.adapters[SERVICE] = adapter
    srv = Served(bot)
    try:
        pid = new_poll(bot, CHAIR)
        first = _press(fake_slack, pid, "UMEMBER", "abstain", "first")
        assert srv.post(first, form_headers(first)).status_code == 200
        assert adapter.inbox.work_queued() == 1  # worked while up: the member is known
        # Acknowledged while the database is up; its work (the dispatch) will
        # meet the outage.
        early = _press(fake_slack, pid, "UMEMBER", "agree", "early")
        assert srv.post(early, form_headers(early)).status_code == 200

        proxy.down()
        refused = {"UMEMBERFR": _press(fake_slack, pid, "UMEMBERFR", "abstain", "fr"),
                   "UCHAIR": _press(fake_slack, pid, "UCHAIR", "agree", "chair")}
        for body in refused.values():
            assert srv.post(body, form_headers(body)).status_code == 503
        for name in ("fr", "chair"):
            [told] = _hooks(fake_slack, name)
            assert told.args["response_type"] == "ephemeral"
            assert told.args["text"] == UNRECORDED
        adapter.start()  # the early press is worked now, against a dead database
        time.sleep(1.5)
        assert _hooks(fake_slack, "early") == []  # not told "nothing changed": waiting

        proxy.up()
        _until(lambda: len(_hooks(fake_slack, "early")) == 1)
        for body in refused.values():  # the person presses again
            assert srv.post(body, form_headers(body)).status_code == 200
        _until(lambda: len(stances(bot, pid)) == 3)
        time.sleep(0.5)
    finally:
        srv.stop()
        adapter.close()
    assert sorted(s for s, _, _ in stances(bot, pid).values()) == ["abstain", "agree", "agree"]
    # Each recorded once: three stances and the member's change to agree.
    assert [a.action for a in audits(bot)].count("poll.stance") == 3
    assert [a.action for a in audits(bot)].count("poll.stance.change") == 1
    [early_reply] = _hooks(fake_slack, "early")
    assert "agree" in early_reply.args["text"].lower()
    assert all(len(_hooks(fake_slack, n)) == 2 for n in ("fr", "chair"))
    assert not any("went wrong" in c.args.get("text", "") for c in fake_slack.of("hook"))
