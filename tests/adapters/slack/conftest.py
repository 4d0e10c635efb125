"""Slack test fixtures: a fake Slack Web API on loopback, a Bot with Slack
enabled against it, the real HTTP app served by uvicorn on loopback, and
signing helpers (the fixtures come without signatures; we sign them)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlencode

import httpx
import pytest
from slack_sdk.signature import SignatureVerifier

from adapters.slack.plugin import SERVICE
from adapters.slack.plugin import plugin as slack_plugin
from bot.app import Bot
from bot.web import create_web_app
from tests.adapters.slack.fake_slack import TEAM, FakeSlack
from tests.conftest import CHAIR, MEMBER, MEMBER_FR, OBSERVER, SECRETARIAT
from tests.served import Loopback

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
#: Slack user ids of the example people in the fake workspace.
USERS = {"UMEMBER": MEMBER, "UMEMBERFR": MEMBER_FR, "UOBSERVER": OBSERVER,
         "USECRETARIAT": SECRETARIAT, "UCHAIR": CHAIR}
CHANNEL = "C0GENERAL"


def fixture_body(shared: Path, name: str) -> str:
    """A fixture body as Slack would send it (the view_submission fixture is
    URL-encoded once more than real Slack's: undo that)."""
    raw = (shared / "slack" / name).read_text().strip()
    if raw.startswith("payload%3D"):
        # unquote gives ``payload={raw JSON}``; Slack sends ``payload=<quoted JSON>``.
        return "payload=" + quote(unquote(raw).removeprefix("payload="), safe="")
    return raw


def sign(body: str, *, timestamp: int | None = None, secret: str = SECRET) -> dict[str, str]:
    """Slack's request signing headers for ``body``."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    sig = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig}


def form_headers(body: str, **kw: Any) -> dict[str, str]:
    return {"Content-Type": "application/x-www-form-urlencoded", **sign(body, **kw)}


def json_headers(body: str, **kw: Any) -> dict[str, str]:
    return {"Content-Type": "application/json", **sign(body, **kw)}


def slash_body(text: str, *, user: str = "UMEMBER", channel: str = CHANNEL,
               trigger: str = "", response_url: str = "") -> str:
    return urlencode({
        "token": "x", "team_id": TEAM, "team_domain": "alliance", "channel_id": channel,
        "channel_name": "general", "user_id": user, "user_name": user.lower(),
        "command": "/convene", "text": text, "api_app_id": "A1",
        "is_enterprise_install": "false", "response_url": response_url,
        "trigger_id": trigger or f"trig.{time.time_ns()}",
    })


def action_body(action_id: str, value: str, *, user: str = "UMEMBER", channel: str = CHANNEL,
                message_ts: str = "1.000001", response_url: str = "",
                trigger: str = "", select: bool = False) -> str:
    action: dict[str, Any] = {"action_id": action_id, "block_id": "b1",
                              "action_ts": f"{time.time():.6f}"}
    if select:
        action |= {"type": "static_select", "selected_option": {
            "text": {"type": "plain_text", "text": value}, "value": value}}
    else:
        action |= {"type": "button", "value": value,
                   "text": {"type": "plain_text", "text": "x"}}
    payload = {
        "type": "block_actions", "user": {"id": user, "team_id": TEAM},
        "team": {"id": TEAM, "domain": "alliance"}, "api_app_id": "A1",
        "container": {"type": "message", "message_ts": message_ts, "channel_id": channel},
        "channel": {"id": channel, "name": "general"},
        "trigger_id": trigger or f"trig.{time.time_ns()}",
        "response_url": response_url, "message": {"ts": message_ts, "blocks": []},
        "actions": [action],
    }
    return "payload=" + quote(json.dumps(payload))


def view_body(callback_id: str, values: dict[str, dict[str, Any]], *, metadata: str,
              user: str = "UMEMBER") -> str:
    payload = {
        "type": "view_submission", "team": {"id": TEAM}, "user": {"id": user, "team_id": TEAM},
        "api_app_id": "A1", "trigger_id": f"trig.{time.time_ns()}",
        "view": {"id": f"V{time.time_ns()}", "type": "modal", "callback_id": callback_id,
                 "private_metadata": metadata, "hash": "h",
                 "state": {"values": {k: {"value": v} for k, v in values.items()}}},
    }
    return "payload=" + quote(json.dumps(payload))


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    fake = FakeSlack(users=dict(USERS)).start()
    yield fake
    fake.stop()


@pytest.fixture
def bare_fake_slack() -> Iterator[FakeSlack]:
    """A fake Slack that knows no user: identities come from the database
    (the kill -9 and dispatch-process tests link them there)."""
    fake = FakeSlack().start()
    yield fake
    fake.stop()


@pytest.fixture
def slack_bot(make_bot: Callable[..., Bot], db_url: str,
              fake_slack: FakeSlack) -> Iterator[Bot]:
    """A Bot (SQLite and PostgreSQL) with Slack on, talking to the fake Web API.
    Its SlackAdapter, if a test made one (``slack_plugin.adapter(bot)`` starts
    the inbox's workers and sweep), is closed after the test."""
    bot = make_bot(db_url, slack={"enabled": True, "bot_token": "xoxb-test-token",
                                      "signing_secret": SECRET,
                                      "api_url": fake_slack.api_url})
    yield bot
    if SERVICE in bot.adapters:
        slack_plugin.adapter(bot).close(wait=False)



class Served(Loopback):
    """The HTTP app on loopback under uvicorn."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        super().__init__(create_web_app(bot, slack_plugin.web_routes(bot)))
        self.url = f"{self.base}/slack/events"

    def post(self, body: str, headers: dict[str, str]) -> httpx.Response:
        return self.http.post(self.url, content=body.encode(), headers=headers)


@pytest.fixture
def served(slack_bot: Bot) -> Iterator[Served]:
    srv = Served(slack_bot)
    yield srv
    srv.stop()
    slack_plugin.adapter(slack_bot).close()
