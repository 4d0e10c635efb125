"""Parse a feed body (feedparser-rs or feedparser) and normalise its entries.

Normalised entry: canonical URL (tracking parameters stripped, Google Alerts
redirects resolved to their target), plain text title and summary (feed HTML
goes through nh3 first, so scripts and styles lose their content too), an
aware UTC published time (missing: the fetch time) and a language (en, fr,
es or other, detected by :mod:`digests.parse.language`).
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import nh3

from digests.parse.language import LANGUAGE_BATCH, LANGUAGES, detect_languages
from digests.parse.readers import RawEntry, read_feed

SUMMARY_CHARS = 600

_TRACKING = re.compile(
    r"^(utm_\w+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|igshid|ref_src|_hsenc|_hsmi|"
    r"ncid|cmpid|ocid|sr_share|__twitter_impression|wt\.mc_id|at_medium|at_campaign)$", re.I)
_SPACE = re.compile(r"\s+")
_BLOCK = re.compile(r"<\s*(?:br|/?p|/?div|/?li|/?ul|/?ol|/?h[1-6]|/?blockquote|/?tr|/?table|"
                    r"/?section|/?article|hr)\b[^>]*>", re.I)
_BREAKS = re.compile(r"\s*\n\s*\n\s*")
_REDIRECTORS = {("www.google.com", "/url"), ("google.com", "/url"), ("news.google.com", "/url")}


@dataclass(slots=True)
class Entry:
    """One normalised feed entry. ``published_at``: aware datetime, UTC."""

    canonical_url: str
    link: str
    title: str
    summary: str
    published_at: datetime
    language: str
    feed_url: str
    feed_title: str
    weight: float = 1.0
    #: False when the feed gave no date: ``published_at`` is when it was first seen.
    dated: bool = True

    def to_data(self) -> dict[str, Any]:
        """JSON-ready dict (the time as ISO 8601)."""
        d = asdict(self)
        d["published_at"] = self.published_at.isoformat()
        return d

    @classmethod
    def from_data(cls, d: dict[str, Any]) -> Entry:
        """The inverse of :meth:`to_data`."""
        known = {f: d[f] for f in cls.__dataclass_fields__ if f in d}
        return cls(**{**known, "published_at": datetime.fromisoformat(d["published_at"])})


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A parsed body: ``bozo`` is feedparser's flag, ``bozo_reason`` its
    exception as text (a bozo feed that still yields entries is used);
    ``declared``: the feed's own language code (two letters, may be empty)."""

    title: str
    entries: list[Entry]
    bozo: bool
    bozo_reason: str | None
    declared: str = ""
    #: Which parser read it (feedparser-rs, or feedparser as the fallback).
    parser: str = "feedparser"


def canonical_url(url: str) -> str:
    """Resolve a Google redirect to its target, lower-case scheme and host, drop
    the fragment, default ports and tracking parameters (utm_*, fbclid...)."""
    url = html.unescape(url.strip())
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if (host, parts.path) in _REDIRECTORS:
        q = dict(parse_qsl(parts.query))
        target = q.get("url") or q.get("q")
        if target and target.startswith(("http://", "https://")):
            return canonical_url(target)
    if not parts.scheme or not host:
        return url
    netloc = host
    if parts.port and not ((parts.scheme == "http" and parts.port == 80)
                           or (parts.scheme == "https" and parts.port == 443)):
        netloc = f"{host}:{parts.port}"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                       if not _TRACKING.match(k)]) if parts.query else ""
    path = parts.path or "/"
    return urlunsplit((parts.scheme.lower(), netloc, path, query, ""))


def plain_text(markup: str, *, limit: int | None = None, paragraphs: bool = False) -> str:
    """Feed HTML as plain text: every tag removed by nh3 (script and style
    content dropped), entities decoded, whitespace collapsed; block elements
    (p, br, div, li, headings) separate words, and with ``paragraphs`` they
    stay paragraph breaks (``"\n\n"``); cut at ``limit`` characters on a
    word boundary with an ellipsis."""
    if not markup:
        return ""
    if "<" in markup or "&" in markup:
        markup = _BLOCK.sub("\n\n", markup)
        markup = html.unescape(nh3.clean(markup, tags=set()))
    if paragraphs:
        parts = (_SPACE.sub(" ", p).strip() for p in _BREAKS.split(markup))
        text = "\n\n".join(p for p in parts if p)
    else:
        text = _SPACE.sub(" ", markup).strip()
    if limit is not None and len(text) > limit:
        text = text[:limit].rsplit(" ", 1)[0].rstrip(",;:.") + "…"
    return text


def settle_languages(pending: Sequence[tuple[Entry, str]]) -> None:
    """Set the language of each entry of ``pending`` (entry, the feed's
    declared language) from its title and summary, ``LANGUAGE_BATCH`` at a
    time (only one batch's texts exist at once)."""
    for lo in range(0, len(pending), LANGUAGE_BATCH):
        batch = pending[lo:lo + LANGUAGE_BATCH]
        found = detect_languages([f"{e.title}. {e.summary}" for e, _ in batch])
        for (e, declared), lang in zip(batch, found, strict=True):
            if (lang == "other" and declared in LANGUAGES
                    and len(e.title) + len(e.summary) < 160):
                lang = declared  # too little text to overrule the feed's own declaration
            e.language = lang


def _summary_markup(raw: RawEntry) -> str:
    return raw.summary or raw.content


def parse_feed(body: bytes, *, feed_url: str, fetched_at: datetime, weight: float = 1.0,
               language: str | None = None, feed_title: str = "",
               detect: bool = True, fast: bool = True) -> ParsedFeed:
    """Parse ``body`` (the raw bytes: :func:`digests.parse.readers.read_feed`,
    feedparser-rs where it is faithful, else feedparser, which sniffs the
    encoding from the XML declaration and the bytes, so a wrong declaration
    is caught; ``fast=False``: feedparser always) and normalise each entry.
    ``fetched_at`` (aware UTC) stands in for a missing date; ``language``
    (en/fr/es) overrides detection. With ``detect=False`` the entries to
    detect keep ``language == ""`` for the caller to pass to
    :func:`settle_languages` with ``ParsedFeed.declared`` (one batch for
    many feeds)."""
    d = read_feed(body, fast=fast)
    title = feed_title or plain_text(d.title) or feed_url
    declared = d.language.lower()[:2]
    entries: list[Entry] = []
    for raw in d.entries:
        link = raw.link or raw.id
        name = plain_text(raw.title, limit=300)
        summary = plain_text(_summary_markup(raw), limit=SUMMARY_CHARS, paragraphs=True)
        if not name and not summary:
            continue
        if not name:
            name = summary[:80].rsplit(" ", 1)[0] + "…"
        if link:
            canon = canonical_url(link)
        else:
            canon = "urn:sha1:" + hashlib.sha1(  # noqa: S324 - an id, not security
                f"{feed_url}\n{name}".encode()).hexdigest()
        when = raw.when
        entries.append(Entry(canonical_url=canon[:1000], link=(link or canon)[:1000],
                             title=name, summary=summary,
                             published_at=when or fetched_at, language=language or "",
                             feed_url=feed_url, feed_title=title[:300], weight=weight,
                             dated=when is not None))
    if detect and not language:
        settle_languages([(e, declared) for e in entries])
    return ParsedFeed(title=title, entries=entries, bozo=d.bozo, bozo_reason=d.bozo_reason,
                      declared=declared, parser=d.parser)
