"""A burst of stances on a Slack-posted poll: the tally refreshes coalesce into
a handful of chat.update calls, the last showing the right tally; Slack's 429
Retry-After is waited out with nothing lost; the chart PNG is uploaded as a file."""

from __future__ import annotations

import time

from sqlalchemy import select

from adapters.slack.plugin import plugin as slack_plugin
from bot.app import Bot
from bot.types import Actor, ButtonPress, Command, Conversation
from storage.models import Group, OutboxMessage
from tests.adapters.slack.conftest import CHANNEL
from tests.adapters.slack.fake_slack import TEAM, FakeSlack
from tests.conftest import MEMBER, MEMBER_ES, MEMBER_FR
from tests.polls.helpers import closes_in

VOTERS = (MEMBER, MEMBER_FR, MEMBER_ES)


def _wait(cond: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def _unsent(bot: Bot) -> int:
    with bot.session_factory() as s:
        return len(s.scalars(select(OutboxMessage.id).where(
            OutboxMessage.status.in_(["pending", "sending"]))).all())


def test_200_stances_make_a_handful_of_updates_and_429_is_waited_out(
        slack_bot: Bot, fake_slack: FakeSlack) -> None:
    bot = slack_bot
    adapter = slack_plugin.adapter(bot)
    with bot.session_factory() as s, s.begin():
        alliance = s.scalars(select(Group).where(Group.is_alliance.is_(True))).one()
        alliance.channels = {"slack": {"workspace_id": TEAM, "channel_id": CHANNEL}}
    where = Conversation("console", "", "")
    bot.dispatch(Command("poll", f"new Budget | Adopt it | {closes_in()}",
                         Actor("console", "", MEMBER), where, "create"))
    worker = bot.new_worker()
    worker.poll_seconds = 0.05
    assert worker.drain() == 1
    [_post] = fake_slack.of("chat.postMessage")
    # Block Kit cannot show PNG bytes: the chart went up as a file, in the post's thread.
    [chart] = [f for f in fake_slack.files.values() if f.get("data")]
    assert chart["data"].startswith(b"\x89PNG") and chart["channel"] == CHANNEL
    assert chart["thread_ts"] == next(ts for (_, ts) in fake_slack.messages)
    final: dict[str, str] = {}

    def stances(n: int, prefix: str) -> None:
        for i in range(n):
            voter = VOTERS[i % 3]
            stance = "agree" if (i // 3) % 2 == 0 or voter != MEMBER_FR else "abstain"
            final[voter] = stance
            bot.dispatch(ButtonPress("poll.stance", f"1:1:{stance}",
                                     Actor("console", "", voter), where, f"{prefix}{i}"))

    # 200 stances land before the worker's next pass (a burst within a second):
    # they are one pending refresh per target, so one chat.update.
    stances(200, "a")
    assert _unsent(bot) == 1
    assert worker.drain() == 1
    [update] = fake_slack.of("chat.update")
    agree = sum(1 for st in final.values() if st == "agree")
    assert f"Agree {agree}" in update.args["text"] and f"Abstain {3 - agree}" in \
        update.args["text"]
    worker.start()
    try:
        # With the worker delivering while stances land: at most one update per
        # stance, never an old tally last.
        stances(31, "b")
        _wait(lambda: _unsent(bot) == 0)
        updates = fake_slack.of("chat.update")
        assert 2 <= len(updates) <= 32
        agree = sum(1 for st in final.values() if st == "agree")
        assert f"Agree {agree}" in updates[-1].args["text"]

        # Slack rate-limits the next update: the worker waits Retry-After, then delivers.
        fake_slack.rate_limit["chat.update"] = (1, 1)
        before = len(fake_slack.of("chat.update"))
        limited_at = time.monotonic()
        bot.dispatch(ButtonPress("poll.stance", "1:1:abstain", Actor("console", "", MEMBER),
                                 where, "late"))
        _wait(lambda: len(fake_slack.of("chat.update")) > before)
        waited = time.monotonic() - limited_at
        _wait(lambda: _unsent(bot) == 0)
        assert len(fake_slack.limited) == 1 and waited >= 1.0
        last = fake_slack.of("chat.update")[-1]
        assert f"Agree {agree - 1}" in last.args["text"]
        with bot.session_factory() as s:
            row = s.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
            assert row is not None and row.status == "sent" and row.attempts == 1
    finally:
        worker.stop()
        adapter.close()
    assert len(fake_slack.of("chat.postMessage")) == 1  # still one living message
