"""Issue 21: a merge is explained (``digest show --format json``: ``merged``,
``publishers``) and the secretariat undoes it in chat (``digest split N``,
answered in the reader's language); a member may not. Before issue 21 there
was no ``merged`` reason and no ``digest split``."""

from __future__ import annotations

from email.utils import format_datetime
from xml.sax.saxutils import escape

from bot.digest.service import current_week, review_data
from digests import archive
from storage.base import utcnow
from tests.conftest import MEMBER, SECRETARIAT
from tests.digests.weekfeeds import week_bounds

STORY = [
    ("news-one", "Verra suspends Kansas soil carbon project after audit",
     "The registry Verra suspended issuance for the Kansas soil carbon project after an audit "
     "found 120,000 credits overstated."),
    ("news-two", "Registry Verra halts soil carbon credits of Kansas project",
     "Verra suspended the Kansas soil carbon project: the audit found 120,000 credits "
     "overstated, the registry said on Tuesday."),
]


def _feed(folder, name, items, when):
    body = "".join(
        f"<item><title>{escape(t)}</title><link>https://{name}.example/{n}</link>"
        f"<pubDate>{format_datetime(when)}</pubDate><description>{escape(s)}</description></item>"
        for n, (t, s) in enumerate(items))
    (folder / f"{name}.xml").write_text(
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Feed of {name}</title>'
        f"{body}</channel></rss>", encoding="utf-8")
    return str(folder / f"{name}.xml")


def test_a_merge_is_explained_and_undone_in_chat(make_bot, db_url, tmp_path):
    week = current_week(make_bot(db_url).settings)
    start, end = week_bounds(week, utcnow())
    when = start + (end - start) / 2
    feeds = [_feed(tmp_path, site, [(t, s)], when) for site, t, s in STORY]
    feeds.append(_feed(tmp_path, "other", [(
        "Farmers adopt cover crops to store soil carbon in Iowa",
        "A soil carbon programme pays Iowa farmers for cover crops and no-till.")], when))
    bot = make_bot(db_url, digest={"feeds": feeds, "items": 5})
    from adapters.console import ConsoleSession

    sec = ConsoleSession(dispatch=bot.dispatch, email=SECRETARIAT)
    member = ConsoleSession(dispatch=bot.dispatch, email=MEMBER)
    draft = sec.feed("digest preview")
    assert "Reported by 2 publishers." in draft
    with bot.session_factory() as s:
        data = review_data(bot.settings, archive.find_digest(s, week))
    merged = [i for i in data["items"] if i["merged"]]
    assert len(merged) == 1 and merged[0]["merged"].startswith("same event: ")
    assert "2 publishers" in merged[0]["merged"]
    assert sorted(merged[0]["publishers"]) == ["news-one.example", "news-two.example"]
    n = merged[0]["number"]
    assert "need" in member.feed(f"digest split {n}")  # secretariat only
    out = sec.feed(f"digest split {n}")
    assert "1 other source is now an item of its own" in out
    with bot.session_factory() as s:
        data = review_data(bot.settings, archive.find_digest(s, week))
    assert not any(i["merged"] for i in data["items"]) and len(data["items"]) == 3
    assert "nothing to split" in sec.feed("digest split 1")
    with bot.session_factory() as s:
        kept = archive.learned_summary(s)
    assert kept.get("split") == 1
