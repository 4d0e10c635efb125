"""Ballot replies read from an IMAP mailbox (IMAPClient).

Each unseen message is read (:mod:`adapters.email.replies`), turned into a
``poll.stance`` ButtonPress (or a ``poll.reason`` FormSubmission when it has a
reason) by the sender's address, and dispatched like any other channel; the
core checks the role. The person is answered by email with what the core
said: the recorded stance, or why nothing was recorded (unknown sender,
observer, closed round, no stance word). The reply's Message-ID is the event
id, so a message read twice counts once.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import Message
from typing import TYPE_CHECKING

from imapclient import IMAPClient

from adapters.email.replies import Ballot, is_automatic, read_ballot
from bot.errors import N_
from bot.i18n import translator
from bot.mail import OutgoingEmail
from bot.outbox import enqueue_email
from bot.plugins import Stopper
from bot.settings import ImapSettings
from bot.types import Actor, ButtonPress, Conversation, FormSubmission, Reply, plain_times

if TYPE_CHECKING:
    from bot.app import Bot

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ReplyOutcome:
    """What became of one reply: the ballot read and the core's answer."""

    ballot: Ballot
    answer: str
    dispatched: bool


def _answer(bot: Bot, ballot: Ballot, text: str) -> None:
    """Queue the answer to the sender (once per reply Message-ID)."""
    subject = ballot.subject if ballot.subject.lower().startswith("re:") else \
        f"Re: {ballot.subject}".strip()
    key = f"poll-reply:{ballot.message_id or ballot.sender}"[:255]
    with bot.session_factory() as session, session.begin():
        enqueue_email(session=session, key=key, email=OutgoingEmail(
            to=(ballot.sender,), subject=subject, text=text,
            in_reply_to=ballot.message_id or None,
            headers=(("Auto-Submitted", "auto-replied"),)))


def handle_reply(bot: Bot, msg: Message) -> ReplyOutcome | None:
    """Read one reply, dispatch its stance and queue the answer. Returns None
    for automatic mail (auto-replies, bounces, our own), which is ignored."""
    own = {bot.settings.mail.from_address.lower(),
           (bot.settings.polls.reply_address or "").lower()} - {""}
    if is_automatic(msg, own=own):
        return None
    ballot = read_ballot(msg)
    tr = translator(bot.settings.default_language)
    if ballot.poll_id is None or ballot.round_no is None:
        text = tr.gettext(N_("I could not tell which proposal your email answers. Reply to "
                             "the ballot email itself, keeping [poll #N/R] in the subject."))
        _answer(bot, ballot, text)
        return ReplyOutcome(ballot, text, False)
    if ballot.stance is None:
        text = tr.gettext(N_("I found no stance on the first line of your email. Write agree, "
                             "abstain, disagree or block on the first line and your reason "
                             "below it."))
        _answer(bot, ballot, text)
        return ReplyOutcome(ballot, text, False)
    actor = Actor("email", "", ballot.sender)
    where = Conversation("email", "", ballot.sender, is_direct=True)
    value = f"{ballot.poll_id}:{ballot.round_no}:{ballot.stance}"
    event_id = f"reply:{ballot.message_id}" if ballot.message_id else ""
    event: ButtonPress | FormSubmission
    if ballot.reason:
        event = FormSubmission("poll.reason", (("reason", ballot.reason),), actor, where,
                               event_id, context=value)
    else:
        event = ButtonPress("poll.stance", value, actor, where, event_id)
    replies: list[Reply] = bot.dispatch(event)
    if not replies:  # the same message was read before: it was answered then
        return ReplyOutcome(ballot, "", False)
    texts = [plain_times(r.message.text) for r in replies]
    if any(r.message.form is not None for r in replies):
        texts.append(tr.gettext(N_("Reply again with the stance on the first line and your "
                                   "reason below it.")))
    text = "\n\n".join(texts)
    _answer(bot, ballot, text)
    return ReplyOutcome(ballot, text, True)


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
                        log.exception("could not handle reply uid %s; leaving it unseen", uid)
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
