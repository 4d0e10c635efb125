"""SMTP transport (aiosmtplib): STARTTLS, implicit TLS or plain, with auth."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from email.message import EmailMessage

import aiosmtplib

from bot.mail import NotHeld
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

    async def _send_all(self, messages: list[EmailMessage],
                        on_sent: Callable[[int], object] | None = None,
                        before_send: Callable[[int], bool] | None = None
                        ) -> list[BaseException | None]:
        """Per-message results over one connection. A message the server
        refused fails alone; when the connection drops, what the server had
        accepted stays a success and only the message in flight and the rest
        fail (so the outbox sends nothing twice)."""
        client = self._client()
        try:
            await client.connect()
        except (aiosmtplib.SMTPException, OSError) as exc:
            log.warning("SMTP %s:%s unavailable: %s", self.settings.host, self.settings.port,
                        exc)
            return [exc] * len(messages)
        results: list[BaseException | None] = []
        lost: BaseException = ConnectionError("SMTP connection lost before this message was "
                                              "sent")
        try:
            for m in messages:
                if before_send is not None and not before_send(len(results)):
                    lost = NotHeld()  # the rest is no longer ours to send
                    break
                try:
                    await client.send_message(m)
                    if on_sent is not None:
                        on_sent(len(results))  # recorded before the next message leaves
                    results.append(None)
                except (aiosmtplib.SMTPRecipientsRefused, aiosmtplib.SMTPResponseException) as exc:
                    results.append(exc)
                    if not client.is_connected:
                        break
                except (aiosmtplib.SMTPException, OSError) as exc:
                    log.warning("SMTP connection lost after %d of %d message(s): %s",
                                len(results), len(messages), exc)
                    results.append(exc)
                    break
        finally:
            try:
                if client.is_connected:
                    await client.quit()
            except (aiosmtplib.SMTPException, OSError):
                client.close()
        return results + [lost] * (len(messages) - len(results))

    def send(self, message: EmailMessage) -> None:
        """Send one message. Raises on failure."""
        err = self.send_batch([message])[0]
        if err is not None:
            raise err

    def send_batch(self, messages: list[EmailMessage], *,
                   on_sent: Callable[[int], object] | None = None,
                   before_send: Callable[[int], bool] | None = None
                   ) -> list[BaseException | None]:
        """Send ``messages`` over one connection; one result per message (None:
        accepted by the server). A connection that fails to open fails all.
        ``on_sent(i)`` runs as soon as the server accepted message ``i``, before
        the next one is sent (the outbox records it sent there);
        ``before_send(i)`` right before message ``i`` leaves: False stops the
        batch there (the outbox no longer holds that row) and message ``i`` and
        the rest get :class:`bot.mail.NotHeld`."""
        if not messages:
            return []
        try:
            return asyncio.run(self._send_all(messages, on_sent, before_send))
        except (aiosmtplib.SMTPException, OSError) as exc:
            log.warning("SMTP %s:%s unavailable: %s", self.settings.host, self.settings.port,
                        exc)
            return [exc] * len(messages)
