"""The Slack adapter's plugin: the outbox deliverer, the ``/slack/events``
route (HTTP mode) and the Socket Mode connection, when ``[slack] enabled``.

HTTP mode works on every replica. Socket Mode is one connection per app, so
it is opened only on the replica holding the scheduler lease
(``bot.leadership``) and closed when that replica loses it."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from adapters.slack.settings import SlackSettings, slack_settings
from bot.plugins import Plugin, Stopper, token_ready

if TYPE_CHECKING:
    from adapters.slack.app import SlackAdapter
    from bot.app import Bot
    from bot.inbox import Inbox

log = logging.getLogger(__name__)

SERVICE = "slack.adapter"


class SlackPlugin(Plugin):
    """Slack through slack-bolt. One adapter per Bot, made on first use."""

    name = "slack"
    settings_model = SlackSettings

    def adapter(self, bot: Bot) -> SlackAdapter:
        """The SlackAdapter of ``bot``, made once and kept in ``bot.adapters``."""
        from adapters.slack.app import SlackAdapter

        found = bot.adapters.get(SERVICE)
        if not isinstance(found, SlackAdapter):
            # Workers in a dispatch process: none in this one.
            found = SlackAdapter(bot, start_workers=not self.dispatch_process(bot))
            bot.adapters[SERVICE] = found
        return found

    @staticmethod
    def dispatch_process(bot: Bot) -> bool:
        """Whether the inbox is worked off in a process of its own
        (``[slack] dispatch``)."""
        cfg = slack_settings(bot.settings)
        if cfg.mode != "http" or not cfg.durable_inbox or cfg.dispatch == "threads":
            return False
        return cfg.dispatch == "process" or (
            bot.main_job and bot.engine.dialect.name == "postgresql")

    @staticmethod
    def _ready(bot: Bot) -> bool:
        return token_ready(slack_settings(bot.settings), section="slack")

    def setup_bot(self, bot: Bot, *, mail_given: bool) -> None:
        if self._ready(bot):
            bot.chat_deliverers["slack"] = self.adapter(bot).deliverer

    def web_routes(self, bot: Bot) -> list[Any]:
        if not self._ready(bot) or slack_settings(bot.settings).mode != "http":
            return []
        if not slack_settings(bot.settings).signing_secret.get_secret_value():
            log.error("[slack] mode = \"http\" needs signing_secret: /slack/events not mounted")
            return []
        return list(self.adapter(bot).routes())

    def start(self, bot: Bot) -> Stopper | None:
        if not self._ready(bot):
            return None
        adapter = self.adapter(bot)
        if slack_settings(bot.settings).mode == "socket":
            if not slack_settings(bot.settings).app_token.get_secret_value():
                log.error("[slack] mode = \"socket\" needs app_token (xapp-...): not connected")
                return None
            adapter.start()
            return self._socket_on_leader(bot, adapter)
        if self.dispatch_process(bot):
            from bot.dispatch_process import DispatchProcess

            child = DispatchProcess(bot, adapter.inbox, factory=f"{__name__}:dispatch_inbox")
            child.start()  # it picks up requests a crash left in the inbox

            def stop() -> None:
                child.close()
                adapter.close()

            return stop
        adapter.start()  # picks up requests a crash left in the inbox
        return adapter.close

    @staticmethod
    def _socket_on_leader(bot: Bot, adapter: SlackAdapter) -> Stopper:
        lock = threading.Lock()
        stoppers: list[Stopper] = []

        def changed(leader: bool) -> None:
            with lock:
                if leader and not stoppers:
                    try:
                        stoppers.append(adapter.connect_socket_mode())
                    except Exception:
                        log.exception("Slack Socket Mode did not connect")
                elif not leader and stoppers:
                    stoppers.pop()()

        bot.leadership.on_change(changed)

        def stop() -> None:
            changed(False)
            adapter.close()

        return stop


plugin = SlackPlugin()


def dispatch_inbox(bot: Bot) -> Inbox:
    """In the dispatch process (bot/dispatch_process.py): the adapter of
    ``bot`` with its workers not started, and its inbox."""
    from adapters.slack.app import SlackAdapter

    adapter = SlackAdapter(bot, start_workers=False)
    bot.adapters[SERVICE] = adapter
    return adapter.inbox
