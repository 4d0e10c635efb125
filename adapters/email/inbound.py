"""An email as the core's :class:`~bot.types.InboundEmail`: generic MIME
mechanics only (which part is the text, HTML turned to text, the addresses,
the Message-IDs it answers, the receiving server's Authentication-Results).
What the email means is for the capability that minted the Message-ID it
answers; this module knows none."""

from __future__ import annotations

import re
from email.message import EmailMessage, Message
from email.utils import getaddresses, parseaddr

import lxml.etree
import lxml.html

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
        text = html_text(text)
    return text.replace("\r\n", "\n").replace("\ufeff", "")


#: Elements that hold quoted history in the HTML of Gmail, Apple Mail,
#: Thunderbird, Yahoo and Outlook (XPath).
_QUOTES = ("//blockquote"
           " | //*[contains(concat(' ', normalize-space(@class), ' '), ' gmail_quote ')]"
           " | //*[@type='cite'] | //*[contains(@class, 'moz-cite-prefix')]"
           " | //*[contains(@class, 'yahoo_quoted')]")
#: Outlook's header block of the message answered: it and all after it are history.
_HISTORY = "//*[@id='divRplyFwdMsg' or @id='mail-editor-reference-message-container']"
_BLOCKS = frozenset({"p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table"})


def html_text(markup: str) -> str:
    """The text of an HTML body: quoted history (Gmail's ``gmail_quote``, any
    ``blockquote``, Apple's ``type=cite``, Outlook's header block and all that
    follows it) becomes a single ``>`` line, so the reply reader never takes
    it for the person's words; line breaks kept. Parsed with lxml."""
    try:
        doc = lxml.html.document_fromstring(markup)
    except (ValueError, lxml.etree.ParserError):
        return ""
    for el in doc.xpath("//style | //script | //head"):
        el.drop_tree()
    for mark in doc.xpath(_HISTORY)[:1]:
        for node in [mark, *mark.iterancestors()]:
            for later in list(node.itersiblings()):
                later.drop_tree()
        mark.drop_tree()
        doc.append(lxml.html.fromstring("<p>&gt;</p>"))
    quotes = doc.xpath(_QUOTES)
    inside = set(quotes)
    for el in quotes:
        if el.getparent() is not None and not any(a in inside for a in el.iterancestors()):
            quote = lxml.html.fromstring("<p>&gt;</p>")
            quote.tail = el.tail
            el.getparent().replace(el, quote)
    for el in doc.iter():
        if not isinstance(el.tag, str):
            continue
        if el.tag == "br":
            el.tail = "\n" + (el.tail or "")
        elif el.tag in _BLOCKS or el.tag == "hr":
            el.tail = "\n" + (el.tail or "")
            if el.tag == "hr":
                el.tail = "\n________________________________\n" + (el.tail or "")
    return str(doc.text_content()).replace("\xa0", " ")


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
