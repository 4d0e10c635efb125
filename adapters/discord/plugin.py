"""The Discord adapter's plugin: the outbox deliverer and, with ``[discord]
public_key``, the HTTP interactions endpoint (every replica), and the gateway
connection (``[discord] gateway = true``: one replica), when ``[discord] enabled``."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import TYPE_CHECKING, Any

from bot.plugins import Plugin, Stopper, token_ready

if TYPE_CHECKING:
    from adapters.discord.adapter import DiscordAdapter
    from adapters.discord.rest import Rest
    from bot.app import Bot

log = logging.getLogger(__name__)

SERVICE = "discord.adapter"
REST = "discord.rest"


class DiscordPlugin(Plugin):
    """Discord through discord.py. One adapter and one REST client per Bot."""

    name = "discord"

    @staticmethod
    def _ready(bot: Bot) -> bool:
        return token_ready(bot.settings.discord, section="discord")

    def rest(self, bot: Bot) -> Rest:
        """The REST client of ``bot`` (made once, kept in ``bot.adapters``)."""
        from adapters.discord.rest import Rest, set_api_url

        found = bot.adapters.get(REST)
        if not isinstance(found, Rest):
            set_api_url(bot.settings.discord.api_url)
            found = Rest(bot.settings.discord.bot_token.get_secret_value())
            bot.adapters[REST] = found
        return found

    def adapter(self, bot: Bot) -> DiscordAdapter:
        """The DiscordAdapter of ``bot`` (made once, kept in ``bot.adapters``)."""
        from adapters.discord.adapter import DiscordAdapter
        from adapters.discord.rest import set_api_url

        found = bot.adapters.get(SERVICE)
        if not isinstance(found, DiscordAdapter):
            set_api_url(bot.settings.discord.api_url)
            found = DiscordAdapter(bot)
            bot.adapters[SERVICE] = found
        return found

    def setup_bot(self, bot: Bot, *, mail_given: bool) -> None:
        if not self._ready(bot):
            return
        from adapters.discord.deliver import DiscordDeliverer

        bot.chat_deliverers["discord"] = DiscordDeliverer(self.rest(bot), bot.session_factory)
        bot.calendar_platforms.add("discord")

    def web_routes(self, bot: Bot) -> list[Any]:
        if not self._ready(bot) or not bot.settings.discord.public_key:
            return []
        from adapters.discord.endpoint import InteractionsEndpoint, Verifier

        endpoint = InteractionsEndpoint(Verifier(bot.settings.discord.public_key),
                                        adapter=lambda: self.adapter(bot),
                                        rest=lambda: self.rest(bot))
        return list(endpoint.routes())

    def start(self, bot: Bot) -> Stopper | None:
        if not self._ready(bot):
            return None
        if not bot.settings.discord.gateway:
            log.info("[discord] gateway = false: this process delivers but does not connect")
            return self.rest(bot).close
        # One gateway connection per bot: only the holder of the scheduler lease
        # opens it, and it is closed when that replica loses the lease.
        lock = threading.Lock()
        stoppers: list[Stopper] = []

        def changed(leader: bool) -> None:
            with lock:
                if leader and not stoppers:
                    try:
                        stoppers.append(self._connect(bot))
                    except Exception:
                        log.exception("the Discord gateway did not connect")
                elif not leader and stoppers:
                    stoppers.pop()()

        bot.leadership.on_change(changed)

        def stop() -> None:
            changed(False)
            self.rest(bot).close()

        return stop

    def _connect(self, bot: Bot) -> Stopper:
        """Open the gateway in a thread of its own; returns how to close it (a
        closed discord.py client is not reused: the next connection makes a new one)."""
        adapter = self.adapter(bot)
        client = adapter.client
        loop = asyncio.new_event_loop()
        token = bot.settings.discord.bot_token.get_secret_value()

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                # reconnect=True: discord.py resumes the session after a drop.
                loop.run_until_complete(client.start(token, reconnect=True))
            except Exception:
                log.exception("the Discord gateway connection ended")

        thread = threading.Thread(target=run, name="discord-gateway", daemon=True)
        thread.start()
        log.info("Discord gateway connecting (this replica holds the lease)")

        def stop() -> None:
            if not loop.is_closed() and loop.is_running():
                asyncio.run_coroutine_threadsafe(client.close(), loop).result(15)
            thread.join(15)
            adapter.close()
            bot.adapters.pop(SERVICE, None)

        return stop


plugin = DiscordPlugin()
