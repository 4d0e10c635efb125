"""The Slack adapter's plugin: the outbox deliverer, the ``/slack/events``
route (HTTP mode) and the Socket Mode connection, when ``[slack] enabled``."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from bot.plugins import Plugin, Stopper

if TYPE_CHECKING:
    from adapters.slack.app import SlackAdapter
    from bot.app import Bot

log = logging.getLogger(__name__)

SERVICE = "slack.adapter"


class SlackPlugin(Plugin):
    """Slack through slack-bolt. One adapter per Bot, made on first use."""

    name = "slack"

    def adapter(self, bot: Bot) -> SlackAdapter:
        """The SlackAdapter of ``bot``, made once and kept in ``bot.adapters``."""
        from adapters.slack.app import SlackAdapter

        found = bot.adapters.get(SERVICE)
        if not isinstance(found, SlackAdapter):
            found = SlackAdapter(bot)
            bot.adapters[SERVICE] = found
        return found

    @staticmethod
    def _ready(bot: Bot) -> bool:
        cfg = bot.settings.slack
        if not cfg.enabled:
            return False
        if not cfg.bot_token.get_secret_value():
            log.error("[slack] enabled but bot_token is empty: Slack stays off")
            return False
        return True

    def setup_bot(self, bot: Bot, *, mail_given: bool) -> None:
        if self._ready(bot):
            bot.chat_deliverers["slack"] = self.adapter(bot).deliverer

    def web_routes(self, bot: Bot) -> list[Any]:
        if not self._ready(bot) or bot.settings.slack.mode != "http":
            return []
        if not bot.settings.slack.signing_secret.get_secret_value():
            log.error("[slack] mode = \"http\" needs signing_secret: /slack/events not mounted")
            return []
        return list(self.adapter(bot).routes())

    def start(self, bot: Bot) -> Stopper | None:
        if not self._ready(bot):
            return None
        adapter = self.adapter(bot)
        if bot.settings.slack.mode == "socket":
            if not bot.settings.slack.app_token.get_secret_value():
                log.error("[slack] mode = \"socket\" needs app_token (xapp-...): not connected")
                return None
            adapter.start()
            return adapter.start_socket_mode()
        adapter.start()  # picks up requests a crash left in the inbox
        return adapter.close


plugin = SlackPlugin()
