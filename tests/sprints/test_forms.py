"""Forms that check each answer when it is given (issue 20): in `sprint propose`
at the terminal, `Seats: three` and `Currency: EURO` are asked again at once with
the reason, nothing already answered is lost, labels say what is expected, the
group defaults to the person's own, a form piped shows its one-line form, and
the same parsers answer a Slack modal field by field (Bot.check_form)."""

from __future__ import annotations

import io
import uuid

from sqlalchemy import select

from adapters.console import ConsoleSession, run_chat
from bot.app import Bot
from bot.types import Actor, Conversation, FormSubmission
from storage.models import Group, Sprint
from tests.conftest import MEMBER, MEMBER_FR
from tests.sprints.helpers import day

ANSWERS = {"title": "Low-cost soil probes", "aim": "Build and compare cheap probes.",
           "topics": "soil_measurement", "group": "", "starts": day(15)[:10],
           "ends": day(19)[:10], "cutoff": day(10)[:10], "capacity": "3", "org_cap": "",
           "leads": "", "currency": "", "goal": "1500", "minimum": "", "funding_deadline": ""}


def _session(bot: Bot, email: str = MEMBER) -> ConsoleSession:
    return ConsoleSession(dispatch=bot.dispatch, email=email, check_form=bot.check_form)


def test_each_answer_is_checked_when_given_and_nothing_is_lost(bot: Bot) -> None:
    term = _session(bot)
    term.feed("sprint propose")
    prompts: list[str] = []
    for name, value in ANSWERS.items():
        prompts.append(term.prompt())
        if name == "capacity":
            out = term.feed("three")
            assert "Seats (a number)" in out and "whole number" in out, out
            assert term.prompt() == prompts[-1]  # the same field, asked again at once
        if name == "currency":
            out = term.feed("EURO")
            assert "'EURO' is not a currency" in out, out
            assert term.prompt() == prompts[-1]
        if name == "leads":
            assert "Leads allowed (a number) (default: 1)" in term.prompt()
        out = term.feed(value)
    assert "is proposed" in out, out
    assert any("Group" in p and "(default: Measurement Working Group)" in p for p in prompts)
    with bot.session_factory() as s:
        sprint = s.scalars(select(Sprint)).one()
        assert (sprint.title, sprint.capacity, sprint.currency, sprint.goal_minor) == (
            "Low-cost soil probes", 3, "EUR", 150000)
        assert s.get(Group, sprint.group_id).name == "Measurement Working Group"


def test_a_field_refused_at_the_end_is_asked_again_alone(bot: Bot) -> None:
    term = _session(bot)
    term.feed("sprint propose")
    answers = dict(ANSWERS, cutoff=day(17)[:10])  # after the start
    for value in answers.values():
        out = term.feed(value)
    assert "Sign-ups close" in out and "must follow each other" in out, out
    assert "Sign-ups close" in term.prompt()
    out = term.feed(day(10)[:10])
    assert "is proposed" in out, out


def test_a_french_member_is_asked_again_in_french(bot: Bot) -> None:
    term = ConsoleSession(dispatch=bot.dispatch, email=MEMBER_FR, language="fr",
                          check_form=bot.check_form)
    term.feed("sprint propose")
    for name, value in ANSWERS.items():
        if name == "capacity":
            out = term.feed("trois")
            assert "nombre entier" in out, out
        term.feed(value)


def test_piped_the_form_shows_the_one_line_form_it_refers_to(bot: Bot) -> None:
    piped = ConsoleSession(dispatch=bot.dispatch, email=MEMBER, interactive=False)
    out = io.StringIO()
    run_chat(piped, io.StringIO("sprint propose\n"), out, interactive=False)
    text = out.getvalue()
    assert "Give everything on one line:" in text
    assert "sprint propose TITLE | AIM | TOPICS | STARTS | ENDS | CAPACITY | CUTOFF" in text


def test_a_modal_gets_its_errors_field_by_field(bot: Bot) -> None:
    values = dict(ANSWERS, capacity="three", group="Alliance")
    event = FormSubmission("sprint.propose", tuple(values.items()),
                           Actor("console", "", MEMBER),
                           Conversation("console", "", "t", is_direct=True), uuid.uuid4().hex)
    errors = bot.check_form(event)
    assert list(errors) == ["capacity"] and "whole number" in errors["capacity"]
    values = dict(ANSWERS, currency="EURO", group="Alliance")
    errors = bot.check_form(FormSubmission("sprint.propose", tuple(values.items()),
                                           Actor("console", "", MEMBER),
                                           Conversation("console", "", "t", is_direct=True),
                                           uuid.uuid4().hex))
    assert list(errors) == ["currency"], errors
