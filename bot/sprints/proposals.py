"""Sprint proposals: a member proposes, the secretariat approves (which opens
sign-ups and announces the sprint) or declines with a reason, and may cancel
an open sprint (every open offer becomes void at once)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.audit import record
from bot.errors import N_, Conflict, InvalidInput, PermissionDenied
from bot.localtime import parse_local_time
from bot.outbox import ChatTarget, enqueue_chat
from bot.permissions import Authorized
from bot.settings import Settings
from bot.sprints import money, notify, offers
from bot.sprints.common import ACTIVE, lock_sprint, parse_topics
from bot.types import Message
from storage.models import (
    Group,
    Membership,
    Person,
    Role,
    Sprint,
    SprintFollower,
    SprintOffer,
    SprintPledge,
    SprintSignup,
)


def parse_when(text: str, *, zone: str, what: str) -> datetime:
    """``YYYY-MM-DD [HH:MM]`` in ``zone`` (the person's), or ISO 8601 with an
    offset, as an aware UTC datetime. Raises InvalidInput naming ``what``."""
    raw = text.strip()
    try:
        return parse_local_time(raw, zone=zone)
    except ValueError:
        raise InvalidInput(N_("I cannot read the {what} {text!r}: write it as 2027-03-01 or "
                              "2027-03-01 17:00 (your time zone)."), what=what,
                           text=raw) from None


def _count(raw: str, *, what: str, low: int, default: int | None = None) -> int:
    text = raw.strip()
    if not text and default is not None:
        return default
    if not text.isdigit() or int(text) < low or int(text) > 10_000:
        raise InvalidInput(N_("The {what} must be a whole number from {low} to 10000."),
                           what=what, low=low)
    return int(text)


@dataclass(frozen=True, slots=True)
class Draft:
    """A validated proposal: times aware UTC; money in minor units of ``currency``."""

    title: str
    aim: str
    topics: tuple[str, ...]
    starts_at: datetime
    ends_at: datetime
    signup_closes_at: datetime
    capacity: int
    org_cap: int
    max_leads: int
    currency: str
    goal_minor: int
    minimum_minor: int
    funding_deadline: datetime | None


def parse_draft(values: Mapping[str, str], *, zone: str, language: str, now: datetime,
                default_currency: str = "EUR") -> Draft:
    """Validate the proposal form's fields: ``title``, ``aim``, ``topics``,
    ``starts``, ``ends``, ``capacity``, ``cutoff`` and, optionally,
    ``org_cap``, ``leads``, ``currency``, ``goal``, ``minimum`` and
    ``funding_deadline`` (default: the cutoff). Raises InvalidInput naming the fix."""
    def get(name: str) -> str:
        return (values.get(name) or "").strip()

    title, aim = get("title"), get("aim")
    if not title or not aim:
        raise InvalidInput(N_("A sprint needs a title and an aim."))
    topics = parse_topics(get("topics"))
    if not topics:
        raise InvalidInput(N_("Name at least one scope topic."))
    starts = parse_when(get("starts"), zone=zone, what="start")
    ends = parse_when(get("ends"), zone=zone, what="end")
    cutoff = parse_when(get("cutoff"), zone=zone, what="sign-up cutoff")
    if not now < cutoff <= starts < ends:
        raise InvalidInput(N_("The dates must follow each other: now, then the sign-up "
                              "cutoff, then the start, then the end."))
    goal_text, minimum_text = get("goal"), get("minimum")
    currency, goal, minimum, deadline = "", 0, 0, None
    if goal_text or minimum_text:
        currency = money.currency_code(get("currency") or default_currency)
        if goal_text:
            goal = money.to_minor(money.parse_amount(goal_text, currency=currency,
                                                     language=language), currency)
        if minimum_text:
            minimum = money.to_minor(money.parse_amount(minimum_text, currency=currency,
                                                        language=language), currency)
        if goal and minimum > goal:
            raise InvalidInput(N_("The minimum to go ahead cannot exceed the funding goal."))
        deadline = parse_when(get("funding_deadline"), zone=zone, what="funding deadline") \
            if get("funding_deadline") else cutoff
        if not now < deadline <= starts:
            raise InvalidInput(N_("The funding deadline must be after now and no later than "
                                  "the start."))
    capacity = _count(get("capacity"), what="capacity", low=1)
    return Draft(title[:300], aim[:4000], tuple(topics), starts, ends, cutoff, capacity,
                 _count(get("org_cap"), what="per-organisation cap", low=0, default=0),
                 _count(get("leads"), what="number of leads", low=1, default=1),
                 currency, goal, minimum, deadline)


def create_sprint(session: Session, *, actor: Authorized, proposer: Person, group: Group,
                  draft: Draft, settings: Settings, language: str,
                  origin: ChatTarget | None = None) -> Sprint:
    """A proposed sprint in ``group``; ``actor`` holds ``sprint.propose`` there."""
    if actor.capability != "sprint.propose" or actor.group_id != group.id:
        raise PermissionDenied(N_("You cannot propose a sprint in this group."))
    sprint = Sprint(
        group_id=group.id, proposer_id=proposer.id, title=draft.title, aim=draft.aim,
        topics=list(draft.topics), language=language, starts_at=draft.starts_at,
        ends_at=draft.ends_at, signup_closes_at=draft.signup_closes_at,
        capacity=draft.capacity, org_cap=draft.org_cap, max_leads=draft.max_leads,
        offer_hours=settings.sprints.offer_hours, currency=draft.currency,
        goal_minor=draft.goal_minor, minimum_minor=draft.minimum_minor,
        funding_deadline=draft.funding_deadline,
        funding_state="pending" if draft.minimum_minor else "none", state="proposed",
        origin_platform=origin.platform if origin else "",
        origin_workspace=origin.workspace_id if origin else "",
        origin_channel=origin.channel_id if origin else "")
    session.add(sprint)
    session.flush()
    record(session=session, actor=actor, action="sprint.propose", subject_type="sprint",
           subject_id=sprint.id, title=sprint.title, group=group.name,
           capacity=sprint.capacity, org_cap=sprint.org_cap, currency=sprint.currency,
           minimum_minor=sprint.minimum_minor)
    return sprint


def targets(session: Session, sprint: Sprint) -> list[ChatTarget]:
    """Where the sprint is announced: where it was proposed (unless a direct
    conversation) and the group's channels (``Group.channels``)."""
    out: list[ChatTarget] = []
    if sprint.origin_platform and sprint.origin_channel:
        out.append(ChatTarget(sprint.origin_platform, sprint.origin_workspace,
                              sprint.origin_channel))
    group = session.get(Group, sprint.group_id)
    for platform, where in sorted(((group.channels or {}) if group else {}).items()):
        if isinstance(where, dict) and where.get("channel_id"):
            t = ChatTarget(platform, str(where.get("workspace_id", "")),
                           str(where["channel_id"]))
            if t not in out:
                out.append(t)
    return out


def post(session: Session, sprint: Sprint, message: Message) -> int:
    """Queue ``message`` for every target with ref ``sprint:<id>`` (one living
    message per channel, updated in place). Returns how many were queued."""
    n = 0
    for t in targets(session, sprint):
        key = f"sprint:{sprint.id}:post:{t.platform}:{t.channel_id}:{uuid.uuid4().hex}"
        n += enqueue_chat(session=session, key=key[:255], target=t, message=message,
                          ref=f"sprint:{sprint.id}")
    return n


def interested_members(session: Session, sprint: Sprint) -> list[Person]:
    """Members of the sprint's group whose interests share a topic with it."""
    ids = session.scalars(select(Membership.person_id).where(
        Membership.group_id == sprint.group_id, Membership.role == Role.MEMBER)).all()
    wanted = set(sprint.topics)
    return [p for p in notify.people(session, ids) if wanted & set(p.interests or [])]


def approve(session: Session, *, actor: Authorized, sprint: Sprint, settings: Settings,
            now: datetime, message: Callable[[], Message]) -> int:
    """Open sign-ups, post ``message()`` (the sprint, rendered once open) to its channels and email
    the members whose interests match. Returns the emails queued. Raises
    Conflict unless proposed, or once the cutoff has passed."""
    _check_manage(actor, sprint)
    if sprint.state != "proposed":
        raise Conflict(N_("Sprint #{id} is not waiting for a decision."), id=sprint.id)
    if now >= sprint.signup_closes_at:
        raise Conflict(N_("Sprint #{id}'s sign-up cutoff has passed; it cannot open."),
                       id=sprint.id)
    sprint.state, sprint.decided_by, sprint.decided_at = "open", actor.person_id, now
    record(session=session, actor=actor, action="sprint.approve", subject_type="sprint",
           subject_id=sprint.id)
    post(session, sprint, message())
    emailed = sum(notify.announcement(session, settings=settings, sprint=sprint, person=p)
                  for p in interested_members(session, sprint))
    proposer = session.get(Person, sprint.proposer_id) if sprint.proposer_id else None
    if proposer is not None:
        notify.decided(session, sprint=sprint, person=proposer)
    return emailed


def decline(session: Session, *, actor: Authorized, sprint: Sprint, reason: str,
            now: datetime) -> None:
    """Decline a proposed sprint with ``reason`` (told to the proposer)."""
    _check_manage(actor, sprint)
    if sprint.state != "proposed":
        raise Conflict(N_("Sprint #{id} is not waiting for a decision."), id=sprint.id)
    if not reason.strip():
        raise InvalidInput(N_("Give the reason for declining after the sprint number."))
    sprint.state, sprint.decision_reason = "declined", reason.strip()[:2000]
    sprint.decided_by, sprint.decided_at = actor.person_id, now
    record(session=session, actor=actor, action="sprint.decline_proposal",
           subject_type="sprint", subject_id=sprint.id, reason=sprint.decision_reason)
    proposer = session.get(Person, sprint.proposer_id) if sprint.proposer_id else None
    if proposer is not None:
        notify.decided(session, sprint=sprint, person=proposer)


def cancel(session: Session, *, actor: Authorized, sprint_id: int, reason: str,
           now: datetime) -> int:
    """Cancel an open (or proposed) sprint: every open offer becomes void at
    once, and everyone in it, pledging to it or following it is told.
    Returns how many offers were voided."""
    sprint = lock_sprint(session, sprint_id)
    _check_manage(actor, sprint)
    if sprint.state not in ("open", "proposed"):
        raise Conflict(N_("Sprint #{id} is already closed."), id=sprint.id)
    sprint.state, sprint.decision_reason = "cancelled", reason.strip()[:2000]
    voided = 0
    for offer in session.scalars(select(SprintOffer).where(
            SprintOffer.sprint_id == sprint.id, SprintOffer.status == "open")).all():
        voided += offers.void_offer(session, offer, now, back_to_line=False)
    record(session=session, actor=actor, action="sprint.cancel", subject_type="sprint",
           subject_id=sprint.id, reason=sprint.decision_reason, offers_voided=voided)
    notify.cancelled(session, sprint=sprint, people=notify.people(session, involved(
        session, sprint.id)), reason=sprint.decision_reason)
    return voided


def involved(session: Session, sprint_id: int) -> set[int]:
    """Ids of everyone in a sprint (seated, offered, waitlisted), pledging to it
    or following it."""
    ids = set(session.scalars(select(SprintSignup.person_id).where(
        SprintSignup.sprint_id == sprint_id, SprintSignup.status.in_(ACTIVE))).all())
    ids |= set(session.scalars(select(SprintPledge.person_id).where(
        SprintPledge.sprint_id == sprint_id, SprintPledge.status == "active")).all())
    ids |= set(session.scalars(select(SprintFollower.person_id).where(
        SprintFollower.sprint_id == sprint_id)).all())
    return ids


def _check_manage(actor: Authorized, sprint: Sprint) -> None:
    if actor.capability != "sprint.manage" or actor.group_id != sprint.group_id:
        raise PermissionDenied(N_("Only the secretariat can decide on sprints."))
