"""The reply reader on the older labelled set (tests/polls/eval/, written
with the reader under the earlier never-guess rules: issue 22 asks that plain
sentences be read, so only its safety property is held here: no block or
disagree read milder); hedged lines refused; reasons unwrapped and without
sign-offs. The independent set is tests/polls/test_reply_eval.py."""

from __future__ import annotations

import pytest

from bot.polls.replies import read_reply
from bot.polls.words import REPLY_WORDS, read_stance
from tests.polls.eval import HARD, dangerous, load, score


def _read(text: str) -> tuple[str | None, str]:
    r = read_reply(text)
    return r.stance, r.reason


def test_no_block_or_disagree_read_milder_on_the_older_set() -> None:
    cases = load()
    assert len(cases) >= 150
    s = score(_read, cases)
    milder = [(c.line, c.text[:60], got) for c, got in s.dangerous if c.label in HARD]
    assert milder == []
    # every stance it labels (not "unreadable") is still read as labelled
    assert all(c.label == "unreadable" for c, _got, _r in s.wrong), \
        [(c.line, c.label, got) for c, got, _r in s.wrong if c.label != "unreadable"]


@pytest.mark.parametrize("line", [
    "Agree-ish", "Agree (probably).", "Estoy más o menos de acuerdo", "agree disagree",
    "Block? Why would anyone block this.",
])
def test_hedged_or_listed_stances_are_asked_again(line: str) -> None:
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
