"""SMTP transport (aiosmtplib): STARTTLS, implicit TLS or plain, with auth."""

from __future__ import annotations

import asyncio
import logging
from email.message import EmailMessage

import aiosmtplib

from bot.settings import SmtpSettings

log = logging.getLogger(__name__)


class SmtpMailTransport:
    """Sends through an SMTP server. ``send_batch`` uses one connection for the
    whole batch; a refused recipient fails only its own message."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    def _client(self) -> aiosmtplib.SMTP:
        s = self.settings
        return aiosmtplib.SMTP(
            hostname=s.host, port=s.port, timeout=s.timeout,
            use_tls=s.security == "ssl", start_tls=s.security == "starttls",
            username=s.username or None,
            password=s.password.get_secret_value() or None,
        )

    async def _send_all(self, messages: list[EmailMessage]) -> list[BaseException | None]:
        results: list[BaseException | None] = []
        client = self._client()
        async with client:
            for m in messages:
                try:
                    await client.send_message(m)
                    results.append(None)
                except aiosmtplib.SMTPRecipientsRefused as exc:
                    results.append(exc)
                except aiosmtplib.SMTPResponseException as exc:
                    results.append(exc)
        return results

    def send(self, message: EmailMessage) -> None:
        """Send one message. Raises on failure."""
        err = self.send_batch([message])[0]
        if err is not None:
            raise err

    def send_batch(self, messages: list[EmailMessage]) -> list[BaseException | None]:
        """Send ``messages`` over one connection. A connection failure fails all."""
        if not messages:
            return []
        try:
            return asyncio.run(self._send_all(messages))
        except (aiosmtplib.SMTPException, OSError) as exc:
            log.warning("SMTP %s:%s unavailable: %s", self.settings.host, self.settings.port,
                        exc)
            return [exc] * len(messages)
