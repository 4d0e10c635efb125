"""One linked person, one stance per round, whatever the path: the same poll
voted on from Slack (the real slack-bolt app under uvicorn, fake Web API), from
Discord (the real discord.py client, fake REST API) and by email (a reply to
the round-2 ballot, then a signed vote link) leaves one stance per round, the
latest, and the tallies count one voting unit."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from adapters.console import ConsoleSession
from bot.app import Bot
from bot.polls.tokens import mint
from bot.web import create_web_app
from storage.base import utcnow
from tests.adapters.discord.fake_discord import CHANNEL as DISCORD_CHANNEL
from tests.adapters.discord.fake_discord import GUILD, FakeDiscord
from tests.adapters.discord.harness import Harness, command, custom_ids, press
from tests.adapters.email.servers import http_app
from tests.adapters.slack.conftest import CHANNEL as SLACK_CHANNEL
from tests.adapters.slack.conftest import (
    SECRET,
    USERS,
    Served,
    action_body,
    form_headers,
    slash_body,
)
from tests.adapters.slack.fake_slack import FakeSlack
from tests.conftest import MEMBER, MEMBER_FR, SECRETARIAT, SHARED_FIXTURES, need
from tests.polls.helpers import YES, origin, stances
from tests.polls.test_email_replies import ballot_ids, reply

ALICE = "700000000000000001"  # MEMBER's Discord account (UMEMBER on Slack)


class Both:
    """One Bot with Slack and Discord on, both adapters live, the outbox draining."""

    def __init__(self, bot: Bot, slack: FakeSlack, discord: FakeDiscord) -> None:
        self.bot, self.slack, self.discord = bot, slack, discord
        self.served = Served(bot)
        self.h = Harness(bot, discord)
        self.worker = bot.new_worker()
        self.worker.poll_seconds = 0.05
        self.worker.start()

    def close(self) -> None:
        from adapters.slack.plugin import plugin as slack_plugin

        self.worker.stop()
        self.h.close()
        self.served.stop()
        slack_plugin.adapter(self.bot).close()
        rest = self.bot.adapters.get("discord.rest")
        if rest is not None:
            rest.close()


@pytest.fixture
def both(make_bot: Callable[..., Bot], db_url: str) -> Iterator[Both]:
    need((SHARED_FIXTURES / "discord").is_dir(), "discord fixtures missing")
    fake_slack = FakeSlack(users=dict(USERS)).start()
    fake_discord = FakeDiscord().start()
    bot = make_bot(db_url,
                   slack={"enabled": True, "bot_token": "xoxb-test-token",
                          "signing_secret": SECRET, "api_url": fake_slack.api_url},
                   discord={"enabled": True, "bot_token": "test-token", "guild_id": GUILD,
                            "api_url": fake_discord.base})
    b = Both(bot, fake_slack, fake_discord)
    yield b
    b.close()
    fake_discord.stop()
    fake_slack.stop()


def _slack_buttons(blocks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Stance buttons (value <id>:<round>:<version>:<stance>), by stance."""
    return {e["value"].rsplit(":", 1)[1]: e for b in blocks if b["type"] == "actions"
            for e in b["elements"] if e.get("value", "").count(":") == 3}


def _slack_tally(fake: FakeSlack) -> str:
    """The Slack poll message as last posted or updated."""
    calls = fake.of("chat.postMessage") + fake.of("chat.update")
    return json.dumps(calls[-1].args["blocks"], ensure_ascii=False)


def _person_key(bot: Bot) -> str:
    from sqlalchemy import select

    from storage.models import EmailAddress

    with bot.session_factory() as s:
        pid = s.scalar(select(EmailAddress.person_id).where(EmailAddress.address == MEMBER))
    return f"p:{pid}"


def test_one_linked_person_slack_discord_email_counts_one_stance(both: Both) -> None:
    bot, slack, h = both.bot, both.slack, both.h
    h.link(MEMBER, ALICE)
    key = _person_key(bot)

    # Round 1 in chat: the poll is created on Slack, Amara agrees there ...
    body = slash_body("poll new Shared charter | We adopt the charter. | 2030-01-01 12:00",
                      response_url=slack.hook_url("create"))
    assert both.served.post(body, form_headers(body)).status_code == 200
    [post] = slack.wait_for("chat.postMessage")
    ts = next(ts for (ch, ts) in slack.messages if ch == SLACK_CHANNEL)
    agree = _slack_buttons(post.args["blocks"])["agree"]
    body = action_body(agree["action_id"], agree["value"], message_ts=ts,
                       response_url=slack.hook_url("agree"))
    assert both.served.post(body, form_headers(body)).status_code == 200
    slack.wait_for("chat.update")
    assert stances(bot, 1) == {key: ("agree", "slack", "")}
    assert "Agree 1" in _slack_tally(slack)

    # ... then, from Discord, the same person presses "abstain" on the poll shown there.
    h.feed("INTERACTION_CREATE", command(ALICE, "poll", action="show", id="1"))
    shown = h.wait(lambda: [f for f in h.followups() if custom_ids(f.body)])
    buttons = {c.rsplit(":", 1)[1]: c for c in custom_ids(shown[-1].body)
               if c.startswith("cv:") and c.count(":") >= 5}
    assert {"agree", "disagree", "abstain", "block"} <= set(buttons)
    message = next(m for m in h.fake.messages.values()
                   if m["components"] == shown[-1].body["components"])
    message = {**message, "channel_id": DISCORD_CHANNEL}
    before = len(h.followups())
    h.feed("INTERACTION_CREATE", press(ALICE, message, buttons["abstain"]))
    h.wait(lambda: len(h.followups()) > before)
    assert "Your stance on proposal #1" in str(h.followups()[-1].body)
    # One row, replaced: the Discord stance, and the Slack tally counts one voting unit.
    assert stances(bot, 1) == {key: ("abstain", "discord", "")}
    slack.wait_for("chat.update", 2)
    tally = _slack_tally(slack)
    assert "Abstain 1" in tally and "Agree 0" in tally, tally

    # Round 1 fails (a block by another member); round 2 opens by email.
    ConsoleSession(dispatch=bot.dispatch, email=MEMBER_FR).feed(
        "vote 1 block Not before the field trials end")
    out = ConsoleSession(dispatch=bot.dispatch, email=SECRETARIAT).feed("poll close 1")
    assert "consensus not reached" in out, out
    out = ConsoleSession(dispatch=bot.dispatch, email=SECRETARIAT).feed("poll email-round 1")
    assert "is open by email" in out, out
    assert len(stances(bot, 1)) == 2 and stances(bot, 1)[key] == ("abstain", "discord", "")

    # Round 2: Amara replies to her ballot "Abstain" ...
    mid = ballot_ids(bot, 1)[MEMBER]
    answered = _email_reply(bot, mid, "Abstain")
    assert answered
    [(voter, got)] = stances(bot, 1, 2).items()
    assert voter == key and got[:2] == ("abstain", "email")
    # ... then follows the signed "agree" link of the same ballot: it replaces the reply.
    token = mint(key=bot.settings.signing_key(), person_id=int(key[2:]), poll_id=1,
                 round_no=2, stance="agree", expires_at=utcnow().replace(year=2030))
    with http_app(create_web_app(bot)) as base, \
            httpx.Client(base_url=base, timeout=30, headers=origin(bot)) as web:
        done = web.post("/polls/1/vote", data={"t": token, **YES})
    assert done.status_code == 200 and "Stance recorded" in done.text, done.text
    assert stances(bot, 1, 2) == {key: ("agree", "web", "")}
    # Round 1 is as Discord left it: one stance per person per round, whatever the path.
    assert stances(bot, 1)[key] == ("abstain", "discord", "")


def _email_reply(bot: Bot, message_id: str, top: str) -> bool:
    from adapters.email.imap import handle_reply

    outcome = handle_reply(bot, reply(SHARED_FIXTURES, "talon_gmail.eml", sender=MEMBER,
                                      top=top, to=message_id))
    return outcome is not None and outcome.dispatched
