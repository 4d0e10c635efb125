"""Must show: relevance, topics and stories on the labelled evaluation set
(tests/digests/eval, 162 items in en/fr/es) clear the issue's floors, which
the scoring before it (one generic word enough, one topic per longest term)
did not: precision 0.904, topic accuracy 0.629, 0 of 6 rewrites clustered."""

from __future__ import annotations

from digests.classify import Classifier
from digests.taxonomy import load_taxonomy


def test_floors_on_the_evaluation_set(quality_bench):
    bench = quality_bench
    rows = bench.load([bench.EVAL])
    assert len(rows) >= 150 and {r["lang"] for r in rows} == {"en", "fr", "es"}
    assert len({r["topic"] for r in rows if r["in_scope"]}) == 9
    f = bench.evaluate(rows)
    assert f.precision >= 0.95, f.mistakes
    assert f.recall >= 0.9, f.mistakes
    assert f.topic_accuracy >= 0.9, f.mistakes
    assert f.same_pairs >= 6 and f.same_found == f.same_pairs, f.mistakes
    assert f.false_merges == 0, f.mistakes


def test_generic_words_alone_never_make_an_item_relevant():
    c = Classifier(load_taxonomy())
    for title, summary in [
        ("Fintech start-up raises $40 million in funding", "Investors back the study of prices."),
        ("Credit card market grows", "Card balances rose; the market standard changed."),
        ("New carbon-fibre bicycle", "The carbon frame is light and the price is high."),
        ("Five tips for better garden soil", "Dig compost into your garden soil in autumn."),
        ("Eight Reasons You Shouldn't Grow Your Own Food", "Gardening is hard work."),
    ]:
        got = c.classify(title, summary)
        assert not got.relevant, (title, got)


def test_overlapping_phrases_count_for_each_topic():
    c = Classifier(load_taxonomy())
    got = c.classify("Soil carbon credits sold to airline", "Buyers paid a premium per tonne.")
    assert got.relevant and got.topic == "carbon_markets"
    assert "soil carbon" in [m.lower() for m in got.matched]
    assert any("carbon credit" in m.lower() for m in got.matched)
    fund = c.classify("Pension fund invests $200 million in soil carbon farmland strategy",
                      "The fund expects returns from crops and soil carbon.")
    assert fund.topic == "soil_finance"
    assert fund.topic_scores.get("soil_measurement", 0) == 0


def test_language_aware_and_why_shows_real_phrases():
    c = Classifier(load_taxonomy())
    # "permanence" is a French term too: read as English text, only English terms count.
    en = c.classify("Soil carbon permanence questioned", "Subsidies for farmers' soils.")
    assert "Subsidies" in en.matched and "subsid" not in en.matched
    assert all(" " in m or m[0].isalpha() for m in en.matched)
    fr_in_en = c.classify("Le carbone du sol", "", language="en")
    assert not fr_in_en.relevant
    fr = c.classify("Le carbone du sol", "stockage du carbone dans les prairies", language="fr")
    assert fr.relevant and "carbone du sol" in fr.matched
