"""Feed sources: what to fetch, and OPML import.

A source is an http(s) URL or a local path. ``weight`` scales its items'
rank (1.0 neutral); ``language`` (en, fr, es) overrides detection.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class FeedSource:
    """One source to fetch. ``etag``/``last_modified``: validators of the last
    200 response (for a conditional GET), or None."""

    url: str
    title: str = ""
    weight: float = 1.0
    language: str | None = None
    etag: str | None = None
    last_modified: str | None = None

    @property
    def is_remote(self) -> bool:
        """True for http(s) URLs, False for local paths (and file: URLs)."""
        return self.url.startswith(("http://", "https://"))


class OpmlError(ValueError):
    """The OPML file cannot be read; the message says why."""


def parse_opml(data: bytes) -> list[FeedSource]:
    """The feeds of an OPML 1/2 document: every ``outline`` with ``xmlUrl``.

    ``language`` comes from an outline's ``language`` attribute when it is
    en/fr/es, ``weight`` from a ``weight`` attribute when numeric. Raises
    OpmlError on malformed XML.
    """
    # The operator's own file; expat resolves no external entities.
    try:
        root = ET.fromstring(data)  # noqa: S314
    except ET.ParseError as exc:
        raise OpmlError(f"not well-formed OPML: {exc}") from None
    out: list[FeedSource] = []
    seen: set[str] = set()
    for node in root.iter("outline"):
        url = (node.get("xmlUrl") or "").strip()
        if not url or url in seen:
            continue
        seen.add(url)
        lang = (node.get("language") or "").lower()[:2] or None
        try:
            weight = float(node.get("weight") or 1.0)
        except ValueError:
            weight = 1.0
        out.append(FeedSource(url=url, title=node.get("title") or node.get("text") or "",
                              weight=weight, language=lang if lang in ("en", "fr", "es")
                              else None))
    return out


def read_opml(path: Path) -> list[FeedSource]:
    """:func:`parse_opml` on a file. Raises OSError or OpmlError."""
    return parse_opml(path.read_bytes())
