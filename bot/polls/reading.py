"""What stance a person's own words take, in English, French or Spanish.

The reply reader (:mod:`bot.polls.replies`) hands over the person's own text
(quotes, signature and sign-off already cut); this module reads it as a
person would, clause by clause:

- **Stance terms** are matched on folded words (case, accents, typographic
  apostrophes; French elisions split: ``m'abstiens`` -> ``m'`` ``abstiens``)
  by stem (``abst...`` is abstain in all three languages, ``bloq.../bloc...``
  block, ``desac.../disag...`` disagree), by a few phrases (``can live
  with``, ``stand aside``, ``ni ... ni``), and with one slip forgiven in the
  main words (``blcok``, ``agre``, ``desacuerod``: one letter dropped, added
  or swapped, never replaced, so ``black`` is not ``block``).
- **Negation** (``not``, ``n't``, ``no``, ``ne``/``pas``, ``sans``, ``sin``,
  ``aucun``...) within three words before a term, in the same clause and not
  across ``and``/``but``, turns agree into disagree (``I don't agree``,
  ``no estoy de acuerdo``), disagree into agree (``no objection``, ``je ne
  suis pas contre``), and takes a block or an abstention away (``not
  blocking``, ``no bloqueo``, ``sans bloquer``).
- **Conditions** keep the stance: ``si no cambia el plazo, bloqueo`` and ``I
  block unless ...`` are blocks (the condition is the reason).
- **Questions** take no stance (``What happens if I block?``); nor do clauses
  that hesitate (``not sure``, ``je ne sais pas``, ``let me think``) or
  offer a choice (``agree or disagree``): those replies are asked again.
- When several stances are taken, the strongest wins (block, disagree,
  abstain, agree): a reply is never read milder than it is.
- A bare ``yes``/``oui``/``sí`` is agree and a bare ``no``/``non`` disagree
  (the ballot asks whether to adopt the proposal).

:func:`read_stance_text` returns the stance, or None when the text must be
asked again.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from bot.polls.words import fold

#: Strength order: the strongest stance taken wins.
STRENGTH = {"agree": 0, "abstain": 1, "disagree": 2, "block": 3}
_NEGATED = {"agree": "disagree", "disagree": "agree", "block": None, "abstain": None}

_NEGATORS = frozenset({"not", "n't", "no", "never", "ne", "n'", "pas", "sans", "jamais",
                       "aucun", "aucune", "nunca", "sin", "nor", "ni"})
#: French negation that follows the verb ("je bloque pas").
_AFTER = frozenset({"pas", "plus", "jamais"})
_BREAKS = frozenset({"and", "but", "et", "mais", "y", "pero", "or", "ou", "o", "so", "donc",
                     "then", "however", "sino", "aunque", "though", "although"})
_OR = frozenset({"or", "ou", "o", "u"})

#: Whole words (folded) and the stance they name.
_EXACT = {
    "accord": "agree", "daccord": "agree", "dacord": "agree", "acuerdo": "agree",
    "deacuerdo": "agree", "favour": "agree", "favor": "agree", "favourable": "agree",
    "favorable": "agree", "conforme": "agree", "valide": "agree", "validons": "agree",
    "valido": "agree", "+1": "agree", "support": "agree", "supports": "agree",
    "apoyo": "agree", "apoyamos": "agree", "soutiens": "agree", "soutenons": "agree",
    "against": "disagree", "contre": "disagree", "contra": "disagree",
    "defavorable": "disagree", "unfavourable": "disagree",
}
#: Stems (folded word starts) and the stance they name.
_STEMS = (
    ("disag", "disagree"), ("desac", "disagree"), ("object", "disagree"),
    ("objec", "disagree"), ("oppos", "disagree"), ("opong", "disagree"),
    ("opone", "disagree"),
    ("agre", "agree"), ("approv", "agree"), ("approu", "agree"), ("aprue", "agree"),
    ("aprob", "agree"),
    ("abst", "abstain"),
    ("bloc", "block"), ("bloq", "block"), ("blok", "block"),
)
#: Main words forgiven one slip (dropped, added or swapped letter).
_SLIPS = {"agree": "agree", "disagree": "disagree", "abstain": "abstain", "block": "block",
          "blocking": "block", "acuerdo": "agree", "desacuerdo": "disagree",
          "abstengo": "abstain", "bloqueo": "block", "accord": "agree"}
#: Phrases (folded regexes over a clause) naming a stance; matched first.
_PHRASES = (
    (re.compile(r"\b(neither|ni)\b.*\b(nor|ni)\b"), "abstain"),
    (re.compile(r"\b(stand|step)(ing)? aside\b|\bsit(ting)? (this one |it )?out\b"), "abstain"),
    (re.compile(r"\bstand in the way\b"), "block"),
    (re.compile(r"\b(live with|vivre avec|vivir con)\b"), "agree"),
    (re.compile(r"\b(suis|sommes|vote|votons|votamos) pour\b|\bfine with (it|this)\b"),
     "agree"),
    (re.compile(r"\b(fine|ok|okay|good) (by|for|with) me\b|\bok pour moi\b|\blooks? good\b"
                r"|\bgo ahead\b|\bon peut avancer\b|\bme parece bien\b|\bcount me in\b"),
     "agree"),
)
_BARE = {"yes": "agree", "yep": "agree", "yeah": "agree", "oui": "agree", "si": "agree",
         "ok": "agree", "okay": "agree",
         "no": "disagree", "non": "disagree", "nope": "disagree"}
#: A reply that hesitates or is a robot's is asked again whatever it names.
_UNSURE = re.compile(
    r"\b(not sure|unsure|i don'?t know|do not know|don'?t know yet|let me think|undecided"
    r"|je ne sais pas|sais pas|pas sur|pas encore decide|je ne suis pas sur"
    r"|no estoy segur[oa]|no lo se|no se si|todavia no lo se|indecis[oa]?"
    r"|automatic reply|auto-?reply|out of (the )?office|reponse automatique"
    r"|absente? du bureau|respuesta automatica|fuera de la oficina)\b")
#: A sentence opening with a question word asks, even without its "?".
_ASKS = re.compile(r"^\s*(why|what|how|which|pourquoi|comment|por que)\b")
#: Hedges and counterfactuals: the stance they touch is not plainly taken.
_HEDGE = re.compile(r"\b(more or less|plus ou moins|mas o menos|sort of|kind of|probably"
                    r"|probablement|probablemente|maybe|perhaps|peut-etre|quizas|tal vez)\b"
                    r"|\w-ish\b")
_COULD = re.compile(r"\b(if i could|si je pouvais|si je le pouvais|si pudiera|si pudiese"
                    r"|if only i could)\b")
#: A stance word followed by one of these is talked about, not taken ("Block
#: is too strong").
_MENTION = frozenset({"is", "was", "would", "means", "est", "serait", "signifie", "es",
                      "seria", "significa", "sounds", "seems"})
#: Idioms whose stance word takes no stance.
_IDIOMS = re.compile(r"\b(contre toute attente|contra todo pronostico|against all odds"
                     r"|en contra de lo previsto)\b")
_ELISION = re.compile(r"^(d|m|l|j|n|s|t|qu|c)'(.+)$")
_TOKEN = re.compile(r"\+1|[a-z0-9]+(?:'[a-z]+)?'?")
_CLAUSE = re.compile(r"[,;:()\[\]\u2013\u2014]|\s-\s|\.{2,}|…")
_SENTENCE = re.compile(r"(?<=[.!?\n])")


@dataclass(frozen=True, slots=True)
class Term:
    """A stance term found at token ``at`` of its clause."""

    stance: str
    at: int


def _one_slip(word: str, target: str) -> bool:
    """``word`` is ``target`` with one letter dropped, added, or two
    neighbours swapped (no replaced letter)."""
    if word == target or len(word) < 4 or word[0] != target[0]:
        return False
    if len(word) == len(target):
        diff = [i for i, (a, b) in enumerate(zip(word, target, strict=True)) if a != b]
        return len(diff) == 2 and diff[1] == diff[0] + 1 and \
            word[diff[0]] == target[diff[1]] and word[diff[1]] == target[diff[0]]
    short, long_ = sorted((word, target), key=len)
    if len(long_) - len(short) != 1:
        return False
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


def term_of(word: str) -> str | None:
    """The stance a single folded word names, or None."""
    if word in _EXACT:
        return _EXACT[word]
    for stem, stance in _STEMS:
        if word.startswith(stem):
            return stance
    for target, stance in _SLIPS.items():
        if _one_slip(word, target):
            return stance
    return None


def tokens(clause: str) -> list[str]:
    """Folded words of a clause, French elisions and English ``n't`` split."""
    out: list[str] = []
    for tok in _TOKEN.findall(clause):
        m = _ELISION.match(tok)
        if m and m.group(1) + m.group(2) in _EXACT:
            out.append(m.group(1) + m.group(2))  # d'accord: one word
        elif m:
            out += [m.group(1) + "'", m.group(2).strip("'")]
        elif tok.endswith("n't"):
            out += [tok[:-3], "n't"]
        else:
            out.append(tok.strip("'"))
    return [t for t in out if t]


def _clause_stances(clause: str) -> list[str] | None:
    """The stances a clause takes (after negation), or None when it offers a
    choice between stances (``agree or disagree``)."""
    for n, (pattern, stance) in enumerate(_PHRASES):
        m = pattern.search(clause)
        if m is None:
            continue
        if n == 0:
            return ["abstain"]  # neither ... nor: whatever it names, a stand-aside
        before = tokens(clause[:m.start()])
        cut = max((i for i, w in enumerate(before) if w in _BREAKS), default=-1)
        negated = any(w in _NEGATORS for w in before[cut + 1:][-3:])
        said = _NEGATED[stance] if negated else stance
        rest = _clause_stances(clause[:m.start()] + " , " + clause[m.end():])
        if rest is None:
            return None
        return ([said] if said else []) + rest
    words = tokens(clause)
    terms = [Term(s, i) for i, w in enumerate(words) if (s := term_of(w)) is not None]
    for a, b in itertools.pairwise(terms):
        between = words[a.at + 1:b.at]
        if a.stance != b.stance and (not between or any(w in _OR for w in between)):
            return None  # "agree or disagree", "agree disagree": a choice, not a stance
    if terms and _COULD.search(clause):
        return []  # "I would block it if I could": said not to be taken
    taken: list[str] = []
    start = 0
    for t in terms:
        window = words[max(start, t.at - 3):t.at]
        cut = max((i for i, w in enumerate(window) if w in _BREAKS), default=-1)
        negated = any(w in _NEGATORS for w in window[cut + 1:])
        if not negated and t.at + 1 < len(words) and words[t.at + 1] in _AFTER:
            negated = True
        if t.at + 1 < len(words) and words[t.at + 1] in _MENTION:
            start = t.at + 1
            continue
        result = _NEGATED[t.stance] if negated else t.stance
        if result is not None:
            taken.append(result)
        start = t.at + 1
    return taken


def read_stance_text(text: str) -> str | None:
    """The stance of a person's own words (see the module doc), or None when
    there is none, or it is a question, hesitant, or a choice."""
    folded = fold(text)
    words = tokens(folded)
    if len(words) == 1 and words[0] in _BARE:
        return _BARE[words[0]]
    if _UNSURE.search(folded) or _HEDGE.search(folded):
        return None
    folded = _IDIOMS.sub(" ", folded)
    taken: list[str] = []
    for sentence in _SENTENCE.split(folded):
        if sentence.strip().endswith("?") or _ASKS.match(sentence):
            continue  # a question names a stance without taking it
        for clause in _CLAUSE.split(sentence):
            found = _clause_stances(clause)
            if found is None:
                return None
            taken += found
    if not taken:
        return None
    return max(taken, key=STRENGTH.__getitem__)
