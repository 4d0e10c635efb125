"""The reply reader on the independent labelled set (tests/polls/replies_eval,
written without reading the reader): no block or disagree read as anything
else, and the figures bench/reply_reader.py prints held as floors (issue 22)."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from adapters.email.inbound import body_text, html_text
from bot.polls.replies import read_reply
from tests.polls.replies_eval import ASK, load, score


def _read(text: str) -> tuple[str | None, str]:
    r = read_reply(text)
    return r.stance, r.reason


def test_the_set_is_what_its_readme_says() -> None:
    rows = load()
    assert len(rows) >= 200 and {r.lang for r in rows} == {"en", "fr", "es"}
    assert {r.expected for r in rows} == {"agree", "abstain", "disagree", "block", ASK}
    assert sum(bool(r.html) for r in rows) >= 20


@pytest.mark.parametrize("as_html", [False, True], ids=["plain", "html"])
def test_no_block_or_disagree_is_read_wrong_and_the_floors_hold(as_html: bool) -> None:
    s = score(_read, load(), html=html_text if as_html else None)
    for label in ("block", "disagree"):
        assert s.by_label[label].wrong == 0, s.by_label[label].wrong_ids
    # floors under the figures of this change (bench/reply_reader.py prints them)
    assert s.overall.wrong <= 0.01 * s.overall.total, s.overall.wrong_ids
    assert s.overall.right >= 0.95 * s.overall.total
    for lang, t in s.by_lang.items():
        assert t.right >= 0.9 * t.total, (lang, t)
    if not as_html:
        assert s.by_label[ASK].wrong == 0, s.by_label[ASK].wrong_ids  # never a guess
        assert s.reason_found >= 0.9 * s.reason_expected


@pytest.mark.parametrize(("text", "stance"), [
    ("Pour l'instant je m'abstiens.", "abstain"),
    ("Yes, I block this, the costs are unclear.", "block"),
    ("I don't agree.", "disagree"),
    ("Si no cambia el plazo, bloqueo.", "block"),
    ("Por ahora me abstengo.", "abstain"),
    ("Sí, bloqueo.", "block"),
    ("Je ne suis pas d'accord, mais je ne bloque pas.", "disagree"),
    ("D'accord, mais je bloque si l'annexe disparaît.", "block"),
    ("Contre toute attente, je suis d'accord.", "agree"),
    ("No tengo objeciones.", "agree"),
    ("I would block it if I could, but I abstain.", "abstain"),
    ("I can't support this.", "disagree"),
    ("Not blocking, but I disagree strongly.", "disagree"),
    ("No bloquearé, pero estoy en desacuerdo.", "disagree"),
    ("Je suis pour.", "agree"),
    ("Nous bloquons.", "block"),
])
def test_plain_sentences_refused_before_are_read(text: str, stance: str) -> None:
    assert read_reply(text).stance == stance


@pytest.mark.parametrize("text", [
    "What happens if I block?", "agree or disagree, I'm not sure", "Yes and no.",
    "Black Friday is next week.", "Block is too strong a word; let me think.",
    "¿Qué significa bloquear?", "D'accord ou pas d'accord, je ne sais pas.",
])
def test_questions_hesitations_and_lookalikes_are_asked_again(text: str) -> None:
    assert read_reply(text).stance is None


def test_an_objection_with_agreement_on_the_rest_is_a_disagree() -> None:
    # The issue names this reading as doubtful; the labelled set's rules decide:
    # an objection without a block word is a disagree (rule 7) and the
    # strongest stance taken wins (rule 4), never the milder agree.
    r = read_reply("Object: budget. I agree with the rest.")
    assert (r.stance, r.reason) == ("disagree", "budget. I agree with the rest.")


def _html_only(markup: str) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = "Re: [poll #1/2] Proposal"
    msg.set_content(markup, subtype="html")
    return msg


@pytest.mark.parametrize("markup", [
    # a Gmail quote block whose first line is the ballot's link line
    '<div dir="ltr"><br></div><div class="gmail_quote">Agree: https://convene.example/v/1?t=a'
    "<br>Block: https://convene.example/v/1?t=b</div>",
    # Gmail's quote with the ballot's link lines directly in it
    '<div dir="ltr"><br></div><div class="gmail_quote"><div dir="ltr" class="gmail_attr">'
    "On Tue, 3 Dec 2026, Convene wrote:<br></div>Agree: https://convene.example/v/1?t=a<br>"
    "Block: https://convene.example/v/1?t=b</div>",
    # nested quotes: the ballot's text after the inner one
    '<div dir="ltr"></div><blockquote class="gmail_quote"><blockquote>Earlier</blockquote>'
    "Agree: https://convene.example/v/1?t=a<br>Block: https://convene.example/v/1?t=b"
    "</blockquote>",
])
def test_an_html_reply_whose_only_text_is_quoted_is_not_a_stance(markup: str) -> None:
    text = body_text(_html_only(markup))
    assert "https://" not in text
    assert read_reply(text).stance is None
    own = body_text(_html_only('<div dir="ltr">Block: the travel line is wrong.</div>' + markup))
    assert read_reply(own).stance == "block"
