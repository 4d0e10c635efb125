"""Issue 21: the evidence an editor uses to call two items one story
(digests/related.py): the same headline near enough, two actors' names in
texts alike, one study's report; each with a case that must stay apart."""

from __future__ import annotations

from datetime import UTC, datetime

from digests.cluster import Profile, compare
from digests.related import headline_words, letter_grams, reports_study

WHEN = datetime(2025, 3, 4, 9, tzinfo=UTC)


def _item(title: str, summary: str = "", *, lang: str = "en", words: set[str] | None = None,
          names: set[str] = frozenset(), step: str = "", topic: str = "soil_methods") -> Profile:
    text = f"{title} {summary}"
    return Profile(language=lang, topic=topic, words=set(words or set()), numbers=set(),
                   names=set(names), when=WHEN, grams=letter_grams(text), milestone=step,
                   headline=headline_words(title), study=reports_study(text))


def test_headline_words_leave_linking_words_out():
    assert headline_words("La Région et ses partenaires lancent sept projets") == {
        "region", "ses", "partenaires", "lancent", "sept", "projets"}


def test_one_announcement_under_two_headlines_is_one_story():
    a = _item("Acme Farms Announces Second Soil Credit Issuance",
              "The company pays 400 growers for verified tonnes.")
    b = _item("Progress with Acme Farms' Second Soil Credit Issuance",
              "A blog post on how the credits were measured and sold to buyers.")
    ev = compare(a, b)
    assert ev.headline == 6 and ev.same_story
    # headlines on one subject, a few words in common: two stories
    c = _item("Soil carbon credits: what farmers need to know before signing")
    d = _item("Ministry opens consultation on soil carbon credits for farmers")
    assert compare(c, d).headline == 4 and not compare(c, d).same_story
    # the same words in two languages' headlines say nothing
    e = _item("Acme Farms annonce sa deuxième émission de crédits carbone du sol", lang="fr")
    assert not compare(a, e).same_story


def test_two_steps_of_one_law_stay_apart_whatever_the_headlines():
    a = _item("EU soil health law on carbon farming adopted by Parliament", step="adoption")
    b = _item("EU soil health law on carbon farming published in Official Journal",
              step="publication")
    assert compare(a, b).headline >= 5 and not compare(a, b).same_story


def test_two_actors_in_texts_alike_are_one_event():
    words = {"ministr", "soil", "carbon"}  # three of thirteen words in common (0.23)
    a = _item("Ministers visit a farm storing carbon",
              "Marie Dupont hosted ministers storing soil carbon on a farm visit",
              lang="fr", words=words | {"host", "farm", "visit", "tour", "meet"},
              names={"marie", "dupont"})
    b = _item("Marie Dupont praises soil carbon storage to ministers",
              "Marie Dupont told ministers soil carbon storage and credits pay farms",
              lang="fr", words=words | {"prais", "storag", "credit", "pay", "label"},
              names={"marie", "dupont"})
    assert compare(a, b).same_story
    # the same two names in texts that are not alike: a minister's two events
    c = _item("Marie Dupont opens an agricultural fair",
              "Marie Dupont inaugurated the livestock pavilion and spoke on prices",
              lang="fr", words={"fair", "open", "livestock", "pavilion", "price", "inaugur"},
              names={"marie", "dupont"})
    assert not compare(a, c).same_story


def test_one_study_reported_twice_is_one_story():
    a = _item("Regional baselines would make soil credits comparable",
              "Researchers at Oakridge Institute reviewed ten protocols for soil carbon credits",
              names={"oakridge"})
    b = _item("Soil carbon credits need regional baselines, study says",
              "A study by Oakridge Institute scientists compares protocols for soil carbon credits",
              names={"oakridge"})
    assert a.study and b.study and compare(a, b).same_story
    # the same institution in an item that reports no study: not the study's story
    c = _item("Oakridge Institute opens a soil carbon credits office",
              "The institute hires staff to advise on soil carbon credits protocols",
              names={"oakridge"})
    assert not c.study and not compare(a, c).same_story
