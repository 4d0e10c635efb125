"""Pledges: Decimal amounts in ISO 4217 currencies, totals per currency never
added together, withdrawal before the deadline, and the all-or-nothing
minimum settled once at the deadline."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from adapters.console import ConsoleSession
from bot.app import Bot
from bot.errors import InvalidInput
from bot.sprints import money
from bot.sprints.jobs import run as tick
from bot.sprints.pledges import totals
from storage.models import Sprint, SprintPledge
from tests.clock import freeze
from tests.conftest import CHAIR, MEMBER, MEMBER_FR
from tests.sprints.helpers import emails_to, open_sprint, say

PRIYA = "priya.nair@carbonledger.example"


def test_money_is_decimal_and_per_currency() -> None:
    assert money.parse_amount("1 500,50", currency="EUR", language="fr") == Decimal("1500.50")
    assert money.to_minor(Decimal("1500.50"), "EUR") == 150050
    assert money.to_minor(Decimal("1500"), "JPY") == 1500
    assert money.from_minor(1250, "BHD") == Decimal("1.250")
    with pytest.raises(InvalidInput, match="decimal places"):
        money.parse_amount("12.345", currency="EUR")
    with pytest.raises(InvalidInput, match="ISO 4217"):
        money.currency_code("EURO")
    with pytest.raises(InvalidInput):
        money.currency_code("XXX")
    with pytest.raises(InvalidInput, match="more than zero"):
        money.parse_amount("0", currency="USD")
    assert money.totals([("EUR", 100), ("USD", 5), ("EUR", 1)]) == {"EUR": 101, "USD": 5}
    assert money.format_money(150050, "EUR", "fr") == "1\u202f500,50\xa0€"


def test_eur_and_usd_are_never_added(bot: Bot) -> None:
    sid = open_sprint(bot, capacity=3, minimum="1000", currency="EUR")
    say(bot, MEMBER, f"sprint pledge {sid} 600 EUR")
    out = say(bot, PRIYA, f"sprint pledge {sid} 700 USD")
    assert "Only pledges in EUR count" in out, out
    with bot.session_factory() as s:
        assert totals(s, sid) == {"EUR": 60000, "USD": 70000}
        kinds = {type(a) for (a,) in s.execute(select(SprintPledge.amount_minor)).all()}
    assert kinds == {int}  # minor units, never floats
    # 600 EUR + 700 USD is not 1000 of anything: at the deadline it is not funded
    with bot.session_factory() as s:
        deadline = s.get(Sprint, sid).funding_deadline  # type: ignore[union-attr]
    assert deadline is not None
    assert tick(bot, now=deadline) == (0, 1)
    assert tick(bot, now=deadline + timedelta(hours=1)) == (0, 0)  # once
    with bot.session_factory() as s:
        sprint = s.get(Sprint, sid)
        assert sprint is not None
        assert (sprint.funding_state, sprint.state) == ("not_funded", "cancelled")
    for who in (MEMBER, PRIYA):
        (mail,) = emails_to(bot, who, ":funding:")
        assert "did not reach its funding minimum" in mail.payload["text"]
        assert "€600.00 of €1,000.00" in mail.payload["text"]


def test_a_sprint_that_reaches_its_minimum_goes_ahead(bot: Bot) -> None:
    sid = open_sprint(bot, capacity=3, minimum="1000", goal="5000", currency="EUR")
    say(bot, MEMBER, f"sprint pledge {sid} 400 EUR")
    say(bot, MEMBER_FR, f"sprint pledge {sid} 700 EUR")
    say(bot, CHAIR, f"sprint pledge {sid} 300 EUR")
    assert "withdrawn" in say(bot, CHAIR, f"sprint unpledge {sid}")
    with bot.session_factory() as s:
        assert totals(s, sid) == {"EUR": 110000}
        deadline = s.get(Sprint, sid).funding_deadline  # type: ignore[union-attr]
    freeze(deadline)  # type: ignore[arg-type]
    assert "closed at" in say(bot, MEMBER, f"sprint pledge {sid} 5 EUR")
    assert tick(bot, now=deadline) == (0, 1)
    with bot.session_factory() as s:
        assert s.get(Sprint, sid).funding_state == "funded"  # type: ignore[union-attr]
    assert "goes ahead" in emails_to(bot, MEMBER, ":funding:")[0].payload["text"]
    assert emails_to(bot, CHAIR, ":funding:") == []  # withdrew


def test_pledge_form_and_bad_amounts(bot: Bot) -> None:
    sid = open_sprint(bot, capacity=3, minimum="10", currency="JPY")
    assert "decimal places" in say(bot, MEMBER, f"sprint pledge {sid} 10.5 JPY")
    assert "not a currency" in say(bot, MEMBER, f"sprint pledge {sid} 10 EURO")
    console = ConsoleSession(dispatch=bot.dispatch, email=MEMBER)
    assert "-- Pledge --" in console.feed(f"sprint pledge {sid}")  # the form
    assert console.prompt().startswith("Amount")
    console.feed("1000")
    assert "¥1,000" in console.feed("JPY")
    with bot.session_factory() as s:
        assert totals(s, sid) == {"JPY": 1000}
