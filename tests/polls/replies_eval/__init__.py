"""The independent labelled reply set (README.md here: 244 replies in en, fr
and es, written without reading the reader) and how a reader is scored on it:
per language and per expected stance, how many were read right, refused
(asked again) or read wrong (another stance, or a stance where the person
must be asked)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

SET = Path(__file__).resolve().parent / "replies.jsonl"
ASK = "ask"


@dataclass(frozen=True, slots=True)
class Row:
    """One labelled reply: ``expected`` is a stance or ``ask``; ``html`` the
    HTML-only version of the same email ('' when none)."""

    id: str
    lang: str
    body: str
    expected: str
    reason_expected: bool
    html: str = ""


def load(path: Path = SET) -> list[Row]:
    """Every row of the set."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            d = json.loads(line)
            rows.append(Row(d["id"], d["lang"], d["body"], d["expected"],
                            bool(d["reason_expected"]), d.get("html", "")))
    return rows


@dataclass
class Tally:
    """``right`` / ``refused`` / ``wrong`` counts, and the wrong ones' ids."""

    right: int = 0
    refused: int = 0
    wrong: int = 0
    wrong_ids: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.right + self.refused + self.wrong


@dataclass
class Scores:
    """Tallies by language, by expected label, and overall; reasons found
    where the label expects one (of the rows read right)."""

    by_lang: dict[str, Tally] = field(default_factory=dict)
    by_label: dict[str, Tally] = field(default_factory=dict)
    overall: Tally = field(default_factory=Tally)
    reason_found: int = 0
    reason_expected: int = 0


def score(read: Callable[[str], tuple[str | None, str]], rows: Iterable[Row], *,
          html: Callable[[str], str] | None = None) -> Scores:
    """Score ``read(text) -> (stance or None, reason)``; with ``html``, on the
    HTML versions (turned to text by ``html``) of the rows that have one."""
    out = Scores()
    for row in rows:
        if html is not None and not row.html:
            continue
        stance, reason = read(html(row.html) if html is not None else row.body)
        got = stance or ASK
        for tally in (out.by_lang.setdefault(row.lang, Tally()),
                      out.by_label.setdefault(row.expected, Tally()), out.overall):
            if got == row.expected:
                tally.right += 1
            elif stance is None:
                tally.refused += 1
            else:
                tally.wrong += 1
                tally.wrong_ids.append(f"{row.id}:{got}")
        if got == row.expected and row.reason_expected:
            out.reason_expected += 1
            out.reason_found += bool(reason)
    return out
