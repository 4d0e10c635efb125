"""The sign-up's fast path (bot/sprints/fast.py) writes and replies exactly as
the general path, takes a common sign-up on PostgreSQL, and leaves to the
general path what it cannot decide the same way: a hole in the seats, a
second sign-up after leaving, a repeated event."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace

import pytest
from sqlalchemy import select

from bot.app import Bot
from bot.routing import FastCall, FastOutcome
from bot.types import Actor, ButtonPress
from storage.models import AuditEntry
from tests.sprints.helpers import WHERE, add_members, command, open_sprint, press, signups
from tests.sprints.test_counts import stored_and_counted


def _route_fast(bot: Bot, monkeypatch: pytest.MonkeyPatch,
                fast: Callable[[FastCall], FastOutcome] | None) -> None:
    for key in (("action", "sprint.join"), ("command", "sprint join")):
        route = bot.registry.routes._routes[key]
        monkeypatch.setitem(bot.registry.routes._routes, key, replace(route, fast=fast))


def spy(bot: Bot, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The outcomes of the fast path from now on (class names), in order."""
    real = bot.registry.routes.find("action", "sprint.join")
    assert real is not None and real.fast is not None
    seen: list[str] = []
    fast = real.fast

    def spied(call: FastCall) -> FastOutcome:
        out = fast(call)
        seen.append(type(out).__name__)
        return out

    _route_fast(bot, monkeypatch, spied)
    return seen


def taken(bot: Bot) -> str:
    return "Done" if bot.engine.dialect.name == "postgresql" else "Declined"


def _audit(bot: Bot, sid: int) -> list[tuple[object, ...]]:
    with bot.session_factory() as s:
        return [(a.action, a.person_id, a.channel, a.detail) for a in s.scalars(
            select(AuditEntry).where(AuditEntry.subject_id == str(sid),
                                     AuditEntry.action.in_(("sprint.join",
                                                            "sprint.waitlist")))
            .order_by(AuditEntry.id))]


def test_the_fast_path_writes_and_replies_as_the_general_path(
        bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    emails = add_members(bot, 5)
    fast_sid, slow_sid = open_sprint(bot, capacity=2), open_sprint(bot, capacity=2)
    seen = spy(bot, monkeypatch)
    told_fast = [press(bot, e, "sprint.join", f"{fast_sid}:contributor")[0].message.text
                 for e in emails[:3]]
    told_fast += [command(bot, e, f"sprint join {fast_sid}")[0].message.text
                  for e in emails[3:]]
    assert seen == [taken(bot)] * 5
    _route_fast(bot, monkeypatch, None)
    told_slow = [press(bot, e, "sprint.join", f"{slow_sid}:contributor")[0].message.text
                 for e in emails[:3]]
    told_slow += [command(bot, e, f"sprint join {slow_sid}")[0].message.text
                  for e in emails[3:]]
    assert [t.replace(f"#{fast_sid}", "#N") for t in told_fast] == \
        [t.replace(f"#{slow_sid}", "#N") for t in told_slow]
    assert "You have seat 2" in told_fast[1] and "number 3." in told_fast[4]

    def row(r: object) -> tuple[object, ...]:
        return tuple(getattr(r, c) for c in ("person_id", "organisation_id", "role", "status",
                                             "seat", "priority", "party", "channel"))

    fast_rows, slow_rows = signups(bot, fast_sid), signups(bot, slow_sid)
    assert [row(r) for r in fast_rows] == [row(r) for r in slow_rows]
    assert [r.asked_at for r in fast_rows] == sorted(r.asked_at for r in fast_rows)
    assert len({r.asked_at for r in fast_rows}) == 5
    assert _audit(bot, fast_sid) == _audit(bot, slow_sid)
    assert stored_and_counted(bot, fast_sid) == ((2, 3, 3, 0), (2, 3, 3, 0))


def test_a_hole_in_the_seats_goes_the_general_way(bot: Bot,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    emails = add_members(bot, 4)
    sid = open_sprint(bot, capacity=3)
    for e in emails[:3]:
        press(bot, e, "sprint.join", f"{sid}:contributor")
    command(bot, emails[0], f"sprint leave {sid}")  # seat 1 frees; nobody waits
    seen = spy(bot, monkeypatch)
    # seats 2 and 3 are held: the fast path's seat 3 is taken, so it writes nothing
    told = press(bot, emails[3], "sprint.join", f"{sid}:contributor")[0].message.text
    assert "You have seat 1 " in told, told
    assert seen == ["Declined"]
    assert sorted(r.seat for r in signups(bot, sid) if r.seat) == [1, 2, 3]


def test_signing_up_again_after_leaving_reuses_the_row(bot: Bot,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    emails = add_members(bot, 2)
    sid = open_sprint(bot, capacity=1)
    seen = spy(bot, monkeypatch)
    press(bot, emails[0], "sprint.join", f"{sid}:contributor")
    press(bot, emails[1], "sprint.join", f"{sid}:contributor")
    command(bot, emails[1], f"sprint leave {sid}")
    told = press(bot, emails[1], "sprint.join", f"{sid}:contributor")[0].message.text
    assert "number 1." in told, told
    assert seen == [taken(bot), taken(bot), "Declined"]
    assert [r.status for r in signups(bot, sid)] == ["seated", "waitlisted"]
    stored, counted = stored_and_counted(bot, sid)
    assert stored == counted == (1, 1, 1, 0)


def test_a_repeated_event_is_done_once(bot: Bot) -> None:
    email = add_members(bot, 1)[0]
    sid = open_sprint(bot, capacity=1)
    event = ButtonPress("sprint.join", f"{sid}:contributor", Actor("console", "", email), WHERE,
                        uuid.uuid4().hex)
    assert "You have seat 1" in bot.dispatch(event)[0].message.text
    assert bot.dispatch(event) == []
    assert len(signups(bot, sid)) == 1 and len(_audit(bot, sid)) == 1
