"""The permission matrix: every registered route against every role, an unknown
person and a policy that raises, allowed or refused exactly as the table says."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from bot.app import Bot
from bot.members import person_by_email
from bot.permissions import POLICY, Policy, authorize_system, roles_in
from bot.registry import Registry
from bot.routing import Route, RouteError, Router
from bot.types import (
    Actor,
    Attachment,
    Attendance,
    ButtonPress,
    Command,
    Conversation,
    Event,
    FormSubmission,
    InboundEmail,
)
from storage.models import EmailAddress, Group, Membership, Person, Role

WHERE = Conversation("console", "", "matrix")


def _event(route: Route, email: str) -> Event:
    actor = Actor("console", "", email)
    eid = uuid.uuid4().hex
    if route.kind == "command":
        name, _, rest = route.name.partition(" ")
        return Command(name, rest, actor, WHERE, eid)
    if route.kind == "action":
        return ButtonPress(route.name, "1", actor, WHERE, eid)
    if route.kind == "reply":
        # claimed by the tag of the Message-ID it answers, or by a text/calendar part
        if route.name == "calendar":
            return InboundEmail(Actor("email", "", email), WHERE, eid, "Accepted", "",
                                parts=(Attachment("r.ics", "text/calendar", b""),))
        return InboundEmail(Actor("email", "", email), Conversation("email", "", email, True),
                            f"<{eid}@client.example>", "Re: x", "agree",
                            in_reply_to=f"<{route.name}.1.{eid}@matrix.example>")
    if route.kind == "attendance":
        return Attendance(f"{route.name}-1@matrix.example", True, actor, WHERE, eid)
    return FormSubmission(route.name, (), actor, WHERE, eid)


def _recording_bot(bot: Bot, calls: list[str], policy: Policy | None = None) -> Bot:
    """``bot`` with a copy of its routes whose handlers only record that they
    ran, under ``policy`` (default: the bot's)."""
    registry = Registry(settings=bot.settings, policy=bot.policy)
    for route in bot.registry.routes:
        def handler(ctx: object, _name: str = f"{route.kind}:{route.name}") -> None:
            calls.append(_name)
        registry.route(route.kind, route.name, handler, capability=route.capability)
    if policy is not None:
        registry.policy = registry.routes.policy = policy
    return Bot(settings=bot.settings, engine=bot.engine, session_factory=bot.session_factory,
               registry=registry, mail=bot.mail)


@pytest.fixture
def people(bot: Bot) -> dict[str, str]:
    """One person per role, holding only that role, in the alliance group."""
    out: dict[str, str] = {}
    with bot.session_factory() as s, s.begin():
        alliance = s.scalars(select(Group).where(Group.is_alliance.is_(True))).one()
        for role in Role:
            email = f"only-{role.value}@matrix.example"
            p = Person(name=f"Only {role.value}", language="en", timezone="UTC", interests=[])
            p.emails.append(EmailAddress(address=email))
            s.add(p)
            s.add(Membership(person=p, group=alliance, role=role))
            out[role.value] = email
    return out


def test_every_route_against_every_role(bot: Bot, people: dict[str, str]) -> None:
    calls: list[str] = []
    bot = _recording_bot(bot, calls)
    routes = list(bot.registry.routes)
    assert routes, "no routes registered"
    for route in routes:
        allowed = POLICY[route.capability]
        for role, email in people.items():
            calls.clear()
            replies = bot.dispatch(_event(route, email))
            ran = calls == [f"{route.kind}:{route.name}"]
            expected = Role(role) in allowed
            assert ran is expected, f"{route.kind}:{route.name} as {role}: ran={ran}"
            if not expected:
                assert len(replies) == 1
                text = replies[0].message.text
                assert "does not allow" in text and "Traceback" not in text
        calls.clear()
        replies = bot.dispatch(_event(route, "stranger@nowhere.example"))
        assert calls == [], f"{route.name} ran for an unknown person"
        assert "not in the alliance roster" in replies[0].message.text


class RaisingPolicy(Policy):
    def roles_for(self, capability: str) -> frozenset[Role]:
        if capability == "__registering__":
            return frozenset()
        raise RuntimeError("policy store unavailable")

    def knows(self, capability: str) -> bool:
        return True


def test_a_policy_that_raises_refuses_everything(bot: Bot, people: dict[str, str]) -> None:
    calls: list[str] = []
    bot = _recording_bot(bot, calls, RaisingPolicy())
    for route in bot.registry.routes:
        for email in people.values():
            replies = bot.dispatch(_event(route, email))
            assert calls == []
            assert "could not check your permissions" in replies[0].message.text


def test_registering_without_a_capability_is_an_error() -> None:
    router = Router()
    with pytest.raises(RouteError, match="declares no capability"):
        router.add("command", "x", lambda ctx: None, capability=None)
    with pytest.raises(RouteError, match="not in the policy table"):
        router.add("command", "x", lambda ctx: None, capability="made.up")
    router.add("command", "x", lambda ctx: None, capability="roster.self")
    with pytest.raises(RouteError, match="twice"):
        router.add("command", "X", lambda ctx: None, capability="roster.self")


def test_alliance_secretariat_reaches_working_groups_but_members_do_not(bot: Bot) -> None:
    from tests.conftest import MEMBER_ES, SECRETARIAT

    with bot.session_factory() as s:
        wg = s.scalars(select(Group).where(Group.name == "Measurement Working Group")).one()
        sec = person_by_email(s, SECRETARIAT)
        mem = person_by_email(s, MEMBER_ES)
        assert Role.SECRETARIAT in roles_in(s, person_id=sec.id, group_id=wg.id)
        assert roles_in(s, person_id=mem.id, group_id=wg.id) == frozenset()
        assert Role.MEMBER in roles_in(s, person_id=mem.id, group_id=None)


def test_authorized_cannot_be_forged() -> None:
    from bot.permissions import Authorized

    with pytest.raises(TypeError):
        Authorized(person_id=1, capability="poll.vote", group_id=None, channel="console")
    assert authorize_system(capability="digest.review", channel="job").is_system


def test_every_capability_in_use_is_in_the_table(bot: Bot) -> None:
    used: set[str] = {r.capability for r in bot.registry.routes}
    assert used <= set(POLICY)



