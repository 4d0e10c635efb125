"""Issue 21, real input: what reads as in scope but is no story of the week
(a side mention of soils in a farm or climate story, a newsletter, a
summit's coverage), and write-ups of one event joined by agreeing dates and
actors in any language, never by a body's name or a weak word alone."""

from __future__ import annotations

from datetime import UTC, datetime

from digests.classify import Classifier
from digests.cluster import Profile, compare, dates
from digests.editor import near_miss
from digests.taxonomy import load_taxonomy

CLF = Classifier(load_taxonomy())
WHEN = datetime(2026, 2, 2, tzinfo=UTC)


def test_scope_only_in_the_body_needs_more_of_it():
    side = CLF.classify("Foundation pledges $1.4bn to help farmers adapt to extreme weather",
                        "The money pays for seeds, livestock, advice and restoring "
                        "degraded land for smallholders.")
    assert side.title_scope < 1 and not side.relevant
    central = CLF.classify("Soil carbon credits gain ground with farmers",
                           "Farmers sell soil carbon credits from regenerative practices.")
    assert central.title_scope >= 1 and central.relevant


def test_land_named_only_further_down_is_a_passing_mention():
    lead = ("The Commission approved the first voluntary scheme to certify carbon removals. "
            "A regional group hopes to certify grazing that raises soil carbon.")
    passing = CLF.classify("Brussels opens a voluntary carbon removal market", lead)
    assert passing.scope >= CLF.taxonomy.relevance.min_lead and not passing.relevant
    # the same facts with the land named in the title, or up front, are a story
    assert CLF.classify("Brussels opens a carbon removal market to ranchers", lead).relevant
    assert CLF.classify("Brussels opens a voluntary carbon removal market",
                        "Ranchers and the Commission's first voluntary scheme to certify "
                        "carbon removals. It may pay for grazing that raises soil carbon."
                        ).relevant
    # a Spanish adjective of the land counts up front ("proyectos agroforestales")
    assert CLF.classify("Salto del mercado de carbono",
                        "El país reúne diez proyectos agroforestales certificados. Entre "
                        "ellos, un programa de ganadería regenerativa.", language="es").relevant


def test_round_ups_and_summit_coverage_are_no_story():
    assert near_miss("Weekly News Round Up – November 15, 2025", title_scope=0) == "round-up"
    assert near_miss("Revue de presse : sols et climat", title_scope=1.5) == "round-up"
    assert near_miss("Resumen semanal de noticias del campo", title_scope=0) == "round-up"
    assert near_miss("Cropped: forest loss dips; bird species in peril; thai trees",
                     title_scope=0) == "round-up"
    assert near_miss("Climate Week Summit highlights why solutions start with farmers",
                     title_scope=0.75) == "event"
    assert near_miss("Día Mundial del Suelo: suelos sanos", title_scope=1.5) == "event"
    # the first sentence says the piece reports a summit: summit coverage too
    assert near_miss("Supporting growers is key to the climate fight", title_scope=1.5,
                     summary="The institute reports on its summit with farm groups. "
                             "Speakers pointed to soil health.") == "event"
    assert near_miss("Supporting growers is key to the climate fight", title_scope=1.5,
                     summary="Growers got soil health grants. A summit follows.") == ""
    assert near_miss("Soil carbon credits for growers", title_scope=9,
                     summary="Reported at the summit of farm groups.") == ""
    # a summit's story with the scope in its own title is a story
    assert near_miss("Soil carbon credits take centre stage at the summit", title_scope=9) == ""
    assert near_miss("Registry suspends soil carbon project", title_scope=4.5) == ""


def test_urban_soils_and_engineered_removals_are_near_misses():
    assert not CLF.classify("Suelos sanos para ciudades saludables",
                            "El Día Mundial del Suelo pone el foco en el suelo urbano y la "
                            "urbanización; el suelo almacena carbono.", language="es").relevant
    removals = CLF.classify("EU adopts methodologies for permanent carbon removals",
                            "Direct air capture, BECCS and biochar get certification rules; "
                            "soil carbon farming comes later.")
    assert removals.scope < CLF.taxonomy.relevance.min_scope or not removals.relevant


def test_dates_agree_in_any_language():
    assert dates("open until 19 February") == dates("abierta hasta el 19 de febrero") == {"19-2"}
    assert dates("jusqu'au 19 février") == {"19-2"}
    assert dates("on December 16, the law") == {"16-12"}


def _profile(lang: str, *, names: set[str] = frozenset(), bodies: set[str] = frozenset(),
             nums: set[str] = frozenset(), days: set[str] = frozenset(),
             acts: set[str] = frozenset()) -> Profile:
    return Profile(language=lang, topic="soil_methods", words=set(), numbers=set(nums),
                   names=set(names), when=WHEN, bodies=set(bodies), actions=set(acts),
                   dates=set(days))


def test_one_event_by_date_and_actors_not_by_a_body_alone():
    fr = _profile("fr", bodies={"european commission"}, days={"19-2"}, nums={"19", "26"})
    es = _profile("es", bodies={"european commission"}, days={"19-2"}, nums={"19"})
    assert compare(fr, es).same_story  # the same date and the same body
    other = _profile("es", bodies={"european commission"}, nums={"19"})
    assert not compare(fr, other).same_story  # a body and a day's number are not enough
    # a name of two words is one actor: "Climate Week" is no three names
    a = _profile("en", names={"climate", "week", "climate week"})
    b = _profile("en", names={"climate", "week", "climate week"})
    assert compare(a, b).names == 1 and not compare(a, b).same_story
    # many shared actors with texts alike in letters are one event
    c = _profile("es", names={"inta", "conicet", "aacrea"})
    d = _profile("es", names={"inta", "conicet", "aacrea"})
    c.grams = d.grams = frozenset({"suel", "carb", "mapa"})
    assert compare(c, d).same_story
