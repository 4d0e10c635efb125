"""Bot.dispatch: one unit of work, retries dropped, errors turned into sentences."""

from __future__ import annotations

from sqlalchemy import func, select

from adapters.console import ConsoleSession
from bot.app import Bot
from bot.audit import record
from bot.context import Context
from bot.errors import N_, InvalidInput
from bot.types import (
    Actions,
    Actor,
    Button,
    Command,
    Conversation,
    Form,
    FormField,
    Message,
    Option,
    Select,
)
from storage.models import AuditEntry
from tests.conftest import MEMBER, MEMBER_FR

WHERE = Conversation("console", "", "t")


def _install_probe(bot: Bot) -> None:
    def write(ctx: Context) -> Message:
        record(session=ctx.session, actor=ctx.auth, action="probe.write", note=ctx.args)
        if ctx.args == "fail":
            raise InvalidInput(N_("That button or form is no longer recognised."))
        if ctx.args == "crash":
            raise RuntimeError("secret internals /etc/passwd")
        return Message("written")

    bot.registry.route("command", "probe", write, capability="roster.self")


def _audits(bot: Bot) -> int:
    with bot.session_factory() as s:
        return s.scalar(select(func.count(AuditEntry.id))) or 0


def test_a_repeated_event_id_acts_once(bot: Bot) -> None:
    _install_probe(bot)
    ev = Command("probe", "x", Actor("console", "", MEMBER), WHERE, "evt-1")
    assert bot.dispatch(ev)[0].message.text == "written"
    assert bot.dispatch(ev) == []
    assert _audits(bot) == 1


def test_domain_error_rolls_back_and_is_translated(bot: Bot) -> None:
    _install_probe(bot)
    fr = bot.dispatch(Command("probe", "fail", Actor("console", "", MEMBER_FR), WHERE, "e2"))
    assert fr[0].message.text == "Ce bouton ou ce formulaire n'est plus reconnu."
    assert _audits(bot) == 0


def test_unexpected_error_gives_a_reference_not_a_stack_trace(bot: Bot, caplog) -> None:
    _install_probe(bot)
    replies = bot.dispatch(Command("probe", "crash", Actor("console", "", MEMBER), WHERE, "e3"))
    text = replies[0].message.text
    assert "Something went wrong on my side (reference" in text
    assert "passwd" not in text and "Traceback" not in text
    assert _audits(bot) == 0
    assert any("unexpected error" in r.message for r in caplog.records)


def test_console_numbers_buttons_and_asks_forms_field_by_field(bot: Bot) -> None:
    seen: list[str] = []

    def menu(ctx: Context) -> Message:
        return Message("pick", blocks=(Actions((
            Button("Yes", "probe.pick", "yes"),
            Select("probe.pick", "Or choose", (Option("Maybe", "maybe"),)))),))

    def pick(ctx: Context) -> Message:
        seen.append(ctx.value)
        return Message("ok " + ctx.value, form=Form("probe.form", "Tell me", "Send", (
            FormField("why", "Why"), FormField("note", "Note", required=False))))

    def submitted(ctx: Context) -> Message:
        assert ctx.form is not None
        return Message(f"why={ctx.form.get('why')} note={ctx.form.get('note')}")

    bot.registry.route("command", "menu", menu, capability="roster.self")
    bot.registry.route("action", "probe.pick", pick, capability="roster.self")
    bot.registry.route("form", "probe.form", submitted, capability="roster.self")
    s = ConsoleSession(dispatch=bot.dispatch, email=MEMBER)
    shown = s.feed("menu")
    assert "[1] Yes" in shown and "[2] Maybe" in shown
    assert "Choose a number" in s.feed("7")
    assert "ok maybe" in s.feed("2")
    assert s.prompt().startswith("Why")
    assert s.feed("") == "Why is required."
    assert s.feed("because") == ""
    assert s.feed("") == "why=because note="
    assert seen == ["maybe"]
