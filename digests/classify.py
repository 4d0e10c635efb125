"""Classify items against the taxonomy's topics and watch themes.

One compiled alternation of every term (accents and case folded, word
boundaries respected) is run over each item's title and summary, so the cost
is linear in the text. Title matches count double. Each result keeps the terms
that matched: the "why included" line names them.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from functools import cache, cached_property
from typing import Any

from digests.taxonomy import Taxonomy

# The combining marks of Latin accents (U+0300-U+036F, of combining class > 0).
_LATIN_MARKS = re.compile("[" + "".join(
    chr(c) for c in range(0x300, 0x370) if unicodedata.combining(chr(c))) + "]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_SEPARATORS = re.compile(r"[\s-]+")


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


def _trie_pattern(stems: dict[str, bool]) -> str:
    """One regex for every stem (``True``: any word ending may follow), its
    alternatives factored by common prefix (a trie: a few branches are tried
    at each position instead of every term). A space in a stem matches a run
    of spaces or hyphens. Longer terms are tried before their prefixes, as
    in an alternation sorted by length."""
    trie: dict[str, Any] = {}
    for stem, wild in stems.items():
        node = trie
        for ch in stem:
            node = node.setdefault(ch, {})
        node[""] = wild

    def emit(node: dict[str, Any]) -> str:
        alts = [(r"[\s-]+" if ch == " " else re.escape(ch)) + emit(child)
                for ch, child in sorted(node.items(), key=lambda kv: kv[0] == " ") if ch]
        if "" in node:
            alts.append(r"\w*" if node[""] else "")
        return alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"

    return emit(trie)


@dataclass(frozen=True, slots=True)
class Classification:
    """``topic``: the best topic key ('' when none matched); ``themes``: theme
    keys; ``matched``: the terms found, as written in the taxonomy;
    ``relevance``: weighted count (title x2) of topic-term matches."""

    topic: str
    themes: tuple[str, ...]
    matched: tuple[str, ...]
    relevance: float


class Classifier:
    """Matches text against a :class:`Taxonomy`."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy

    @cached_property
    def _index(self) -> tuple[re.Pattern[str], dict[str, list[tuple[str, str, str]]]]:
        owners: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
        stems: dict[str, bool] = {}  # folded term -> ends with a wildcard
        for kind, cats in (("topic", self.taxonomy.topics), ("theme", self.taxonomy.themes)):
            for cat in cats:
                for term in cat.terms:
                    key = fold(term)
                    slot = owners[key.rstrip("*")]
                    if all((k, c) != (kind, cat.key) for k, c, _ in slot):
                        slot.append((kind, cat.key, term))
                    stems[key.rstrip("*")] = key.endswith("*")
        return re.compile(rf"(?<!\w){_trie_pattern(stems)}(?!\w)"), dict(owners)

    def _hits(self, text: str) -> list[str]:
        pattern, owners = self._index
        out = []
        for m in pattern.finditer(fold(text)):
            word = _SEPARATORS.sub(" ", m.group(0))
            if word in owners:
                out.append(word)
                continue
            # A prefix term (``invest*``) matched a longer word: find its stem.
            key = next((word[:i] for i in range(len(word) - 1, 0, -1) if word[:i] in owners), "")
            if key:
                out.append(key)
        return out

    def classify(self, title: str, summary: str) -> Classification:
        """Classify one item from its plain-text title and summary."""
        _, owners = self._index
        topic_score: dict[str, float] = defaultdict(float)
        themes: dict[str, float] = defaultdict(float)
        matched: dict[str, None] = {}
        for weight, text in ((2.0, title), (1.0, summary)):
            for key in self._hits(text):
                for kind, cat, term in owners[key]:
                    matched.setdefault(term, None)
                    if kind == "topic":
                        topic_score[cat] += weight
                    else:
                        themes[cat] += weight
        order = {t.key: i for i, t in enumerate(self.taxonomy.topics)}
        topic = max(topic_score, key=lambda k: (topic_score[k], -order[k]), default="")
        theme_keys = [k for k in sorted(themes, key=lambda k: -themes[k])]
        if topic:
            own = self.taxonomy.topic(topic)
            if own and own.theme and own.theme not in theme_keys:
                theme_keys.append(own.theme)
        return Classification(topic=topic, themes=tuple(theme_keys), matched=tuple(matched),
                              relevance=sum(topic_score.values()))
