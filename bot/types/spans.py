"""Inline text without any platform's markup: spans (strong, emphasis, code,
link, mention, time), :data:`Inline` rich text, and time tokens in plain text."""

from __future__ import annotations

import re as _re
from dataclasses import dataclass
from datetime import datetime as _datetime

# Inline spans: rich text without any platform's markup. A plain ``str`` span is
# literal text (each adapter escapes it for its own syntax); the others say what
# they are, and each adapter renders them its way (a chat platform's
# markup, HTML in email, plain text on a terminal).


@dataclass(frozen=True, slots=True)
class Strong:
    """Bold text."""

    text: str


@dataclass(frozen=True, slots=True)
class Emphasis:
    """Italic text."""

    text: str


@dataclass(frozen=True, slots=True)
class Code:
    """Inline code (an id, a command to type)."""

    text: str


@dataclass(frozen=True, slots=True)
class Link:
    """A hyperlink: ``url`` must be http(s) or mailto (adapters drop others and
    show ``text``); ``text`` defaults to the URL."""

    url: str
    text: str = ""


@dataclass(frozen=True, slots=True)
class Mention:
    """A roster person: ``person_id`` (storage ``people.id``) and ``name`` shown
    where the platform cannot resolve the person to one of its users."""

    person_id: int
    name: str


@dataclass(frozen=True, slots=True)
class Time:
    """A moment each adapter shows in its reader's local time (a chat
    platform's date token); ``epoch`` in seconds (UTC);
    ``fallback`` is written by the core in the recipient's zone, with the zone named."""

    epoch: int
    fallback: str


Span = Strong | Emphasis | Code | Link | Mention | Time
#: Rich text: a plain string (literal), or a tuple of strings and spans.
Inline = str | tuple["str | Span", ...]


_SAFE_URL = _re.compile(r"^(https?://[^\s<>\"]+|mailto:[^\s<>\"]+)$", _re.IGNORECASE)


def is_safe_url(url: str) -> bool:
    """Whether ``url`` may be shown as a link: http(s) or mailto, no spaces,
    angle brackets or quotes (never ``javascript:`` or ``data:``)."""
    return bool(_SAFE_URL.match(url.strip())) and len(url) <= 3000


def inline(text: Inline) -> tuple[str | Span, ...]:
    """``text`` as a tuple of pieces (a plain string becomes a one-piece tuple)."""
    return (text,) if isinstance(text, str) else text


def inline_plain(text: Inline) -> str:
    """``text`` as plain text: links as ``text (url)``, mentions as ``@name``,
    times as their fallback (time tokens in strings too)."""
    out: list[str] = []
    for piece in inline(text):
        if isinstance(piece, str):
            out.append(plain_times(piece))
        elif isinstance(piece, Link):
            if not is_safe_url(piece.url):
                out.append(piece.text)
            elif piece.text and piece.text != piece.url:
                out.append(f"{piece.text} ({piece.url})")
            else:
                out.append(piece.url)
        elif isinstance(piece, Mention):
            out.append(f"@{piece.name}")
        elif isinstance(piece, Time):
            out.append(piece.fallback)
        else:
            out.append(piece.text)
    return "".join(out)


# --- times in text ----------------------------------------------------------------

#: ``[[time:EPOCH|fallback]]`` inside message text: a moment each adapter shows in
#: its reader's local time (a platform's date token); adapters
#: that cannot localise show the fallback, which the core writes in the
#: recipient's zone.
TIME_TOKEN_RE = _re.compile(r"\[\[time:(?P<epoch>-?\d+)\|(?P<fallback>[^\]]*)\]\]")


def time_token(moment: _datetime, fallback: str) -> str:
    """Embed ``moment`` (aware datetime) in text. Raises ValueError if naive."""
    if moment.tzinfo is None:
        raise ValueError("time_token needs an aware datetime")
    return f"[[time:{int(moment.timestamp())}|{fallback.replace(']', ')')}]]"


def plain_times(text: str) -> str:
    """Replace every time token in ``text`` by its fallback."""
    return TIME_TOKEN_RE.sub(lambda m: m.group("fallback"), text)
