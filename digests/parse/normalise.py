"""Parse a feed body with feedparser and normalise its entries.

Normalised entry: canonical URL (tracking parameters stripped, Google Alerts
redirects resolved to their target), plain text title and summary (feed HTML
goes through nh3 first, so scripts and styles lose their content too), an
aware UTC published time (missing: the fetch time) and a language (en, fr,
es or other, detected by py3langid unless the source declares one).
"""

from __future__ import annotations

import calendar
import hashlib
import html
import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import feedparser
import nh3

LANGUAGES = ("en", "fr", "es")
SUMMARY_CHARS = 600
LANGUAGE_CHARS = 300  # title and the start of the summary: enough for en/fr/es

_TRACKING = re.compile(
    r"^(utm_\w+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|igshid|ref_src|_hsenc|_hsmi|"
    r"ncid|cmpid|ocid|sr_share|__twitter_impression|wt\.mc_id|at_medium|at_campaign)$", re.I)
_SPACE = re.compile(r"\s+")
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

    def to_data(self) -> dict[str, Any]:
        """JSON-ready dict (the time as ISO 8601)."""
        d = asdict(self)
        d["published_at"] = self.published_at.isoformat()
        return d

    @classmethod
    def from_data(cls, d: dict[str, Any]) -> Entry:
        """The inverse of :meth:`to_data`."""
        return cls(**{**d, "published_at": datetime.fromisoformat(d["published_at"])})


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A parsed body: ``bozo`` is feedparser's flag, ``bozo_reason`` its
    exception as text (a bozo feed that still yields entries is used)."""

    title: str
    entries: list[Entry]
    bozo: bool
    bozo_reason: str | None


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
                       if not _TRACKING.match(k)])
    path = parts.path or "/"
    return urlunsplit((parts.scheme.lower(), netloc, path, query, ""))


def plain_text(markup: str, *, limit: int | None = None) -> str:
    """Feed HTML as plain text: every tag removed by nh3 (script and style
    content dropped), entities decoded, whitespace collapsed; cut at ``limit``
    characters on a word boundary with an ellipsis."""
    if not markup:
        return ""
    if "<" in markup or "&" in markup:
        markup = html.unescape(nh3.clean(markup, tags=set()))
    text = _SPACE.sub(" ", markup).strip()
    if limit is not None and len(text) > limit:
        text = text[:limit].rsplit(" ", 1)[0].rstrip(",;:.") + "…"
    return text


@cache
def _identifier() -> Any:
    import numpy as np
    from py3langid.langid import _load_identifier

    # A private instance: py3langid.set_languages() elsewhere cannot narrow it.
    identifier = _load_identifier()
    # Its float16 table is promoted to float32 by every product anyway: doing
    # it once (+28 MB) makes each detection about a fifth cheaper, same scores.
    identifier.nb_ptc = identifier.nb_ptc.astype(np.float32)
    return identifier


def detect_language(text: str) -> str:
    """``en``, ``fr``, ``es`` or ``other`` for ``text`` (py3langid, offline;
    only the first ``LANGUAGE_CHARS`` characters are read)."""
    if len(text) < 12:
        return "other"
    lang, _score = _identifier().classify(text[:LANGUAGE_CHARS])
    return lang if lang in LANGUAGES else "other"


def _when(raw: Any, fallback: datetime) -> datetime:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        t = raw.get(key)
        if t:
            try:
                return datetime.fromtimestamp(calendar.timegm(t), UTC)
            except (OverflowError, ValueError):
                continue
    return fallback


def _summary_markup(raw: Any) -> str:
    content = raw.get("content")
    if raw.get("summary"):
        return str(raw["summary"])
    if content:
        return str(content[0].get("value", ""))
    return ""


def parse_feed(body: bytes, *, feed_url: str, fetched_at: datetime, weight: float = 1.0,
               language: str | None = None, feed_title: str = "") -> ParsedFeed:
    """Parse ``body`` (the raw bytes: feedparser sniffs the encoding from the
    XML declaration and the bytes, so a wrong declaration is caught) and
    normalise each entry. ``fetched_at`` (aware UTC) stands in for a missing
    date; ``language`` (en/fr/es) overrides detection."""
    d = feedparser.parse(body, sanitize_html=False, resolve_relative_uris=False)
    title = feed_title or plain_text(str(d.feed.get("title", ""))) or feed_url
    declared = str(d.feed.get("language", "")).lower()[:2]
    entries: list[Entry] = []
    for raw in d.entries:
        link = str(raw.get("link") or raw.get("id") or "")
        name = plain_text(str(raw.get("title", "")), limit=300)
        summary = plain_text(_summary_markup(raw), limit=SUMMARY_CHARS)
        if not name and not summary:
            continue
        if not name:
            name = summary[:80].rsplit(" ", 1)[0] + "…"
        if link:
            canon = canonical_url(link)
        else:
            canon = "urn:sha1:" + hashlib.sha1(  # noqa: S324 - an id, not security
                f"{feed_url}\n{name}".encode()).hexdigest()
        lang = language or detect_language(f"{name}. {summary}")
        if lang == "other" and declared in LANGUAGES and len(name) + len(summary) < 160:
            lang = declared  # too little text to overrule the feed's own declaration
        entries.append(Entry(canonical_url=canon[:1000], link=(link or canon)[:1000],
                             title=name, summary=summary,
                             published_at=_when(raw, fetched_at), language=lang,
                             feed_url=feed_url, feed_title=title[:300], weight=weight))
    reason = None
    if d.bozo:
        exc = d.get("bozo_exception")
        reason = f"{type(exc).__name__}: {exc}" if exc is not None else "malformed feed"
    return ParsedFeed(title=title, entries=entries, bozo=bool(d.bozo), bozo_reason=reason)
