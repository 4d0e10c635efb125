"""An act's official number and a law's step as evidence of one event
(digests/acts.py, digests/related.py): the same act at the same step in any
language is one story; two steps of one law, or one act cited in passing
by two unrelated items, are not."""

from __future__ import annotations

from datetime import UTC, date, datetime

from digests.acts import act_numbers, law_acts, milestone, other_milestones, same_milestone
from digests.related import Profile, compare

WHEN = datetime(2025, 11, 26, 9, tzinfo=UTC)


def test_an_act_number_is_one_key_in_any_language():
    en = act_numbers("Directive (EU) 2025/2360 of the European Parliament and of the Council")
    es = act_numbers("se publica la Directiva (UE) 2025/2360, del 12 de noviembre")
    fr = act_numbers("le cabinet analyse la directive (UE) 2025/2360 du 12 novembre 2025")
    assert en == es == fr == {"EU 2025/2360"}
    assert act_numbers("under Regulation (EU) No 2024/3012") == {"EU 2024/3012"}
    assert act_numbers("le décret n° 2022-1234 du 5 août") == {"2022/1234"}
    assert act_numbers("el Real Decreto 1051/2022") == {"2022/1051"}


def test_a_method_code_a_season_or_a_target_is_no_act():
    assert act_numbers("verified under VM0042 v2.1 and VM0047") == set()
    assert act_numbers("the 2024/25 season and the 2030/2050 targets") == set()
    assert act_numbers("Ley 7 de residuos") == set()


def test_a_laws_step_in_en_fr_es():
    assert milestone("EU soil law: provisional agreement reached", "") == "agreement"
    assert milestone("Sols : la directive avance", "Le Parlement et le Conseil ont conclu un "
                     "accord provisoire sur la directive.") == "agreement"
    assert milestone("La ley del suelo", "Acuerdo provisional entre el Parlamento y el "
                     "Consejo sobre la directiva.") == "agreement"
    assert milestone("Parliament adopts soil law", "") == "adoption by parliament"
    assert milestone("EU member states adopt new soil rules", "the directive") == \
        "adoption by council"
    assert milestone("Nueva Directiva", "Se publica en el Diario Oficial de la UE.") == \
        "publication"
    assert milestone("Soil law enters into force", "") == "in force"
    # the title says the news; the summary's history comes after
    assert milestone("Directive published in the Official Journal",
                     "The Council adopted it in September.") == "publication"
    # no law named: no step of a law
    assert milestone("Registry adopts new rules for buffers", "") == ""


def test_a_step_dated_long_before_the_item_is_its_background():
    recap = "Explica la Directiva adoptada por el Consejo de la UE el 29 de septiembre de 2025."
    assert milestone("La UE endurece los controles", recap, published=date(2025, 11, 24)) == ""
    assert milestone("La UE endurece los controles", recap, published=date(2025, 10, 2)) == \
        "adoption by council"
    # the news after the background, in one sentence
    both = ("The directive, adopted by the Council on 29 September, was published in the "
            "Official Journal on 26 November.")
    assert milestone("Soil law", both, published=date(2025, 11, 26)) == "publication"
    # a date of December read in January is of the year before
    assert milestone("Loi", "Le Parlement a adopté la loi le 18 décembre.",
                     published=date(2026, 1, 20)) == ""
    # "seals the deal" is a final vote's idiom, not a provisional agreement
    assert milestone("European Parliament seals the deal on the first EU law on soils", "") == ""


def test_steps_agree_or_differ():
    assert same_milestone("adoption by parliament", "adoption")
    assert not same_milestone("adoption by parliament", "adoption by council")
    assert other_milestones("publication", "adoption by council")
    assert not other_milestones("publication", "")


def test_an_act_cited_in_passing_is_not_what_an_item_is_about():
    texts = ["First project certified under the EU framework",
             "It follows Regulation (EU) 2024/3012."]
    assert law_acts(texts[0], texts, "") == set()
    assert law_acts("Carbon removals regulation: the rules", texts, "") == {"EU 2024/3012"}


def _law(lang: str, *, acts: set[str] = frozenset(), step: str = "", topic: str = "soil",
         bodies: set[str] = frozenset(), when: datetime = WHEN) -> Profile:
    return Profile(language=lang, topic=topic, words=set(), numbers=set(), names=set(),
                   when=when, bodies=set(bodies), acts=set(acts), milestone=step)


def test_one_act_at_one_step_is_one_story_in_two_languages():
    en = _law("en", acts={"EU 2025/2360"}, step="publication")
    es = _law("es", acts={"EU 2025/2360"}, step="publication")
    assert compare(en, es).same_story
    assert compare(en, _law("es", acts={"EU 2025/2360"})).same_story  # no step said


def test_one_act_at_two_steps_or_on_two_subjects_is_two_stories():
    published = _law("en", acts={"EU 2025/2360"}, step="publication")
    adopted = _law("fr", acts={"EU 2025/2360"}, step="adoption by council")
    assert not compare(published, adopted).same_story
    other_topic = _law("en", acts={"EU 2025/2360"}, topic="finance")
    assert not compare(published, other_topic).same_story
    assert not compare(published, _law("es", acts={"EU 2024/3012"},
                                       step="publication")).same_story


def test_one_step_of_a_law_reported_from_two_angles_is_one_story():
    en = _law("en", step="agreement", bodies={"european parliament"})
    fr = _law("fr", step="agreement", bodies={"european parliament", "council of the eu"})
    assert compare(en, fr).same_story
    # two steps of one law in one week are two events
    voted = _law("fr", step="adoption by parliament", bodies={"european parliament"})
    assert not compare(en, voted).same_story
    # the same step with nothing else in common: two laws, perhaps
    assert not compare(_law("en", step="agreement"), _law("es", step="agreement")).same_story
    # weeks apart: two events
    later = _law("es", step="agreement", bodies={"european parliament"},
                 when=datetime(2025, 12, 26, tzinfo=UTC))
    assert not compare(en, later).same_story


def test_a_directive_published_in_two_languages_is_one_item_named_by_its_number():
    from datetime import timedelta

    from digests.classify import Classifier
    from digests.parse.normalise import Entry
    from digests.pipeline import candidates
    from digests.taxonomy import load_taxonomy

    def entry(n: int, title: str, summary: str, lang: str, day: int) -> Entry:
        return Entry(canonical_url=f"https://s{n}.example/a", link=f"https://s{n}.example/a",
                     title=title, summary=summary, published_at=WHEN + timedelta(days=day),
                     language=lang, feed_url=f"https://s{n}.example/feed.xml", feed_title="F")

    entries = [
        entry(1, "Directive (EU) 2025/2360 on soil monitoring and resilience",
              "The soil monitoring law was published in the Official Journal on 26 November; "
              "member states must monitor soil health and soil organic carbon.", "en", 0),
        entry(2, "Nueva directiva europea de vigilancia del suelo",
              "Se publica en el Diario Oficial la Directiva (UE) 2025/2360 sobre la salud "
              "de los suelos y el carbono orgánico del suelo.", "es", 0),
        # the same act at another step, in the same week: another story
        entry(3, "Soil monitoring directive: Parliament votes on amendments to Directive "
              "(EU) 2025/2360", "The European Parliament adopted amendments on soil health "
              "monitoring and soil organic carbon.", "en", 2),
    ]
    clf = Classifier(load_taxonomy())
    week = (WHEN - timedelta(days=2), WHEN + timedelta(days=5))
    pool = [c for c in candidates(entries, classifier=clf, now=week[1], window=week)
            if c.relevant]
    merged = [c for c in pool if len(c.story.entries) == 2]
    assert len(merged) == 1, [(c.story.lead.title, c.merged) for c in pool]
    assert {e.language for e in merged[0].story.entries} == {"en", "es"}
    assert merged[0].merged.startswith("same event: ")
    assert "EU 2025/2360" in merged[0].merged and "publication" in merged[0].merged
    assert any(c.story.lead.title.startswith("Soil monitoring directive: Parliament")
               and len(c.story.entries) == 1 for c in pool)


def test_a_provisional_agreement_is_a_laws_step_without_the_word_law():
    assert milestone("Acuerdo sobre el marco de certificación",
                     "Resume el acuerdo provisional de la UE sobre un marco voluntario.") == \
        "agreement"
    assert milestone("Carbon farming", "Negotiators struck a provisional deal on the "
                     "framework.") == "agreement"
    # an agreement with no law said, and nothing legislative about it: no step
    assert milestone("Acme reaches agreement with growers", "A deal for three years.") == ""


def test_one_step_in_one_language_doing_the_same_thing_is_one_story():
    a = _law("es", step="agreement")
    b = _law("es", step="agreement")
    a.actions, b.actions = {"certify"}, {"certify", "deal"}
    assert compare(a, b).same_story
    # in two languages, or on two subjects, the same action is not enough
    c = _law("en", step="agreement")
    c.actions = {"certify"}
    assert not compare(a, c).same_story
    d = _law("es", step="agreement", topic="finance")
    d.actions = {"certify"}
    assert not compare(a, d).same_story


def test_a_negotiating_mandate_is_a_step_and_a_step_ahead_is_not_the_news():
    assert milestone("Council update: negotiating mandate on the removals framework", "") == \
        "mandate"
    assert milestone("Le Conseil arrête son mandat de négociation", "") == "mandate"
    assert milestone("Retirements framework", "El Consejo adoptó su mandato de negociación.") \
        == "mandate"
    # the vote it is written ahead of is not what happened
    assert milestone("Soil law amendments", "Committee members tabled changes ahead of the "
                     "12 March plenary vote. The Council adopted its negotiating mandate.") == \
        "mandate"
    assert milestone("Parliament votes the soil law", "") == "adoption by parliament"
    assert other_milestones("mandate", "adoption by parliament")
