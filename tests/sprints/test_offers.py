"""Waitlist and offers: a freed seat goes to the first in line who fits, for a
limited time; decline and expiry pass it on at once and once; caps hold at
sign-up and at promotion; parties sit together or not at all; a cancelled
sprint's offers cannot be used."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from bot.app import Bot
from bot.settings import SprintSettings
from bot.sprints.jobs import run as tick
from bot.sprints.offers import offer_deadline
from storage.base import utcnow
from tests.clock import freeze
from tests.conftest import CHAIR, MEMBER, MEMBER_ES, MEMBER_FR, SECRETARIAT
from tests.sprints.helpers import (
    add_members,
    audits,
    emails_to,
    offers,
    open_sprint,
    press,
    say,
    status_of,
)

PRIYA = "priya.nair@carbonledger.example"


def _full_with_line(bot: Bot) -> int:
    sid = open_sprint(bot, capacity=1)
    assert "You have seat 1" in say(bot, MEMBER, f"sprint join {sid}")
    assert "number 1." in say(bot, PRIYA, f"sprint join {sid}")
    assert "number 2." in say(bot, CHAIR, f"sprint join {sid}")
    return sid


def test_a_freed_seat_is_offered_then_accepted(bot: Bot) -> None:
    sid = _full_with_line(bot)
    assert "You are number 2" in say(bot, CHAIR, f"sprint position {sid}")
    say(bot, MEMBER, f"sprint leave {sid}")
    assert status_of(bot, sid, MEMBER) == "withdrawn"
    assert status_of(bot, sid, PRIYA) == "offered"
    (offer,) = offers(bot, sid)
    assert offer.expires_at - offer.created_at >= timedelta(hours=48)
    mail = emails_to(bot, PRIYA, ":offer:")
    assert len(mail) == 1 and f"/sprints/offers/{offer.id}?t=" in mail[0].payload["text"]
    (why,) = audits(bot, "sprint.offer", sid)
    assert why.detail["reason"].startswith("seat 1 to Priya Nair: first in line")
    out = press(bot, PRIYA, "sprint.offer", f"{offer.id}:accept")[0].message.text
    assert "Accepted" in out, out
    assert status_of(bot, sid, PRIYA) == "seated"
    again = press(bot, PRIYA, "sprint.offer", f"{offer.id}:accept")[0].message.text
    assert "already accepted" in again, again


def test_decline_passes_on_at_once(bot: Bot) -> None:
    sid = _full_with_line(bot)
    say(bot, MEMBER, f"sprint leave {sid}")
    out = say(bot, PRIYA, f"sprint decline {sid}")
    assert status_of(bot, sid, PRIYA) == "declined", out
    assert status_of(bot, sid, CHAIR) == "offered"
    assert [o.status for o in offers(bot, sid)] == ["declined", "open"]


def test_expiry_passes_on_once_across_a_restart(bot: Bot, make_bot: Callable[..., Bot],
                                                db_url: str) -> None:
    sid = _full_with_line(bot)
    say(bot, MEMBER, f"sprint leave {sid}")
    (offer,) = offers(bot, sid)
    # just before the deadline nothing happens
    assert tick(bot, now=offer.expires_at - timedelta(seconds=1)) == (0, 0)
    # an answer after the deadline is refused with a sentence, and changes nothing
    freeze(offer.expires_at + timedelta(minutes=1))
    late = press(bot, PRIYA, "sprint.offer", f"{offer.id}:accept")[0].message.text
    assert "This offer expired at" in late, late
    assert status_of(bot, sid, PRIYA) == "offered"
    # "restart": a second process on the same database runs the job at the deadline
    other = make_bot(db_url, roster=None)
    at = offer.expires_at
    assert tick(other, now=at) == (1, 0)
    assert tick(bot, now=at + timedelta(minutes=5)) == (0, 0)
    assert tick(other, now=at + timedelta(hours=1)) == (0, 0)
    assert status_of(bot, sid, PRIYA) == "expired"
    assert status_of(bot, sid, CHAIR) == "offered"
    assert [o.status for o in offers(bot, sid)] == ["expired", "open"]
    assert len(audits(bot, "sprint.expire", sid)) == 1
    assert len(emails_to(bot, PRIYA, ":lapsed:")) == 1


def test_offers_span_twelve_waking_hours_in_the_recipients_zone() -> None:
    cfg = SprintSettings(offer_hours=2, min_waking_hours=12)
    late_evening = datetime(2027, 1, 10, 20, 0, tzinfo=UTC)  # 21:00 in Paris
    end = offer_deadline(late_evening, zone="Europe/Paris", hours=2, cfg=cfg)
    # 21:00-22:00 (1 h) then 08:00-19:00 the next day (11 h)
    assert end == datetime(2027, 1, 11, 18, 0, tzinfo=UTC)
    assert offer_deadline(late_evening, zone="Asia/Tokyo", hours=2, cfg=cfg) > late_evening
    default = SprintSettings()
    assert offer_deadline(late_evening, zone="UTC", hours=48, cfg=default) == \
        late_evening + timedelta(hours=48)


def test_caps_hold_at_signup_and_at_promotion(bot: Bot) -> None:
    soil = add_members(bot, 3, orgs=1, prefix="soil")  # one organisation
    sid = open_sprint(bot, capacity=3, org_cap=2)
    for email in soil[:2]:
        assert "You have seat" in say(bot, email, f"sprint join {sid}")
    # at sign-up: a seat is free but the organisation holds its 2 of 2
    capped = say(bot, soil[2], f"sprint join {sid}")
    assert "already holds the most seats" in capped and "number 1" in capped, capped
    assert "You have seat 3" in say(bot, MEMBER, f"sprint join {sid}")
    assert "number 2" in say(bot, PRIYA, f"sprint join {sid}")
    # at promotion: the member's seat frees; soil[2] is first in line but skipped
    say(bot, MEMBER, f"sprint leave {sid}")
    assert status_of(bot, sid, soil[2]) == "waitlisted"
    assert status_of(bot, sid, PRIYA) == "offered"
    (why,) = audits(bot, "sprint.offer", sid)
    assert "first in line who fits" in why.detail["reason"]
    assert "skipped:" in why.detail["reason"] and "already has 2 of 2" in why.detail["reason"]
    told = emails_to(bot, soil[2], ":capskip:")
    assert len(told) == 1 and "already has 2 of the 2 seats" in told[0].payload["text"]
    # when one of that organisation leaves, the skipped person is next
    press(bot, PRIYA, "sprint.offer", f"{offers(bot, sid)[0].id}:accept")
    say(bot, soil[0], f"sprint leave {sid}")
    assert status_of(bot, sid, soil[2]) == "offered"


def test_a_party_is_seated_together_or_not_at_all(bot: Bot) -> None:
    sid = open_sprint(bot, capacity=3)
    assert "You have seat 1" in say(bot, MEMBER, f"sprint join {sid}")
    assert "You have seat 2" in say(bot, PRIYA, f"sprint join {sid}")
    out = say(bot, MEMBER_FR, f"sprint join {sid} with {MEMBER_ES}")
    assert status_of(bot, sid, MEMBER_FR) == status_of(bot, sid, MEMBER_ES) == "waitlisted", out
    say(bot, MEMBER, f"sprint leave {sid}")  # two seats free: the party fits
    assert status_of(bot, sid, MEMBER_FR) == status_of(bot, sid, MEMBER_ES) == "offered"
    (offer,) = offers(bot, sid)
    assert len(offer.signup_ids) == 2
    say(bot, MEMBER_FR, f"sprint accept {sid}")
    assert status_of(bot, sid, MEMBER_FR) == status_of(bot, sid, MEMBER_ES) == "seated"
    # an observer cannot be brought in as a companion
    obs = say(bot, MEMBER, f"sprint join {sid} with tom.becker@agrifinance.example")
    assert "only members" in obs, obs


def test_cancelling_voids_offers(bot: Bot) -> None:
    sid = _full_with_line(bot)
    say(bot, MEMBER, f"sprint leave {sid}")
    (offer,) = offers(bot, sid)
    out = say(bot, SECRETARIAT, f"sprint cancel {sid} the field season moved")
    assert "1 open offer is void" in out, out
    refused = press(bot, PRIYA, "sprint.offer", f"{offer.id}:accept")[0].message.text
    assert "This offer was withdrawn" in refused, refused
    assert offers(bot, sid)[0].status == "void"
    assert len(emails_to(bot, PRIYA, ":cancelled:")) == 1


def test_leaving_while_offered_passes_the_seat_on(bot: Bot) -> None:
    sid = _full_with_line(bot)
    say(bot, MEMBER, f"sprint leave {sid}")
    say(bot, PRIYA, f"sprint leave {sid}")
    assert [o.status for o in offers(bot, sid)] == ["void", "open"]
    assert status_of(bot, sid, CHAIR) == "offered"


def test_nothing_after_the_cutoff(bot: Bot) -> None:
    sid = open_sprint(bot, capacity=1, cutoff_days=2)
    freeze(utcnow() + timedelta(days=3))
    out = say(bot, MEMBER, f"sprint join {sid}")
    assert "closed at" in out, out
    assert status_of(bot, sid, MEMBER) is None
