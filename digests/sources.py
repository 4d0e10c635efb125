"""Feed sources: what to fetch, checking a source, and OPML import.

A source is an http(s) URL or a local file, stored as an absolute path.
``weight`` scales its items' rank (1.0 neutral); ``language`` (en, fr, es)
overrides detection.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import unquote, urlsplit
from xml.parsers import expat

from digests.outbound import FetchPolicy, local_feed, static_refusal

_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]+):")


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
    #: The line of the OPML file it came from (0: not from a file).
    line: int = 0

    @property
    def is_remote(self) -> bool:
        """True for http(s) URLs, False for local paths (and file: URLs)."""
        return self.url.startswith(("http://", "https://"))


class SourceError(ValueError):
    """A source that cannot be used; the message names the fix."""


def check_source(url: str, *, policy: FetchPolicy, base: Path | None = None) -> str:
    """``url`` as it is stored: an http(s) URL unchanged, a local file (a
    path, relative to ``base`` or the working directory, or a ``file:`` URL)
    as an absolute path. Raises SourceError for another scheme (ftp://,
    gopher://, ...), an http(s) URL without a host or whose host is an
    internal address or name (:func:`digests.outbound.static_refusal`; the
    connection is checked again when fetching), a path that is not an
    existing file, or one outside ``policy.feed_dir``."""
    url = url.strip()
    if not url:
        raise SourceError("give an http(s) URL or the path of a feed file")
    m = _SCHEME.match(url)
    scheme = m.group(1).lower() if m else ""
    if scheme in ("http", "https"):
        if not urlsplit(url).hostname:
            raise SourceError(f"{url}: the URL has no host; write it as https://host/path")
        refused = static_refusal(url, policy)
        if refused is not None:
            raise SourceError(f"{url}: {refused}")
        return url
    if scheme == "file":
        path = Path(unquote(urlsplit(url).path))
    elif scheme:
        raise SourceError(f"{url}: {scheme}:// sources are not supported; give an http(s) "
                          "URL or the path of a feed file")
    else:
        path = Path(url).expanduser()
        if not path.is_absolute():
            path = (base or Path.cwd()) / path
    path = path.resolve()
    if not path.is_file():
        raise SourceError(f"{url}: no such file ({path}); give the path of an existing feed "
                          "file or an http(s) URL")
    outside = local_feed(path, policy)
    if outside is not None:
        raise SourceError(f"{url}: {outside}")
    return str(path)


class OpmlError(ValueError):
    """The OPML file cannot be read; the message says why."""


def parse_opml(data: bytes) -> list[FeedSource]:
    """The feeds of an OPML 1/2 document: every ``outline`` with ``xmlUrl``,
    with the ``line`` it is on. URLs are not checked here (see
    :func:`check_source`).

    ``language`` comes from an outline's ``language`` attribute when it is
    en/fr/es, ``weight`` from a ``weight`` attribute when numeric. Raises
    OpmlError on malformed XML.
    """
    out: list[FeedSource] = []
    seen: set[str] = set()
    # The operator's own file; expat resolves no external entities.
    parser = expat.ParserCreate()

    def start(tag: str, attrs: dict[str, str]) -> None:
        url = (attrs.get("xmlUrl") or "").strip()
        if tag != "outline" or not url or url in seen:
            return
        seen.add(url)
        lang = (attrs.get("language") or "").lower()[:2] or None
        try:
            weight = float(attrs.get("weight") or 1.0)
        except ValueError:
            weight = 1.0
        out.append(FeedSource(url=url, title=attrs.get("title") or attrs.get("text") or "",
                              weight=weight, language=lang if lang in ("en", "fr", "es")
                              else None, line=parser.CurrentLineNumber))

    parser.StartElementHandler = start
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise OpmlError(f"not well-formed OPML: {exc}") from None
    return out


def read_opml(path: Path) -> list[FeedSource]:
    """:func:`parse_opml` on a file. Raises OSError or OpmlError."""
    return parse_opml(path.read_bytes())


def checked_sources(sources: list[FeedSource], *, policy: FetchPolicy,
                    base: Path | None = None) -> tuple[list[FeedSource], list[str]]:
    """``sources`` with their URLs as stored (:func:`check_source`), and one
    message per refused entry (``line N: ...`` for an OPML entry). Relative
    paths resolve against ``base`` (an OPML file's folder)."""
    good: list[FeedSource] = []
    bad: list[str] = []
    for s in sources:
        try:
            good.append(replace(s, url=check_source(s.url, policy=policy, base=base)))
        except SourceError as exc:
            bad.append(f"line {s.line}: {exc}" if s.line else str(exc))
    return good, bad
