"""What French and Spanish readers must never meet: an ISO timestamp, a ``.``
decimal, a count that disagrees with its noun ("1 articles", "1 región(es)"), a
hand-made plural or gender marker, or an English word outside the catalogs."""

from __future__ import annotations

import re

#: A machine's timestamp: ``2026-12-20 17:00``, ``2026-12-20T17:00``, ``2026-12-20``.
ISO_MOMENT = re.compile(r"\b\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2})?\b")
#: A number written with a point before its decimals (French and Spanish use a
#: comma; Spanish groups thousands with a point, ``1.500``, which is not one);
#: ``n.º`` and version tags (``v2.1``) are not numbers.
POINT_DECIMAL = re.compile(r"(?<![\w.])\d+\.(?!\d{3}(?!\d))\d+(?![\w.])")
#: Markers that stand for an agreement the sentence did not make.
HAND_MARKERS = re.compile(r"\w\((?:s|es|e|n|as)\)|\w(?:o|e)/a\b")
#: ``1`` (or ``0`` in French) followed by a plural noun.
PLURAL_NOUNS = {
    "fr": ("articles", "places", "personnes", "régions", "tours", "messages", "votes",
           "créneaux", "organisations", "membres", "jours", "semaines", "unités", "offres",
           "propositions", "réponses", "actions", "promesses"),
    "es": ("artículos", "plazas", "personas", "regiones", "rondas", "mensajes", "votos",
           "horarios", "organizaciones", "miembros", "días", "semanas", "unidades", "ofertas",
           "propuestas", "respuestas", "acciones", "compromisos"),
}
#: Common English words that are words of neither French nor Spanish.
ENGLISH = ("the", "and", "with", "your", "you", "this", "that", "is", "are", "have", "of",
           "to", "open", "closed", "proposal", "round", "seats", "seat", "slot", "slots",
           "waiting", "answers", "people", "none", "when", "state", "topic", "agree",
           "disagree", "abstain", "block", "yes", "will", "not", "be", "by", "at", "from",
           "for", "was", "been", "must", "can", "cannot", "here", "there", "which", "what",
           "who", "accepted", "declined", "tentative", "upheld", "rejected", "reached",
           "pending", "funded", "pledges", "waitlist", "sign", "ups", "join", "leave")
_ENGLISH_RE = re.compile(r"(?<![\w@/.'’-])(" + "|".join(ENGLISH) + r")(?![\w@/.'’-])")


def problems(text: str, language: str, *, allowed: tuple[str, ...] = ()) -> list[str]:
    """What is wrong with ``text`` for a reader of ``language`` (``fr``/``es``):
    each found piece with its reason. ``allowed``: substrings to ignore (a
    title someone typed, a command the reader types back)."""
    for a in allowed:
        text = text.replace(a, " ")
    found = [f"ISO timestamp {m.group()!r}" for m in ISO_MOMENT.finditer(text)]
    found += [f"point decimal {m.group()!r}" for m in POINT_DECIMAL.finditer(text)]
    found += [f"hand-made agreement {m.group()!r}" for m in HAND_MARKERS.finditer(text)]
    ones = "01" if language == "fr" else "1"
    nouns = "|".join(PLURAL_NOUNS[language])
    found += [f"plural mismatch {m.group()!r}" for m in re.finditer(
        rf"(?<![\d\u202f\u00a0.,])[{ones}] (?:{nouns})\b", text)]
    found += [f"English word {m.group()!r} in {text[max(0, m.start() - 30):m.end() + 30]!r}"
              for m in _ENGLISH_RE.finditer(text)]
    return found


def assert_reads_as(text: str, language: str, *, allowed: tuple[str, ...] = ()) -> None:
    """Fail with every problem :func:`problems` finds in ``text``."""
    bad = problems(text, language, allowed=allowed)
    assert not bad, f"{language} reader meets:\n" + "\n".join(bad) + "\n---\n" + text
