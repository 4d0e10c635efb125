"""Must show: the eleven fixture feeds, served over real HTTP, build a digest
for 2026-W47 that selects nothing from before that week and nothing off the
alliance's scope (they carry no soil-carbon news: the review is empty, and
says so, rather than filled)."""

from __future__ import annotations

import re
from datetime import UTC, timedelta

from sqlalchemy import select

from bot.digest.service import build
from digests.archive import find_digest, week_start
from storage.models import DigestFeed
from tests.digests.conftest import LOOPBACK

WELL_FORMED = [
    "feedjira_TechCrunch.xml", "feedjira_google_alerts_atom.xml",
    "feedjira_itunes_feedburner.xml", "laminas_laut.de-rdf.xml",
    "miniflux_no_encoding_ISO-8859-1.xml", "rssparser_content-encoded.rss",
    "rssparser_encoding.rss", "rssparser_guardian.rss", "rssparser_rss-1.rss",
]
BROKEN = ["feedparser_aaa_illformed.xml", "feedparser_rss_item_link_corrupted_ampersands.xml"]
MOJIBAKE = re.compile("Ã[\u0080-\u00bf]|Â[\u0080-\u00bf]|\ufffd")


def test_fixture_feeds_build_a_digest(make_bot, db_url, feed_server):
    names = sorted(p.name for p in feed_server.folder.iterdir())
    assert len(names) == 11
    urls = [feed_server.url(n) for n in names]
    bot = make_bot(db_url, digest={"feeds": urls}, outbound=LOOPBACK)
    out = build(session_factory=bot.session_factory, settings=bot.settings, week="2026-W47")
    by_name = {r["url"].rsplit("/", 1)[-1]: r for r in out.reports}
    for name in WELL_FORMED:
        assert by_name[name]["status"] in ("ok", "bozo"), by_name[name]
        assert by_name[name]["entries"] > 0, name
    for name in BROKEN:
        assert by_name[name]["status"] == "failed"
        assert "unclosed token" in str(by_name[name]["reason"])
    # a bozo feed with entries is used and flagged
    assert by_name["feedjira_TechCrunch.xml"]["status"] == "bozo"
    assert "declaration" in str(by_name["feedjira_TechCrunch.xml"]["reason"])
    assert set(feed_server.gzipped) >= set(WELL_FORMED)
    # Nothing from 2011-2019, no music news, no Slack stock: an empty review.
    assert out.items == 0
    with bot.session_factory() as s:
        d = find_digest(s, "2026-W47")
        start = week_start("2026-W47", bot.settings.digest.timezone)
        assert all(start <= i.published_at.replace(tzinfo=UTC) < start + timedelta(days=7)
                   for i in d.items)
        assert not d.items  # not even as unselected candidates
    assert out.rendered is not None and "review is empty" in out.rendered.text

    with bot.session_factory() as s:
        cache = {f.url.rsplit("/", 1)[-1]: f.cached_entries
                 for f in s.scalars(select(DigestFeed))}
        latin1 = " ".join(e["title"] + e["summary"] for e in cache["rssparser_encoding.rss"])
        wrong_decl = " ".join(e["title"] + e["summary"] for e in cache["laminas_laut.de-rdf.xml"])
        french = " ".join(e["title"] + e["summary"]
                          for e in cache["miniflux_no_encoding_ISO-8859-1.xml"])
        assert "Mãe de utente" in latin1 and "Raríssimas" in latin1
        assert "Kölner" in wrong_decl and "veröffentlicht" in wrong_decl
        assert "é" in french
        for text in (latin1, wrong_decl, french):
            assert not MOJIBAKE.search(text)
        assert {e["language"] for e in cache["miniflux_no_encoding_ISO-8859-1.xml"]} == {"fr"}
        # Google Alerts redirect links resolve to the article
        ga = cache["feedjira_google_alerts_atom.xml"]
        assert all("google.com/url" not in e["canonical_url"] for e in ga)
        digest = find_digest(s, "2026-W47")
        assert digest is not None
        html = digest.html
    lowered = html.lower()
    for tag in ("<script", "<iframe", "<style", "javascript:"):
        assert tag not in lowered
    assert not re.search(r"<[^>]+\son\w+\s*=", lowered)
    assert "<table" in lowered and 'style="' in lowered  # inlined CSS, table layout

    # second fetch: conditional GETs answered 304, entries reused from the cache
    out2 = build(session_factory=bot.session_factory, settings=bot.settings, week="2026-W47")
    by_name2 = {r["url"].rsplit("/", 1)[-1]: r for r in out2.reports}
    for name in WELL_FORMED:
        assert feed_server.hits[name] == [200, 304], name
        assert by_name2[name]["status"] == "unchanged"
        assert by_name2[name]["entries"] == by_name[name]["entries"]
    assert out2.items == out.items


def test_unreachable_source_is_reported_not_fatal(make_bot, sqlite_url, feed_server):
    bot = make_bot(sqlite_url, digest={"fetch_timeout": 2.0}, outbound=LOOPBACK)
    urls = [feed_server.url("rssparser_guardian.rss"), feed_server.url("missing.xml"),
            "http://127.0.0.1:9/closed.xml"]
    out = build(session_factory=bot.session_factory, settings=bot.settings, week="2026-W47",
                feeds=urls)
    st = {r["url"]: r for r in out.reports}
    assert st[urls[0]]["status"] == "ok"
    assert st[urls[1]]["status"] == "failed" and "404" in str(st[urls[1]]["reason"])
    assert st[urls[2]]["status"] == "failed" and st[urls[2]]["reason"]
