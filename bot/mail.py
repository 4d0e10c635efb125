"""Outgoing mail: one interface, two transports.

:class:`MailTransport` is what the outbox worker sends through. The core ships
:class:`FileMailTransport` (RFC 5322 ``.eml`` files in a folder, the embedded
default); the SMTP transport lives in ``adapters/email`` and is plugged in when
``[smtp] host`` is set.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from email.headerregistry import BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.policy import default as default_policy
from email.utils import formataddr, formatdate, make_msgid
from pathlib import Path
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file attached to an email (an .ics invite, a chart)."""

    filename: str
    content_type: str
    data: bytes
    inline_cid: str | None = None


@dataclass(frozen=True, slots=True)
class OutgoingEmail:
    """An email to send. ``html`` is optional; ``text`` is always present.

    ``message_id`` is set by the sender for idempotence (derived from the outbox
    key) so a redelivery can be recognised by receivers.
    """

    to: tuple[str, ...]
    subject: str
    text: str
    html: str | None = None
    message_id: str | None = None
    reply_to: str | None = None
    in_reply_to: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    attachments: tuple[Attachment, ...] = field(default=())

    def to_payload(self) -> dict[str, Any]:
        """A JSON-ready dict for an outbox row (attachments base64-encoded)."""
        import base64

        return {
            "to": list(self.to), "subject": self.subject, "text": self.text, "html": self.html,
            "message_id": self.message_id, "reply_to": self.reply_to,
            "in_reply_to": self.in_reply_to, "headers": [list(h) for h in self.headers],
            "attachments": [
                {"filename": a.filename, "content_type": a.content_type,
                 "data": base64.b64encode(a.data).decode(), "inline_cid": a.inline_cid}
                for a in self.attachments
            ],
        }

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> OutgoingEmail:
        """The inverse of :meth:`to_payload`."""
        import base64

        return cls(
            to=tuple(data["to"]), subject=data["subject"], text=data["text"],
            html=data.get("html"), message_id=data.get("message_id"),
            reply_to=data.get("reply_to"), in_reply_to=data.get("in_reply_to"),
            headers=tuple((str(k), str(v)) for k, v in data.get("headers", [])),
            attachments=tuple(
                Attachment(a["filename"], a["content_type"], base64.b64decode(a["data"]),
                           a.get("inline_cid"))
                for a in data.get("attachments", [])
            ),
        )


class RememberedHeaders(HeaderRegistry):
    """The standard library's header registry, faster for batches of messages
    and giving the same headers (so the same bytes).

    The stock registry makes a new class for every header it parses and
    parses every value again (about 0.1 ms a header, twenty a message). Here
    the class of each header name is made once, and a parsed header whose
    value a batch repeats (From, Subject, MIME-Version, each part's
    Content-Type and Content-Transfer-Encoding) is remembered and shared: a
    parsed header is immutable (a ``str`` with its parse tree). Headers that
    differ from one message to the next (:data:`UNIQUE`) are parsed every time,
    not kept. ``limit``: how many are kept (all are forgotten once it is
    reached; a header takes a few kilobytes)."""

    #: Header names whose values are (nearly) never repeated by another message.
    UNIQUE = frozenset({"to", "cc", "bcc", "date", "message-id", "in-reply-to", "references"})

    def __init__(self, limit: int = 256) -> None:
        super().__init__()
        self.limit = limit
        self._classes: dict[str, type[BaseHeader]] = {}
        self._seen: dict[tuple[str, str], BaseHeader] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        key = name.lower()
        cls = self._classes.get(key)
        if cls is None:
            cls = self._classes[key] = super().__getitem__(name)
        return cls

    def __call__(self, name: str, value: Any) -> BaseHeader:
        if not isinstance(value, str) or name.lower() in self.UNIQUE:
            header: BaseHeader = super().__call__(name, value)
            return header
        key = (name, value)
        found = self._seen.get(key)
        if found is None:
            found = super().__call__(name, value)
            if len(self._seen) >= self.limit:
                self._seen.clear()
            self._seen[key] = found
        return found


#: email's default policy, its parsed headers remembered (see RememberedHeaders).
MAIL_POLICY: EmailPolicy[EmailMessage] = default_policy.clone(header_factory=RememberedHeaders())


def build_mime(email: OutgoingEmail, *, sender: str, sender_name: str = "",
               policy: EmailPolicy[EmailMessage] = MAIL_POLICY) -> EmailMessage:
    """The RFC 5322 message: multipart/alternative when there is HTML, with
    Date and Message-ID always set. ``policy``: the ``email`` policy it is
    built with; the default gives the same bytes as ``email.policy.default``
    (tests/core/test_mail_bytes.py), faster."""
    msg = EmailMessage(policy=policy)
    msg["From"] = formataddr((sender_name, sender)) if sender_name else sender
    msg["To"] = ", ".join(email.to)
    msg["Subject"] = email.subject
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    domain = sender.rsplit("@", 1)[-1] or "convene.local"
    msg["Message-ID"] = email.message_id or make_msgid(domain=domain)
    if email.reply_to:
        msg["Reply-To"] = email.reply_to
    if email.in_reply_to:
        msg["In-Reply-To"] = email.in_reply_to
        msg["References"] = email.in_reply_to
    for k, v in email.headers:
        msg[k] = v
    msg.set_content(email.text)
    if email.html is not None:
        msg.add_alternative(email.html, subtype="html")
    for a in email.attachments:
        maintype, _, subtype = a.content_type.partition("/")
        params: dict[str, Any] = {}
        if a.inline_cid and email.html is not None:
            html_part = msg.get_body(preferencelist=("html",))
            assert isinstance(html_part, EmailMessage)
            html_part.add_related(a.data, maintype=maintype, subtype=subtype.split(";")[0],
                                  cid=f"<{a.inline_cid}>", filename=a.filename)
            continue
        if maintype == "text" and subtype.split(";")[0].strip() == "calendar":
            # iMIP (RFC 6047): the iTIP method in the MIME type as in the file, as the
            # last alternative of the body, which is where Outlook and Google put it.
            params["params"] = _calendar_params(a.content_type)
            if not msg.is_multipart():
                msg.make_alternative()
            body = msg if msg.get_content_subtype() == "alternative" else None
            if body is not None:
                body.add_alternative(a.data, maintype="text", subtype="calendar",
                                     cte="base64", **params)
                continue
        msg.add_attachment(a.data, maintype=maintype, subtype=subtype.split(";")[0],
                           filename=a.filename, **params)
    return msg


def _calendar_params(content_type: str) -> dict[str, str]:
    """``method`` (default REQUEST) and ``charset`` (default UTF-8) of a
    ``text/calendar; method=CANCEL`` content type."""
    params = {"method": "REQUEST", "charset": "UTF-8"}
    for piece in content_type.split(";")[1:]:
        key, _, value = piece.partition("=")
        if key.strip().lower() in ("method", "charset") and value.strip():
            params[key.strip().lower()] = value.strip().strip('"').upper()
    return params


class NotHeld(Exception):
    """A message not sent because the outbox no longer holds its row (another
    replica took it over while this one was paused): the batch stops there."""

    def __init__(self) -> None:
        super().__init__("the outbox row was taken over by another worker")


class MailTransport(Protocol):
    """Sends messages. ``send`` raises on failure (the outbox retries);
    ``send_batch`` sends several over one connection and returns, per message,
    None or the exception that stopped it."""

    def send(self, message: EmailMessage) -> None: ...

    def send_batch(self, messages: list[EmailMessage]) -> list[BaseException | None]: ...

    # A transport may also accept ``on_sent: Callable[[int], object]`` on
    # ``send_batch``, called once message i was accepted, before the next is
    # sent: the outbox then records each message sent at once, so a replica
    # killed mid-batch leaves nothing accepted-but-unrecorded to send twice.
    # And ``before_send: Callable[[int], bool]``, called right before message i
    # leaves: False stops the batch (the row was taken over), the rest get
    # NotHeld. Without it the outbox sends one message per call, confirming
    # each row before it.


class FileMailTransport:
    """Writes each message as an ``.eml`` file under ``folder`` (the default).

    The file name comes from the Message-ID, so a redelivery overwrites the
    same file rather than adding a second one.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, message: EmailMessage) -> None:
        """Write ``message`` atomically (temp file, then rename)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        mid = str(message["Message-ID"] or make_msgid())
        name = re.sub(r"[^A-Za-z0-9._-]+", "_", mid.strip("<>"))[:180] + ".eml"
        tmp = self.folder / f".{name}.tmp"
        tmp.write_bytes(bytes(message))
        os.replace(tmp, self.folder / name)

    def send_batch(self, messages: list[EmailMessage], *,
                   on_sent: Callable[[int], object] | None = None,
                   before_send: Callable[[int], bool] | None = None
                   ) -> list[BaseException | None]:
        """Write each message; a failure is returned, not raised. ``on_sent(i)``
        after message ``i`` is written; ``before_send(i)`` before: False stops
        the batch (message ``i`` and the rest get :class:`NotHeld`)."""
        out: list[BaseException | None] = []
        for i, m in enumerate(messages):
            if before_send is not None and not before_send(i):
                return out + [NotHeld()] * (len(messages) - i)
            try:
                self.send(m)
                if on_sent is not None:
                    on_sent(i)
                out.append(None)
            except OSError as exc:
                out.append(exc)
        return out
