"""Stance words people write in replies, in English, French and Spanish, and a
reader of one line that never guesses.

A line is read as a stance only when it is a stance phrase alone (``Block``,
``D'accord !``) or a stance phrase followed by a delimiter (``:``, ``-``,
``–``, ``—``, ``.``, ``,``, ``;``, ``!``) and a reason (``Je bloque. Trop
cher``). Case, accents and typographic apostrophes are folded. Anything else
is no stance: ``Pour l'instant je m'abstiens.``, ``Yes, I block this.`` and
``Contre toute attente, je suis d'accord.`` are unreadable, never a guess.
Words that open ordinary sentences (yes, oui, sí, pour, contre) are not stance
words for that reason. An agree or abstain whose own line also names another
stance (``D'accord, mais je bloque si...``) is unreadable too.
"""

from __future__ import annotations

import re
import unicodedata

#: phrase (folded: lower case, accents removed) -> stance. Longer phrases are
#: tried first, so "pas d'accord" is a disagree and not an agree.
WORDS: dict[str, str] = {
    # English
    "agree": "agree", "i agree": "agree", "approve": "agree", "i approve": "agree",
    "abstain": "abstain", "i abstain": "abstain", "abstention": "abstain",
    "disagree": "disagree", "i disagree": "disagree", "object": "disagree",
    "i object": "disagree",
    "block": "block", "i block": "block",
    # French
    "d'accord": "agree", "je suis d'accord": "agree", "j'approuve": "agree",
    "je m'abstiens": "abstain", "s'abstenir": "abstain",
    "pas d'accord": "disagree", "je ne suis pas d'accord": "disagree",
    "desaccord": "disagree", "en desaccord": "disagree", "je suis en desaccord": "disagree",
    "bloque": "block", "je bloque": "block", "bloquer": "block", "blocage": "block",
    # Spanish
    "de acuerdo": "agree", "estoy de acuerdo": "agree", "a favor": "agree",
    "apruebo": "agree",
    "me abstengo": "abstain", "abstencion": "abstain", "abstenerse": "abstain",
    "en desacuerdo": "disagree", "desacuerdo": "disagree", "no estoy de acuerdo": "disagree",
    "estoy en desacuerdo": "disagree", "en contra": "disagree",
    "bloqueo": "block", "bloquear": "block", "yo bloqueo": "block",
}
_ORDER = sorted(WORDS, key=len, reverse=True)
#: What may separate a stance phrase from its reason on the same line.
DELIMITERS = ":-–—.,;!"
_SOFT = frozenset({"agree", "abstain"})
_WORD_RE = {p: re.compile(r"(?<![\w'])" + re.escape(p) + r"(?![\w'])") for p in WORDS}
_OPENERS = "*_#>•\u2022 \t"
_CLOSERS = "*_"


def _fold_char(ch: str) -> str:
    if ch in "\u2019\u02bc\u2018`´":
        return "'"
    if ch in "\u00a0\u202f\t":
        return " "
    if ch.isascii():  # NFKD leaves ASCII as it is (and it has no combining marks)
        return ch.lower()
    norm = unicodedata.normalize("NFKD", ch)
    return "".join(c for c in norm if not unicodedata.combining(c)).lower()


def fold(text: str) -> str:
    """Lower case, accents removed, typographic apostrophes made plain."""
    return "".join(_fold_char(ch) for ch in text.strip())


def _fold_map(text: str) -> tuple[str, list[int]]:
    """``text`` folded, and for each folded character the index of the
    original character it came from."""
    out: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        piece = _fold_char(ch)
        out.append(piece)
        where += [i] * len(piece)
    return "".join(out), where


def _names_another_stance(folded_line: str, stance: str) -> bool:
    return any(WORDS[p] != stance and _WORD_RE[p].search(folded_line) for p in _ORDER)


def read_stance(line: str) -> tuple[str, str] | None:
    """The stance of ``line`` and the reason after its delimiter
    (``"block: too costly"`` -> ``("block", "too costly")``,
    ``"D'accord !"`` -> ``("agree", "")``), or None when the line is not a
    stance phrase alone or followed by a delimiter (see the module doc)."""
    raw = line.strip().lstrip(_OPENERS).strip()
    folded, where = _fold_map(raw)
    for phrase in _ORDER:
        if not folded.startswith(phrase):
            continue
        end = len(phrase)
        if end < len(folded) and (folded[end].isalnum() or folded[end] == "'"):
            continue  # the word goes on: "agreed", "blocking"
        rest = raw[where[end - 1] + 1:].lstrip(_CLOSERS).strip()
        stance = WORDS[phrase]
        if not rest or not rest.strip(".!… "):
            return stance, ""
        if rest[0] not in DELIMITERS or (rest[0] in "-–" and rest[1:2].isalnum()):
            return None  # a sentence that starts with a stance word; "agree-ish"
        reason = rest.lstrip(DELIMITERS + " ").strip()
        if stance in _SOFT and _names_another_stance(fold(reason), stance):
            return None  # "agree, but I block if ...": ask again rather than guess
        return stance, reason
    return None


#: The words a voter is told to reply with, per language (each is read back
#: by :func:`read_stance`).
REPLY_WORDS = {
    "en": ("agree", "abstain", "disagree", "block"),
    "fr": ("d'accord", "je m'abstiens", "pas d'accord", "je bloque"),
    "es": ("de acuerdo", "me abstengo", "en desacuerdo", "bloqueo"),
}


def stance_word(word: str) -> str | None:
    """The stance a single chat or button word names, in any of the three
    languages (``block``, ``bloquer``, ``Bloqueo``, ``désaccord``, ``abstención``),
    or None. Case and accents are folded; the stance keys themselves are words."""
    folded = fold(word)
    if folded in _KEYS:
        return folded
    return WORDS.get(folded)


def split_stance(text: str) -> tuple[str, str] | None:
    """``text`` typed after ``vote ID`` as ``(stance, reason)``: the longest stance
    phrase of :data:`WORDS` (or a stance key) it starts with, followed by a space
    or the end (``pas d'accord trop cher`` -> ``("disagree", "trop cher")``,
    ``en desacuerdo`` -> ``("disagree", "")``), else None. The same table as email
    replies (:func:`read_stance`), so chat, buttons and email read the same words."""
    raw = text.strip()
    folded, where = _fold_map(raw)
    for phrase in _CHAT_ORDER:
        if not folded.startswith(phrase):
            continue
        end = len(phrase)
        if end < len(folded) and not folded[end].isspace():
            continue
        stance = _KEYS.get(phrase) or WORDS[phrase]
        return stance, raw[where[end - 1] + 1:].strip()
    return None


_KEYS = {k: k for k in ("agree", "abstain", "disagree", "block")}
_CHAT_ORDER = sorted(set(WORDS) | set(_KEYS), key=len, reverse=True)

#: One word per stance a person is shown to type in chat, per language (each is
#: read back by :func:`stance_word`).
CHAT_WORDS = {
    "en": {"agree": "agree", "abstain": "abstain", "disagree": "disagree", "block": "block"},
    "fr": {"agree": "d'accord", "abstain": "abstention", "disagree": "désaccord",
           "block": "bloquer"},
    "es": {"agree": "apruebo", "abstain": "abstención", "disagree": "desacuerdo",
           "block": "bloqueo"},
}


def chat_word(stance: str, language: str) -> str:
    """The word for ``stance`` a reader of ``language`` is told to type."""
    return CHAT_WORDS.get(language, CHAT_WORDS["en"]).get(stance, stance)
