"""The plugin's configuration gates, the manifest, and the App Home message."""

from __future__ import annotations

import re
from collections.abc import Callable

from adapters.slack.app import SlackAdapter
from adapters.slack.events import EVENTS_PATH
from adapters.slack.plugin import plugin as slack_plugin
from bot.app import Bot
from bot.home import home_message
from bot.registry import HomeContext
from bot.types import Actor, Section
from tests.adapters.slack.conftest import SECRET
from tests.adapters.slack.fake_slack import TEAM, FakeSlack
from tests.conftest import ROOT

MANIFEST = ROOT / "deploy" / "slack-manifest.yaml"


def test_disabled_slack_adds_nothing(make_bot: Callable[..., Bot], sqlite_url: str) -> None:
    bot = make_bot(sqlite_url, roster=None)
    assert "slack" not in bot.chat_deliverers
    assert slack_plugin.web_routes(bot) == [] and slack_plugin.start(bot) is None


def test_http_mode_needs_a_signing_secret(make_bot: Callable[..., Bot], sqlite_url: str,
                                          fake_slack: FakeSlack) -> None:
    bot = make_bot(sqlite_url, roster=None, slack={"enabled": True, "bot_token": "xoxb-t",
                                                   "api_url": fake_slack.api_url})
    assert "slack" in bot.chat_deliverers  # posting needs only the bot token
    assert slack_plugin.web_routes(bot) == []  # unsigned requests are never accepted
    slack_plugin.adapter(bot).close()


def test_http_mode_mounts_events_route(slack_bot: Bot) -> None:
    [route] = slack_plugin.web_routes(slack_bot)
    assert route.path == EVENTS_PATH == "/slack/events"
    assert isinstance(slack_plugin.adapter(slack_bot), SlackAdapter)
    stop = slack_plugin.start(slack_bot)
    assert stop is not None
    stop()


def test_socket_mode_needs_an_app_token(make_bot: Callable[..., Bot], sqlite_url: str,
                                        fake_slack: FakeSlack) -> None:
    bot = make_bot(sqlite_url, roster=None, slack={
        "enabled": True, "mode": "socket", "bot_token": "xoxb-t", "signing_secret": SECRET,
        "api_url": fake_slack.api_url})
    assert slack_plugin.web_routes(bot) == [] and slack_plugin.start(bot) is None
    slack_plugin.adapter(bot).close()


def _manifest_list(text: str, key: str) -> list[str]:
    block = re.search(rf"^\s*{key}:\n((?:\s+(?:- .*|#.*)\n)+)", text, re.M)
    assert block, key
    return re.findall(r"^\s+- ([\w:.]+)", block.group(1), re.M)


def test_manifest_urls_scopes_and_events() -> None:
    text = MANIFEST.read_text()
    urls = re.findall(r"(?:url|request_url): (\S+)", text)
    assert len(urls) == 3 and all(u.endswith(EVENTS_PATH) for u in urls)
    assert "command: /convene" in text and "home_tab_enabled: true" in text
    assert _manifest_list(text, "bot") == ["commands", "chat:write", "users:read",
                                           "users:read.email", "app_mentions:read",
                                           "im:history"]
    assert _manifest_list(text, "bot_events") == ["app_home_opened", "app_mention",
                                                  "message.im"]
    for scope in _manifest_list(text, "bot"):  # each scope says why, just above it
        assert re.search(rf"#[^\n]*\n\s+- {re.escape(scope)}\n", text), scope


def test_home_message_sections_and_languages(slack_bot: Bot) -> None:
    adapter = slack_plugin.adapter(slack_bot)
    fr = Actor("slack", TEAM, "UMEMBERFR")
    assert adapter.identities.ensure(fr)

    def polls(ctx: HomeContext) -> list[Section]:
        return [Section(ctx._("Hello {name}.", name="#12"))]

    def broken(_ctx: HomeContext) -> list[Section]:
        raise RuntimeError("boom")

    slack_bot.registry.home_section(broken, order=1)
    slack_bot.registry.home_section(polls, order=2)
    msg = home_message(slack_bot, fr)
    texts = [getattr(b, "text", "") for b in msg.blocks]
    assert "Bonjour Claire Dubois." in texts and "Bonjour #12." in texts
    assert "Tapez help pour voir ce que vous pouvez faire." in texts
    stranger = home_message(slack_bot, Actor("slack", TEAM, "UNOBODY"))
    assert "secretariat" in stranger.text and len(stranger.blocks) == 1

