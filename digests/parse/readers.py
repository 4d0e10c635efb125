"""Reading a feed body: feedparser-rs where it reads as feedparser does, else feedparser.

feedparser-rs (Rust) parses about seven times faster than feedparser with the
pipeline's options, and gives the same entries, text, dates and links on the
well-formed UTF-8 feeds (bench/feed_parsers.py measures it on every fixture
feed). It differs where feedparser does more work, so a body goes to
feedparser when any cheap check fails:

- the bytes are not UTF-8, or the XML declaration names another encoding
  (feedparser sniffs and overrides encodings; feedparser-rs trusts the
  declaration and gives mojibake or U+FFFD);
- there is a DOCTYPE or ENTITY declaration (entities feedparser resolves its
  own way);
- expat, with namespaces, finds the XML not well-formed (feedparser's strict
  parser would fail too and its loose parser recovers: feedparser-rs recovers
  differently and may not flag it);
- feedparser-rs raises, flags the feed bozo, finds no feed type or stops at
  its entry limit;
- a date is not in the usual RFC 822 or ISO 8601 shape (feedparser reads
  more forms, and reads some of the others differently: ``2026-11-20T08:00Z``,
  fractional seconds with an offset, ``Fri,20 Nov``);
- a non-Atom entry's link holds an entity reference: feedparser-rs returns
  attribute values unescaped and element text escaped, and in RSS a link may
  be either. (Atom links are always ``href`` attributes, so they are
  unescaped here, as an XML parser would.)
"""

from __future__ import annotations

import calendar
import html
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from xml.parsers import expat

Parser = Literal["feedparser-rs", "feedparser"]

_DECLARED = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_ENTITY_REF = re.compile(r"&(?:#[0-9]+|#x[0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")
#: Date forms both parsers read alike (RFC 822 and ISO 8601, each in its
#: usual shape); feedparser reads the others, and some of them differently.
_SAFE_DATE = re.compile(
    r"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?\d{1,2} "
    r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}(?::\d{2})? "
    r"(?:[+-]\d{4}|GMT|UTC?|Z|[ECMP][SD]T)"
    r"|\d{4}-(?:0[1-9]|1[0-2])-\d{2}(?:[T ]\d{2}:\d{2}:\d{2}(?:Z|[+-]\d{2}:\d{2})?)?")
_DATES = (("published", "published_parsed"), ("updated", "updated_parsed"),
          ("created", "created_parsed"))


@dataclass(frozen=True, slots=True)
class RawEntry:
    """One entry as the parser gave it: markup not yet stripped. ``when``:
    aware UTC datetime, or None when the entry has no readable date."""

    id: str
    link: str
    title: str
    summary: str
    content: str
    when: datetime | None


@dataclass(frozen=True, slots=True)
class ReadFeed:
    """A parsed body. ``bozo``/``bozo_reason``: feedparser's flag and its
    exception as text (never set by the fast path, which refuses bozo feeds);
    ``language``: the feed's declared language as given (may be empty);
    ``parser``: which parser read it; ``fallback``: why feedparser was used
    (None when feedparser-rs read it, or when the fast path was not asked for)."""

    title: str
    language: str
    entries: list[RawEntry]
    bozo: bool
    bozo_reason: str | None
    parser: Parser
    fallback: str | None = None


def _timestamp(t: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(calendar.timegm(t), UTC)
    except (OverflowError, ValueError, TypeError):
        return None


def _when(raw: Any, *, lookup: bool) -> datetime | None:
    for _, key in _DATES:
        # ``lookup`` (feedparser): ``in`` first, as its get("updated_parsed")
        # falls back to the published date with a DeprecationWarning.
        t = raw.get(key) if not lookup or key in raw else None
        if t:
            found = _timestamp(t)
            if found is not None:
                return found
    return None


def _first_content(raw: Any) -> str:
    content = raw.get("content")
    if content:
        return str(content[0].get("value", "") or "")
    return ""


def _raw(raw: Any, link: str | None = None, *, lookup: bool = False) -> RawEntry:
    return RawEntry(id=str(raw.get("id") or ""),
                    link=str(raw.get("link") or "") if link is None else link,
                    title=str(raw.get("title") or ""), summary=str(raw.get("summary") or ""),
                    content=_first_content(raw), when=_when(raw, lookup=lookup))


def read_with_feedparser(body: bytes) -> ReadFeed:
    """``body`` read by feedparser (no sanitising, no URI resolution: the
    pipeline strips all markup itself)."""
    import feedparser

    d = feedparser.parse(body, sanitize_html=False, resolve_relative_uris=False)
    reason = None
    if d.bozo:
        exc = d.get("bozo_exception")
        reason = f"{type(exc).__name__}: {exc}" if exc is not None else "malformed feed"
    return ReadFeed(title=str(d.feed.get("title", "") or ""),
                    language=str(d.feed.get("language", "") or ""),
                    entries=[_raw(e, lookup=True) for e in d.entries], bozo=bool(d.bozo),
                    bozo_reason=reason, parser="feedparser")


def refusal(body: bytes) -> str | None:
    """Why ``body`` must go to feedparser, by the checks made before parsing
    (encoding, DTD, well-formedness), or None."""
    m = _DECLARED.match(body[:512].lstrip(b"\xef\xbb\xbf"))
    if m and m.group(1).lower() not in (b"utf-8", b"utf8"):
        return f"declares {m.group(1).decode('ascii')}"
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return "not UTF-8"
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        return "has a DOCTYPE"
    parser = expat.ParserCreate(namespace_separator=" ")
    try:
        parser.Parse(body, True)
    except expat.ExpatError as exc:
        return f"not well-formed XML ({exc})"
    return None


def _read_fast(body: bytes) -> ReadFeed | str:
    """feedparser-rs's reading, or why it cannot be trusted for ``body``."""
    import feedparser_rs

    limits = feedparser_rs.ParserLimits()
    try:
        d = feedparser_rs.parse_with_limits(body, limits=limits, sanitize_html=False,
                                            resolve_relative_uris=False)
    except Exception as exc:  # noqa: BLE001 - any failure means "let feedparser read it"
        return f"feedparser-rs failed ({type(exc).__name__})"
    if d.bozo:
        return "feedparser-rs flagged it malformed"
    version = str(d.get("version") or "")
    if not version:
        return "feedparser-rs found no feed type"
    if len(d.entries) >= limits.max_entries:
        return "at feedparser-rs's entry limit"
    atom = version.startswith("atom")
    entries = []
    for e in d.entries:
        for text, _ in _DATES:
            written = e.get(text)
            if written and not _SAFE_DATE.fullmatch(str(written).strip()):
                return f"a date in a form left to feedparser ({written!r})"
        link = str(e.get("link") or "")
        if "&" in link and _ENTITY_REF.search(link):
            if not atom:
                return "an RSS link with an entity reference"
            link = html.unescape(link)  # an href attribute, returned as written
        entries.append(_raw(e, link))
    return ReadFeed(title=str(d.feed.get("title") or ""),
                    language=str(d.feed.get("language") or ""), entries=entries,
                    bozo=False, bozo_reason=None, parser="feedparser-rs")


def read_feed(body: bytes, *, fast: bool = True) -> ReadFeed:
    """Parse ``body`` (raw bytes): with feedparser-rs when ``fast`` and the
    checks above pass, else with feedparser (``fallback`` says why). Never
    raises for a malformed body: feedparser flags it ``bozo``."""
    if not fast:
        return read_with_feedparser(body)
    why = refusal(body)
    if why is None:
        got = _read_fast(body)
        if isinstance(got, ReadFeed):
            return got
        why = got
    slow = read_with_feedparser(body)
    return ReadFeed(title=slow.title, language=slow.language, entries=slow.entries,
                    bozo=slow.bozo, bozo_reason=slow.bozo_reason, parser=slow.parser,
                    fallback=why)

