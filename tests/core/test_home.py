"""The home page (Slack's App Home) lists open polls, pending stances and the
latest press review, each in the reader's language, and only what they may see."""

from __future__ import annotations

from datetime import timedelta

from adapters.console import render
from bot.app import Bot
from bot.home import home_message
from bot.types import Actor
from storage.base import utcnow
from tests.conftest import MEMBER, MEMBER_FR, OBSERVER, SECRETARIAT


def _home(bot: Bot, email: str) -> str:
    return render(home_message(bot, Actor("console", "", email)))[0]


def test_home_shows_pending_stances_with_buttons_then_the_stance(bot: Bot, chat) -> None:
    closes = (utcnow() + timedelta(days=2)).isoformat(timespec="minutes")
    chat(SECRETARIAT).feed(f"poll new Adopt protocol v2 | Adopt it. | {closes}")
    text, choices = render(home_message(bot, Actor("console", "", MEMBER)))
    assert "#1 Adopt protocol v2" in text and "Waiting for your stance." in text
    assert [c.value for c in choices] == ["1:1:1:agree", "1:1:1:abstain", "1:1:1:disagree",
                                          "1:1:1:block"]
    chat(MEMBER).feed("vote 1 agree")
    assert "Your stance: Agree." in _home(bot, MEMBER)
    observer = _home(bot, OBSERVER)
    assert "#1 Adopt protocol v2" in observer and "as an observer" in observer
    french = _home(bot, MEMBER_FR)
    assert "Sondages de consensus" in french or "En attente de votre position" in french
    assert "No press review has been sent yet." in _home(bot, MEMBER)


def test_home_for_a_stranger_says_how_to_be_added(bot: Bot) -> None:
    assert "Ask the secretariat" in _home(bot, "stranger@x.example")
