"""Reading a ballot reply's text: the new text without quoted history,
signature or sign-off, the stance on its first line, the reason below,
unwrapped.

Quoted history starts at the first of: a ``>`` line; an attribution ending in
"wrote:" / "a écrit :" / "escribió:" / "schrieb:" / "написал:" (possibly wrapped
over up to three lines); an Outlook header block ("From: ... Sent: ..."); an
"Original Message" rule; a line of underscores. A signature starts at
``-- `` or "Sent from my ..." (and its French and Spanish forms). What is left
goes through mail-parser-reply (en/fr/es headers, signatures and disclaimers)
and a sign-off cut ("Best regards", "Cordialement", "Saludos" and a few short
lines after it, at the end).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mailparser_reply import EmailReplyParser

from bot.polls.reading import read_stance_text
from bot.polls.words import fold, read_stance

_ATTRIBUTION_END = re.compile(
    r"(wrote|a\s+[ée]crit|escribi[óo]|schrieb|написал|написала|skrev)\s*:\s*$", re.I)
_RULES = re.compile(
    r"^\s*(-{2,}\s*(original message|message d'origine|mensaje original|forwarded message)"
    r".*|_{6,}\s*|-{3,}\s*on .*)$", re.I)
_HEADER_START = re.compile(r"^\s*\*?(from|de|von)\s*:\*?\s", re.I)
_HEADER_NEXT = re.compile(r"^\s*\*?(sent|date|envoy[ée]|enviado|gesendet|to|[àa]|para)"
                          r"\s*:", re.I)
_SIGNATURE = re.compile(r"^\s*(--\s*|sent from my .*|envoy[ée] de(puis)? mon .*"
                        r"|enviado desde mi .*|get outlook for .*)$", re.I)
#: Sign-offs (folded), alone on their line, optionally with , . or !
_SIGNOFF = re.compile(
    r"^(best( regards| wishes)?|(kind |warm |many )?regards|thanks( again)?|thank you|cheers"
    r"|all the best|sincerely|yours( sincerely)?|(bien )?cordialement|bien a (vous|toi)"
    r"|(un grand )?merci( beaucoup)?|salutations( distinguees)?|amicalement|bonne journee"
    r"|a bientot|bises|(un )?saludos?( cordiales)?|atentamente|(muchas )?gracias|cordialmente"
    r"|un abrazo|abrazos)\s*[,.!]?$")
_LIST_ITEM = re.compile(r"^\s*([-*•\u2022]|\d+[.)])\s")
_PARSER = EmailReplyParser(languages=["en", "fr", "es"])


def new_text(text: str) -> str:
    """``text`` cut before the quoted history and the signature."""
    lines = text.replace("\r\n", "\n").replace("\ufeff", "").split("\n")
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


def _library_cut(text: str) -> str:
    """What mail-parser-reply keeps of ``text`` as the latest reply's body
    (headers, signatures and disclaimers it recognises removed); hyphen lists
    are kept (they are reasons, not signatures)."""
    from mailparser_reply.parser import EmailMessage

    msg = EmailMessage(text=text, languages=list(_PARSER.languages), keep_hyphen_lists=True)
    replies = msg.read().replies
    if not replies:
        return text
    body = replies[0].body
    return body if body.strip() else text


def without_signoff(lines: list[str]) -> list[str]:
    """``lines`` without a trailing sign-off: a sign-off line followed by at most
    four short lines (a name, an organisation) up to the end."""
    for i, line in enumerate(lines):
        if i == 0 or not _SIGNOFF.match(fold(line)):
            continue
        tail = [t for t in lines[i + 1:] if t.strip()]
        if len(tail) <= 4 and all(len(t.split()) <= 6 for t in tail):
            return lines[:i]
    return lines


def unwrap(text: str) -> str:
    """Join hard-wrapped lines into paragraphs (blank lines kept as paragraph
    breaks; list items and lines after a colon kept on their own line)."""
    paragraphs: list[str] = []
    for para in re.split(r"\n\s*\n", text.strip()):
        out: list[str] = []
        for line in para.split("\n"):
            line = line.strip()
            if not line:
                continue
            if out and not _LIST_ITEM.match(line) and not out[-1].endswith(":"):
                out[-1] = f"{out[-1]} {line}"
            else:
                out.append(line)
        if out:
            paragraphs.append("\n".join(out))
    return "\n\n".join(paragraphs)


@dataclass(frozen=True, slots=True)
class Reading:
    """What a reply says: ``stance`` (None: unreadable, nothing to record),
    ``reason`` (unwrapped, without quotes and sign-off) and ``first_line`` (the
    line the stance was looked for on, for the answer)."""

    stance: str | None
    reason: str
    first_line: str


def own_text(text: str) -> str:
    """The person's own words in a reply: above the quoted history (or, in a
    bottom-posted reply, below it), without signature or sign-off."""
    kept = _library_cut(new_text(text))
    if not kept.strip():
        # Bottom-posted: the quote first, the answer after its last line.
        lines = text.replace("\r\n", "\n").split("\n")
        last = max((i for i, line in enumerate(lines) if line.strip().startswith(">")),
                   default=-1)
        kept = new_text("\n".join(lines[last + 1:])) if last >= 0 else ""
    lines = kept.split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    return "\n".join(without_signoff(lines)).strip()


#: A reply this short is the stance alone, with no reason in it.
_BARE_WORDS = 5


def read_reply(text: str) -> Reading:
    """Read a reply's decoded text: its own words (:func:`own_text`) as a
    person would (:func:`bot.polls.reading.read_stance_text`: negation,
    conditions, questions, several stances). The reason is what follows a
    leading stance phrase (``Block: too costly``), else the whole text unless
    it is only a few words (``Je m'abstiens.``). Stance None: ask again."""
    own = own_text(text)
    lines = own.split("\n")
    first = lines[0].strip() if lines else ""
    if not own:
        return Reading(None, "", "")
    stance = read_stance_text(own)
    if stance is None:
        return Reading(None, "", first)
    found = read_stance(first)
    if found is not None and found[0] == stance:
        rest = found[1]
        body = [rest, *lines[1:]] if rest else lines[1:]
        return Reading(stance, unwrap("\n".join(body)), first)
    whole = unwrap(own)
    return Reading(stance, "" if len(whole.split()) <= _BARE_WORDS else whole, first)
