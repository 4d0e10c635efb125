"""Suggestions for autocomplete: registered per command, only for people allowed."""

from __future__ import annotations

from bot.app import Bot
from bot.completion import complete, next_words
from bot.types import Actor, Option
from tests.conftest import MEMBER


def test_completions_and_next_words(bot: Bot) -> None:
    bot.registry.completer(kind="poll", commands=("poll", "vote"), capability="poll.view",
                           fn=lambda s, p, prefix: [Option(f"#{i} Title {i}", str(i))
                                                    for i in (12, 13, 21)
                                                    if str(i).startswith(prefix)])
    member = Actor("console", "", MEMBER)
    assert [o.value for o in complete(bot, actor=member, command="vote", prefix="1")] == \
        ["12", "13"]
    stranger = Actor("discord", "", "123")
    assert complete(bot, actor=stranger, command="poll", prefix="") == []
    assert complete(bot, actor=member, command="digest", prefix="") == []
    words = next_words(bot, actor=member, first="poll", prefix="")
    assert "new" in words and "show" in words and "close" not in words  # secretariat only


def test_capabilities_complete_their_own_ids(bot, chat) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from bot.completion import complete
    from bot.types import Actor
    from storage.base import utcnow
    from tests.conftest import MEMBER, SECRETARIAT

    closes = (utcnow() + timedelta(days=5)).strftime("%Y-%m-%d 17:00")
    chat(SECRETARIAT).feed(f"poll new Budget 2027 | Adopt it | {closes}")
    options = complete(bot, actor=Actor("console", "", MEMBER), command="vote", prefix="bud")
    assert [o.value for o in options] == ["1"] and "Budget 2027" in options[0].label
    assert complete(bot, actor=Actor("console", "", MEMBER), command="vote", prefix="zzz") == []
    assert complete(bot, actor=Actor("console", "", "stranger@x.example"), command="vote",
                    prefix="") == []
    assert {"poll", "vote", "workshop", "sprint"} <= set(bot.registry.completers)
