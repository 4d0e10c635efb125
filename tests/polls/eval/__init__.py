"""The labelled reply set (see README.md) and how a reader is scored on it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
SET = HERE / "replies.txt"
SOFT = {"agree", "abstain"}
HARD = {"disagree", "block"}


@dataclass(frozen=True)
class Case:
    line: int
    label: str
    reason: str
    text: str


def load(path: Path = SET) -> list[Case]:
    """Every record of ``path`` (``%% label | reason`` then its body)."""
    cases: list[Case] = []
    head: tuple[int, str, str] | None = None
    body: list[str] = []
    for n, line in enumerate([*path.read_text(encoding="utf-8").split("\n"), "%% end |"], 1):
        if line.startswith("%% "):
            if head is not None:
                cases.append(Case(head[0], head[1], head[2], "\n".join(body).rstrip("\n")))
            label, _, reason = line[3:].partition("|")
            head = (n, label.strip(), reason.strip().replace("\\n", "\n"))
            body = []
        else:
            body.append(line)
    return cases


@dataclass
class Score:
    total: int = 0
    stance_right: int = 0
    reason_right: int = 0
    readable: int = 0
    dangerous: list[tuple[Case, str | None]] = field(default_factory=list)
    wrong: list[tuple[Case, str | None, str]] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.stance_right / self.total if self.total else 0.0


def dangerous(label: str, got: str | None) -> bool:
    """A block or disagree read as agree or abstain, or any stance read where
    none may be."""
    return (label in HARD and got in SOFT) or (label == "unreadable" and got is not None)


def score(read: Callable[[str], tuple[str | None, str]], cases: list[Case]) -> Score:
    """Score ``read(text) -> (stance or None, reason)`` on ``cases``."""
    s = Score()
    for case in cases:
        stance, reason = read(case.text)
        got = stance or "unreadable"
        s.total += 1
        if got == case.label:
            s.stance_right += 1
            if case.label != "unreadable":
                s.readable += 1
                s.reason_right += reason == case.reason
        else:
            s.wrong.append((case, stance, reason))
        if dangerous(case.label, stance):
            s.dangerous.append((case, stance))
    return s
