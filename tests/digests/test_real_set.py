"""Issue 21, must show: the figures on the real-article set (tests/digests/real:
363 real published articles in en/fr/es over 37 weeks, labelled by six
labellers who never saw the code; see its README) held as floors.
``python bench/digest_quality.py --real --show`` prints them with every miss
(``--held-out``: only the 49 articles of the weeks never looked at while
tuning); ``--code DIR`` runs another checkout. Before the near-miss rules,
event evidence and topic choice (main at 53b144e): precision 0.772, top-story
recall 0.909, lead first in 24 of 33 weeks, 2 wrong merges, 48.5% of
multi-item stories split, topic accuracy 0.547; held out: 0.875, 0.923,
8 of 8, 0, 25%, 0.500. After: 0.932, 0.886, 30 of 33, 0, 10.0%, 0.902; held
out: 1.000, 0.846, 8 of 8, 0, 2 of 4 split, 0.929. With an act's number
and a law's step as evidence (digests/acts.py): 0.929, 0.886, 30 of 33, 0,
3.3% (1 of 30), 0.899 (71/79: the same 8 topic misses among fewer items,
merged ones); held out: 1.000, 0.846, 8 of 8, 0, 1 of 4 split, 0.917
(11/12). With the land named up front and summit coverage read from the
lead's first sentence too: precision 0.965 (82 of 85) before the act
evidence. The floors sit just below."""

from __future__ import annotations


def test_floors_on_the_real_articles(quality_bench):
    bench = quality_bench
    rows, weeks = bench.load_real(bench.REAL)
    assert len(rows) >= 360 and {r["lang"] for r in rows} == {"en", "fr", "es"}
    assert len(weeks) >= 30
    f, _ = bench.evaluate_real(rows, weeks)
    assert f.wrong_merges == 0, f.misses
    assert f.lead_first >= f.led - 4, f.misses
    assert f.top_recall >= 0.86, f.misses
    assert f.precision >= 0.95, f.misses
    assert f.split_share <= 0.05, f.misses
    assert f.topic_accuracy >= 0.88, f.misses


def test_floors_on_the_held_out_weeks(quality_bench):
    """The weeks of the labeller whose items were never looked at while the
    rules were written: the issue's targets but split (1 of its 4 stories
    of several items is shown as two: an agreement reported from opposite
    angles in three languages)."""
    bench = quality_bench
    rows, weeks = bench.load_real(bench.REAL, "held-out")
    assert len(rows) >= 45 and len(weeks) >= 6
    assert not {w["week"] for w in weeks} & {w["week"] for w in bench.load_real(
        bench.REAL, "tuned")[1]}
    f, _ = bench.evaluate_real(rows, weeks)
    assert f.wrong_merges == 0, f.misses
    assert f.lead_first >= 0.75 * f.led, f.misses
    assert f.top_recall >= 0.8, f.misses
    assert f.precision >= 0.95, f.misses
    assert f.topic_accuracy >= 0.9, f.misses
    assert f.split <= 1, f.misses


def test_the_real_set_is_built_through_feeds_with_a_source_element(quality_bench):
    bench = quality_bench
    rows, _ = bench.load_real(bench.REAL)
    week = rows[0]["week"]
    feeds = bench.week_feeds(rows, week)
    assert feeds and all(b"<source url=" in body for _, body in feeds)
    review, _pool = bench.build_week(rows, week, bench.Classifier(bench.load_taxonomy()))
    assert review and all(c.relevant for c in review)
