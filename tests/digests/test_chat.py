"""Chat: suggestions (an observer's marked), the secretariat's review, and a
French reader getting the summary in French."""

from __future__ import annotations

from sqlalchemy import select

from bot.digest.service import build, current_week
from storage.base import utcnow
from storage.models import DigestSuggestion, OutboxMessage
from tests.conftest import MEMBER, MEMBER_FR, OBSERVER, SECRETARIAT
from tests.digests.weekfeeds import week_bounds, write_week


def test_review_in_chat(make_bot, db_url, week_server):
    week = current_week(make_bot(db_url).settings)
    start, end = week_bounds(week, utcnow())
    names = write_week(week_server.folder, start=start, end=end)
    bot = make_bot(db_url, digest={"channel": "console:press", "items": 5,
                                   "feeds": [week_server.url(n) for n in names]})
    from adapters.console import ConsoleSession

    def chat(email):
        return ConsoleSession(dispatch=bot.dispatch, email=email)

    obs, member, sec = chat(OBSERVER), chat(MEMBER), chat(SECRETARIAT)
    out = obs.feed("digest suggest https://example.org/soil-carbon?utm_source=x Soil carbon note")
    assert "as an observer" in out
    assert "already suggested" in member.feed("digest suggest https://example.org/soil-carbon")
    assert "need" in member.feed("digest preview")  # members may not review
    with bot.session_factory() as s:
        sug = s.scalars(select(DigestSuggestion)).one()
        assert sug.by_observer and sug.canonical_url == "https://example.org/soil-carbon"

    draft = sec.feed("digest preview")
    assert "(draft)" in draft and "1. " in draft and "5. " in draft and "6. " not in draft
    assert "https://example.org/soil-carbon" in draft.split("Suggestions not included")[1]
    first = draft.split("1. ", 1)[1].split(" <", 1)[0]
    after = sec.feed("digest exclude 1")
    assert f"Removed item 1: {first}" in after
    assert f"1. {first}" not in after and "5. " in after
    after = sec.feed("digest include https://example.org/soil-carbon")
    assert "Soil carbon note" in after and "(observer)" in after
    assert "Added https://example.org/soil-carbon as item" in after
    assert "goes to 2 addresses" in sec.feed("digest send")
    assert "already sent" in sec.feed("digest send")
    with bot.session_factory() as s:
        keys = set(s.scalars(select(OutboxMessage.key)))
    week = current_week(bot.settings)
    assert f"digest:{week}:chat:console:press" in keys
    assert f"digest:{week}:{SECRETARIAT}" in keys

    assert "No press review has been sent yet" not in member.feed("digest latest")
    fr = chat(MEMBER_FR).feed("digest latest")
    assert f"Revue de presse, semaine {week}" in fr
    assert "articles\u202f; la revue complète" in fr
    en = member.feed("digest latest")
    assert f"Press review, week {week}" in en


def test_never_repeats_an_earlier_digest(make_bot, sqlite_url, week_server):
    bot = make_bot(sqlite_url, digest={"items": 4})
    start, _ = week_bounds("2026-W46", utcnow())
    _, end = week_bounds("2026-W47", utcnow())
    urls = [week_server.url(n) for n in write_week(week_server.folder, start=start, end=end)]
    build(session_factory=bot.session_factory, settings=bot.settings, week="2026-W46",
          feeds=urls, send=True)
    build(session_factory=bot.session_factory, settings=bot.settings, week="2026-W47",
          feeds=urls)
    from digests.archive import find_digest, selected

    with bot.session_factory() as s:
        w46 = {i.canonical_url for i in selected(find_digest(s, "2026-W46"))}
        w47 = {i.canonical_url for i in selected(find_digest(s, "2026-W47"))}
    assert len(w46) == 4 and len(w47) == 4 and not (w46 & w47)


def test_any_week_is_reviewed_in_chat(make_bot, sqlite_url, week_server):
    """Issue 20: `digest preview 2026-W47` showed the current week; a week built
    by hand is now previewed, edited and sent in chat."""
    bot = make_bot(sqlite_url, digest={"items": 4, "channel": "console:press"})
    start, end = week_bounds("2026-W47", utcnow())
    urls = [week_server.url(n) for n in write_week(week_server.folder, start=start, end=end)]
    build(session_factory=bot.session_factory, settings=bot.settings, week="2026-W47",
          feeds=urls)
    assert current_week(bot.settings) != "2026-W47"
    from adapters.console import ConsoleSession

    sec = ConsoleSession(dispatch=bot.dispatch, email=SECRETARIAT)
    draft = sec.feed("digest preview 2026-W47")
    assert "Press review, week 2026-W47 (draft)" in draft and "4. " in draft, draft
    first = draft.split("1. ", 1)[1].split(" <", 1)[0]
    after = sec.feed("digest exclude 1 2026-W47")
    assert f"Removed item 1: {first}" in after and "week 2026-W47" in after
    after = sec.feed("digest include https://example.org/by-hand 2026-w47")
    assert "Added https://example.org/by-hand as item" in after and "week 2026-W47" in after
    assert "is not a week" in sec.feed("digest preview 2026-W60")
    assert "goes to 2 addresses" in sec.feed("digest send 2026-W47")
    from digests.archive import find_digest

    with bot.session_factory() as s:
        assert find_digest(s, "2026-W47").status == "sent"
        assert find_digest(s, current_week(bot.settings)) is None


def test_a_suggestion_keeps_the_articles_title_and_the_note_apart(
        make_bot, sqlite_url, week_server):
    """Issue 20: the note became the item's title, and an unreachable URL a
    raw-URL title in "other language". The page's own title is fetched after
    the suggestion is committed (never while the unit of work holds the
    database) and the note kept apart; an unreachable page says so."""
    bot = make_bot(sqlite_url, digest={"items": 4})
    (week_server.folder / "article.html").write_text(
        "<html><head><title>Soil carbon credits reach smallholders | News</title></head>"
        "<body>...</body></html>", encoding="utf-8")
    from adapters.console import ConsoleSession

    member = ConsoleSession(dispatch=bot.dispatch, email=MEMBER)
    sec = ConsoleSession(dispatch=bot.dispatch, email=SECRETARIAT)
    url = week_server.url("article.html")
    out = member.feed(f"digest suggest {url} worth a look for the workshop")
    assert "article's own title" in out and "Your note: worth a look for the workshop" in out
    gone = "http://127.0.0.1:9/unreachable-story"
    member.feed(f"digest suggest {gone} another one")
    with bot.session_factory() as s:
        rows = {r.url: (r.title, r.title_status, r.note)
                for r in s.scalars(select(DigestSuggestion))}
    assert rows == {url: ("Soil carbon credits reach smallholders | News", "fetched",
                          "worth a look for the workshop"),
                    gone: ("", "unavailable", "another one")}
    draft = sec.feed("digest preview")
    waiting = draft.split("Suggestions not included yet:")[1]
    assert f"Soil carbon credits reach smallholders | News <{url}>" in waiting
    assert f"{gone} [its page could not be fetched, so its title is unknown] (another one)" \
        in waiting, waiting
    after = sec.feed(f"digest include {url}")
    line = after.split("Soil carbon credits reach smallholders | News <", 1)[1]
    assert "Amara Okafor's note: worth a look for the workshop" in line.split("\n2. ")[0]
    after = sec.feed(f"digest include {gone}")
    item = after.split(f"127.0.0.1 <{gone}>", 1)[1].split("\n", 2)[1]
    assert "its page could not be fetched" in item and "other language" not in item, item
    assert "Amara Okafor's note: another one" in after
    assert f". {gone} <" not in after  # never the raw address as a title
