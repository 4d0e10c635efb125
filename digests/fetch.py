"""Fetching sources: concurrent, bounded, conditional, size-capped.

http(s) sources are fetched with httpx (gzip/deflate accepted and decoded,
redirects followed, ``If-None-Match``/``If-Modified-Since`` sent from the
stored validators; a 304 is *unchanged*). Local paths are read from disk, and
are *unchanged* when their modification time equals the stored validator.
A failure is a result with a reason, never an exception: the others go on.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import formatdate
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from digests.sources import FeedSource, SourceError, check_source
from storage.base import utcnow

if TYPE_CHECKING:
    import httpx

FetchStatus = Literal["ok", "unchanged", "failed"]
USER_AGENT = "Convene press review (+https://github.com/convene)"


@dataclass(frozen=True, slots=True)
class FetchResult:
    """The outcome for one source. ``body`` (bytes, at most the size cap) is
    set only when ``status == "ok"``; ``error`` (a sentence) when ``failed``.
    ``fetched_at``: aware datetime, UTC."""

    source: FeedSource
    status: FetchStatus
    fetched_at: datetime
    body: bytes | None = None
    etag: str | None = None
    last_modified: str | None = None
    error: str | None = None


class _TooLarge(Exception):
    pass


async def _fetch_http(client: httpx.AsyncClient, src: FeedSource, *,
                      max_bytes: int) -> FetchResult:
    import httpx  # imported when fetching: the CLI starts without it

    now = utcnow()
    headers = {}
    if src.etag:
        headers["If-None-Match"] = src.etag
    if src.last_modified:
        headers["If-Modified-Since"] = src.last_modified
    try:
        async with client.stream("GET", src.url, headers=headers) as resp:
            if resp.status_code == 304:
                return FetchResult(src, "unchanged", now, etag=src.etag,
                                   last_modified=src.last_modified)
            if resp.status_code >= 400:
                return FetchResult(src, "failed", now,
                                   error=f"HTTP {resp.status_code} {resp.reason_phrase}")
            declared = resp.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > max_bytes * 4:
                raise _TooLarge
            chunks: list[bytes] = []
            size = 0
            async for chunk in resp.aiter_bytes():  # decoded: caps the inflated size
                size += len(chunk)
                if size > max_bytes:
                    raise _TooLarge
                chunks.append(chunk)
            return FetchResult(src, "ok", now, body=b"".join(chunks),
                               etag=resp.headers.get("etag"),
                               last_modified=resp.headers.get("last-modified"))
    except _TooLarge:
        return FetchResult(src, "failed", now, error=f"larger than {max_bytes} bytes")
    except httpx.TimeoutException:
        return FetchResult(src, "failed", now, error="timed out")
    except (httpx.HTTPError, OSError, ValueError) as exc:
        return FetchResult(src, "failed", now,
                           error=f"{type(exc).__name__}: {exc}".strip().rstrip(":"))


def _fetch_file(src: FeedSource, *, max_bytes: int) -> FetchResult:
    now = utcnow()
    try:
        path = Path(check_source(src.url))
    except SourceError as exc:
        return FetchResult(src, "failed", now, error=str(exc))
    try:
        st = path.stat()
        stamp = formatdate(st.st_mtime, usegmt=True) + f" {st.st_size}"
        if src.last_modified == stamp:
            return FetchResult(src, "unchanged", now, last_modified=stamp)
        if st.st_size > max_bytes:
            return FetchResult(src, "failed", now, error=f"larger than {max_bytes} bytes")
        with path.open("rb") as fh:
            body = fh.read(max_bytes + 1)
    except OSError as exc:
        return FetchResult(src, "failed", now, error=f"{exc.strerror or exc}: {path}")
    return FetchResult(src, "ok", now, body=body, last_modified=stamp)


async def fetch_all(
    sources: Sequence[FeedSource],
    *,
    concurrency: int = 8,
    timeout: float = 20.0,
    max_bytes: int = 10_000_000,
    on_result: Callable[[FetchResult], None] | None = None,
    keep: Callable[[FetchResult], FetchResult] | None = None,
) -> list[FetchResult]:
    """Fetch every source, at most ``concurrency`` at a time; ``timeout`` in
    seconds per request phase; ``max_bytes`` caps each body (after gzip
    decoding). Results come back in the order of ``sources``; ``on_result`` is
    called as each one finishes (a progress bar). ``keep``, when given, is
    called in a worker thread on each result while its fetch slot is still
    held, and what it returns is what is passed on and returned (e.g. the
    result without its body, once parsed: then at most ``concurrency``
    bodies are ever in memory)."""
    import httpx
    sem = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        timeout=httpx.Timeout(timeout), follow_redirects=True, limits=limits,
        headers={"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate",
                 "Accept": "application/rss+xml, application/atom+xml, application/xml;"
                           "q=0.9, text/xml;q=0.8, */*;q=0.5"},
    ) as client:

        async def one(src: FeedSource) -> FetchResult:
            async with sem:
                if src.is_remote:
                    result = await _fetch_http(client, src, max_bytes=max_bytes)
                else:
                    result = await asyncio.to_thread(_fetch_file, src, max_bytes=max_bytes)
                if keep is not None:
                    result = keep(result)
            if on_result is not None:
                on_result(result)
            return result

        return list(await asyncio.gather(*(one(s) for s in sources)))


def fetch_sources(sources: Sequence[FeedSource], *, concurrency: int = 8, timeout: float = 20.0,
                  max_bytes: int = 10_000_000,
                  on_result: Callable[[FetchResult], None] | None = None,
                  keep: Callable[[FetchResult], FetchResult] | None = None) -> list[FetchResult]:
    """Synchronous :func:`fetch_all` (runs its own event loop)."""
    return asyncio.run(fetch_all(sources, concurrency=concurrency, timeout=timeout,
                                 max_bytes=max_bytes, on_result=on_result, keep=keep))


def is_local(url: str) -> bool:
    """True when ``url`` names a local file rather than an http(s) resource."""
    return not url.startswith(("http://", "https://")) and (
        url.startswith("file://") or os.path.sep in url or Path(url).suffix != "")


def page_title(url: str, *, timeout: float = 8.0, max_bytes: int = 2_000_000) -> tuple[str, str]:
    """The title of the web page at ``url`` (its ``og:title``, else its
    ``<title>``), fetched through :func:`fetch_sources` like every source.
    Returns ``(title, "")``, or ``("", reason)`` when the page cannot be fetched
    or has no title (``reason`` a short English phrase, for the log)."""
    from html.parser import HTMLParser

    result = fetch_sources([FeedSource(url=url)], concurrency=1, timeout=timeout,
                           max_bytes=max_bytes)[0]
    if result.status != "ok" or not result.body:
        return "", result.error or "no content"

    class _Title(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.og = ""
            self.title = ""
            self._in_title = False

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            a = dict(attrs)
            if tag == "meta" and a.get("property") == "og:title" and a.get("content"):
                self.og = self.og or (a["content"] or "")
            self._in_title = tag == "title" and not self.title

        def handle_endtag(self, tag: str) -> None:
            if tag == "title":
                self._in_title = False

        def handle_data(self, data: str) -> None:
            if self._in_title:
                self.title += data

    head = result.body[:max_bytes].decode("utf-8", errors="replace")
    parser = _Title()
    parser.feed(head)
    title = " ".join((parser.og or parser.title).split())[:500]
    return (title, "") if title else ("", "the page has no title")
