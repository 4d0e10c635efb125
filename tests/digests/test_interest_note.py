"""Issue 21, must show: a member whose interests (topics on their profile)
match items of the sent review gets one short note a week listing them, in
their language; a member without matching interests gets none, nor does one
who said ``digest notes off``. Before issue 21 nobody but the secretariat
was told."""

from __future__ import annotations

from sqlalchemy import select

from bot.digest import service as svc
from digests import archive
from storage.base import utcnow
from storage.models import OutboxMessage
from tests.conftest import MEMBER, MEMBER_ES, MEMBER_FR, SECRETARIAT
from tests.digests.weekfeeds import week_bounds, write_week


def _notes(bot):
    with bot.session_factory() as s:
        return {m.key: m for m in s.scalars(select(OutboxMessage).where(
            OutboxMessage.key.like("digest-note:%")))}


def test_the_weekly_interest_note(make_bot, db_url, week_server):
    week = svc.current_week(make_bot(db_url).settings)
    start, end = week_bounds(week, utcnow())
    names = write_week(week_server.folder, start=start, end=end)
    bot = make_bot(db_url, digest={"feeds": [week_server.url(n) for n in names], "items": 8})
    from adapters.console import ConsoleSession

    def chat(email):
        return ConsoleSession(dispatch=bot.dispatch, email=email)

    draft = chat(SECRETARIAT).feed("digest preview")
    assert "1. " in draft
    with bot.session_factory() as s:
        topics = [i.topic for i in archive.selected(archive.find_digest(s, week))]
    shown, absent = topics[0], next(t.key for t in svc.taxonomy_for(bot.settings).topics
                                    if t.key not in topics)
    fr, member, es = chat(MEMBER_FR), chat(MEMBER), chat(MEMBER_ES)
    fr.feed(f"interests set {shown}")
    member.feed(f"interests set {absent}")  # nothing of theirs this week
    es.feed(f"interests set {shown}")
    assert "Ya no recibirá" in es.feed("digest notes off")  # in their language
    chat(SECRETARIAT).feed("digest send")
    notes = _notes(bot)
    assert len(notes) == 1
    (key, note), = notes.items()
    text = note.payload["text"]
    assert key.startswith(f"digest-note:{week}:p")
    assert "La revue de presse de la semaine a" in text and "digest notes off" in text
    assert MEMBER_FR in str(note.payload["to"])
    with bot.session_factory() as s, s.begin():  # once a week: a second send queues nothing
        assert svc.send_interest_notes(s, bot.settings, archive.find_digest(s, week)) == 0
    assert len(_notes(bot)) == 1
