"""Core text -> inert Discord Markdown.

Plain strings are escaped (``* _ ~ ` | > [ ] \\``, a leading ``#`` or ``-``,
``<`` so that ``<@id>``/``<t:..>`` stay inert, and ``@everyone``/``@here``
broken with a zero-width space). Times become ``<t:EPOCH:F>`` (every reader
sees their own zone). Texts are cut with an ellipsis, never inside a span
(:func:`adapters.text.fit_pieces`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from adapters.discord.limits import URL
from adapters.text import Piece, fit_pieces
from adapters.text import plain as _plain
from bot.types import (
    TIME_TOKEN_RE,
    Code,
    Emphasis,
    Inline,
    Link,
    Mention,
    Strong,
    Time,
    inline,
    plain_times,
)

#: person id -> the Discord user id linked to that person (or None): lets a
#: Mention render as ``<@id>`` (which still pings nobody: allowed_mentions).
MentionLookup = Callable[[int], str | None]

ZWSP = "\u200b"

_ESCAPE = re.compile(r"([\\*_~`|>\[\]<])")
_LINE_START = re.compile(r"(?m)^(\s*)([#\-+]|\d+\.)")
_EVERYONE = re.compile(r"@(everyone|here)", re.IGNORECASE)
_SAFE_URL = re.compile(r"^https?://[^\s<>()]+$", re.IGNORECASE)
_PIECES = re.compile(TIME_TOKEN_RE.pattern + r"|[^\[]+|\[")



def plain(text: str, limit: int) -> str:
    """Plain text (no Markdown: modal titles, labels), stripped, time tokens as
    their fallback, at most ``limit`` characters."""
    return _plain(text, limit, strip=True)


def escape(text: str) -> str:
    """Plain text as inert Discord Markdown (see the module docstring)."""
    text = _ESCAPE.sub(r"\\\1", text)
    text = _LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), text)
    return _EVERYONE.sub(lambda m: "@" + ZWSP + m.group(1), text)


def timestamp(epoch: int | str) -> str:
    """``<t:EPOCH:F>``: a full date and time in each reader's own zone."""
    return f"<t:{int(epoch)}:F>"


def span_text(text: str) -> str:
    """Text inside ``**..**``/``*..*``/``[..]``: escaped, on one line."""
    return escape(plain_times(text)).replace("\n", " ")


def safe_url(url: str) -> str | None:
    """``url`` if it is an http(s) address Discord can link, else None."""
    url = url.strip()
    return url if _SAFE_URL.match(url) and len(url) <= URL else None


def _pieces(text: Inline, mentions: MentionLookup | None) -> Iterator[Piece]:
    """(rendered piece, may be split) for each piece of core rich text."""
    for piece in inline(text):
        if isinstance(piece, str):
            for m in _PIECES.finditer(piece):
                if m.group("epoch") is not None:
                    yield timestamp(m.group("epoch")), False
                else:
                    yield escape(m.group(0)), True
        elif isinstance(piece, Strong):
            yield (f"**{span_text(piece.text)}**", False) if piece.text.strip() else ("", False)
        elif isinstance(piece, Emphasis):
            yield (f"*{span_text(piece.text)}*", False) if piece.text.strip() else ("", False)
        elif isinstance(piece, Code):
            # Inside backticks nothing is Markdown; only a backtick could end it early.
            yield f"`{plain_times(piece.text).replace('`', chr(0x2CB))}`", False
        elif isinstance(piece, Link):
            url = safe_url(piece.url)
            label = span_text(piece.text or piece.url)
            yield (f"[{label}]({url})" if url else label), False
        elif isinstance(piece, Mention):
            user = mentions(piece.person_id) if mentions else None
            yield (f"<@{user}>" if user and user.isdigit() else f"@{span_text(piece.name)}",
                   False)
        elif isinstance(piece, Time):
            yield timestamp(piece.epoch), False


def _no_dangling_escape(cut: str) -> str:
    return cut[:-1] if cut.endswith("\\") else cut


def markdown(text: Inline, limit: int, *, mentions: MentionLookup | None = None) -> str:
    """``text`` (a core string with time tokens, or rich text) as Discord
    Markdown of at most ``limit`` characters; a cut text ends with an ellipsis."""
    return fit_pieces(_pieces(text, mentions), limit, trim=_no_dangling_escape)
