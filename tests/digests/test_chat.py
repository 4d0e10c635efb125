"""Chat: suggestions (an observer's marked), the secretariat's review, and a
French reader getting the summary in French."""

from __future__ import annotations

from sqlalchemy import select

from bot.digest.service import build, current_week
from storage.base import utcnow
from storage.models import DigestSuggestion, OutboxMessage
from tests.conftest import MEMBER, MEMBER_FR, OBSERVER, SECRETARIAT
from tests.digests.conftest import LOOPBACK
from tests.digests.weekfeeds import week_bounds, write_week


def test_review_in_chat(make_bot, db_url, week_server):
    week = current_week(make_bot(db_url).settings)
    start, end = week_bounds(week, utcnow())
    names = write_week(week_server.folder, start=start, end=end)
    bot = make_bot(db_url, digest={"channel": "console:press", "items": 5,
                                   "feeds": [week_server.url(n) for n in names]},
                   outbound=LOOPBACK)
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
    bot = make_bot(sqlite_url, digest={"items": 4}, outbound=LOOPBACK)
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
