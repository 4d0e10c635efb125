"""From fetched bodies to ranked candidates (no database, no network).

``gather`` parses fresh bodies and reuses the cached entries of unchanged
sources (:class:`Gatherer` does it as each body arrives, so a build never
holds every feed's bytes at once); ``candidates`` clusters, classifies and
scores. Both are pure, so the benchmark times exactly what a build does.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from digests.acts import law_acts, milestone
from digests.classify import Classifier, fold
from digests.cluster import (
    Profile,
    Story,
    cluster,
    dates,
    letter_grams,
    names,
    numbers,
    related_groups,
)
from digests.editor import Signals, content_words, editor_signals, near_miss
from digests.fetch import FetchResult
from digests.parse.language import LANGUAGE_BATCH, release_language_model
from digests.parse.normalise import Entry, ParsedFeed, parse_feed, settle_languages
from digests.rank import has_amount, score, stale_title
from digests.related import headline_words, reports_study

_WORD = re.compile(r"[^\W\d_][^\W_]*")
#: The signals of an item not read for them (shared: most candidates are off scope).
NO_SIGNALS = Signals()


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


@dataclass(frozen=True, slots=True)
class _Read:
    """One ``ok`` body, parsed and normalised (its bytes and parser objects
    already dropped). ``kept``: the body-less result it was read from (held
    so that its ``id`` stays its key)."""

    kept: FetchResult
    parsed: ParsedFeed


class Gatherer:
    """:func:`gather`, one fetch result at a time, so that the feeds' bytes
    are never all in memory: :meth:`add` parses and normalises an ``ok``
    body as soon as it arrives and returns the result without its body;
    :meth:`result` then assembles the :class:`Gathered`, in the order of the
    results it is given, exactly as :func:`gather` does. Languages are
    detected as batches of ``LANGUAGE_BATCH`` fresh entries fill. :meth:`add` is
    safe to call from several threads (fetch workers); at most ``parsers``
    bodies are parsed at once (parsing is CPU-bound: more only adds parse
    objects in memory). ``cached`` as for :func:`gather`."""

    def __init__(self, cached: Mapping[str, list[dict[str, Any]]] | None = None, *,
                 parsers: int = 2) -> None:
        self._cached = cached or {}
        self._slots = threading.BoundedSemaphore(parsers)
        self._lock = threading.Lock()
        self._read: dict[int, _Read] = {}
        self._pending: list[tuple[Entry, str]] = []  # fresh entries, language not yet known

    def add(self, r: FetchResult) -> FetchResult:
        """Parse ``r``'s body now (``ok`` results; others are returned as
        they are) and return ``r`` without its body."""
        if r.status != "ok":
            return r
        with self._slots:
            parsed = self._parse(r)
        kept = replace(r, body=None)
        batch: list[tuple[Entry, str]] = []
        with self._lock:
            self._read[id(kept)] = _Read(kept, parsed)
            self._pending.extend((e, parsed.declared) for e in parsed.entries if not e.language)
            if len(self._pending) >= LANGUAGE_BATCH:
                batch, self._pending = self._pending, []
        settle_languages(batch)  # as batches fill: never every text at once
        return kept

    def _parse(self, r: FetchResult) -> ParsedFeed:
        src = r.source
        parsed = parse_feed(r.body or b"", feed_url=src.url, fetched_at=r.fetched_at,
                            weight=src.weight, language=src.language, feed_title=src.title,
                            detect=False)
        if parsed.entries:
            _first_seen(parsed.entries, self._cached.get(src.url, []))
        return parsed

    def _reuse(self, r: FetchResult) -> list[Entry]:
        got = [Entry.from_data(d) for d in self._cached.get(r.source.url, [])]
        for e in got:
            e.weight = r.source.weight
        return got

    def result(self, results: Sequence[FetchResult]) -> Gathered:
        """The :class:`Gathered` of ``results`` (in their order): those
        :meth:`add` returned, or results still holding their body (parsed
        here). Languages of fresh entries not yet detected are detected
        here."""
        entries: list[Entry] = []
        reports: list[SourceReport] = []
        fresh: dict[str, list[Entry]] = {}
        titles: dict[str, str] = {}
        with self._lock:
            pending, self._pending = self._pending, []
        for r in results:
            src = r.source
            if r.status == "failed":
                # Down this time: its entries of the last good fetch still count.
                got = self._reuse(r)
                entries.extend(got)
                reason = r.error or "failed"
                if got:
                    reason += f"; using the {len(got)} entries of its last fetch"
                reports.append(SourceReport(src.url, src.title, "failed", len(got), reason))
                continue
            if r.status == "unchanged":
                got = self._reuse(r)
                entries.extend(got)
                reports.append(SourceReport(src.url, src.title, "unchanged", len(got)))
                continue
            with self._lock:
                done = self._read.pop(id(r), None)
            parsed = done.parsed if done is not None and done.kept is r else self._parse(r)
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
        settle_languages(pending)
        release_language_model()  # every entry has its language: the rest runs without it
        return Gathered(entries=entries, reports=reports, fresh=fresh, titles=titles)


def gather(results: Sequence[FetchResult], *,
           cached: Mapping[str, list[dict[str, Any]]] | None = None) -> Gathered:
    """Parse each ``ok`` body; for ``unchanged`` and ``failed`` sources reuse
    ``cached[url]`` (entries as :meth:`Entry.to_data`: nothing is lost while
    a source is down; the report still says it failed). A bozo feed with entries is used and
    flagged; one without entries is failed. Languages are detected at the end,
    for every fresh entry in batches. (Every body is in ``results`` at once:
    :class:`Gatherer` reads them as they are fetched.)"""
    return Gatherer(cached).result(results)


def _first_seen(entries: Sequence[Entry], previous: Sequence[dict[str, Any]]) -> None:
    """An undated entry keeps the time it was first seen (from the previous
    fetch's cached copy), so a rebuild does not move it into a later week."""
    if not previous:
        return
    seen = {d.get("canonical_url"): d.get("published_at") for d in previous
            if not d.get("dated", True)}
    for e in entries:
        when = seen.get(e.canonical_url) if not e.dated else None
        if isinstance(when, str):
            e.published_at = datetime.fromisoformat(when)


@dataclass(slots=True)
class Candidate:
    """A scored story, ready for :func:`digests.rank.select`. ``relevant``:
    it clears the taxonomy's relevance floor; ``relevance`` its score;
    ``scope`` its scope score; ``signals`` what an editor weighs in it;
    ``novel``: first reported this week; ``merged``: why several write-ups
    are one item ("" when it is one)."""

    story: Story
    topic: str
    themes: tuple[str, ...]
    matched: tuple[str, ...]
    score: float
    pinned: bool = False
    excluded: bool = False
    relevant: bool = True
    relevance: float = 0.0
    scope: float = 0.0
    signals: Signals = NO_SIGNALS
    novel: bool = True
    merged: str = ""

    @property
    def canonical_url(self) -> str:
        """The story's canonical URL."""
        return self.story.canonical_url

    @property
    def language(self) -> str:
        """The lead entry's language."""
        return self.story.lead.language

    @property
    def coverage(self) -> int:
        """How many distinct sources carry the story."""
        return len({e.feed_url for e in self.story.entries})

    @property
    def publishers(self) -> int:
        """How many independent publishers wrote the story up: distinct
        sites, each counted once however many copies of one text it has."""
        return len(publishers(self.story.entries))


def site(link: str) -> str:
    """The site of ``link`` (its host without ``www.``; '' when none)."""
    host = urlsplit(link).hostname or ""
    return host.removeprefix("www.")


def publishers(entries: Sequence[Entry]) -> dict[str, Entry]:
    """One entry per independent publisher: per distinct text (copies of one
    feed item or one wire story count once), the first site that ran it."""
    texts: dict[str, str] = {}
    for e in entries:
        key = " ".join(e.title.lower().split())
        texts.setdefault(key, site(e.link) or e.feed_url)
    out: dict[str, Entry] = {}
    for e in entries:
        s = site(e.link) or e.feed_url
        if texts.get(" ".join(e.title.lower().split())) == s:
            out.setdefault(s, e)
    return out


def in_window(entries: Sequence[Entry], window: tuple[datetime, datetime]) -> list[Entry]:
    """The entries published in ``[start, end)`` (aware datetimes): a week's own."""
    start, end = window
    return [e for e in entries if start <= e.published_at < end]


class _Names:
    """Which capitalised words of a batch are names: not a word the texts
    also write in lower case (a sentence's first word), nor a word of a
    rule-setting body's name (sharing a registry is not one event)."""

    def __init__(self, texts: Iterable[str], classifier: Classifier) -> None:
        lower: set[str] = set()
        for t in texts:
            lower.update(fold(w) for w in _WORD.findall(t) if w[:1].islower())
        self.bodies: set[str] = set()
        for term in classifier.taxonomy.authorities:
            self.bodies.update(fold(w) for w in _WORD.findall(term.phrase))
        self.common = lower
        #: the acts that say what happened (suspends, adopts, launches), not
        #: weak words ("new", "opens", "first"): two stories sharing one of
        #: those and a body are not one event for that
        self.strong = {classifier.canonical(t.phrase, language=t.language)
                       for t in classifier.taxonomy.consequence if t.weight >= 2}

    def of(self, text: str) -> set[str]:
        """The actors' names in ``text`` (not a body's name: "Comisión Europea")."""
        return {n for n in names(text) - self.common - self.bodies
                if not set(n.split()) <= self.bodies}


def _profile(c: Candidate, classifier: Classifier, known: _Names) -> Profile:
    texts = [f"{e.title} {e.summary}" for e in c.story.entries]
    lead = c.story.lead
    step = milestone(lead.title, lead.summary, published=lead.published_at.date())
    return Profile(language=c.language, topic=c.topic,
                   words=content_words(classifier, texts[0], c.language),
                   numbers=set().union(*(numbers(t) for t in texts)),
                   names=set().union(*(known.of(t) for t in texts)),
                   bodies=set(c.signals.authorities), when=lead.published_at,
                   grams=letter_grams(texts[0]), dates=set().union(*(dates(t) for t in texts)),
                   actions=set(c.signals.actions) & known.strong,
                   acts=law_acts(lead.title, texts, step), milestone=step,
                   headline=headline_words(lead.title), study=reports_study(texts[0]))


def _merge(group: list[Candidate], shared: Sequence[str]) -> Candidate:
    """One candidate for stories found to be one: the most relevant leads,
    every entry kept (each source is listed); ``merged`` says why."""
    best = max(group, key=lambda c: c.relevance)
    entries = list(best.story.entries)
    seen = {(e.feed_url, e.canonical_url) for e in entries}
    for c in group:
        for e in c.story.entries:
            if (e.feed_url, e.canonical_url) not in seen:
                seen.add((e.feed_url, e.canonical_url))
                entries.append(e)
    story = Story(entries)
    n = len(publishers(entries))
    action = best.signals.actions[0] if best.signals.actions else ""
    what = ", ".join(list(shared)[:4]) or best.story.lead.title[:80]
    why = f"same event: {what}" + (f" ({action})" if action else "") + f"; {n} publishers"
    return Candidate(story, best.topic, best.themes, best.matched, best.score,
                     relevant=True, relevance=best.relevance, scope=best.scope,
                     signals=best.signals, novel=all(c.novel for c in group), merged=why)


#: How far before a week's start earlier items are looked at (novelty).
LOOKBACK = timedelta(days=14)


def candidates(entries: Sequence[Entry], *, classifier: Classifier, now: datetime,
               window: tuple[datetime, datetime] | None = None,
               seen: Sequence[Entry] = ()) -> list[Candidate]:
    """Cluster ``entries`` into stories, classify and score each (``now``:
    aware datetime, the reference for recency; ``window``: keep only entries
    published in it; relevant stories of the two weeks before it, and
    ``seen``, the items of earlier reviews, only tell which of the week's
    stories are not news). Relevant stories that report
    one event (rewrites, translations: :func:`digests.cluster.related_groups`)
    become one item listing every source, with the reason. Sorted by score,
    best first; irrelevant stories are kept, with ``relevant=False``, after
    the relevant ones."""
    earlier: list[Entry] = []
    if window is not None:
        earlier = [e for e in entries if window[0] - LOOKBACK <= e.published_at < window[0]]
        entries = in_window(entries, window)
    out = [_classified(story, classifier) for story in cluster(entries)]
    known_urls = {e.canonical_url for e in entries}
    earlier += [e for e in seen if e.canonical_url not in known_urls]
    before = [c for c in (_classified(s, classifier) for s in cluster(earlier)) if c.relevant]
    relevant = [c for c in out if c.relevant]
    both = relevant + before
    known = _Names((f"{e.title} {e.summary}" for c in both for e in c.story.entries),
                   classifier)
    profiles = [_profile(c, classifier, known) for c in both]
    for p in profiles[len(relevant):]:
        p.when = None  # an earlier report of the event, however old: not news
    merged = []
    for g in related_groups(profiles):
        mine = [i for i in g if i < len(relevant)]
        if not mine:
            continue
        if len(mine) < len(g):  # reported before the week: not news
            for i in mine:
                relevant[i].novel = False
        if len(mine) == 1:
            merged.append(relevant[mine[0]])
            continue
        shared = _shared([profiles[i] for i in mine])
        merged.append(_merge([relevant[i] for i in mine], shared))
    pool = merged + [c for c in out if not c.relevant]
    for c in pool:
        lead = c.story.lead
        text = f"{lead.title} {lead.summary}"
        year = (window[0] if window else now).year
        c.score = (score(relevance=c.relevance, published_at=lead.published_at, now=now,
                         weights=[e.weight for e in c.story.entries], sources=c.publishers,
                         authority=c.signals.authority, consequence=c.signals.consequence,
                         amount=has_amount(text), scope=c.scope,
                         novel=c.novel, old=stale_title(lead.title, year=year))
                   if c.relevant else 0.0)
    pool.sort(key=lambda c: (not c.relevant, -c.score))
    return pool


def _classified(story: Story, classifier: Classifier) -> Candidate:
    lead = story.lead
    k = classifier.classify(lead.title, lead.summary, language=lead.language)
    # A round-up or a summit's coverage reads as in scope without being a story.
    relevant = k.relevant and not near_miss(lead.title, title_scope=k.title_scope,
                                             summary=lead.summary)
    sig = (editor_signals(classifier, lead.title, lead.summary, language=lead.language)
           if relevant else NO_SIGNALS)
    return Candidate(story, k.topic, k.themes, k.matched, 0.0, relevant=relevant,
                     relevance=k.relevance, scope=k.scope, signals=sig)


def _shared(profiles: Sequence[Profile]) -> list[str]:
    """The names and numbers most of ``profiles`` share (for the explanation)."""
    counts: Counter[str] = Counter()
    laws: Counter[str] = Counter()  # an act's number and its step first: "EU 2025/2360"
    for p in profiles:
        counts.update(p.bodies | p.names | p.numbers)
        laws.update(p.acts | ({p.milestone} if p.milestone else set()))
    first = [k for k, n in laws.most_common() if n >= 2]
    parts = {w for k in first for w in re.split(r"[ /]", k)}  # not "2360" again
    return first + [k for k, n in counts.most_common() if n >= 2 and k not in parts]
