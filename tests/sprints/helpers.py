"""Helpers for sprint tests: propose and open a sprint by chat, add members,
read sign-ups back (tests/clock.py freezes the clock)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import func, select

from adapters.console import ConsoleSession
from bot.app import Bot
from bot.types import Actor, ButtonPress, Command, Conversation, FormSubmission, Reply
from storage.base import utcnow
from storage.models import (
    AuditEntry,
    EmailAddress,
    Group,
    Membership,
    Organisation,
    OutboxMessage,
    Person,
    Role,
    Sprint,
    SprintOffer,
    SprintPledge,
    SprintSignup,
)
from tests.conftest import MEMBER, SECRETARIAT

WHERE = Conversation("console", "", "terminal", is_direct=True)


def day(n: float) -> str:
    """A date-time ``n`` days from now, ISO 8601 with offset."""
    return (utcnow() + timedelta(days=n)).replace(microsecond=0).isoformat()


def propose(bot: Bot, *, email: str = MEMBER, capacity: int = 3, org_cap: int = 0,
            topics: str = "soil_measurement", minimum: str = "", goal: str = "",
            currency: str = "", group: str = "Alliance", cutoff_days: float = 10,
            funding_days: float | None = None) -> int:
    """Propose a sprint by the form; returns its id."""
    values = {"title": "Low-cost soil probes", "aim": "Build and compare **cheap** probes.",
              "topics": topics, "group": group, "starts": day(cutoff_days + 5),
              "ends": day(cutoff_days + 9), "cutoff": day(cutoff_days),
              "capacity": str(capacity), "org_cap": str(org_cap), "leads": "1",
              "currency": currency, "goal": goal, "minimum": minimum,
              "funding_deadline": day(funding_days) if funding_days else ""}
    replies = bot.dispatch(FormSubmission("sprint.propose", tuple(values.items()),
                                          Actor("console", "", email), WHERE,
                                          uuid.uuid4().hex))
    assert "is proposed" in replies[0].message.text, replies[0].message.text
    with bot.session_factory() as s:
        return int(s.scalar(select(func.max(Sprint.id))) or 0)


def open_sprint(bot: Bot, **kw: object) -> int:
    """Propose and approve a sprint; returns its id."""
    sid = propose(bot, **kw)  # type: ignore[arg-type]
    out = say(bot, SECRETARIAT, f"sprint approve {sid}")
    assert "open for sign-ups" in out, out
    return sid


def say(bot: Bot, email: str, line: str) -> str:
    """One console line as ``email``; the text shown."""
    return ConsoleSession(dispatch=bot.dispatch, email=email).feed(line)


def command(bot: Bot, email: str, text: str, platform: str = "console") -> list[Reply]:
    name, _, args = text.partition(" ")
    return bot.dispatch(Command(name, args, Actor(platform, "", email),  # type: ignore[arg-type]
                                Conversation(platform, "", "c"), uuid.uuid4().hex))  # type: ignore[arg-type]


def press(bot: Bot, email: str, action: str, value: str) -> list[Reply]:
    return bot.dispatch(ButtonPress(action, value, Actor("console", "", email), WHERE,
                                    uuid.uuid4().hex))


def add_members(bot: Bot, n: int, *, orgs: int = 0, prefix: str = "m",
                role: Role = Role.MEMBER, group: str = "Alliance",
                zone: str = "Europe/Paris") -> list[str]:
    """``n`` extra people holding ``role`` in ``group`` (organisation ``i % orgs``
    when ``orgs``, else one each); returns their addresses."""
    out = []
    with bot.session_factory() as s, s.begin():
        g = s.scalars(select(Group).where(Group.name == group)).one()
        made: dict[int, Organisation] = {}
        for i in range(n):
            key = i % orgs if orgs else i
            if key not in made:
                made[key] = Organisation(name=f"{prefix} Org {key} {uuid.uuid4().hex[:6]}")
                s.add(made[key])
            p = Person(name=f"{prefix.upper()} Person {i}", organisation=made[key],
                       language="en", timezone=zone, interests=[])
            email = f"{prefix}{i}.{uuid.uuid4().hex[:6]}@example.org"
            p.emails.append(EmailAddress(address=email, primary=True))
            s.add(p)
            s.add(Membership(person=p, group=g, role=role))
            out.append(email)
    return out


def signups(bot: Bot, sid: int) -> list[SprintSignup]:
    with bot.session_factory() as s:
        rows = list(s.scalars(select(SprintSignup).where(SprintSignup.sprint_id == sid)
                              .order_by(SprintSignup.id)).all())
        s.expunge_all()
        return rows


def status_of(bot: Bot, sid: int, email: str) -> str | None:
    with bot.session_factory() as s:
        return s.scalar(select(SprintSignup.status).join(
            EmailAddress, EmailAddress.person_id == SprintSignup.person_id).where(
            SprintSignup.sprint_id == sid, EmailAddress.address == email.lower()))


def offers(bot: Bot, sid: int) -> list[SprintOffer]:
    with bot.session_factory() as s:
        rows = list(s.scalars(select(SprintOffer).where(SprintOffer.sprint_id == sid)
                              .order_by(SprintOffer.id)).all())
        s.expunge_all()
        return rows


def audits(bot: Bot, action: str, sid: int | None = None) -> list[AuditEntry]:
    with bot.session_factory() as s:
        q = select(AuditEntry).where(AuditEntry.action == action)
        if sid is not None:
            q = q.where(AuditEntry.subject_id == str(sid))
        return list(s.scalars(q.order_by(AuditEntry.id)).all())


def emails_to(bot: Bot, email: str, key_part: str = "") -> list[OutboxMessage]:
    with bot.session_factory() as s:
        rows = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "email")
                         .order_by(OutboxMessage.id)).all()
        return [r for r in rows if email.lower() in r.payload["to"] and key_part in r.key]


def counts(bot: Bot) -> tuple[int, int]:
    """(sign-ups, pledges) in the database."""
    with bot.session_factory() as s:
        return (s.scalar(select(func.count(SprintSignup.id))) or 0,
                s.scalar(select(func.count(SprintPledge.id))) or 0)
