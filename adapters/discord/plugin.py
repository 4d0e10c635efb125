"""The Discord adapter's plugin: the outbox deliverer and, with ``[discord]
public_key``, the HTTP interactions endpoint (every replica), and the gateway
connection (``[discord] gateway = true``: one replica), when ``[discord] enabled``."""

from __future__ import annotations

import asyncio
import logging
import threading
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from adapters.discord.settings import DiscordSettings, discord_settings
from bot.plugins import Plugin, Stopper, token_ready

if TYPE_CHECKING:
    from adapters.discord.adapter import DiscordAdapter
    from adapters.discord.rest import Rest
    from bot.app import Bot
    from bot.inbox import Inbox

log = logging.getLogger(__name__)

SERVICE = "discord.adapter"
REST = "discord.rest"
INBOX = "discord.inbox"
#: Threads working interactions a crash interrupted (rare: the live ones run
#: on the endpoint's loop and the adapter's pool).
RECOVERY_WORKERS = 2


class DiscordPlugin(Plugin):
    """Discord through discord.py. One adapter and one REST client per Bot."""

    name = "discord"
    settings_model = DiscordSettings

    @staticmethod
    def _ready(bot: Bot) -> bool:
        return token_ready(discord_settings(bot.settings), section="discord")

    def rest(self, bot: Bot) -> Rest:
        """The REST client of ``bot`` (made once, kept in ``bot.adapters``)."""
        from adapters.discord.rest import Rest, set_api_url

        found = bot.adapters.get(REST)
        if not isinstance(found, Rest):
            set_api_url(discord_settings(bot.settings).api_url)
            found = Rest(discord_settings(bot.settings).bot_token.get_secret_value())
            bot.adapters[REST] = found
        return found

    def adapter(self, bot: Bot) -> DiscordAdapter:
        """The DiscordAdapter of ``bot`` (made once, kept in ``bot.adapters``)."""
        from adapters.discord.adapter import DiscordAdapter
        from adapters.discord.rest import set_api_url

        found = bot.adapters.get(SERVICE)
        if not isinstance(found, DiscordAdapter):
            set_api_url(discord_settings(bot.settings).api_url)
            found = DiscordAdapter(bot)
            bot.adapters[SERVICE] = found
        return found

    def inbox(self, bot: Bot) -> Inbox:
        """The inbox the HTTP endpoint records interactions in (platform
        ``discord``; made once, kept in ``bot.adapters``): its workers work
        again what a crash interrupted (:mod:`adapters.discord.recovery`)."""
        from bot.inbox import Inbox

        found = bot.adapters.get(INBOX)
        if not isinstance(found, Inbox):
            from adapters.discord.recovery import recover

            found = Inbox(bot.session_factory, platform="discord", workers=RECOVERY_WORKERS,
                          handler=lambda item: recover(item, adapter=lambda: self.adapter(bot),
                                                       rest=lambda: self.rest(bot)),
                          instance=bot.instance_id,
                          stale=timedelta(seconds=bot.settings.queue.stale_seconds))
            bot.adapters[INBOX] = found
        return found

    @staticmethod
    def close_inbox(bot: Bot, *, wait: bool = True) -> None:
        """Stop the endpoint's inbox, if made (with ``wait``, rows queued are
        worked off first)."""
        from bot.inbox import Inbox

        found = bot.adapters.pop(INBOX, None)
        if isinstance(found, Inbox):
            found.close(wait=wait)

    def setup_bot(self, bot: Bot, *, mail_given: bool) -> None:
        if not self._ready(bot):
            return
        from adapters.discord.deliver import DiscordDeliverer

        bot.chat_deliverers["discord"] = DiscordDeliverer(self.rest(bot), bot.session_factory)
        bot.calendar_platforms.add("discord")

    def web_routes(self, bot: Bot) -> list[Any]:
        if not self._ready(bot) or not discord_settings(bot.settings).public_key:
            return []
        from adapters.discord.endpoint import InteractionsEndpoint, Verifier

        endpoint = InteractionsEndpoint(Verifier(discord_settings(bot.settings).public_key),
                                        adapter=lambda: self.adapter(bot),
                                        rest=lambda: self.rest(bot), inbox=self.inbox(bot))
        return list(endpoint.routes())

    def start(self, bot: Bot) -> Stopper | None:
        if not self._ready(bot):
            return None
        if discord_settings(bot.settings).public_key:
            self.inbox(bot).start()  # works off what a crash left in the inbox
        if not discord_settings(bot.settings).gateway:
            log.info("[discord] gateway = false: this process delivers but does not connect")

            def stop_rest() -> None:
                self.close_inbox(bot)
                self.rest(bot).close()

            return stop_rest
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
            self.close_inbox(bot)
            self.rest(bot).close()

        return stop

    def _connect(self, bot: Bot) -> Stopper:
        """Open the gateway in a thread of its own; returns how to close it (a
        closed discord.py client is not reused: the next connection makes a new one)."""
        adapter = self.adapter(bot)
        client = adapter.client
        loop = asyncio.new_event_loop()
        token = discord_settings(bot.settings).bot_token.get_secret_value()

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
