"""Suggestions for autocomplete: registered per command, only for people allowed."""

from __future__ import annotations

from bot.app import Bot
from bot.completion import add_completer, complete, next_words
from bot.types import Actor, Option
from tests.conftest import MEMBER


def test_completions_and_next_words(bot: Bot) -> None:
    add_completer(bot, kind="poll", commands=("poll", "vote"), capability="poll.view",
                  fn=lambda s, p, prefix: [Option(f"#{i} Title {i}", str(i))
                                           for i in (12, 13, 21) if str(i).startswith(prefix)])
    member = Actor("console", "", MEMBER)
    assert [o.value for o in complete(bot, actor=member, command="vote", prefix="1")] == \
        ["12", "13"]
    stranger = Actor("discord", "", "123")
    assert complete(bot, actor=stranger, command="poll", prefix="") == []
    assert complete(bot, actor=member, command="digest", prefix="") == []
    words = next_words(bot, actor=member, first="poll", prefix="")
    assert "new" in words and "show" in words and "close" not in words  # secretariat only
