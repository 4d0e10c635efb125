"""Issue 21, must show: the secretariat's includes and excludes on one week
change the next week's ranking in the expected direction, the examples
survive a restart, and a reset restores the cold start (the taxonomy alone).
Before issue 21 nothing was learned: the next week ranked as if no edit."""

from __future__ import annotations

from bot.digest import service as svc
from digests import archive
from digests.learn import MIN_EXAMPLES
from storage.base import utcnow
from tests.digests.weekfeeds import rows, week_bounds, write_week

WEEK1, WEEK2 = "2026-W45", "2026-W46"
LIKED, DISLIKED = {"co_benefits", "benefit_sharing"}, {"carbon_markets", "soil_finance"}


def _ranking(bot, week):
    with bot.session_factory() as s, s.begin():
        digest = archive.find_digest(s, week)
        svc.reselect(s, bot.settings, digest)
        items = [i for i in digest.items if not i.pinned]
        order = sorted(items, key=lambda i: -archive.ranked(i))
        return ([(i.canonical_url, i.topic) for i in order],
                {i.canonical_url: (i.learned, i.learned_note) for i in items})


def _mean_rank(order, topics):
    ranks = [n for n, (_, t) in enumerate(order) if t in topics]
    return sum(ranks) / len(ranks)


def test_edits_of_one_week_move_the_next_weeks_ranking_and_a_reset_undoes_it(
        make_bot, db_url, tmp_path):
    scoped = [r for r in rows() if r["in_scope"]]
    halves = {WEEK1: [str(r["id"]) for r in scoped[0::2]],
              WEEK2: [str(r["id"]) for r in scoped[1::2]]}
    urls = []
    for week, only in halves.items():
        folder = tmp_path / week
        folder.mkdir()
        start, end = week_bounds(week, utcnow())
        urls += [str(folder / n) for n in write_week(folder, start=start, end=end, only=only)]
    bot = make_bot(db_url, digest={"feeds": urls, "items": 10})
    for week in halves:
        svc.build(session_factory=bot.session_factory, settings=bot.settings, week=week)
    cold, moves = _ranking(bot, WEEK2)
    assert all(d == 0.0 and not n for d, n in moves.values())  # nothing learned yet

    # The secretariat includes week 1's co-benefit and benefit-sharing stories
    # and excludes its market and finance ones (as chat's include/exclude do).
    with bot.session_factory() as s, s.begin():
        digest = archive.find_digest(s, WEEK1)
        taught = 0
        for item in digest.items:
            if item.topic in LIKED | DISLIKED:
                label = 1 if item.topic in LIKED else -1
                archive.add_example(s, week=WEEK1, action="include" if label > 0 else "exclude",
                                    label=label, url=item.canonical_url, item=item)
                taught += 1
        # below the threshold the model stays off: pad with more of the same
        items = [i for i in digest.items if i.topic in LIKED | DISLIKED]
        while taught < MIN_EXAMPLES:
            item = items[taught % len(items)]
            archive.add_example(s, week=WEEK1, action="include" if item.topic in LIKED
                                else "exclude", label=1 if item.topic in LIKED else -1,
                                url=item.canonical_url, item=item)
            taught += 1

    restarted = make_bot(db_url, digest={"feeds": urls, "items": 10})  # examples survive
    warm, moves = _ranking(restarted, WEEK2)
    topic = dict(warm)
    up = [d for url, (d, _) in moves.items() if topic[url] in LIKED]
    down = [d for url, (d, _) in moves.items() if topic[url] in DISLIKED]
    assert up and down and sum(up) / len(up) > 0 > sum(down) / len(down)
    assert _mean_rank(warm, LIKED) < _mean_rank(cold, LIKED)
    assert _mean_rank(warm, DISLIKED) > _mean_rank(cold, DISLIKED)
    assert any(n.startswith("included:") for _, n in moves.values())
    # the model re-ranks, the taxonomy keeps the floor: every item is still a relevant one
    assert {u for u, _ in warm} == {u for u, _ in cold}

    with restarted.session_factory() as s, s.begin():
        assert archive.reset_learned(s) >= MIN_EXAMPLES
    after, moves = _ranking(restarted, WEEK2)
    assert after == cold and all(d == 0.0 for d, _ in moves.values())


def test_what_was_learned_in_chat(make_bot, db_url, week_server):
    from adapters.console import ConsoleSession
    from bot.digest.service import current_week
    from tests.conftest import MEMBER, SECRETARIAT

    week = current_week(make_bot(db_url).settings)
    start, end = week_bounds(week, utcnow())
    names = write_week(week_server.folder, start=start, end=end)
    bot = make_bot(db_url, digest={"feeds": [week_server.url(n) for n in names], "items": 5})
    sec = ConsoleSession(dispatch=bot.dispatch, email=SECRETARIAT)
    sec.feed("digest preview")
    sec.feed("digest exclude 1")
    got = sec.feed("digest learned")
    assert "0 included, 1 excluded" in got and f"until {MIN_EXAMPLES} examples" in got
    assert "need" in ConsoleSession(dispatch=bot.dispatch, email=MEMBER).feed(
        "digest learned reset")  # secretariat only
    assert "Forgot 1 example" in sec.feed("digest learned reset")
    assert "0 included, 0 excluded" in sec.feed("digest learned")
