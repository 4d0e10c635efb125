"""Issue 21, must show: the figures on the real-article set (tests/digests/real:
457 real published articles in en/fr/es over 87 weeks, labelled by seven
labellers who never saw the code; see its README) held as floors.
``python bench/digest_quality.py --real --show`` prints them with every miss
(``--held-out``: only g6's 94 articles, labelled after the rules were
written; ``--tuned``: the rest; ``--set g5``: the part held out before g6);
``--code DIR`` runs another checkout. The figures per part, main at
53b144e -> main at 02b3e0f (session 6) -> now, are in the issue's
resolution note; the floors sit just below the latest."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(scope="module")
def real_run(quality_bench) -> tuple[list[dict[str, Any]], list[Any]]:
    """The whole set's rows and per-week results, built once: the parts'
    figures are taken from the weeks of each part (parts never share a
    week), not built again."""
    rows, weeks = quality_bench.load_real(quality_bench.REAL)
    _, results = quality_bench.evaluate_real(rows, weeks)
    return rows, results


def part_figures(bench: Any, run: Any, part: str) -> tuple[Any, list[dict[str, Any]], list[Any]]:
    """The figures, rows and weeks of ``part`` (see ``load_real``)."""
    rows, weeks = bench.load_real(bench.REAL, part)
    kept = {w["week"] for w in weeks}
    return bench.real_figures(rows, [r for r in run[1] if r.week in kept]), rows, weeks


# part -> (at least rows, weeks; at least top-story recall, precision, topic
# accuracy, lead first as a share of the labelled leads; at most split share).
# "whole": every labeller; "tuned": the weeks the rules were written on; "held-out":
# g6, labelled after the rules and measured unread (split 7/14, topic 0.812),
# then read for story evidence and topics (those floors are tuned since); "set:g5": the
# part held out in the session before (tuned on since).
FLOORS = {
    "whole": (450, 70, 0.88, 0.96, 0.90, 0.85, 0.07),
    "tuned": (360, 30, 0.86, 0.95, 0.89, 0.85, 0.05),
    "held-out": (90, 30, 0.90, 0.97, 0.90, 0.80, 0.15),
    "set:g5": (45, 6, 0.80, 0.95, 0.90, 0.75, 0.50),
}


@pytest.mark.parametrize("part", FLOORS)
def test_floors_on_each_part_of_the_real_set(quality_bench, real_run, part):
    rows_min, weeks_min, recall, precision, topic, lead, split = FLOORS[part]
    if part == "whole":
        rows, results = real_run
        f, weeks = quality_bench.real_figures(rows, results), results
        assert {r["lang"] for r in rows} == {"en", "fr", "es"}
    else:
        f, rows, weeks = part_figures(quality_bench, real_run, part)
    assert len(rows) >= rows_min and len(weeks) >= weeks_min
    assert f.wrong_merges == 0, f.misses
    assert f.top_recall >= recall, f.misses
    assert f.precision >= precision, f.misses
    assert f.topic_accuracy >= topic, f.misses
    assert f.lead_first >= lead * f.led, f.misses
    assert f.split_share <= split, f.misses


def test_the_parts_share_no_week(quality_bench):
    """Each labeller's weeks are its own, so a part's figures are its own."""
    rows, _ = quality_bench.load_real(quality_bench.REAL)
    weeks: dict[str, set[str]] = {}
    for r in rows:
        weeks.setdefault(r.get("source_set", "existing"), set()).add(r["week"])
    for name in ("g5", "g6"):
        others = set().union(*(w for s, w in weeks.items() if s != name))
        assert not weeks[name] & others, name


def test_the_real_set_is_built_through_feeds_with_a_source_element(quality_bench):
    bench = quality_bench
    rows, _ = bench.load_real(bench.REAL)
    week = rows[0]["week"]
    feeds = bench.week_feeds(rows, week)
    assert feeds and all(b"<source url=" in body for _, body in feeds)
    review, _pool = bench.build_week(rows, week, bench.Classifier(bench.load_taxonomy()))
    assert review and all(c.relevant for c in review)
