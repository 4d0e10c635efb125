"""What an editor weighs in an item besides its relevance: the rule-setting
bodies it names and the consequence words of its title (taxonomy
``[editor]``), whether it is a round-up of many stories rather than one, and
the words :mod:`digests.cluster` compares to find rewrites of one story."""

from __future__ import annotations

import re
from dataclasses import dataclass

from digests.classify import _TOKEN, Classifier
from digests.taxonomy import LANGUAGES
from digests.topics import first_sentence


@dataclass(frozen=True, slots=True)
class Signals:
    """What an editor weighs in one item (taxonomy ``[editor]``):
    ``authorities`` the rule-setting bodies it names (one key per body in
    any language: :meth:`Classifier.canonical`), ``authority`` the strongest
    one's weight (0: none); ``consequence`` the strongest consequence word's
    weight in the title (0: none) and ``actions`` those acts (keys alike)."""

    authorities: tuple[str, ...] = ()
    authority: float = 0.0
    consequence: float = 0.0
    actions: tuple[str, ...] = ()


def editor_signals(classifier: Classifier, title: str, summary: str, *,
                   language: str = "en") -> Signals:
    """The :class:`Signals` of an item (plain-text ``title`` and ``summary``
    read as ``language``; en, fr, es, any other as English)."""
    matcher = classifier._editor[language if language in LANGUAGES else "en"]
    found: dict[str, dict[str, float]] = {"authority": {}, "consequence": {}}
    for part, text in (("title", title), ("summary", summary)):
        joined = " ".join(matcher.stems(text.lower()))
        for phrase, _at, _words in matcher.find_in(text, joined):
            for kind, key, weight in matcher.owners[phrase]:
                if kind == "consequence" and part != "title":
                    continue
                found[kind][key] = max(found[kind].get(key, 0.0), weight)
    auth = {classifier.canonical(k, language=language): w for k, w in found["authority"].items()}
    cons = {classifier.canonical(k, language=language): w
            for k, w in found["consequence"].items()}
    return Signals(authorities=tuple(sorted(auth, key=lambda k: -auth[k])),
                   authority=max(auth.values(), default=0.0),
                   consequence=max(cons.values(), default=0.0),
                   actions=tuple(sorted(cons, key=lambda k: -cons[k])))


def own_words(classifier: Classifier, text: str, language: str) -> str:
    """``text`` less the words of the taxonomy's phrases (and small words):
    what is particular to one story, not the scope's shared vocabulary."""
    matcher = classifier._matchers[language if language in LANGUAGES else "en"]
    vocabulary = classifier._vocabulary[language if language in LANGUAGES else "en"]
    return " ".join(w for w in _TOKEN.findall(text.lower())
                    if w not in matcher.stop and matcher.stems(w)
                    and matcher.stems(w)[0] not in vocabulary)


def content_words(classifier: Classifier, text: str, language: str) -> set[str]:
    """The stems of ``text``'s words in ``language`` (small words dropped):
    what :mod:`digests.cluster` compares to find rewrites of one story."""
    matcher = classifier._matchers[language if language in LANGUAGES else "en"]
    return set(matcher.stems(text.lower()))



#: Titles of a round-up of many stories (a newsletter, a weekly digest, a
#: press review) rather than one story, in en, fr and es.
_ROUNDUP = re.compile(
    r"\b(?:weekly|newsletter|round[- ]?up|digest|edition|this week in|week in review|"
    r"revue de presse|lettre d'information|hebdo(?:madaire)?|en bref|"
    r"resumen semanal|resumen de noticias|bolet[ií]n|semanario)\b", re.IGNORECASE)
#: Titles of coverage of an event (a summit, a conference, a world day, a
#: pavilion's side event) rather than of something done, in en, fr and es.
_EVENT = re.compile(
    r"\b(?:summit|climate week|world \w+ day|conference|forum|pavilion|side event|"
    r"webinar|cumbre|d[ií]a mundial|foro|pabell[oó]n|seminario|congreso|"
    r"sommet|journ[ée]e mondiale|conf[ée]rence|pavillon|colloque)\b", re.IGNORECASE)

#: The scope an event's title must carry itself (taxonomy weights, title
#: factor included: one central phrase such as "soil carbon" or "carbon
#: credits"): a summit where soils were mentioned is not a soil story.
EVENT_TITLE = 2.5


def near_miss(title: str, *, title_scope: float, summary: str = "") -> str:
    """Why an item that reads as in scope is not one of the week's stories
    ('' when it is): "round-up" for a round-up of many stories (a newsletter,
    a weekly digest, a press review), "event" for coverage of a summit, a
    conference or a world day, named in its ``title`` or in the first
    sentence of its ``summary`` (plain text), whose title carries less than
    ``EVENT_TITLE`` of the scope's phrases (a title of three headlines or
    more, separated by semicolons, is a round-up too) (``title_scope``: the scope score
    of the title, :attr:`digests.classify.Classification.title_scope`)."""
    if _ROUNDUP.search(title) or title.count(";") >= 2:  # or many headlines in one title
        return "round-up"
    if title_scope < EVENT_TITLE and (_EVENT.search(title)
                                      or _EVENT.search(first_sentence(summary)[0])):
        return "event"
    return ""
