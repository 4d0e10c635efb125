"""The second stage of clustering: rewrites and translations among a week's
relevant stories (numbers, rare names, letter grams, an act's number and a
law's step: :mod:`digests.acts`), grouped into one event each
(:func:`related_groups`). The first stage, near-duplicate texts by MinHash,
is digests/cluster.py."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from digests.acts import other_milestones, same_milestone
from digests.classify import fold
from digests.dates import DAYS, MONTHS


class UnionFind:
    """Disjoint sets over the indices ``0..n-1``: ``find(i)`` its root, ``union(a, b)``."""
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)



# -- second stage: rewrites and translations among a week's relevant stories -----------

_NUMBER = re.compile(r"(?<![^\W\d_])\d+(?:[.,]\d+)*")  # not inside a name (COP30, VM0042)
_YEAR = re.compile(r"^(19|20)\d\d$")
_NAME = re.compile(r"\b[^\W\d_][^\W_]{2,}")
#: Same language: share of content words (Jaccard) or of the shorter text's
#: words (containment) above which two stories are one (eval set: rewrites
#: 0.59-0.92 / 0.74-1.0, distinct stories at most 0.32 / 0.5).
SAME_JACCARD, SAME_CONTAINMENT, MIN_WORDS = 0.45, 0.65, 6
#: Any language: the same actors (rare names, not a registry's or a method's
#: alone) with an agreeing number, published within this many days.
EVENT_NAMES, EVENT_DAYS = 2, 10
#: Any language: the same body (a registry, a ministry) with the same actor
#: or doing the same thing (suspends, approves, opens a consultation), in
#: texts alike in letters (4-letter pieces of words, shared by en/fr/es
#: cognates: "consultation" / "consulta"; real set: one event's write-ups
#: 0.11-0.41, distinct events at most 0.17, 0.10 for two naming one body).
BODY_GRAMS = 0.12
#: Any language: this many actors' names in common (rare names, a body's
#: name not among them) with texts alike (content words in one language,
#: else letters) are one event too.
MANY_NAMES, NAMES_JACCARD, NAMES_GRAMS = 3, 0.12, 0.15
#: Same language: two actors' names in common in texts alike in words and
#: letters (a minister's first and last name at one meeting; real set: one
#: event's write-ups 0.20-0.34 / 0.25-0.45, no two events there).
PAIR_JACCARD, PAIR_GRAMS = 0.2, 0.25
#: Same language: headlines sharing this many words, and this share of the
#: shorter one's ("Indigo Ag Announces Third Carbon Crop" / "... Indigo Ag's
#: Third Carbon Crop"): one announcement, however the summaries differ.
HEADLINE_WORDS, HEADLINE_SHARE = 5, 0.6
#: A study's report: an actor in common (its authors' institution) and texts
#: alike in letters, when both items report a study.
STUDY_GRAMS = 0.2
RARE = 60  # a word in more stories than this proposes no pair

def numbers(text: str) -> set[str]:
    """Significant numbers in ``text`` (``1,2`` and ``1.2`` alike; thousands
    separators dropped; single digits, years and the digits of a name such
    as COP30 left out: too common to be evidence of one event)."""
    out = set()
    for n in _NUMBER.findall(text):
        n = n.replace(",", ".")
        if n.count(".") > 1 or (n.count(".") == 1 and len(n.split(".")[1]) == 3):
            n = n.replace(".", "")  # 12.000 / 1,200,000: thousands
        if len(n.replace(".", "")) > 1 and not _YEAR.match(n):
            out.add(n)
    return out | amounts(text)


#: A number with a scale word, in en, fr and es ("1.7 billion", "1 700
#: millones", "1,7 milliard", "US$1.400 millones"), and the scale's value.
_SCALE = {"thousand": 1e3, "mil": 1e3, "million": 1e6, "millions": 1e6, "millones": 1e6,
          "millon": 1e6, "m": 1e6, "mn": 1e6, "billion": 1e9, "billions": 1e9, "bn": 1e9,
          "milliard": 1e9, "milliards": 1e9, "mil millones": 1e9}
_AMOUNT = re.compile(r"(?<![\w.,])(\d{1,3}(?:[ \u00a0\u202f.,]\d{3})*(?:[.,]\d+)?)\s?"
                     r"(mil millones|thousand|millions?|millones|millon|milliards?|billions?|"
                     r"bn|mn|m)\b")


def amounts(text: str) -> set[str]:
    """Amounts of ``text`` written with a scale word, as one key in any
    language ("1.7 billion" = "1 700 millones" = "1,7 milliard": "1.7e9"),
    so that write-ups in two languages agree on them."""
    out = set()
    for digits, scale in _AMOUNT.findall(fold(text)):
        d = re.sub(r"[ \u00a0\u202f]", "", digits)
        if re.fullmatch(r"\d{1,3}(?:[.,]\d{3})+", d):
            d = re.sub(r"[.,]", "", d)  # 1.700 / 1,700: thousands
        value = float(d.replace(",", ".")) * _SCALE[scale]
        if value >= 1e6:
            out.add(f"{value:.3g}")
    return out


def significant(found: set[str]) -> set[str]:
    """The numbers of ``found`` (as :func:`numbers` gives them) that are
    evidence of one event when two texts agree on them: at least 100, or
    with a decimal part ("2.85"); a day of the month or a count of ten is not."""
    return {n for n in found if "." in n or float(n) >= 100}


_TOKENS = re.compile(r"[^\W_]+|[.:;!?|]")


def names(text: str) -> set[str]:
    """Capitalised words of ``text`` (proper names, mostly), accent-folded,
    and runs of capitalised words inside a sentence ("Soil Monitoring
    Law": a name even when its words are common); not codes with digits (a
    method's name such as VM0042 is no actor)."""
    found = {fold(w) for w in _NAME.findall(text) if w[0].isupper()
             and not any(ch.isdigit() for ch in w)}
    found -= DAYS | MONTHS.keys()  # a date's words are no actor
    run: list[str] = []
    start = True  # a sentence's first word is capitalised anyway
    for tok in [*_TOKENS.findall(text), "."]:
        if tok[0].isupper() and tok.isalpha() and not start:
            run.append(tok)
            continue
        if len(run) >= 2:
            pair = fold(" ".join(run[:2]))
            if not set(pair.split()) & (DAYS | MONTHS.keys()):
                found.add(pair)
        run = []
        start = not tok[0].isalnum()
    return found


@dataclass(frozen=True, slots=True)
class Evidence:
    """What two stories share: content-word similarity (same language) and
    the same actors (rare names) with agreeing numbers and dates (any
    language). ``shared``: those names and numbers, for the explanation."""

    same_language: bool
    jaccard: float = 0.0
    containment: float = 0.0
    numbers: int = 0
    names: int = 0
    bodies: int = 0
    close: bool = True
    shared: tuple[str, ...] = ()
    grams: float = 0.0
    actions: int = 0
    dates: int = 0
    amounts: int = 0
    same_topic: bool = False
    acts: int = 0
    milestone: str = ""
    other_steps: bool = False
    headline: int = 0
    headline_share: float = 0.0
    study: bool = False

    @property
    def same_story(self) -> bool:
        """True when the evidence is enough to call them one story."""
        if not self.close:
            return False
        # one law, and an act's number, only at the same step (:mod:`digests.acts`);
        # in one language, the same step and the same action (certifies) are enough
        if not self.other_steps and self.same_topic and (self.acts or (self.milestone and (
                self.bodies or self.names or self.dates
                or (self.same_language and self.actions)))):
            return True
        if self.same_language and (self.jaccard >= SAME_JACCARD
                                   or self.containment >= SAME_CONTAINMENT):
            return True
        # the same actors: a rare name, and a second one or the same rule-setting
        # body (a registry, a ministry) with it, agreeing on a number; never a
        # body's name alone
        if self.numbers >= 1 and self.names >= 1 and (self.names + self.bodies >= EVENT_NAMES
                                                      or self.grams >= BODY_GRAMS):
            return True
        # the same headline, near enough (same language, not two steps of a law)
        if (self.same_language and not self.other_steps and self.headline >= HEADLINE_WORDS
                and self.headline_share >= HEADLINE_SHARE):
            return True
        # two actors in common, in texts alike in words and letters
        if (self.same_language and self.names >= EVENT_NAMES and self.jaccard >= PAIR_JACCARD
                and self.grams >= PAIR_GRAMS):
            return True
        # one study: both report a study, naming one of its authors' institutions
        if self.study and self.names and self.grams >= STUDY_GRAMS:
            return True
        # many of the same actors, in texts alike
        if self.names >= MANY_NAMES and (self.jaccard >= NAMES_JACCARD
                                         or self.grams >= NAMES_GRAMS):
            return True
        # two actors and two bodies in common (any language: a launch by a
        # ministry with a UN agency reported in two languages)
        if self.names >= EVENT_NAMES and self.bodies >= EVENT_NAMES:
            return True
        # the same date, and the same actor, body or act
        if self.dates and (self.names or self.bodies or self.actions):
            return True
        # the same body and the same amount (millions and more, any language)
        if self.bodies and self.amounts:
            return True
        # in two languages, the same body doing the same thing (adopts a law)
        # on the same topic: a translation's letters differ too much to say
        if not self.same_language and self.bodies and self.actions and self.same_topic:
            return True
        return bool(self.bodies and (self.names or self.actions) and self.grams >= BODY_GRAMS)


@dataclass(slots=True)
class Profile:
    """A story's comparable features: language, topic, content words
    (stems), significant numbers, names (rare ones: not common words
    capitalised, nor a rule-setting body's name), and when it was published
    (aware datetime; None: unknown)."""

    language: str
    topic: str
    words: set[str]
    numbers: set[str]
    names: set[str]
    when: datetime | None = None
    bodies: set[str] = field(default_factory=set)
    grams: frozenset[str] = frozenset()
    actions: set[str] = field(default_factory=set)
    dates: set[str] = field(default_factory=set)
    acts: set[str] = field(default_factory=set)
    milestone: str = ""
    headline: set[str] = field(default_factory=set)
    study: bool = False


_LONG = re.compile(r"[^\W\d_]{4,}")


def letter_grams(text: str) -> frozenset[str]:
    """The 4-letter pieces of ``text``'s words of 4 letters or more
    (accent- and case-folded): cognates share most of theirs."""
    out: set[str] = set()
    for w in _LONG.findall(fold(text)):
        out.update(w[i:i + 4] for i in range(len(w) - 3))
    return frozenset(out)


#: Words a headline shares with any other (en, fr, es): no evidence.
_LINKS = frozenset("the an of and or to in on for with by at as is are be its it this that from "
                   "de la le les el los las du des et en au aux un une una por para con sur se "
                   "que qui su sus del al".split())


def headline_words(title: str) -> set[str]:
    """The words of a headline (accent- and case-folded), linking words left out."""
    return {w for w in re.findall(r"[^\W_]{2,}", fold(title).lower()) if w not in _LINKS}


#: An item reporting a study (en, fr, es): a paper, researchers, a journal.
_STUDY = re.compile(r"\b(?:study|paper|journal|researchers|etude|chercheurs|estudio"
                    r"|investigadores|revista)\b")


def reports_study(text: str) -> bool:
    """True when ``text`` reports a study (:data:`_STUDY`'s words, any case or accent)."""
    return bool(_STUDY.search(fold(text).lower()))


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def compare(a: Profile, b: Profile) -> Evidence:
    """The evidence that ``a`` and ``b`` report one story."""
    close = (a.when is None or b.when is None
             or abs((a.when - b.when).total_seconds()) <= EVENT_DAYS * 86400)
    nums, who, bodies = a.numbers & b.numbers, a.names & b.names, a.bodies & b.bodies
    nums = significant(nums)
    # one name of two words ("Climate Week") is one actor, not three
    parts = {w for n in who if " " in n for w in n.split()}
    who = {n for n in who if n not in parts}
    days = a.dates & b.dates
    laws = a.acts & b.acts
    shared = (tuple(sorted(laws)) + tuple(sorted(bodies)) + tuple(sorted(who))
              + tuple(sorted(nums)))
    grams, acts = _jaccard(a.grams, b.grams), len(a.actions & b.actions)
    step = a.milestone if same_milestone(a.milestone, b.milestone) else ""
    other = other_milestones(a.milestone, b.milestone)
    heads = len(a.headline & b.headline)
    share = heads / min(len(a.headline), len(b.headline)) if heads else 0.0
    if a.language == b.language and min(len(a.words), len(b.words)) >= MIN_WORDS:
        common = len(a.words & b.words)
        return Evidence(True, jaccard=common / len(a.words | b.words),
                        containment=common / min(len(a.words), len(b.words)),
                        numbers=len(nums), names=len(who), bodies=len(bodies), close=close,
                        shared=shared, grams=grams, actions=acts, dates=len(days),
                        amounts=sum("e" in n for n in nums), same_topic=a.topic == b.topic,
                        acts=len(laws), milestone=step, other_steps=other, headline=heads,
                        headline_share=share, study=a.study and b.study)
    return Evidence(a.language == b.language, numbers=len(nums), names=len(who),
                    bodies=len(bodies), close=close, shared=shared, grams=grams, actions=acts,
                    dates=len(days), amounts=sum("e" in n for n in nums),
                    same_topic=a.topic == b.topic, acts=len(laws), milestone=step,
                    other_steps=other, headline=heads, headline_share=share,
                    study=a.study and b.study)


def related_groups(profiles: Sequence[Profile]) -> list[list[int]]:
    """Indices of ``profiles`` grouped into stories (singletons included, in
    first-appearance order). Candidate pairs share a rare word, number or
    name (an inverted index), so the work stays near-linear."""
    index: dict[str, list[int]] = {}
    for i, p in enumerate(profiles):
        for key in ({f"w:{w}" for w in p.words} | {f"n:{n}" for n in p.numbers}
                    | {f"c:{c}" for c in p.names} | {f"b:{b}" for b in p.bodies}
                    | {f"d:{d}" for d in p.dates} | {f"a:{a}" for a in p.acts}
                    | ({f"m:{p.milestone}"} if p.milestone else set())):
            index.setdefault(key, []).append(i)
    pairs: set[tuple[int, int]] = set()
    for members in index.values():
        if 1 < len(members) <= RARE:
            for pos, i in enumerate(members):
                for j in members[:pos]:
                    pairs.add((j, i))
    uf = UnionFind(len(profiles))
    for j, i in sorted(pairs):
        if uf.find(i) != uf.find(j) and compare(profiles[j], profiles[i]).same_story:
            uf.union(j, i)
    groups: dict[int, list[int]] = {}
    for i in range(len(profiles)):
        groups.setdefault(uf.find(i), []).append(i)
    return list(groups.values())
