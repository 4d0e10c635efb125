"""Stance words people write in replies, in English, French and Spanish."""

from __future__ import annotations

import re
import unicodedata

#: phrase (accents removed, lower case) -> stance. Longer phrases are tried
#: first, so "pas d'accord" is a disagree and not an agree.
WORDS: dict[str, str] = {
    # English
    "agree": "agree", "i agree": "agree", "yes": "agree", "approve": "agree",
    "abstain": "abstain", "i abstain": "abstain", "abstention": "abstain",
    "disagree": "disagree", "i disagree": "disagree", "object": "disagree",
    "block": "block", "i block": "block",
    # French
    "d'accord": "agree", "je suis d'accord": "agree", "accord": "agree", "pour": "agree",
    "oui": "agree",
    "je m'abstiens": "abstain", "m'abstiens": "abstain", "abstiens": "abstain",
    "s'abstenir": "abstain", "abstenir": "abstain",
    "pas d'accord": "disagree", "je ne suis pas d'accord": "disagree",
    "desaccord": "disagree", "en desaccord": "disagree", "contre": "disagree",
    "bloque": "block", "je bloque": "block", "bloquer": "block", "blocage": "block",
    # Spanish
    "de acuerdo": "agree", "estoy de acuerdo": "agree", "acuerdo": "agree",
    "a favor": "agree", "si": "agree",
    "me abstengo": "abstain", "abstencion": "abstain", "abstenerse": "abstain",
    "en desacuerdo": "disagree", "desacuerdo": "disagree", "no estoy de acuerdo": "disagree",
    "en contra": "disagree",
    "bloqueo": "block", "bloquear": "block", "bloqueo total": "block",
}
_ORDER = sorted(WORDS, key=len, reverse=True)


def fold(text: str) -> str:
    """Lower case, accents removed, typographic apostrophes made plain."""
    text = text.replace("\u2019", "'").replace("\u02bc", "'").replace("\u00a0", " ")
    norm = unicodedata.normalize("NFKD", text.strip().lower())
    return "".join(ch for ch in norm if not unicodedata.combining(ch))


def read_stance(line: str) -> tuple[str, str] | None:
    """The stance at the start of ``line`` and what follows it (``"block: too
    costly"`` -> ``("block", "too costly")``), or None when no stance word starts
    the line. Matching ignores case, accents and surrounding punctuation."""
    raw = line.strip().lstrip("*_#>-• ").strip()
    folded = fold(raw)
    if len(folded) != len(raw.lower()):
        # Folding changed the length (rare composed characters): match on the
        # folded text and return the rest from it.
        raw = folded
    for phrase in _ORDER:
        if folded.startswith(phrase):
            rest_at = len(phrase)
            if rest_at < len(folded) and re.match(r"[\w']", folded[rest_at]):
                continue
            rest = raw[rest_at:].strip().lstrip(".,:;!-–—*_ ").strip()
            return WORDS[phrase], rest
    return None
