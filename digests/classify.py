"""Relevance and topics: weighted taxonomy terms matched on Snowball stems.

Each item is read in its own language (en, fr, es; anything else as English):
its words are lower-cased, small words dropped (articles, prepositions),
stemmed with that language's Snowball stemmer (PyStemmer) and stripped of
accents, then every taxonomy phrase of that language is found in the stem
sequence, overlaps included: "soil carbon credits" is both the scope's "soil
carbon" and the markets' "carbon credit". One compiled alternation (a trie of
the stemmed phrases, tried at every word start inside a lookahead) does the
search in C; a phrase's shorter prefixes are looked up in a dict.

The score (see ``digests/taxonomy.toml``): each distinct term counts its
weight once, x ``title_factor`` when it occurs in the title; relevance =
scope score + ``topic_share`` x the topics' scores; an item is *relevant*
when relevance >= ``threshold``, its scope score >= ``min_scope`` and its
land words (``[scope.anchors]``) >= ``min_anchor``, of which at least
``min_front_anchor`` in the title or the lead's first sentence (an item
that names the land only further down, a strategy, a market or a summit
mentioning soils in passing, is about something else); an item whose title
carries less than ``min_title`` of the scope's phrases (a title phrase
counts x ``title_factor``, so that factor must be above 1) needs a scope
score of ``min_lead``. The topic is the one the item is mainly about
(:mod:`digests.topics`: title and first sentence first, the act and its
object). ``matched``
keeps the phrases as written in the item (never stems): the "why included"
line shows them.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import Any

from digests.taxonomy import LANGUAGES, Taxonomy, Term
from digests.topics import TopicChooser, first_sentence

# The combining marks of Latin accents (U+0300-U+036F, of combining class > 0).
_LATIN_MARKS = re.compile("[" + "".join(
    chr(c) for c in range(0x300, 0x370) if unicodedata.combining(chr(c))) + "]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_TOKEN = re.compile(r"[^\W_]+")

STEMMERS = {"en": "english", "fr": "french", "es": "spanish"}
#: Words dropped before matching, so "carbone des sols" matches "carbone du sol".
STOPWORDS = {
    "en": frozenset("a an the of in on for to and or with from at by into per its their "
                    "is are was were be".split()),
    "fr": frozenset("le la les l de du des d un une et ou en au aux a à dans sur pour par "
                    "avec ce ces cet cette son sa ses leur leurs qui que qu est sont".split()),
    "es": frozenset("el la los las lo de del un una unos unas y o en al a con por para que "
                    "su sus es son".split()),
}


@cache
def _is_mark(ch: str) -> bool:
    return unicodedata.combining(ch) != 0


def fold(text: str) -> str:
    """Lower-case ``text`` and strip accents (``Séquestration`` -> ``sequestration``):
    NFKD, then every combining mark dropped; ``’`` becomes ``'``."""
    text = text.lower()
    if text.isascii():
        return text  # NFKD leaves ASCII unchanged
    text = _LATIN_MARKS.sub("", unicodedata.normalize("NFKD", text))
    if not text.isascii():
        marks = {ch for ch in _NON_ASCII.findall(text) if _is_mark(ch)}
        if marks:  # rare: other scripts' combining marks
            text = "".join(ch for ch in text if ch not in marks)
    return text.replace("\u2019", "'")


def _trie_pattern(phrases: list[str]) -> str:
    """One regex for every phrase (words separated by one space), factored by
    common prefix; longer alternatives first, so the longest phrase at a
    position is the one captured."""
    trie: dict[str, Any] = {}
    for p in phrases:
        node = trie
        for ch in p:
            node = node.setdefault(ch, {})
        node[""] = True

    def emit(node: dict[str, Any]) -> str:
        alts = [re.escape(ch) + emit(child) for ch, child in sorted(node.items()) if ch]
        if "" in node:
            # Only a whole word may end a phrase: the lookahead below checks it.
            alts.append("")
        return alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"

    return emit(trie)


#: A one-word phrase of a lower weight is too generic to explain an item.
SHOWN_WEIGHT = 2.5


def words_of(phrase: str) -> int:
    """How many words a stemmed phrase has."""
    return phrase.count(" ") + 1


#: One place a term applies: ``kind`` is scope, topic or theme.
Owner = tuple[str, str, float]


class _Matcher:
    """The stemmer, stop words and phrase index of one language."""

    def __init__(self, language: str, terms: list[tuple[Term, str, str]]) -> None:
        import Stemmer

        self.stemmer = Stemmer.Stemmer(STEMMERS[language])
        self.stop = STOPWORDS[language]
        self.cache: dict[str, str] = {}
        self.owners: dict[str, list[Owner]] = defaultdict(list)
        #: one-word phrase -> the words the taxonomy writes it as (folded)
        self.forms: dict[str, set[str]] = defaultdict(set)
        for term, kind, key in terms:
            stems = " ".join(self.stems(term.phrase.lower()))
            if stems and all((k, c) != (kind, key) for k, c, _ in self.owners[stems]):
                self.owners[stems].append((kind, key, term.weight))
            if stems and " " not in stems:
                self.forms[stems].update(w for w in _TOKEN.findall(term.phrase.lower())
                                         if w not in self.stop)
        self.pattern = self._compile(sorted(self.owners))
        # The scope's phrases alone: most news fails the scope floor, and is
        # then told so without the topics being searched.
        self.scope_pattern = self._compile(sorted(
            p for p, owners in self.owners.items() if any(k == "scope" for k, _, _ in owners)))
        # Cheaper still: a scope phrase can only match where its first word
        # begins; stems keep a word's start, so its first 4 letters must be
        # in the raw text.
        starts = set()
        for term, kind, _key in terms:
            words = _TOKEN.findall(term.phrase.lower())
            if kind == "scope" and term.weight > 0 and words:
                first = next((w for w in words if w not in self.stop), words[0])
                starts |= {first[:4], fold(first[:4])}
        self.prefilter = re.compile(r"(?<!\w)(?:" + "|".join(
            sorted(map(re.escape, starts))) + ")") if starts else None

    @staticmethod
    def _compile(phrases: list[str]) -> re.Pattern[str] | None:
        if not phrases:
            return None
        return re.compile(r"(?<!\S)(?=(" + _trie_pattern(phrases) + r")(?!\S))")

    def stems(self, lowered: str) -> list[str]:
        """The stems of the words of ``lowered`` text, small words dropped."""
        cache = self.cache
        words = _TOKEN.findall(lowered)
        try:
            out = [cache[w] for w in words]
        except KeyError:  # new words: stem them once (a small word maps to "")
            stem, stop = self.stemmer.stemWord, self.stop
            for w in words:
                if w not in cache:
                    cache[w] = "" if w in stop else fold(stem(w))
            out = [cache[w] for w in words]
        return [x for x in out if x]

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Character spans in ``text`` of the words :meth:`stems` keeps."""
        return [m.span() for m in _TOKEN.finditer(text.lower()) if m.group(0) not in self.stop]

    def find(self, joined: str, *, scope_only: bool = False) -> list[tuple[str, int, int]]:
        """(stemmed phrase, offset, words) of every phrase found in ``joined``
        (stems joined by spaces), overlaps included; ``scope_only``: only
        the scope's phrases (and their prefixes)."""
        pattern = self.scope_pattern if scope_only else self.pattern
        if pattern is None or not joined:
            return []
        found = []
        owners = self.owners
        for m in pattern.finditer(joined):
            phrase = m.group(1)
            at = m.start()
            if " " not in phrase:
                found.append((phrase, at, 1))
                continue
            words = phrase.split(" ")
            found.append((phrase, at, len(words)))
            for k in range(len(words) - 1, 0, -1):
                shorter = " ".join(words[:k])
                if shorter in owners:
                    found.append((shorter, at, k))
        return found

    def variant(self, phrase: str, word: str) -> bool:
        """True when ``word`` (as the item writes it) is a form of the
        one-word ``phrase``, not another word that stems alike: it starts with
        the taxonomy's word less its last two letters ("credits" of "credit",
        "approved" of "approval"), so "integrating" is no form of "integrity"
        nor "production" of "productivity"; accents count ("pública" is no
        form of "publica") unless the item writes none."""
        w = word.lower()
        forms = self.forms.get(phrase)
        if not forms:
            return True
        plain = w.isascii()
        return any(w.startswith(f[:max(len(f) - 2, 3)])
                   or (plain and w.startswith(fold(f)[:max(len(f) - 2, 3)])) for f in forms)

    def find_in(self, text: str, joined: str) -> list[tuple[str, int, int]]:
        """:meth:`find` on ``joined`` (the stems of ``text``), less the
        one-word phrases whose word in ``text`` is no :meth:`variant` of them."""
        spans: list[tuple[int, int]] | None = None
        out = []
        for phrase, at, words in self.find(joined):
            if words == 1:  # a word that only stems like the phrase is not it
                spans = spans if spans is not None else self.spans(text)
                k = joined.count(" ", 0, at)
                if k < len(spans) and not self.variant(phrase, text[spans[k][0]:spans[k][1]]):
                    continue
            out.append((phrase, at, words))
        return out

    def surface(self, text: str, joined: str, at: int, words: int) -> str:
        """The words of ``text`` behind ``words`` stems from offset ``at`` of ``joined``."""
        spans = self.spans(text)
        first = joined.count(" ", 0, at)
        last = first + words - 1
        if last >= len(spans):
            return ""
        return " ".join(text[spans[first][0]:spans[last][1]].split())


@dataclass(frozen=True, slots=True)
class Classification:
    """``topic``: the best topic key ('' when no topic term matched);
    ``themes``: theme keys, best first; ``matched``: the phrases found, as
    written in the item, strongest first; ``relevance``: the weighted score;
    ``relevant``: whether it clears the taxonomy's threshold; ``scope``
    its scope score, ``title_scope`` the part of it its title carries;
    ``topic_scores``: every topic's score (for explanations and tests)."""

    topic: str
    themes: tuple[str, ...]
    matched: tuple[str, ...]
    relevance: float
    relevant: bool = False
    scope: float = 0.0
    title_scope: float = 0.0
    topic_scores: dict[str, float] = field(default_factory=dict)


class Classifier:
    """Scores text against a :class:`Taxonomy` (one matcher per language)."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy

    @cached_property
    def _matchers(self) -> dict[str, _Matcher]:
        per: dict[str, list[tuple[Term, str, str]]] = {lang: [] for lang in LANGUAGES}
        tx = self.taxonomy
        for term in tx.scope:
            per[term.language].append((term, "scope", ""))
        for term in tx.anchors:
            per[term.language].append((term, "anchor", ""))
        for kind, cats in (("topic", tx.topics), ("theme", tx.themes)):
            for cat in cats:
                for term in cat.terms:
                    per[term.language].append((term, kind, cat.key))
        return {lang: _Matcher(lang, terms) for lang, terms in per.items()}

    @cached_property
    def _chooser(self) -> TopicChooser:
        return TopicChooser(self.taxonomy, _Matcher)

    @cached_property
    def _editor(self) -> dict[str, _Matcher]:
        per: dict[str, list[tuple[Term, str, str]]] = {lang: [] for lang in LANGUAGES}
        tx = self.taxonomy
        for kind, terms in (("authority", tx.authorities), ("consequence", tx.consequence)):
            for term in terms:
                per[term.language].append((term, kind, term.phrase))
        return {lang: _Matcher(lang, terms) for lang, terms in per.items()}

    @cached_property
    def _vocabulary(self) -> dict[str, frozenset[str]]:
        """Per language: every stem of a taxonomy phrase (scope, topics, themes, editor)."""
        out = {}
        for lang in LANGUAGES:
            stems: set[str] = set()
            for m in (self._matchers[lang], self._editor[lang]):
                for phrase in m.owners:
                    stems.update(phrase.split(" "))
            out[lang] = frozenset(stems)
        return out

    @cached_property
    def _equivalents(self) -> dict[str, dict[str, tuple[int, int]]]:
        """Per language: stemmed phrase -> (its [[equivalents]] group, its
        place in the group's list of that language)."""
        out: dict[str, dict[str, tuple[int, int]]] = {lang: {} for lang in LANGUAGES}
        for n, group in enumerate(self.taxonomy.equivalents):
            for lang, phrases in group.items():
                m = self._matchers[lang]
                for k, phrase in enumerate(phrases):
                    out[lang].setdefault(" ".join(m.stems(phrase.lower())), (n, k))
        return out

    def _group(self, phrase: str, language: str) -> tuple[dict[str, tuple[str, ...]], int] | None:
        lang = language if language in LANGUAGES else "en"
        stems = " ".join(self._matchers[lang].stems(phrase.lower()))
        found = self._equivalents[lang].get(stems)
        return (self.taxonomy.equivalents[found[0]], found[1]) if found else None

    def canonical(self, phrase: str, *, language: str = "en") -> str:
        """One key for ``phrase`` (read in ``language``) and its equivalents in
        the other languages (taxonomy ``[[equivalents]]``): "Comisión Europea"
        and "European Commission" alike; else the phrase folded."""
        found = self._group(phrase, language)
        if found is None:
            return fold(phrase)
        group = found[0]
        return fold((group.get("en") or next(iter(group.values())))[0])

    def translate(self, phrase: str, *, language: str, to: str) -> str | None:
        """``phrase`` (as an item in ``language`` writes it) in language ``to``,
        from the taxonomy's ``[[equivalents]]``; None when it has none."""
        found = self._group(phrase, language)
        if language == to or found is None or not found[0].get(to):
            return None
        theirs = found[0][to]
        return theirs[min(found[1], len(theirs) - 1)]

    def classify(self, title: str, summary: str, *, language: str = "en",
                 explain: bool = False) -> Classification:
        """Classify one item from its plain-text ``title`` and ``summary``,
        read as ``language`` (en, fr, es; any other code: English).
        ``matched`` is filled for relevant items (or all, with ``explain``)."""
        matcher = self._matchers[language if language in LANGUAGES else "en"]
        rule = self.taxonomy.relevance
        lowered = (title.lower(), summary.lower())
        if (not explain and rule.min_scope > 0 and matcher.prefilter is not None
                and not any(matcher.prefilter.search(t) for t in lowered)):
            return Classification(topic="", themes=(), matched=(), relevance=0.0)
        texts = [(rule.title_factor, title, " ".join(matcher.stems(lowered[0]))),
                 (1.0, summary, " ".join(matcher.stems(lowered[1])))]
        if not explain:
            floor: dict[str, float] = {}
            for factor, _text, joined in texts:
                for phrase, _at, _n in matcher.find(joined, scope_only=True):
                    w = next((w for k, _, w in matcher.owners[phrase] if k == "scope"), 0.0)
                    floor[phrase] = max(floor.get(phrase, w * factor), w * factor)
            if sum(floor.values()) < rule.min_scope:  # not about the scope: no topic search
                total = round(sum(floor.values()), 3)
                return Classification(topic="", themes=(), matched=(), relevance=total,
                                      relevant=False, scope=total)
        best: dict[tuple[str, str, str], float] = {}  # (kind, key, phrase) -> factor
        where: dict[str, tuple[str, str, int, int]] = {}  # phrase -> text, joined, at, words
        # the lead's first sentence: its words are the first ``front`` stems of the summary
        front = (len(matcher.stems(first_sentence(summary)[0].lower())) if rule.min_front_anchor
                 else 0)
        up_front: set[str] = set()  # the phrases in the title or the first sentence
        for n, (factor, text, joined) in enumerate(texts):
            for phrase, at, words in matcher.find_in(text, joined):
                where.setdefault(phrase, (text, joined, at, words))
                if n == 0 or joined.count(" ", 0, at) < front:
                    up_front.add(phrase)
                for kind, key, _w in matcher.owners[phrase]:
                    slot = (kind, key, phrase)
                    if best.get(slot, 0.0) < factor:
                        best[slot] = factor
        scope = anchor = in_title = front_anchor = 0.0
        topics: dict[str, float] = defaultdict(float)
        themes: dict[str, float] = defaultdict(float)
        strength: dict[str, float] = defaultdict(float)
        for (kind, key, phrase), factor in best.items():
            weight = next(w for k, c, w in matcher.owners[phrase] if (k, c) == (kind, key))
            value = weight * factor
            if kind == "scope":
                scope += value
                in_title += value if factor > 1 else 0.0
            elif kind == "anchor":
                anchor += value
                front_anchor += weight if phrase in up_front else 0.0
                continue
            elif kind == "topic":
                topics[key] += value
            else:
                themes[key] += value
                continue
            if value > 0 and (words_of(phrase) > 1 or weight >= SHOWN_WEIGHT):
                # Only the scope's and the topics' own phrases explain an item,
                # never a generic word ("water", "millions", "demand").
                strength[phrase] += value if kind == "scope" else value * rule.topic_share
        relevance = scope + rule.topic_share * sum(topics.values())
        topic = self._chooser.choose(title, summary, language)
        theme_keys = sorted(themes, key=lambda k: -themes[k])
        own = self.taxonomy.topic(topic) if topic else None
        if own and own.theme and own.theme not in theme_keys:
            theme_keys.insert(0, own.theme)
        relevant = (relevance >= rule.threshold and scope >= rule.min_scope
                    and anchor >= rule.min_anchor and front_anchor >= rule.min_front_anchor
                    and (in_title >= rule.min_title or scope >= rule.min_lead))
        # The phrases as the item writes them (only for what will be shown).
        shown = sorted(strength, key=lambda p: -strength[p])[:8] if relevant or explain else []
        matched = tuple(dict.fromkeys(
            w for w in (matcher.surface(*where[p]) for p in shown) if w))
        return Classification(topic=topic, themes=tuple(theme_keys), matched=matched,
                              relevance=round(relevance, 3), relevant=relevant,
                              scope=round(scope, 3), title_scope=round(in_title, 3),
                              topic_scores=dict(topics))
