"""The press review's taxonomy: what is in the alliance's scope, the nine
scope topics of its terms of reference and the three watch themes, with
weighted en/fr/es terms.

The default is ``digests/taxonomy.toml`` (read it: its header explains the
scoring). The secretariat replaces it with a TOML file of the same shape
(``[digest] taxonomy_file``)::

    [relevance]
    threshold = 3.5          # relevance an item needs to enter the review
    min_scope = 2.5          # of which at least this from [scope] terms
    title_factor = 1.5       # a term in the title counts x1.5
    topic_share = 0.5        # topic terms count half towards relevance
    min_anchor = 1           # and this much of [scope.anchors] (soils, farms, grazing)
    min_title = 1            # a title under this in scope phrases (a side mention)...
    min_lead = 4.5           # ...needs this scope score from its lead
    min_front_anchor = 1     # anchors in the title or the lead's first sentence

    [scope.terms]
    en = ["soil carbon^3", "credit card^-4"]

    [topics.carbon_markets]
    label = { en = "Carbon credit markets", fr = "Marchés du carbone", es = "..." }
    theme = "economic"
    terms = { en = ["carbon market^3", "buyer^1.5"], fr = ["marché du carbone^3"] }
    about = { en = ["buy ~ credit^3", "offtake^3"] }   # optional: see below

    [themes.economic]
    label = { en = "Economic", fr = "Économique", es = "Económico" }
    terms = { en = ["investment"], fr = ["investissement"] }

A term is ``phrase`` or ``phrase^weight`` (default weight 1, negative allowed);
a trailing ``*`` of older files is ignored (matching is on stems anyway).
A file without ``[scope]`` keeps the old rule: one topic term is enough.

A topic's ``terms`` count towards relevance and explain an item; its optional
``about`` terms only choose the topic of an item already in (what a story
mainly about the topic says: "verb ~ object" is the verb followed by its
object within a few words), ``amounts`` how much an amount of money in the
item says it is about that topic, ``prices`` a price per tonne, ``codes`` a methodology's
identifier ("VM0042") does (:mod:`digests.topics`).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

LANGUAGES = ("en", "fr", "es")


@dataclass(frozen=True, slots=True)
class Term:
    """One phrase in one ``language`` (en, fr, es) with its ``weight``."""

    phrase: str
    language: str
    weight: float = 1.0


@dataclass(frozen=True, slots=True)
class Category:
    """A topic or a theme: ``key``, labels per language, weighted terms."""

    key: str
    labels: dict[str, str]
    terms: tuple[Term, ...]
    theme: str = ""
    #: what only chooses the topic (never relevance): see :mod:`digests.topics`
    about: tuple[Term, ...] = ()
    #: how much an amount of money in an item says it is about this topic
    amounts: float = 0.0
    #: how much a price per tonne ("$45 a tonne") says it is about this topic
    prices: float = 0.0
    #: how much a methodology's identifier ("VM0042") says it is about this topic
    codes: float = 0.0

    def label(self, language: str) -> str:
        """The label in ``language`` (English when missing)."""
        return self.labels.get(language) or self.labels.get("en") or self.key


@dataclass(frozen=True, slots=True)
class Relevance:
    """The relevance rule (see the module docstring); scores are unitless."""

    threshold: float = 3.5
    min_scope: float = 2.5
    #: of which at least this from ``[scope.anchors]`` (the land: soil, farms,
    #: grazing): carbon credits or a climate deal alone are near the scope, not in it.
    min_anchor: float = 0.0
    title_factor: float = 1.5
    topic_share: float = 0.5
    #: an item whose title scores less than ``min_title`` in scope phrases (its
    #: scope evidence is in the body only: a side mention, a newsletter, a
    #: generic farm or climate story) needs a scope score of ``min_lead``.
    min_title: float = 0.0
    min_lead: float = 0.0
    #: at least this from ``[scope.anchors]`` in the title or the lead's first
    #: sentence: an item that names the land only further down is about
    #: something else (a strategy, a market, a summit) that mentions soils in passing.
    min_front_anchor: float = 0.0


@dataclass(frozen=True, slots=True)
class Taxonomy:
    """The scope terms, the topics (ordered as in the terms of reference),
    the watch themes and the relevance rule."""

    topics: tuple[Category, ...]
    themes: tuple[Category, ...]
    scope: tuple[Term, ...] = ()
    relevance: Relevance = Relevance()
    #: ``[scope.anchors]``: the scope's land words (soil, farms, grazing);
    #: an item needs ``min_anchor`` of them besides its scope score.
    anchors: tuple[Term, ...] = ()
    #: ``[editor.authorities]``: bodies that set the market's rules (registries,
    #: standards bodies, governments, the alliance's peers); an item naming one
    #: weighs more (:mod:`digests.rank`).
    authorities: tuple[Term, ...] = ()
    #: ``[editor.consequence]``: consequence words (suspends, approves...); in a
    #: title they make a story weigh more.
    consequence: tuple[Term, ...] = ()
    #: ``[[equivalents]]``: one thing named in several languages, each a
    #: mapping language -> its phrases (the first English one is its key).
    equivalents: tuple[dict[str, tuple[str, ...]], ...] = ()

    def topic(self, key: str) -> Category | None:
        """The topic named ``key``, or None."""
        return next((t for t in self.topics if t.key == key), None)

    def theme(self, key: str) -> Category | None:
        """The theme named ``key``, or None."""
        return next((t for t in self.themes if t.key == key), None)


class TaxonomyError(ValueError):
    """The taxonomy file is wrong; the message names the entry and the fix."""


def _term(raw: str, language: str, where: str) -> Term:
    phrase, _, weight = raw.strip().partition("^")
    phrase = phrase.strip().rstrip("*").strip()
    try:
        w = float(weight) if weight.strip() else 1.0
    except ValueError:
        raise TaxonomyError(f"{where}: {raw!r}: the weight after ^ must be a number, "
                            "e.g. \"soil carbon^3\"") from None
    return Term(phrase=phrase, language=language, weight=w)


def _terms(terms: Any, where: str) -> tuple[Term, ...]:
    if not isinstance(terms, dict):
        raise TaxonomyError(f"{where}: expected a table of en/fr/es lists")
    out: list[Term] = []
    for lang, words in terms.items():
        if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
            raise TaxonomyError(f"{where}.{lang}: expected a list of strings")
        if lang not in LANGUAGES:
            raise TaxonomyError(f"{where}.{lang}: languages are en, fr and es")
        out.extend(_term(w, lang, f"{where}.{lang}") for w in words if w.strip())
    return tuple(dict.fromkeys(t for t in out if t.phrase))


def _category(key: str, data: dict[str, Any], *, kind: str) -> Category:
    labels = data.get("label", {})
    if isinstance(labels, str):
        labels = {"en": labels}
    if not isinstance(labels, dict):
        raise TaxonomyError(f"{kind}.{key}: label and terms must be tables of en/fr/es")
    terms = _terms(data.get("terms", {}), f"{kind}.{key}.terms")
    if not terms:
        raise TaxonomyError(f"{kind}.{key}: give at least one term")
    try:
        amounts, prices, codes = (float(data.get(k, 0.0)) for k in ("amounts", "prices",
                                                                     "codes"))
    except (TypeError, ValueError):
        raise TaxonomyError(f"{kind}.{key}.amounts, prices and codes: expected numbers"
                            ) from None
    return Category(key=key, labels={str(k): str(v) for k, v in labels.items()},
                    terms=terms, theme=str(data.get("theme", "")),
                    about=_terms(data.get("about", {}), f"{kind}.{key}.about"),
                    amounts=amounts, prices=prices, codes=codes)


def taxonomy_from(data: dict[str, Any]) -> Taxonomy:
    """Build a Taxonomy from a dict shaped like ``taxonomy.toml``. Raises TaxonomyError."""
    topics = data.get("topics") or {}
    themes = data.get("themes") or {}
    if not topics:
        raise TaxonomyError("the taxonomy needs a [topics.<key>] table")
    scope = _terms((data.get("scope") or {}).get("terms", {}), "scope.terms")
    anchors = _terms((data.get("scope") or {}).get("anchors", {}), "scope.anchors")
    rel = data.get("relevance") or {}
    default = Relevance() if scope else Relevance(threshold=0.5, min_scope=0.0,
                                                  topic_share=1.0)
    try:
        relevance = Relevance(**{k: float(rel.get(k, getattr(default, k)))
                                 for k in ("threshold", "min_scope", "title_factor",
                                           "topic_share", "min_anchor", "min_title",
                                           "min_lead", "min_front_anchor")})
    except (TypeError, ValueError):
        raise TaxonomyError("[relevance]: threshold, min_scope, title_factor, "
                            "topic_share, min_anchor, min_title, min_lead and "
                            "min_front_anchor must be numbers") from None
    editor = data.get("editor") or {}
    if not isinstance(editor, dict):
        raise TaxonomyError("[editor]: expected tables authorities and consequence")
    groups = []
    for n, raw in enumerate(data.get("equivalents") or []):
        if not isinstance(raw, dict) or not raw:
            raise TaxonomyError(f"equivalents #{n + 1}: expected a table of en/fr/es phrases")
        group: dict[str, tuple[str, ...]] = {}
        for lang, got in raw.items():
            phrases = [got] if isinstance(got, str) else got
            if lang not in LANGUAGES or not isinstance(phrases, list) or not all(
                    isinstance(x, str) and x.strip() for x in phrases):
                raise TaxonomyError(f"equivalents #{n + 1}.{lang}: languages are en, fr and "
                                    "es, each a phrase or a list of phrases")
            group[lang] = tuple(x.strip() for x in phrases)
        groups.append(group)
    tx = Taxonomy(topics=tuple(_category(k, v, kind="topics") for k, v in topics.items()),
                  themes=tuple(_category(k, v, kind="themes") for k, v in themes.items()),
                  scope=scope, relevance=relevance, anchors=anchors,
                  authorities=_terms(editor.get("authorities", {}), "editor.authorities"),
                  consequence=_terms(editor.get("consequence", {}), "editor.consequence"),
                  equivalents=tuple(groups))
    for t in tx.topics:
        if t.theme and tx.theme(t.theme) is None:
            raise TaxonomyError(f"topics.{t.key}.theme: {t.theme!r} is not a theme")
    return tx


def default_taxonomy_text() -> str:
    """The default taxonomy file's text (a starting point for the secretariat)."""
    return files("digests").joinpath("taxonomy.toml").read_text(encoding="utf-8")


def load_taxonomy(path: Path | None = None) -> Taxonomy:
    """The secretariat's taxonomy from the TOML file at ``path``, else the
    default. Raises TaxonomyError (bad content) or OSError (unreadable file)."""
    text = default_taxonomy_text() if path is None else path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TaxonomyError(f"{path or 'taxonomy.toml'}: {exc}") from None
    return taxonomy_from(data)
