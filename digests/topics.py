"""An item's dominant topic: what its title and the first sentence of its
lead say it is mainly about, the act and its object over the setting.

An item in the review names several topics' words; it is filed under one.
Each topic's ``about`` terms (taxonomy ``[topics.<key>] about``: what a story
mainly about the topic says, "buys credits", "approves a methodology",
"invests", "soil map") and, for a smaller share (``TERMS_SHARE``), its
``terms`` are found, on the same Snowball stems as relevance
(:mod:`digests.classify`), in three parts of the item: the title (x
``TITLE``), the lead's first sentence (x ``FIRST``) and the rest (x ``REST``). A
distinct term counts once, where it weighs most, and terms of one topic side by
side ("biodiversity co-benefits") are one notion: only the heaviest counts. ``verb ~ object`` terms
count when the object follows the verb within ``WINDOW`` words of one part
("Microsoft to buy 2.85 million soil carbon credits"). An amount of money
("$200 million", "14,1 millones de euros") counts a topic's ``amounts`` (a
number of people, tonnes or hectares does not), a price per tonne its
``prices``, each methodology's identifier
("VM0042", "VT0014", "AMS-III.D") a topic's ``codes``. The best-scored topic wins;
ties go to the terms' share, then to the title's, then to the taxonomy's
order. Nothing here changes relevance: ``about`` and ``amounts`` are read only
to choose among topics.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from typing import Protocol

from digests.taxonomy import LANGUAGES, Taxonomy, Term

#: What a title says counts this many times, the lead's first sentence ``FIRST``.
TITLE = 3.0
FIRST = 2.0
#: ... and the rest of the lead this many.
REST = 0.5
#: The share of the topics' own ``terms`` (the relevance vocabulary) in the choice.
TERMS_SHARE = 0.3
#: How many words after its verb a ``verb ~ object`` term's object may come.
WINDOW = 6

_CURRENCY = r"(?:[$€£]|us\$|r\$|usd|eur|gbp)"
_SCALE = (r"(?:m|mn|bn|k|million|millions|millones|milliards?|billions?|mil\s+millones|"
          r"millions?\s+d'|millones\s+de)")
_MONEY = re.compile(
    rf"(?:{_CURRENCY}\s?\d)|(?:\d[\d.,]*\s?(?:{_SCALE}\s?)?(?:de\s+)?"
    r"(?:dollars?|d[oó]lares|euros?|usd|eur|pounds?|libras?|livres?)\b)", re.IGNORECASE)
_PER_TONNE = re.compile(r"[\d.,]*\s*(?:-\s*[$€£]?[\d.,]+\s*)?(?:a|an|per|/|la|le|par|por|"
                        r"the|each)\s*(?:metric\s+)?(?:tonnes?|tons?|t\b|tco2|toneladas?)",
                        re.IGNORECASE)
#: A crediting methodology's or tool's identifier (Verra, CDM).
_CODE = re.compile(r"\b(?:(?:VMD?R?|VT|ACM|AR-AC?MS?)\d{2,4}|AMS-[IVX]+\.[A-Z]{1,2})\b")
# A sentence ends at . ! ? before a capital, unless the word before is an
# abbreviation ("U.S.", "Dr.", "Inc.").
_END = re.compile(r"(?<=[.!?])\s+(?=[\"'«¿¡(]?[A-ZÀ-ÖØ-Þ])")
_ABBREV = re.compile(r"(?:(?:^|\s)[A-Z][A-Za-z]{0,2}|\w\.\w+)\.$")


class Matcher(Protocol):
    """What :class:`digests.classify._Matcher` offers the chooser."""

    owners: dict[str, list[tuple[str, str, float]]]

    def stems(self, lowered: str) -> list[str]: ...

    def find_in(self, text: str, joined: str) -> list[tuple[str, int, int]]: ...


def first_sentence(text: str) -> tuple[str, str]:
    """``text`` cut after its first sentence: (the sentence, the rest)."""
    for m in _END.finditer(text):
        if not _ABBREV.search(text[:m.start()]):
            return text[:m.start()], text[m.end():]
    return text, ""


def has_money(text: str) -> bool:
    """True when ``text`` gives an amount of money (a currency with a number),
    not a price per tonne ("$45 a tonne" is the market's, not a sum spent)."""
    return any(not _PER_TONNE.match(text, m.end()) for m in _MONEY.finditer(text))


def has_price(text: str) -> bool:
    """True when ``text`` gives a price per tonne ("$60-80 a tonne", "40 euros la tonne")."""
    return any(_PER_TONNE.match(text, m.end()) for m in _MONEY.finditer(text))


class TopicChooser:
    """Chooses the dominant topic of items (one phrase index per language)."""

    def __init__(self, taxonomy: Taxonomy,
                 matcher: Callable[[str, list[tuple[Term, str, str]]], Matcher]) -> None:
        self.taxonomy = taxonomy
        self.order = {t.key: i for i, t in enumerate(taxonomy.topics)}
        self.amounts = {t.key: t.amounts for t in taxonomy.topics if t.amounts}
        self.prices = {t.key: t.prices for t in taxonomy.topics if t.prices}
        self.codes = {t.key: t.codes for t in taxonomy.topics if t.codes}
        #: per language: (verb stems, object stems, topic, weight)
        self.pairs: dict[str, list[tuple[str, str, str, float]]] = {k: [] for k in LANGUAGES}
        about: dict[str, list[tuple[Term, str, str]]] = {k: [] for k in LANGUAGES}
        terms: dict[str, list[tuple[Term, str, str]]] = {k: [] for k in LANGUAGES}
        for topic in taxonomy.topics:
            for term in topic.terms:
                terms[term.language].append(
                    (Term(term.phrase, term.language, term.weight * TERMS_SHARE), "terms",
                     topic.key))
            for term in topic.about:
                if "~" not in term.phrase:
                    about[term.language].append((term, "about", topic.key))
                    continue
                verb, _, obj = (p.strip() for p in term.phrase.partition("~"))
                for part in (verb, obj):  # indexed, counting nothing alone
                    about[term.language].append((Term(part, term.language, 0.0), "part", ""))
                self.pairs[term.language].append((verb, obj, topic.key, term.weight))
        # Two indexes: a word is a form of an ``about`` phrase only by the
        # ``about`` terms' own words ("adicional" is no form of "adicionalidad").
        self.matchers = {lang: (matcher(lang, about[lang]), matcher(lang, terms[lang]))
                         for lang in LANGUAGES}
        self.stemmed = {lang: [(" ".join(self.matchers[lang][0].stems(v.lower())),
                                " ".join(self.matchers[lang][0].stems(o.lower())), key, w)
                               for v, o, key, w in pairs]
                        for lang, pairs in self.pairs.items()}

    def found(self, title: str, summary: str, language: str) -> dict[
            tuple[str, str, str], tuple[float, float]]:
        """What counts in choosing: (kind, topic, phrase) -> (value, part's
        factor); kind is ``about`` or ``terms``, phrase a stemmed phrase,
        ``verb ~ object``, ``$`` (an amount of money), ``$/t`` (a price per
        tonne) or a methodology's identifier."""
        lang = language if language in LANGUAGES else "en"
        first, rest = first_sentence(summary)
        best: dict[tuple[str, str, str], tuple[float, float]] = {}  # -> (value, factor)
        for factor, text in ((TITLE, title), (FIRST, first), (REST, rest)):
            if not text:
                continue
            for m in self.matchers[lang]:
                joined = " ".join(m.stems(text.lower()))
                at: dict[str, list[int]] = defaultdict(list)
                spans: list[tuple[int, int, str, str, str, float]] = []
                for phrase, offset, words in m.find_in(text, joined):
                    i = joined.count(" ", 0, offset)
                    at[phrase].append(i)
                    for kind, key, weight in m.owners[phrase]:
                        if kind != "part":
                            spans.append((i, i + words, kind, key, phrase, weight))
                # a phrase inside a longer one of the same topic counts once
                spans = [s for s in spans
                         if not any(a <= s[0] and s[1] <= b and (b - a) > (s[1] - s[0])
                                    and (k, c) == (s[2], s[3]) for a, b, k, c, _p, _w in spans)]
                for i, j, kind, key, phrase, weight in spans:
                    # ... and so do phrases of one topic side by side, one
                    # notion ("biodiversity co-benefits"): the heaviest counts
                    if not any((k, c) == (kind, key) and (b == i or a == j)
                               and (w, -a) > (weight, -i) for a, b, k, c, _p, w in spans):
                        self._keep(best, (kind, key, phrase), weight * factor, factor)
                for verb, obj, key, weight in self.stemmed[lang]:
                    if any(0 < j - i <= WINDOW for i in at.get(verb, ())
                           for j in at.get(obj, ())):
                        self._keep(best, ("about", key, f"{verb} ~ {obj}"), weight * factor,
                                   factor)
            for key, weight in self.amounts.items():
                if has_money(text):
                    self._keep(best, ("about", key, "$"), weight * factor, factor)
            for key, weight in self.prices.items():
                if has_price(text):
                    self._keep(best, ("about", key, "$/t"), weight * factor, factor)
            for key, weight in self.codes.items():
                for code in set(_CODE.findall(text)):  # each methodology named counts
                    self._keep(best, ("about", key, code), weight * factor, factor)
        return best

    def scores(self, title: str, summary: str, language: str) -> dict[str, tuple[float, ...]]:
        """Per topic: (score, of which its terms', of which the title's)."""
        out: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
        for (kind, key, _phrase), (value, factor) in self.found(title, summary,
                                                               language).items():
            slot = out[key]
            slot[0] += value
            slot[1] += value if kind == "terms" else 0.0
            slot[2] += value if factor == TITLE else 0.0
        return {k: tuple(v) for k, v in out.items()}

    @staticmethod
    def _keep(best: dict[tuple[str, str, str], tuple[float, float]],
              slot: tuple[str, str, str], value: float, factor: float) -> None:
        if slot not in best or abs(value) > abs(best[slot][0]):
            best[slot] = (value, factor)

    def choose(self, title: str, summary: str, language: str) -> str:
        """The key of the topic ``title`` and ``summary`` (plain text, in
        ``language``) are mainly about; '' when no topic's words are found."""
        scores = self.scores(title, summary, language)
        positive = [k for k, v in scores.items() if v[0] > 0]
        return max(positive, key=lambda k: (round(scores[k][0], 6), scores[k][1], scores[k][2],
                                            -self.order.get(k, 0)), default="")
