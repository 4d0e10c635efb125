"""The email adapter's plugin: the SMTP transport when ``[smtp] host`` is set,
and the IMAP reader of inbound email when ``[imap] host`` is set. (Vote-link
pages belong to the polls capability, which registers them (``reg.web_routes``).)"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from adapters.email.smtp import SmtpMailTransport
from bot.plugins import Plugin, Stopper

if TYPE_CHECKING:
    from bot.app import Bot


class EmailPlugin(Plugin):
    """SMTP out; IMAP in."""

    name = "email"

    def setup_bot(self, bot: Bot, *, mail_given: bool) -> None:
        if not mail_given and bot.settings.smtp.host:
            bot.mail = SmtpMailTransport(bot.settings.smtp)

    def web_routes(self, bot: Bot) -> list[Any]:
        return []

    def start(self, bot: Bot) -> Stopper | None:
        if not bot.settings.imap.host:
            return None
        from adapters.email.imap import ImapReader

        return ImapReader(bot, bot.settings.imap).start()


plugin = EmailPlugin()
