"""An email as the core's :class:`~bot.types.InboundEmail`: generic MIME
mechanics only (which part is the text, HTML turned to text, the addresses,
the Message-IDs it answers, the receiving server's Authentication-Results).
What the email means is for the capability that minted the Message-ID it
answers; this module knows none."""

from __future__ import annotations

import html
import re
from email.message import EmailMessage, Message
from email.utils import getaddresses, parseaddr

from bot.types import Actor, Attachment, Conversation, InboundEmail

_MSGID = re.compile(r"<[^<>\s]+>")


def body_text(msg: Message) -> str:
    """The message's text: its first text/plain part, else its HTML with tags
    removed (quoted blocks become a ``>`` line, so they stay quoted)."""
    part = msg.get_body(preferencelist=("plain", "html")) if isinstance(msg, EmailMessage) \
        else None
    if part is None:
        return ""
    content = part.get_content()
    text = content if isinstance(content, str) else content.decode("utf-8", "replace")
    if part.get_content_subtype() == "html":
        text = re.sub(r"(?is)<(style|script|blockquote).*?</\1>", "\n>\n", text)
        text = re.sub(r"(?i)<br\s*/?>|</p>|</div>", "\n", text)
        text = html.unescape(re.sub(r"<[^>]+>", "", text))
    return text.replace("\r\n", "\n").replace("\ufeff", "")


def is_automatic(msg: Message, *, own: set[str]) -> bool:
    """True for auto-replies, bounces, lists and our own messages (never
    dispatched, so two robots cannot answer each other forever; RFC 3834)."""
    auto = str(msg.get("Auto-Submitted", "no")).strip().lower()
    prec = str(msg.get("Precedence", "")).strip().lower()
    sender = parseaddr(str(msg.get("From", "")))[1].strip().lower()
    froms = {a.lower() for _, a in getaddresses([str(msg.get("From", ""))])}
    return (auto not in ("", "no") or prec in ("bulk", "junk", "list")
            or bool(msg.get("X-Autoreply")) or not sender or bool(froms & own)
            or sender.startswith(("mailer-daemon@", "postmaster@")))


def _parts(msg: Message) -> tuple[Attachment, ...]:
    out: list[Attachment] = []
    for part in msg.walk():
        body = part.get_content_maintype() == "text" and \
            part.get_content_subtype() in ("plain", "html") and not part.get_filename()
        if part.is_multipart() or body:
            continue
        data = part.get_payload(decode=True)
        if isinstance(data, bytes):
            out.append(Attachment(part.get_filename() or "", str(part.get("Content-Type", "")),
                                  data))
    return tuple(out)


def to_event(msg: Message) -> InboundEmail:
    """``msg`` (parsed with ``email.policy.default``) as an InboundEmail:
    actor = the From address (lower case; claimed, not proven), event id =
    the Message-ID, In-Reply-To and References as Message-IDs, the
    Authentication-Results values top first."""
    sender = parseaddr(str(msg.get("From", "")))[1].strip().lower()
    refs = tuple(_MSGID.findall(" ".join(str(v) for v in msg.get_all("References", []))))
    in_reply_to = next(iter(_MSGID.findall(str(msg.get("In-Reply-To", "")))), "")
    return InboundEmail(
        actor=Actor("email", "", sender),
        where=Conversation("email", "", sender, is_direct=True),
        event_id=str(msg.get("Message-ID", "")).strip(),
        subject=" ".join(str(msg.get("Subject", "")).split()),
        text=body_text(msg),
        in_reply_to=in_reply_to,
        references=refs,
        authentication_results=tuple(" ".join(str(v).split())
                                     for v in msg.get_all("Authentication-Results", [])),
        parts=_parts(msg),
    )
