"""The review of the week that ended: the scheduled build on its defaults
(Monday 08:00 Europe/Paris) reviews the last complete ISO week, once; ``convene
digest build`` without ``--week`` does the same; the current week is built
only when named."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.digest.service import last_complete_week
from bot.jobs import fire
from storage.models import Digest, OutboxMessage
from tests.clock import freeze
from tests.digests.conftest import LOOPBACK
from tests.digests.test_nothing_lost import _cli
from tests.digests.weekfeeds import week_bounds, write_week

#: Monday 30 November 2026, 08:00 in Paris: the default tick; 2026-W48 just ended.
MONDAY_TICK = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)


def test_the_monday_review_covers_the_week_that_ended(make_bot, db_url, week_server):
    start, end = week_bounds("2026-W48", MONDAY_TICK)
    assert end == MONDAY_TICK - timedelta(hours=8)  # the whole week, to Monday 00:00 Paris
    urls = [week_server.url(n) for n in write_week(week_server.folder, start=start, end=end)]
    bot = make_bot(db_url, outbound=LOOPBACK, digest={"feeds": urls})
    spec = next(s for s in bot.registry.jobs if s.id == "digest.weekly")
    freeze(MONDAY_TICK)
    bot.leadership.check()
    try:
        assert fire(bot, spec, MONDAY_TICK)
        with bot.session_factory() as s:
            digests = {d.week: d.status for d in s.scalars(select(Digest))}
            sent = sorted(s.scalars(select(OutboxMessage.key).where(
                OutboxMessage.key.like("digest:%"))))
        assert digests == {"2026-W48": "sent"}, "the week that began this morning is not built"
        assert sent and all(k.startswith("digest:2026-W48:") for k in sent)
        # The tick again (a fail-over) or a later run of the job: nothing more.
        assert not fire(bot, spec, MONDAY_TICK)
        from bot.digest.routes import weekly_digest

        weekly_digest(bot, tick=MONDAY_TICK + timedelta(hours=1))
        with bot.session_factory() as s:
            again = sorted(s.scalars(select(OutboxMessage.key).where(
                OutboxMessage.key.like("digest:%"))))
        assert again == sent
    finally:
        bot.leadership.stop()


def test_build_without_a_week_builds_the_last_complete_one(make_bot, sqlite_url, week_server,
                                                           tmp_path):
    start, end = week_bounds("2026-W48", MONDAY_TICK)
    urls = [week_server.url(n) for n in write_week(week_server.folder, start=start, end=end)]
    make_bot(sqlite_url, outbound=LOOPBACK, digest={"feeds": urls})
    run = _cli(tmp_path, sqlite_url)
    freeze(datetime(2026, 12, 2, 10, 0, tzinfo=UTC))  # Wednesday of 2026-W49
    res = run("digest", "build")
    assert res.output.strip().splitlines()[-1].startswith("2026-W48: draft"), res.output
    res = run("digest", "build", "--week", "2026-W49")  # named: built although not ended
    assert "2026-W49: draft" in res.output, res.output


def test_last_complete_week_in_the_digests_zone(make_bot, sqlite_url):
    settings = make_bot(sqlite_url, roster=None).settings  # Europe/Paris
    # Sunday 29 November 23:30 in Paris (22:30 UTC): 2026-W48 has not ended yet.
    assert last_complete_week(settings, datetime(2026, 11, 29, 22, 30, tzinfo=UTC)) \
        == "2026-W47"
    # Monday 00:30 in Paris (Sunday 23:30 UTC): it has.
    assert last_complete_week(settings, datetime(2026, 11, 29, 23, 30, tzinfo=UTC)) \
        == "2026-W48"
    assert last_complete_week(settings, datetime(2027, 1, 4, 7, 0, tzinfo=UTC)) == "2026-W53"


def test_the_review_email_names_every_source_that_failed(make_bot, sqlite_url, week_server):
    from tests.conftest import SECRETARIAT, SECRETARIAT_ES

    start, end = week_bounds("2026-W48", MONDAY_TICK)
    names = write_week(week_server.folder, start=start, end=end)
    urls = [week_server.url(n) for n in names]
    gone = [urls[0], week_server.url("missing.xml")]
    (week_server.folder / names[0]).unlink()
    bot = make_bot(sqlite_url, outbound=LOOPBACK, digest={"feeds": [*urls, gone[1]]})
    freeze(MONDAY_TICK)
    from bot.digest.routes import weekly_digest

    weekly_digest(bot, tick=MONDAY_TICK)
    with bot.session_factory() as s:
        mails = {m.key.split(":")[-1]: m.payload for m in s.scalars(
            select(OutboxMessage).where(OutboxMessage.key.like("digest:2026-W48:%")))
            if m.kind == "email"}
    assert set(mails) >= {SECRETARIAT, SECRETARIAT_ES}
    for address, words in ((SECRETARIAT, "Sources that failed this week"),
                           (SECRETARIAT_ES, "Fuentes que fallaron esta semana")):
        text, html = mails[address]["text"], mails[address]["html"]
        assert words in text and words in html
        for url in gone:
            assert url in text and url in html, (address, url)
        for url in urls[1:]:  # the sources that answered are not listed as failed
            assert url not in text.split(words, 1)[1]
