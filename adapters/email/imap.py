"""Replies read from an IMAP mailbox (IMAPClient).

Each unseen message that is not automatic mail becomes an
:class:`~bot.types.InboundEmail` (:mod:`adapters.email.inbound`) and is
dispatched like any other event: the dispatcher hands it to the capability
whose Message-ID it answers, which checks the sender, records what it means
and queues its own answer through the outbox. Nothing is sent from here, so a
stranger gets no answer (no backscatter). The Message-ID is the event id, so
a message read twice counts once.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import Message
from typing import TYPE_CHECKING

from imapclient import IMAPClient

from adapters.email.inbound import is_automatic, to_event
from bot.plugins import Stopper
from bot.settings import ImapSettings
from bot.types import InboundEmail, plain_times

if TYPE_CHECKING:
    from bot.app import Bot

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ReplyOutcome:
    """What became of one email: the event dispatched, the core's answer
    (the texts of its replies) and whether it was dispatched for the first time."""

    event: InboundEmail
    answer: str
    dispatched: bool


def handle_reply(bot: Bot, msg: Message) -> ReplyOutcome | None:
    """Dispatch one email. Returns None for automatic mail (auto-replies,
    bounces, our own), which is ignored."""
    own = {bot.settings.mail.from_address.lower(),
           (bot.settings.polls.reply_address or "").lower()} - {""}
    if is_automatic(msg, own=own):
        return None
    event = to_event(msg)
    replies = bot.dispatch(event)
    answer = "\n\n".join(plain_times(r.message.text) for r in replies)
    return ReplyOutcome(event, answer, bool(replies))


class ImapReader:
    """Polls ``settings.folder`` for unseen messages and handles each."""

    def __init__(self, bot: Bot, settings: ImapSettings) -> None:
        self.bot = bot
        self.settings = settings
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def poll_once(self) -> list[ReplyOutcome]:
        """One pass: fetch unseen messages, handle them, flag them \\Seen."""
        s = self.settings
        out: list[ReplyOutcome] = []
        with IMAPClient(s.host, port=s.port, ssl=s.ssl, timeout=30) as client:
            client.login(s.username, s.password.get_secret_value())
            client.select_folder(s.folder)
            uids = client.search(["UNSEEN"])
            for start in range(0, len(uids), 50):
                batch = uids[start:start + 50]
                for uid, data in client.fetch(batch, ["RFC822"]).items():
                    raw = data.get(b"RFC822")
                    if not isinstance(raw, bytes):
                        continue
                    try:
                        result = handle_reply(self.bot, message_from_bytes(
                            raw, policy=policy.default))
                    except Exception:
                        log.exception("could not handle email uid %s; leaving it unseen", uid)
                        continue
                    client.add_flags([uid], [b"\\Seen"])
                    if result is not None:
                        out.append(result)
            client.logout()
        return out

    def start(self) -> Stopper:
        """Poll every ``poll_seconds`` in a thread; returns how to stop it."""
        def loop() -> None:
            while not self._stop.is_set():
                try:
                    self.poll_once()
                except Exception:
                    log.exception("IMAP poll of %s failed; retrying", self.settings.host)
                self._stop.wait(self.settings.poll_seconds)

        self._thread = threading.Thread(target=loop, name="imap-replies", daemon=True)
        self._thread.start()

        def stop() -> None:
            self._stop.set()
            if self._thread:
                self._thread.join(10)

        return stop
