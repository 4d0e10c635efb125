"""From fetched bodies to ranked candidates (no database, no network).

``gather`` parses fresh bodies and reuses the cached entries of unchanged
sources; ``candidates`` clusters, classifies and scores. Both are pure, so the
benchmark times exactly what a build does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from digests.classify import Classifier
from digests.cluster import Story, cluster
from digests.fetch import FetchResult
from digests.parse.normalise import Entry, parse_feed, settle_languages
from digests.rank import score


@dataclass(frozen=True, slots=True)
class SourceReport:
    """What happened to one source: ``status`` is ok, unchanged, bozo (used,
    flagged) or failed; ``entries`` how many it contributed; ``reason`` why it
    failed or was flagged."""

    url: str
    title: str
    status: str
    entries: int
    reason: str | None = None

    def to_data(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"url": self.url, "title": self.title, "status": self.status,
                "entries": self.entries, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Gathered:
    """Entries from every usable source, per-source reports, and the entries to
    cache per source URL (fresh parses only)."""

    entries: list[Entry]
    reports: list[SourceReport]
    fresh: dict[str, list[Entry]] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)


def gather(results: Sequence[FetchResult], *,
           cached: Mapping[str, list[dict[str, Any]]] | None = None) -> Gathered:
    """Parse each ``ok`` body; for ``unchanged`` sources reuse ``cached[url]``
    (entries as :meth:`Entry.to_data`). A bozo feed with entries is used and
    flagged; one without entries is failed. Languages are detected at the end,
    for every fresh entry in one batch."""
    cached = cached or {}
    entries: list[Entry] = []
    reports: list[SourceReport] = []
    fresh: dict[str, list[Entry]] = {}
    titles: dict[str, str] = {}
    pending: list[tuple[Entry, str]] = []
    for r in results:
        src = r.source
        if r.status == "failed":
            reports.append(SourceReport(src.url, src.title, "failed", 0, r.error))
            continue
        if r.status == "unchanged":
            got = [Entry.from_data(d) for d in cached.get(src.url, [])]
            for e in got:
                e.weight = src.weight
            entries.extend(got)
            reports.append(SourceReport(src.url, src.title, "unchanged", len(got)))
            continue
        parsed = parse_feed(r.body or b"", feed_url=src.url, fetched_at=r.fetched_at,
                            weight=src.weight, language=src.language, feed_title=src.title,
                            detect=False)
        pending.extend((e, parsed.declared) for e in parsed.entries if not e.language)
        titles[src.url] = parsed.title
        if not parsed.entries:
            reason = parsed.bozo_reason or "no entries"
            reports.append(SourceReport(src.url, parsed.title, "failed", 0,
                                        f"malformed feed, nothing usable ({reason})"
                                        if parsed.bozo else reason))
            fresh[src.url] = []
            continue
        fresh[src.url] = parsed.entries
        entries.extend(parsed.entries)
        reports.append(SourceReport(src.url, parsed.title, "bozo" if parsed.bozo else "ok",
                                    len(parsed.entries), parsed.bozo_reason))
    settle_languages(pending)  # one batch for every fresh source
    return Gathered(entries=entries, reports=reports, fresh=fresh, titles=titles)


@dataclass(slots=True)
class Candidate:
    """A scored story, ready for :func:`digests.rank.select`."""

    story: Story
    topic: str
    themes: tuple[str, ...]
    matched: tuple[str, ...]
    score: float
    pinned: bool = False
    excluded: bool = False

    @property
    def canonical_url(self) -> str:
        """The story's canonical URL."""
        return self.story.canonical_url

    @property
    def language(self) -> str:
        """The lead entry's language."""
        return self.story.lead.language


def candidates(entries: Sequence[Entry], *, classifier: Classifier,
               now: datetime) -> list[Candidate]:
    """Cluster ``entries`` into stories, classify and score each (``now``:
    aware datetime, the reference for recency). Sorted by score, best first."""
    out = []
    for story in cluster(entries):
        lead = story.lead
        c = classifier.classify(lead.title, lead.summary)
        s = score(relevance=c.relevance, published_at=lead.published_at, now=now,
                  weights=[e.weight for e in story.entries])
        out.append(Candidate(story, c.topic, c.themes, c.matched, s))
    out.sort(key=lambda c: -c.score)
    return out
