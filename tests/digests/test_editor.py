"""Issue 21: the review picks and orders the week's stories as an editor would,
joins write-ups of one event (and only those), and explains itself with the
scope's own words. Before issue 21: a story's weight was relevance, feed
count and recency only; the review was grouped by topic (the lead was item
5); a shared registry's name merged two stories; "Integrating" matched
"integrity" and "production" matched "productivity"; sources showed the
feed's title."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from digests.classify import Classifier
from digests.editor import editor_signals
from digests.parse.normalise import Entry
from digests.pipeline import candidates
from digests.rank import review, score, stale_title
from digests.render import ItemView, SourceView, translator, why_line
from digests.taxonomy import load_taxonomy

START = datetime(2026, 11, 16, tzinfo=UTC)
CLF = Classifier(load_taxonomy())


def _entry(n: int, title: str, summary: str, *, site: str, lang: str = "en",
           feed: str = "https://feeds.example/all.xml", days: float = 1.0) -> Entry:
    return Entry(canonical_url=f"https://{site}/a{n}", link=f"https://{site}/a{n}", title=title,
                 summary=summary, published_at=START + timedelta(days=days + n / 100),
                 language=lang, feed_url=feed, feed_title="All the news")


def _gettext(msgid: str, **params: object) -> str:
    return msgid.format(**params)


def test_what_makes_a_story_big():
    sig = editor_signals(CLF, "Verra suspends soil carbon project", "The registry acted.")
    assert sig.authority >= 3 and sig.consequence >= 3 and "verra" in sig.authorities
    es = editor_signals(CLF, "La Comisión Europea abre una consulta pública", "", language="es")
    fr = editor_signals(CLF, "La Commission européenne lance une consultation", "", language="fr")
    # one body and one act in any language; "pública" is no form of "publica" (publishes)
    assert es.authorities == fr.authorities == ("european commission",)
    assert "consultation" in es.actions and "consultation" in fr.actions
    assert "publish" not in es.actions
    now = START + timedelta(days=7)
    common = {"relevance": 8.0, "published_at": START + timedelta(days=2), "now": now,
              "weights": [1.0], "scope": 6.0}
    plain = score(**common)
    assert score(**common, sources=3) > plain  # independent publishers
    assert score(**common, authority=3, consequence=3) > plain
    assert score(**common, amount=True) > plain
    assert score(**common, novel=False) < plain  # first reported before the week
    assert score(**common, old=True) < plain / 1.5  # a years-old event re-reported
    # a follow-up many publishers explain still outweighs one outlet's new item
    assert score(**common, novel=False, sources=8) > plain
    assert stale_title("Signing ceremony of the 2019 soil pact", year=2026)
    assert not stale_title("Soil carbon market in 2026 and 2019", year=2026)


def test_the_biggest_story_leads_and_is_never_dropped_for_a_topic():
    entries = [
        # the week's big story: a registry suspends a project, three publishers
        _entry(1, "Verra suspends soil carbon project over audit findings",
               "The registry suspended issuance for the soil carbon project in Kansas after an "
               "audit found 120,000 credits overstated.", site="a.example"),
        _entry(2, "Registry Verra halts Kansas soil carbon credits",
               "Verra suspended the Kansas soil carbon project; the audit found 120,000 "
               "credits overstated, the registry said.", site="b.example"),
        _entry(3, "Verra suspend un projet de carbone du sol au Kansas",
               "Le registre Verra a suspendu le projet de carbone du sol du Kansas : "
               "l'audit a trouvé 120 000 crédits surestimés.", site="c.example", lang="fr"),
    ] + [
        _entry(10 + k, f"Soil carbon integrity webinar number {k} for farmers",
               "A webinar on soil carbon credit integrity and additionality for farmers.",
               site=f"w{k}.example") for k in range(6)
    ]
    pool = candidates(entries, classifier=CLF, now=START + timedelta(days=7),
                      window=(START, START + timedelta(days=7)))
    shown = review(pool, limit=3, topic_order=[t.key for t in CLF.taxonomy.topics])
    lead = shown[0]
    assert len(lead.story.entries) == 3 and lead.publishers == 3  # one story, three publishers
    assert lead.merged.startswith("same event: ") and "3 publishers" in lead.merged
    assert all(c.topic == lead.topic for c in shown)  # diversity did not drop it


def test_a_shared_registry_or_method_name_is_no_story():
    entries = [
        _entry(1, "Ranchers in Sonora sign up for grazing carbon credits under Verra VM0042",
               "Cattle ranchers in Sonora plan regenerative grazing on 40,000 hectares to earn "
               "soil carbon credits under Verra's VM0042 methodology.", site="a.example"),
        _entry(2, "Verra VM0042 soil carbon credits face integrity questions",
               "Researchers question the integrity of soil carbon credits issued under Verra's "
               "VM0042 methodology after reviewing 12 projects.", site="b.example"),
    ]
    pool = candidates(entries, classifier=CLF, now=START + timedelta(days=7),
                      window=(START, START + timedelta(days=7)))
    assert len([c for c in pool if c.relevant]) == 2 and not any(c.merged for c in pool)


def test_an_old_event_re_reported_is_not_news():
    old = _entry(1, "Verra suspends soil carbon project over audit findings",
                 "The registry suspended issuance for the soil carbon project in Kansas after "
                 "an audit found 120,000 credits overstated.", site="a.example", days=-5)
    again = _entry(2, "Registry Verra halts Kansas soil carbon credits",
                   "Verra suspended the Kansas soil carbon project; the audit found 120,000 "
                   "credits overstated, the registry said.", site="b.example", days=2)
    fresh = _entry(3, "Registry approves soil carbon methodology for rice farmers",
                   "The registry approved a new soil carbon methodology for rice farmers in "
                   "Vietnam covering 30,000 hectares.", site="c.example", days=2)
    pool = candidates([old, again, fresh], classifier=CLF, now=START + timedelta(days=7),
                      window=(START, START + timedelta(days=7)))
    by_url = {c.canonical_url: c for c in pool}
    assert old.canonical_url not in by_url  # last week's own item is not this week's
    assert not by_url[again.canonical_url].novel and by_url[fresh.canonical_url].novel


def test_why_included_uses_the_scope_words_only_and_the_readers_language():
    c = CLF.classify("Integrating production data into farm carbon credit integrity",
                     "Insurer says water demand grows; soil carbon credits face audits.",
                     explain=True)
    shown = [m.lower() for m in c.matched]
    assert "integrating" not in shown and "production" not in shown
    assert not {"water", "insurer", "demand"} & set(shown)
    assert "soil carbon" in shown or "soil carbon credits" in shown
    fr = CLF.classify("Le stock de carbone des sols agricoles augmente",
                      "Une étude mesure le stock de carbone des sols de 300 fermes.",
                      language="fr")
    view = ItemView(position=1, title="t", url="https://x.example/a", summary="", language="fr",
                    topic=fr.topic, matched=fr.matched, published_at=START,
                    sources=(SourceView("x.example", "https://x.example/a"),
                             SourceView("y.example", "https://y.example/b")))
    line = why_line(view, _gettext, translator(CLF.taxonomy, "en"))
    assert "“stock de carbone” (soil carbon stock)" in line
    assert "Reported by 2 publishers." in line
    assert "(" not in why_line(view, _gettext, translator(CLF.taxonomy, "fr")).split(".")[0]


def test_the_preview_says_why_the_model_moved_an_item():
    from bot.i18n import translator
    from digests.render import learned_line

    view = ItemView(position=1, title="t", url="https://x.example/a", summary="", language="en",
                    topic="", matched=(), published_at=START, learned_note="included:4")
    en, fr = translator("en"), translator("fr")
    assert learned_line(view, en.gettext, en.ngettext) == (
        "Moved up: you included 4 similar items.")
    assert "vous avez inclus 4 articles semblables" in learned_line(view, fr.gettext,
                                                                    fr.ngettext)
    quiet = ItemView(position=1, title="t", url="u", summary="", language="en", topic="",
                     matched=(), published_at=START)
    assert learned_line(quiet, en.gettext, en.ngettext) == ""
