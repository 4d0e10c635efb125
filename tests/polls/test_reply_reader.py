"""The reply reader never guesses: zero dangerous misreads on the labelled set
(tests/polls/eval/), the issue's own examples unreadable, reasons unwrapped and
without sign-offs."""

from __future__ import annotations

import pytest

from bot.polls.replies import read_reply
from bot.polls.words import REPLY_WORDS, read_stance
from tests.polls.eval import dangerous, load, score


def _read(text: str) -> tuple[str | None, str]:
    r = read_reply(text)
    return r.stance, r.reason


def test_no_dangerous_misread_on_the_labelled_set() -> None:
    cases = load()
    assert len(cases) >= 150
    assert {c.label for c in cases} == {"agree", "abstain", "disagree", "block", "unreadable"}
    s = score(_read, cases)
    assert s.dangerous == [], [(c.line, c.text[:60], got) for c, got in s.dangerous]
    # the figure itself is printed by bench/reply_reader.py; here only a floor
    assert s.accuracy >= 0.9


@pytest.mark.parametrize("line", [
    "Pour l'instant je m'abstiens.", "Yes, I block this.",
    "Contre toute attente, je suis d'accord.", "Por ahora me abstengo.",
    "Sí, bloqueo.", "Contra todo pronóstico, estoy de acuerdo.", "Agreed", "Agree-ish",
    "D'accord, mais je bloque si l'annexe disparaît.",
])
def test_the_misreads_of_issue_11_are_unreadable(line: str) -> None:
    assert read_stance(line) is None
    assert read_reply(line + "\n\nmore text").stance is None


@pytest.mark.parametrize(("line", "stance"), [
    ("D'accord", "agree"), ("en desacuerdo", "disagree"), ("bloquer", "block"),
    ("je bloque", "block"), ("me abstengo", "abstain"), ("DÉSACCORD.", "disagree"),
    ("Je m’abstiens", "abstain"), ("**Block**: no", "block"),
])
def test_stance_words_fold_case_and_accents(line: str, stance: str) -> None:
    found = read_stance(line)
    assert found is not None and found[0] == stance


def test_the_words_we_tell_voters_to_use_are_read() -> None:
    for words in REPLY_WORDS.values():
        assert [read_stance(w) for w in words] == [
            ("agree", ""), ("abstain", ""), ("disagree", ""), ("block", "")]


def test_reasons_are_unwrapped_without_signoff_or_quotes() -> None:
    r = read_reply("Block\nThe protocol ignores tropical soils, which are\nhalf of our sites.\n"
                   "\nBest regards,\nClaire Dubois\nINRAE\n\nOn Mon, 2 Mar 2026, Convene "
                   "<b@alliance.example> wrote:\n> Proposal #3\n")
    assert (r.stance, r.reason) == (
        "block", "The protocol ignores tropical soils, which are half of our sites.")
    assert dangerous("block", "agree") and dangerous("unreadable", "block")
    assert not dangerous("agree", None)
