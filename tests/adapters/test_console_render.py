"""Golden terminal rendering of the shared rich Message: spans as plain text,
links with their address (never a javascript: one), the preformatted block
indented, a disabled button shown without a number, a multi-select's options
numbered, the picture and the attachment named."""

from __future__ import annotations

import os
from pathlib import Path

from adapters.console import ConsoleSession, render
from bot.types import MULTI_SEPARATOR, ButtonPress, Message, Reply
from tests.golden_messages import RICH

GOLDEN = Path(__file__).parent / "golden" / "rich_console.txt"


def test_golden_terminal_text() -> None:
    text, choices = render(RICH)
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(text + "\n")
    assert text + "\n" == GOLDEN.read_text()
    assert [(c.number, c.action_id, c.value) for c in choices] == [
        (1, "workshop.rsvp", "3:yes"), (2, "workshop.slots", "s1"), (3, "workshop.slots", "s2")]


def test_several_numbers_choose_several_options_of_a_multi_select() -> None:
    seen: list[ButtonPress] = []

    def dispatch(event: object) -> list[Reply]:
        if isinstance(event, ButtonPress):
            seen.append(event)
        return [Reply(RICH)]

    session = ConsoleSession(dispatch=dispatch, email="a@b.example")
    session.feed("hello")
    session.feed("2, 3")
    assert seen[-1].action_id == "workshop.slots"
    assert seen[-1].value == MULTI_SEPARATOR.join(["s1", "s2"])
    assert "Choose a number" in session.feed("1 2")  # a button and a select: refused
    session.feed("1")
    assert (seen[-1].action_id, seen[-1].value) == ("workshop.rsvp", "3:yes")


def test_plain_message() -> None:
    assert render(Message("Just text"))[0] == "Just text"
