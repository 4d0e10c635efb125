"""Cutting rendered chat text to a platform's limit, for every adapter.

An adapter renders core rich text as a sequence of pieces, each ``(text, may
be split)``: plain runs may be cut anywhere the adapter allows, a span
(``*bold*``, ``<url|label>``, ``<t:1700000000:F>``) only whole. Both Slack's
mrkdwn and Discord's Markdown are cut the same way: whole pieces while they
fit, then as much of a splittable piece as fits, then an ellipsis.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from bot.types import plain_times

ELLIPSIS = "…"

Piece = tuple[str, bool]


def fit_pieces(pieces: Iterable[Piece], limit: int, *,
               trim: Callable[[str], str] = lambda cut: cut) -> str:
    """The pieces joined, at most ``limit`` characters; a cut text ends with
    :data:`ELLIPSIS` and is never cut inside an unsplittable piece. ``trim``
    fixes the end of a split piece (Discord drops a dangling backslash)."""
    pieces = list(pieces)
    if sum(len(p) for p, _ in pieces) <= limit:
        return "".join(p for p, _ in pieces)
    out: list[str] = []
    room = limit - len(ELLIPSIS)
    for piece, splittable in pieces:
        if len(piece) <= room:
            out.append(piece)
            room -= len(piece)
            continue
        if splittable and room > 0:
            out.append(trim(piece[:room]))
        break
    return "".join(out).rstrip() + ELLIPSIS


def plain(text: str, limit: int, *, strip: bool = False) -> str:
    """Plain text (no markup: modal titles, labels, placeholders) with time
    tokens shown as their fallback, at most ``limit`` characters (cut with an
    ellipsis). ``strip`` removes surrounding white space first."""
    text = plain_times(text)
    if strip:
        text = text.strip()
    return text if len(text) <= limit else text[: limit - len(ELLIPSIS)].rstrip() + ELLIPSIS
