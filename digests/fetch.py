"""Fetching sources: concurrent, bounded, conditional, size-capped.

http(s) sources are fetched through the guarded client
(:func:`digests.outbound.guarded_client`: internal addresses refused at
connect time and on each redirect; gzip/deflate accepted and decoded,
``If-None-Match``/``If-Modified-Since`` sent from the stored validators; a 304
is *unchanged*). Local paths are read from disk, only inside the policy's
``feed_dir``, and are *unchanged* when their modification time equals the
stored validator.
A failure is a result with a reason, never an exception: the others go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import formatdate
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from digests.outbound import FetchPolicy, guarded_client
from digests.sources import FeedSource, SourceError, check_source
from storage.clock import utcnow

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
            declared = resp.headers.get("content-length", "")
            if declared.isascii() and declared.isdigit() and int(declared) > max_bytes * 4:
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
    except (httpx.TimeoutException, TimeoutError):
        return FetchResult(src, "failed", now, error="timed out")
    except httpx.TooManyRedirects:
        return FetchResult(src, "failed", now, error="too many redirects")
    except (httpx.HTTPError, OSError, ValueError) as exc:
        return FetchResult(src, "failed", now,
                           error=f"{type(exc).__name__}: {exc}".strip().rstrip(":"))


def _fetch_file(src: FeedSource, *, policy: FetchPolicy) -> FetchResult:
    now = utcnow()
    max_bytes = policy.max_bytes
    try:
        path = Path(check_source(src.url, policy=policy))
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
    policy: FetchPolicy,
    concurrency: int = 8,
    on_result: Callable[[FetchResult], None] | None = None,
    keep: Callable[[FetchResult], FetchResult] | None = None,
) -> list[FetchResult]:
    """Fetch every source, at most ``concurrency`` at a time, within
    ``policy`` (:class:`digests.outbound.FetchPolicy`: allowed hosts and
    feed folder, ``timeout`` seconds per request phase, ``deadline`` seconds
    per source, redirects included, ``max_bytes`` per body after gzip
    decoding). Results come back in the order of ``sources``; ``on_result`` is
    called as each one finishes (a progress bar). ``keep``, when given, is
    called in a worker thread on each result while its fetch slot is still
    held, and what it returns is what is passed on and returned (e.g. the
    result without its body, once parsed: then at most ``concurrency``
    bodies are ever in memory)."""
    sem = asyncio.Semaphore(concurrency)
    # The HTTP client (and httpx, ssl) only when some source is remote: a
    # build of local files never loads them.
    remote = any(s.is_remote for s in sources)
    async with (guarded_client(policy, max_connections=concurrency, headers={
            "User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate",
            "Accept": "application/rss+xml, application/atom+xml, application/xml;"
                      "q=0.9, text/xml;q=0.8, */*;q=0.5"}) if remote
                else contextlib.nullcontext(None)) as client:

        async def one(src: FeedSource) -> FetchResult:
            async with sem:
                if src.is_remote and client is not None:
                    try:
                        async with asyncio.timeout(policy.deadline):
                            result = await _fetch_http(client, src, max_bytes=policy.max_bytes)
                    except TimeoutError:
                        result = FetchResult(src, "failed", utcnow(), error="timed out")
                else:
                    result = await asyncio.to_thread(_fetch_file, src, policy=policy)
                if keep is not None:
                    result = keep(result)
            if on_result is not None:
                on_result(result)
            return result

        return list(await asyncio.gather(*(one(s) for s in sources)))


def fetch_sources(sources: Sequence[FeedSource], *, policy: FetchPolicy, concurrency: int = 8,
                  on_result: Callable[[FetchResult], None] | None = None,
                  keep: Callable[[FetchResult], FetchResult] | None = None) -> list[FetchResult]:
    """Synchronous :func:`fetch_all` (runs its own event loop)."""
    return asyncio.run(fetch_all(sources, policy=policy, concurrency=concurrency,
                                 on_result=on_result, keep=keep))


def is_local(url: str) -> bool:
    """True when ``url`` names a local file rather than an http(s) resource."""
    return not url.startswith(("http://", "https://")) and (
        url.startswith("file://") or os.path.sep in url or Path(url).suffix != "")


def page_title(url: str, *, policy: FetchPolicy) -> tuple[str, str]:
    """The title of the web page at ``url`` (its ``og:title``, else its
    ``<title>``), fetched through :func:`fetch_sources` and so through the
    guarded client, bounded by ``policy`` (at most 2 MB and 8 s a phase here),
    like every source. Returns ``(title, "")``, or ``("", reason)`` when the
    page cannot be fetched (an internal address included) or has no title
    (``reason`` a short English phrase, for the log)."""
    from dataclasses import replace
    from html.parser import HTMLParser

    bounded = replace(policy, timeout=min(policy.timeout, 8.0),
                      max_bytes=min(policy.max_bytes, 2_000_000))
    result = fetch_sources([FeedSource(url=url)], policy=bounded, concurrency=1)[0]
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

    head = result.body[:bounded.max_bytes].decode("utf-8", errors="replace")
    parser = _Title()
    parser.feed(head)
    title = " ".join((parser.og or parser.title).split())[:500]
    return (title, "") if title else ("", "the page has no title")
