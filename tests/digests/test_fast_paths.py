"""The press review's fast paths keep its results: feedparser-rs with the
feedparser fallback, Core bulk inserts that survive a refused row,
clustering through representatives, and feeds read as they arrive (issue 16)."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime

import feedparser
import feedparser_rs
from sqlalchemy import func, select

from digests import cluster as cluster_module
from digests.archive import get_or_create_digest, store_candidates
from digests.bulk import insert_rows
from digests.classify import Classifier
from digests.cluster import cluster
from digests.fetch import FetchResult, fetch_sources
from digests.outbound import FetchPolicy
from digests.parse.normalise import Entry, parse_feed
from digests.parse.readers import _SAFE_DATE, read_feed
from digests.pipeline import Gatherer, candidates, gather
from digests.sources import FeedSource
from digests.taxonomy import load_taxonomy
from storage.engine import make_engine, make_session_factory
from storage.models import DigestItem, DigestItemSource
from tests.digests.stories import all_pairs_stories

T0 = datetime(2026, 11, 20, tzinfo=UTC)


def _rss(item: str) -> bytes:
    return ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title>'
            f"{item}</channel></rss>").encode()


def test_every_fixture_feed_reads_as_feedparser_reads_it(shared_fixtures):
    by_parser: dict[str, int] = {}
    for f in sorted((shared_fixtures / "feeds").iterdir()):
        body = f.read_bytes()
        fast = parse_feed(body, feed_url=f.name, fetched_at=T0)
        slow = parse_feed(body, feed_url=f.name, fetched_at=T0, fast=False)
        assert fast.entries == slow.entries, f.name
        assert (fast.title, fast.declared, fast.bozo, fast.bozo_reason) == (
            slow.title, slow.declared, slow.bozo, slow.bozo_reason), f.name
        by_parser[fast.parser] = by_parser.get(fast.parser, 0) + 1
    assert by_parser.get("feedparser-rs", 0) >= 4 and by_parser.get("feedparser", 0) >= 4


def test_a_feed_feedparser_rs_cannot_read_goes_to_feedparser(shared_fixtures):
    body = (shared_fixtures / "feeds" / "miniflux_no_encoding_ISO-8859-1.xml").read_bytes()
    wrong = feedparser_rs.parse(body, sanitize_html=False, resolve_relative_uris=False)
    assert any("\ufffd" in str(e.get("summary", "")) for e in wrong.entries)  # why it must not
    got = read_feed(body)
    assert got.parser == "feedparser" and got.fallback == "not UTF-8"
    assert got.bozo and not any("\ufffd" in e.summary for e in got.entries)
    assert any("études" in e.summary for e in got.entries)

    # Well-formed UTF-8, but a date form feedparser reads and feedparser-rs does not.
    cet = _rss("<item><title>Soil</title><link>https://a.example/1</link>"
               "<pubDate>Fri, 20 Nov 2026 08:00:00 CET</pubDate></item>")
    assert feedparser_rs.parse(cet).entries[0].get("published_parsed") is None
    got = read_feed(cet)
    assert got.parser == "feedparser" and "date" in (got.fallback or "")
    assert got.entries[0].when is not None
    assert got.entries[0].when == read_feed(cet, fast=False).entries[0].when

    # Not XML at all: feedparser's verdict, never a URL fetched by feedparser-rs.
    junk = read_feed(b"https://example.invalid/feed")
    assert junk.parser == "feedparser" and junk.bozo and not junk.entries


def test_atom_links_are_unescaped_as_feedparser_does():
    body = (b'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            b"<title>Alerts</title><entry><title>Soil &amp; carbon</title><id>t:1</id>"
            b'<link href="https://www.google.com/url?rct=j&amp;sa=t&amp;url=https://a.example/x'
            b'&amp;ct=ga"/><updated>2026-11-20T08:00:00Z</updated></entry></feed>')
    got = read_feed(body)
    assert got.parser == "feedparser-rs"
    assert got.entries[0].link == feedparser.parse(body).entries[0].link
    assert "&amp;" not in got.entries[0].link
    # In RSS a link may be element text or an attribute: an escaped one is left to feedparser.
    rss = _rss("<item><title>x</title><link>https://a.example/?a=1&amp;amp;b=2</link></item>")
    assert read_feed(rss).parser == "feedparser"
    assert read_feed(rss).entries[0].link == feedparser.parse(rss).entries[0].link


def test_dates_in_the_accepted_forms_read_alike():
    samples = ["Fri, 20 Nov 2026 08:00:00 GMT", "Fri, 20 Nov 2026 08:00:00 +0100",
               "20 Nov 2026 08:00 -0500", "Mon, 2 Nov 2026 08:00:00 EST",
               "Fri, 20 Nov 2026 08:00:00 PDT", "Fri, 20 Nov 2026 08:00:00 UT",
               "Fri, 20 Nov 2026 08:00:00 Z", "2026-11-20", "2026-11-20T08:00:00Z",
               "2026-11-20T08:00:00+01:00", "2026-11-20 08:00:00", "2026-11-20T08:00:00",
               "Sat, 20 Nov 2026 08:00:00 GMT", "Fri, 31 Nov 2026 08:00:00 GMT",
               # forms left to feedparser (they differ, or feedparser-rs cannot read them)
               "Fri,20 Nov 2026 08:00:00 GMT", "Fri, 2 Nov 2026 8:00:00 GMT",
               "2026-11-20T08:00:00.5-0300", "2026-11-20T08:00Z", "2026-13-20",
               "Fri, 20 Nov 2026 08:00:00 CET", "Nov 20, 2026"]
    accepted = 0
    for d in samples:
        body = _rss(f"<item><title>x</title><link>https://a.example/</link>"
                    f"<pubDate>{d}</pubDate></item>")
        ref = read_feed(body, fast=False).entries[0].when
        fast = read_feed(body)
        assert fast.entries[0].when == ref, d
        if _SAFE_DATE.fullmatch(d):
            accepted += 1
            assert fast.parser == "feedparser-rs", d
    assert accepted == 14


def test_bulk_insert_keeps_the_rows_around_a_refused_one(db_url, caplog):
    engine = make_engine(db_url)
    try:
        with make_session_factory(engine)() as s, s.begin():
            digest = get_or_create_digest(s, "2026-W47")
            base = {"digest_id": digest.id, "title": "t", "summary": "", "language": "en",
                    "published_at": T0, "topic": "", "themes": [], "matched": [],
                    "score": 0.0, "excluded": False, "pinned": False, "by_observer": False}
            first = insert_rows(s, DigestItem, [{**base, "canonical_url": "https://a/0"}],
                                returning=["id", "canonical_url"])
            assert first[0] is not None and first[0][1] == "https://a/0"
            rows = [{**base, "canonical_url": f"https://a/{n}"} for n in (1, 2, 0, 3)]
            got = insert_rows(s, DigestItem, rows, returning=["id", "canonical_url"])
            assert [g[1] if g else None for g in got] == ["https://a/1", "https://a/2", None,
                                                            "https://a/3"]
            assert "refused" in caplog.text
            ids = [g[0] for g in got if g]
            sources = insert_rows(s, DigestItemSource, [
                {"item_id": ids[0], "feed_title": "f", "feed_url": "u", "link": "l1"},
                {"item_id": 10**9, "feed_title": "f", "feed_url": "u", "link": "l2"},  # no item
                {"item_id": ids[1], "feed_title": "f", "feed_url": "u", "link": "l3"}])
            assert [g is not None for g in sources] == [True, False, True]
        with make_session_factory(engine)() as s:
            assert s.scalar(select(func.count()).select_from(DigestItem)) == 4
            assert sorted(s.scalars(select(DigestItemSource.link))) == ["l1", "l3"]
    finally:
        engine.dispose()


def test_store_candidates_writes_items_and_their_sources(db_url):
    clf = Classifier(load_taxonomy())
    texts = ["Farmers in Kenya are paid for soil carbon stored under a new agroforestry "
             "scheme that verifies soil organic carbon with sampling every five years",
             "A French cooperative sells soil carbon credits from cover crops to a dairy "
             "group, with a registry audit of the methodology and its permanence"]
    entries = [Entry(canonical_url=f"https://s{k}.example/{n}", link=f"https://s{k}.example/{n}",
                     title=t.split(" with")[0][:60], summary=t, published_at=T0,
                     language="en", feed_url=f"https://s{k}.example/feed",
                     feed_title=f"Source {k}")
               for n, t in enumerate(texts) for k in range(3)]
    pool = candidates(entries, classifier=clf, now=T0)
    relevant = [c for c in pool if c.relevant]
    assert len(relevant) == 2 and all(len(c.story.entries) == 3 for c in relevant)
    engine = make_engine(db_url)
    try:
        with make_session_factory(engine)() as s, s.begin():
            digest = get_or_create_digest(s, "2026-W47")
            store_candidates(s, digest, pool)
            assert {i.canonical_url for i in digest.items} == {c.canonical_url
                                                                for c in relevant}
            for item in digest.items:
                assert {src.feed_title for src in item.sources} == {"Source 0", "Source 1",
                                                                     "Source 2"}
            store_candidates(s, digest, pool)  # a rebuild replaces them
        with make_session_factory(engine)() as s:
            assert s.scalar(select(func.count()).select_from(DigestItem)) == len(relevant)
            assert s.scalar(select(func.count()).select_from(DigestItemSource)) == 3 * len(
                relevant)
    finally:
        engine.dispose()


def test_many_copies_of_each_story_cluster_as_all_pairs(shared_fixtures):
    base: list[Entry] = []
    for f in sorted((shared_fixtures / "feeds").iterdir()):
        base += parse_feed(f.read_bytes(), feed_url=f.name, fetched_at=T0).entries[:4]
    rng = random.Random(16)

    def one_word(text: str) -> str:
        words = text.split()
        if words:
            words[rng.randrange(len(words))] = f"w{rng.randint(0, 99)}"
        return " ".join(words)

    copies = [replace(e, canonical_url=f"https://copy{c}.example/{s}", feed_url=f"copy{c}",
                      summary=one_word(e.summary) if c % 2 else e.summary)
              for s, e in enumerate(base) for c in range(30)]
    rng.shuffle(copies)
    index = {id(e): i for i, e in enumerate(copies)}
    got = sorted(sorted(index[id(e)] for e in s.entries) for s in cluster(copies))
    assert got == all_pairs_stories(copies)
    assert max(map(len, got)) >= 20  # copies did merge, many at a time


def test_feeds_read_as_they_arrive_gather_as_all_at_once(shared_fixtures, tmp_path):
    folder = shared_fixtures / "feeds"
    sources = [FeedSource(str(f)) for f in sorted(folder.iterdir())]
    sources += [FeedSource(str(tmp_path / "missing.xml")), FeedSource(str(folder / "x.xml"))]
    cached = {str(tmp_path / "missing.xml"): [
        Entry("https://down.example/1", "https://down.example/1", "Kept while down", "",
              T0, "en", str(tmp_path / "missing.xml"), "Down").to_data()]}
    policy = FetchPolicy(feed_dir=folder)
    at_once = gather(fetch_sources(sources, policy=policy), cached=cached)

    gatherer = Gatherer(cached, parsers=1)
    seen: list[FetchResult] = []
    results = fetch_sources(sources, policy=policy, on_result=seen.append,
                            keep=gatherer.add)
    assert all(r.body is None for r in results) and len(seen) == len(sources)
    assert {id(r) for r in seen} == {id(r) for r in results}  # on_result sees what is kept
    streamed = gatherer.result(results)

    assert streamed.entries == at_once.entries  # same entries, languages and order
    assert streamed.reports == at_once.reports
    assert streamed.fresh == at_once.fresh and streamed.titles == at_once.titles
    assert any(e.title == "Kept while down" for e in streamed.entries)
    assert sum(r.status == "failed" for r in streamed.reports) >= 2
    assert len({e.language for e in streamed.entries}) >= 3


def test_copies_in_blocks_of_different_sizes_cluster_as_all_pairs(shared_fixtures, monkeypatch):
    # Entries are hashed in blocks; a shingle's hash must not depend on its block's size
    # (it did: copies in the last, smaller block never met the others).
    monkeypatch.setattr(cluster_module, "BLOCK", 64)
    base: list[Entry] = []
    for f in sorted((shared_fixtures / "feeds").iterdir()):
        base += parse_feed(f.read_bytes(), feed_url=f.name, fetched_at=T0).entries[:3]
    rng = random.Random(17)
    copies = [replace(e, canonical_url=f"https://copy{c}.example/{s}", feed_url=f"copy{c}",
                      summary=e.summary + (f" w{rng.randint(0, 99)}" if c % 3 == 2 else ""))
              for s, e in enumerate(base[:30]) for c in range(10)]
    rng.shuffle(copies)
    assert len(copies) % 64 and len(copies) > 128  # several blocks, the last one smaller
    index = {id(e): i for i, e in enumerate(copies)}
    got = sorted(sorted(index[id(e)] for e in s.entries) for s in cluster(copies))
    assert got == all_pairs_stories(copies)
    assert max(map(len, got)) >= 8  # exact copies and near copies merged across blocks


def test_identical_short_texts_join_only_by_url():
    def entry(url: str, title: str, summary: str = "") -> Entry:
        return Entry(url, url, title, summary, T0, "en", "f", "F")

    long = "Soil carbon credits reach a record price in the voluntary market this week"
    got = cluster([entry("https://a.example/1", "Soil carbon"),
                   entry("https://b.example/1", "Soil carbon"),  # same short text: apart
                   entry("https://a.example/1", "Something else"),  # same URL: joined
                   entry("https://c.example/1", long), entry("https://d.example/1", long)])
    assert sorted(len(s.entries) for s in got) == [1, 2, 2]
    assert {e.canonical_url for s in got if len(s.entries) == 2 for e in s.entries} == {
        "https://a.example/1", "https://c.example/1", "https://d.example/1"}
