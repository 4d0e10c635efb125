"""Reading a ballot reply: the new text, without quoted history or signature,
the stance word on its first line, the reason below, and which proposal it
answers.

Quoted history starts at the first of: a ``>`` line; an attribution ending in
"wrote:" / "a écrit :" / "escribió:" / "schrieb:" / "написал:" (possibly wrapped
over up to three lines); an Outlook header block ("From: ... Sent: ..."); an
"Original Message" rule; a line of underscores. A signature starts at
``-- `` or "Sent from my ..." (and its French and Spanish forms).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from email.message import EmailMessage, Message
from email.utils import getaddresses, parseaddr

from bot.polls.words import read_stance

_ATTRIBUTION_END = re.compile(
    r"(wrote|a\s+[ée]crit|escribi[óo]|schrieb|написал|написала|skrev)\s*:\s*$", re.I)
_RULES = re.compile(
    r"^\s*(-{2,}\s*(original message|message d'origine|mensaje original|forwarded message)"
    r".*|_{6,}\s*|-{3}\s*on .*)$", re.I)
_HEADER_START = re.compile(r"^\s*\*?(from|de|von)\s*:\*?\s", re.I)
_HEADER_NEXT = re.compile(r"^\s*\*?(sent|date|envoy[ée]|enviado|gesendet|to|[àa]|para)"
                          r"\s*:", re.I)
_SIGNATURE = re.compile(r"^\s*(--\s*|sent from my .*|envoy[ée] de mon .*|enviado desde mi .*"
                        r"|get outlook for .*)$", re.I)
_POLL_TAG = re.compile(r"\[poll #(\d+)/(\d+)\]")
_POLL_MSGID = re.compile(r"<poll-(\d+)-r(\d+)-")


@dataclass(frozen=True, slots=True)
class Ballot:
    """What a reply says: ``stance`` (None when no stance word starts it),
    ``reason`` (the lines below), and the proposal and round it answers
    (None when it cannot be told)."""

    sender: str
    message_id: str
    stance: str | None
    reason: str
    poll_id: int | None
    round_no: int | None
    subject: str


def body_text(msg: Message) -> str:
    """The message's text: its first text/plain part, else its HTML with tags
    removed."""
    if isinstance(msg, EmailMessage):
        part = msg.get_body(preferencelist=("plain", "html"))
    else:  # pragma: no cover - we always parse with policy=default
        part = None
    if part is None:
        return ""
    content = part.get_content()
    text = content if isinstance(content, str) else content.decode("utf-8", "replace")
    if part.get_content_subtype() == "html":
        text = re.sub(r"(?is)<(style|script|blockquote).*?</\1>", "\n>\n", text)
        text = re.sub(r"(?i)<br\s*/?>|</p>|</div>", "\n", text)
        text = html.unescape(re.sub(r"<[^>]+>", "", text))
    return text.replace("\r\n", "\n").replace("\ufeff", "")


def new_text(text: str) -> str:
    """``text`` cut before the quoted history and the signature."""
    lines = text.split("\n")
    cut = len(lines)
    for i, line in enumerate(lines):
        s = line.strip()
        if s.startswith(">") or _RULES.match(line) or _SIGNATURE.match(line):
            cut = i
            break
        if _ATTRIBUTION_END.search(s):
            start = i
            while start > 0 and i - start < 2 and lines[start - 1].strip():
                start -= 1
            cut = start
            break
        if _HEADER_START.match(line) and any(_HEADER_NEXT.match(n) for n in lines[i + 1:i + 5]):
            cut = i
            break
    return "\n".join(lines[:cut]).strip()


def which_poll(msg: Message) -> tuple[int | None, int | None]:
    """(proposal id, round) from the subject tag ``[poll #12/2]`` or from the
    ballot's Message-ID in In-Reply-To/References."""
    m = _POLL_TAG.search(str(msg.get("Subject", "")))
    if m:
        return int(m.group(1)), int(m.group(2))
    refs = f"{msg.get('In-Reply-To', '')} {msg.get('References', '')}"
    m = _POLL_MSGID.search(refs)
    if m:
        return int(m.group(1)), int(m.group(2))
    return None, None


def read_ballot(msg: Message) -> Ballot:
    """Read a reply (parsed with ``email.policy.default``)."""
    sender = parseaddr(str(msg.get("From", "")))[1].strip().lower()
    text = new_text(body_text(msg))
    lines = [ln for ln in text.split("\n")]
    while lines and not lines[0].strip():
        lines.pop(0)
    stance, reason = None, ""
    if lines:
        found = read_stance(lines[0])
        if found:
            stance = found[0]
            reason = "\n".join([found[1], *lines[1:]]).strip()
    poll_id, round_no = which_poll(msg)
    return Ballot(sender, str(msg.get("Message-ID", "")).strip(), stance, reason, poll_id,
                  round_no, str(msg.get("Subject", "")).strip())


def is_automatic(msg: Message, *, own: set[str]) -> bool:
    """True for auto-replies, bounces, lists and our own messages (never answered,
    so two robots cannot reply to each other forever)."""
    auto = str(msg.get("Auto-Submitted", "no")).strip().lower()
    prec = str(msg.get("Precedence", "")).strip().lower()
    sender = parseaddr(str(msg.get("From", "")))[1].strip().lower()
    froms = {a.lower() for _, a in getaddresses([str(msg.get("From", ""))])}
    return (auto not in ("", "no") or prec in ("bulk", "junk", "list")
            or bool(msg.get("X-Autoreply")) or not sender or bool(froms & own)
            or sender.startswith(("mailer-daemon@", "postmaster@")))
