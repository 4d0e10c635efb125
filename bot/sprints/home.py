"""The sprints section of a person's home page: their offers (with Accept
and Decline), their seats and waitlist places, then the open sprints they
may see, with Sign up (members) or Follow (everyone else)."""

from __future__ import annotations

from sqlalchemy import select

from bot.errors import PermissionDenied
from bot.permissions import authorize
from bot.registry import HomeContext
from bot.sprints import seats
from bot.sprints.common import ACTIVE, HOLDING, local
from bot.sprints.offers import open_offer
from bot.types import Actions, Block, Button, Header, Section, SmallPrint, Strong
from storage.base import utcnow
from storage.models import Sprint, SprintSignup

MAX_SHOWN = 10


def _may(ctx: HomeContext, capability: str, group_id: int) -> bool:
    try:
        authorize(session=ctx.session, person=ctx.person, capability=capability,
                  group_id=group_id, channel="web")
    except PermissionDenied:
        return False
    return True


def sprints_section(ctx: HomeContext) -> list[Block]:
    """At most ten sprints; the person's own first."""
    session, person, at = ctx.session, ctx.person, utcnow()
    mine: list[Block] = []
    rows = session.execute(select(SprintSignup, Sprint).join(
        Sprint, Sprint.id == SprintSignup.sprint_id).where(
        SprintSignup.person_id == person.id, SprintSignup.status.in_(ACTIVE),
        Sprint.state == "open").order_by(Sprint.id)).all()
    taken = set()
    for row, sprint in rows:
        taken.add(sprint.id)
        title = Strong(f"#{sprint.id} {sprint.title}")
        if row.status == "seated":
            mine.append(Section((title, " " + ctx._("seat {seat}", seat=row.seat))))
        elif row.status == "offered":
            offer = open_offer(session, sprint_id=sprint.id, person_id=person.id)
            if offer is None:
                continue
            mine.append(Section((title, " " + ctx._(
                "a seat is held for you until {when}",
                when=local(offer.expires_at, person.timezone)))))
            mine.append(Actions((
                Button(ctx._("Accept"), "sprint.offer", f"{offer.id}:accept", "primary"),
                Button(ctx._("Decline"), "sprint.offer", f"{offer.id}:decline", "danger"))))
        else:
            mine.append(Section((title, " " + ctx._("number {position} in the waitlist",
                                                    position=seats.position(session, row)))))
    others: list[Block] = []
    open_ = [s for s in session.scalars(select(Sprint).where(Sprint.state == "open")
                                        .order_by(Sprint.signup_closes_at)).all()
             if s.id not in taken and _may(ctx, "sprint.view", s.group_id)]
    taken_by = seats.counts_of(session, [s.id for s in open_])
    for sprint in open_:
        n = taken_by[sprint.id]
        held = sum(n.get(k, 0) for k in HOLDING)
        closed = at >= sprint.signup_closes_at
        others.append(Section((Strong(f"#{sprint.id} {sprint.title}"), " " + ctx._(
            "{held} of {capacity} seats taken, {waiting} waiting", held=held,
            capacity=sprint.capacity, waiting=n.get("waitlisted", 0)))))
        if _may(ctx, "sprint.signup", sprint.group_id):
            label = ctx._("Join the waitlist") if held >= sprint.capacity else \
                ctx._("Sign up")
            others.append(Actions((Button(label, "sprint.join", f"{sprint.id}:contributor",
                                          "primary", disabled=closed),)))
        else:
            others.append(Actions((Button(ctx._("Follow"), "sprint.follow",
                                          str(sprint.id)),)))
    head: list[Block] = [Header(ctx._("Innovation sprints"))]
    if not mine and not others:
        return [*head, SmallPrint(ctx._("No sprint is open."))]
    return head + (mine + others)[: MAX_SHOWN * 2]
