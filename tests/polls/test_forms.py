"""The `poll new` and pledge forms check each answer when it is given (issue
20), with the parsers of their one-line commands; piped, a form shows the
one-line form it refers to."""

from __future__ import annotations

import io

from adapters.console import ConsoleSession, run_chat
from bot.app import Bot
from tests.clock import freeze
from tests.conftest import MEMBER, SECRETARIAT


def test_poll_new_asks_a_bad_closing_time_and_quorum_again_at_once(bot: Bot) -> None:
    from datetime import UTC, datetime

    freeze(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    term = ConsoleSession(dispatch=bot.dispatch, email=SECRETARIAT, check_form=bot.check_form)
    term.feed("poll new")
    term.feed("Adopt v2")
    term.feed("We adopt v2.")
    term.feed("")  # the group: its default
    out = term.feed("next friday")
    assert "cannot read the closing time" in out and "Closes" in term.prompt(), out
    assert "must be in the future" in term.feed("2026-11-30")
    term.feed("2026-12-15")
    out = term.feed("lots")
    assert "percentage from 0 to 100" in out and "Quorum" in term.prompt(), out
    term.feed("60")
    out = term.feed("")
    assert "is open for stances" in out and "it closes Tue 15 Dec 2026, 23:59" in out, out


def test_piped_poll_and_pledge_forms_show_their_one_line_form(bot: Bot) -> None:
    from tests.sprints.helpers import open_sprint

    sid = open_sprint(bot, minimum="500", currency="EUR")
    for who, line, shown in ((SECRETARIAT, "poll new", "poll new TITLE | TEXT | CLOSES"),
                             (MEMBER, f"sprint pledge {sid}",
                              f"sprint pledge {sid} AMOUNT EUR")):
        piped = ConsoleSession(dispatch=bot.dispatch, email=who, interactive=False)
        out = io.StringIO()
        run_chat(piped, io.StringIO(line + "\n"), out, interactive=False)
        assert "Give everything on one line:" in out.getvalue()
        assert shown in out.getvalue(), out.getvalue()


def test_a_pledge_amount_is_checked_when_given(bot: Bot) -> None:
    from tests.sprints.helpers import open_sprint

    sid = open_sprint(bot, minimum="500", currency="EUR")
    term = ConsoleSession(dispatch=bot.dispatch, email=MEMBER, check_form=bot.check_form)
    term.feed(f"sprint pledge {sid}")
    out = term.feed("a lot")
    assert "Amount" in out and "Amount" in term.prompt(), out
    term.feed("250")
    assert "(default: EUR)" in term.prompt()
    out = term.feed("")
    assert "250" in out, out
