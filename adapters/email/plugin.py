"""The email adapter's plugin: the SMTP transport when ``[smtp] host`` is set."""

from __future__ import annotations

from typing import TYPE_CHECKING

from adapters.email.smtp import SmtpMailTransport
from bot.plugins import Plugin

if TYPE_CHECKING:
    from bot.app import Bot


class EmailPlugin(Plugin):
    """SMTP out."""

    name = "email"

    def setup_bot(self, bot: Bot, *, mail_given: bool) -> None:
        if not mail_given and bot.settings.smtp.host:
            bot.mail = SmtpMailTransport(bot.settings.smtp)


plugin = EmailPlugin()
