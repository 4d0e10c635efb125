"""Sprint proposals: a member proposes, the secretariat approves (which opens
sign-ups and announces the sprint) or declines with a reason, and may cancel
an open sprint (every open offer becomes void at once)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.audit import record
from bot.dates import end_of_day, parse_date, parse_deadline
from bot.errors import N_, Conflict, FieldError, InvalidInput, PermissionDenied
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


def parse_day(text: str, *, zone: str, what: str) -> date:
    """A sprint day: ``YYYY-MM-DD`` (a calendar day, the same for every
    reader); a date-time is taken as its day in ``zone`` (the writer's).
    Raises InvalidInput naming ``what``."""
    raw = text.strip()
    try:
        return parse_date(raw)
    except ValueError:
        pass
    try:
        return parse_deadline(raw, zone=zone).astimezone(ZoneInfo(zone)).date()
    except ValueError:
        raise InvalidInput(N_("I cannot read the {what} {text!r}: write the day as "
                              "2027-03-01."), what=(what,), text=raw) from None


def parse_when(text: str, *, zone: str, what: str, day_zone: str | None = None) -> datetime:
    """A sprint deadline (:func:`bot.dates.parse_deadline`) as an aware UTC
    datetime: a day alone ends at the end of that day in ``day_zone`` (the
    alliance's, default ``zone``); a day and a time are in ``zone`` (the
    writer's); ISO 8601 with an offset is taken as written. Raises
    InvalidInput naming ``what``."""
    raw = text.strip()
    try:
        if day_zone is not None and re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
            return end_of_day(parse_date(raw), day_zone)
        return parse_deadline(raw, zone=zone)
    except ValueError:
        raise InvalidInput(N_("I cannot read the {what} {text!r}: write a day (2027-03-01: "
                              "until the end of that day) or a day and a time "
                              "(2027-03-01 17:00, your time zone)."), what=(what,),
                           text=raw) from None


def _count(raw: str, *, what: str, low: int, default: int | None = None) -> int:
    text = raw.strip()
    if not text and default is not None:
        return default
    if not text.isdigit() or int(text) < low or int(text) > 10_000:
        raise InvalidInput(N_("The {what} must be a whole number from {low} to 10000."),
                           what=(what,), low=low)
    return int(text)


@dataclass(frozen=True, slots=True)
class Draft:
    """A validated proposal: days are calendar days (``ends_on`` inclusive);
    times aware UTC; money in minor units of ``currency``."""

    title: str
    aim: str
    topics: tuple[str, ...]
    starts_on: date
    ends_on: date
    signup_closes_at: datetime
    capacity: int
    org_cap: int
    max_leads: int
    currency: str
    goal_minor: int
    minimum_minor: int
    funding_deadline: datetime | None
    #: The zone a day given as a deadline ends in.
    zone: str = "Europe/Paris"

    @property
    def signup_closes_on(self) -> date:
        """The cut-off day, in :attr:`zone`."""
        return self.signup_closes_at.astimezone(ZoneInfo(self.zone)).date()


def count_field(raw: str, *, name: str) -> int:
    """One count field of the proposal (``capacity``, ``org_cap``, ``leads``),
    read as :func:`parse_draft` reads it. Raises InvalidInput."""
    what, low, default = _COUNTS[name]
    return _count(raw, what=what, low=low, default=default)


_COUNTS: dict[str, tuple[str, int, int | None]] = {
    "capacity": (N_("capacity"), 1, None), "org_cap": (N_("per-organisation cap"), 0, 0),
    "leads": (N_("number of leads"), 1, 1)}
#: The date fields of the proposal and the words (msgids) their refusal names.
WHEN_FIELDS = {"starts": N_("first day"), "ends": N_("last day"),
               "cutoff": N_("sign-up cutoff"), "funding_deadline": N_("funding deadline")}


def parse_draft(values: Mapping[str, str], *, zone: str, language: str, now: datetime,
                default_currency: str = "EUR", day_zone: str = "Europe/Paris") -> Draft:
    """Validate the proposal form's fields: ``title``, ``aim``, ``topics``,
    ``starts``, ``ends``, ``capacity``, ``cutoff`` and, optionally,
    ``org_cap``, ``leads``, ``currency``, ``goal``, ``minimum`` and
    ``funding_deadline`` (default: the cutoff). ``starts`` and ``ends`` are
    days (the end inclusive); a cut-off given as a day ends at the end of that
    day in ``day_zone`` (the alliance's); ``zone`` is the writer's. Raises
    FieldError (an InvalidInput) naming the field and the fix, so a form can
    show it there."""
    try:
        return _parse_draft(values, zone=zone, language=language, now=now,
                            default_currency=default_currency, day_zone=day_zone)
    except _Refused as exc:
        raise FieldError(exc.field, exc.error.msgid, **exc.error.params) from None


class _Refused(Exception):
    def __init__(self, field: str, error: InvalidInput) -> None:
        super().__init__(field)
        self.field, self.error = field, error


def _parse_draft(values: Mapping[str, str], *, zone: str, language: str, now: datetime,
                 default_currency: str, day_zone: str) -> Draft:
    def get(name: str) -> str:
        return (values.get(name) or "").strip()

    def at(field: str, error: InvalidInput) -> _Refused:
        return _Refused(field, error)

    def when(name: str) -> datetime:
        try:
            return parse_when(get(name), zone=zone, what=WHEN_FIELDS[name], day_zone=day_zone)
        except InvalidInput as exc:
            raise at(name, exc) from None

    def day(name: str) -> date:
        try:
            return parse_day(get(name), zone=zone, what=WHEN_FIELDS[name])
        except InvalidInput as exc:
            raise at(name, exc) from None

    def count(name: str) -> int:
        try:
            return count_field(get(name), name=name)
        except InvalidInput as exc:
            raise at(name, exc) from None

    title, aim = get("title"), get("aim")
    if not title or not aim:
        raise at("title" if not title else "aim",
                 InvalidInput(N_("A sprint needs a title and an aim.")))
    try:
        topics = parse_topics(get("topics"))
    except InvalidInput as exc:
        raise at("topics", exc) from None
    if not topics:
        raise at("topics", InvalidInput(N_("Name at least one scope topic.")))
    starts, ends, cutoff = day("starts"), day("ends"), when("cutoff")
    cutoff_day = cutoff.astimezone(ZoneInfo(day_zone)).date()
    if not (now < cutoff and cutoff_day <= starts <= ends):
        raise at("cutoff" if not (now < cutoff and cutoff_day <= starts) else "ends",
                 InvalidInput(N_("The dates must follow each other: now, then the sign-up "
                                 "cutoff, then the first day, then the last day.")))
    first_instant = datetime.combine(starts, time(0), ZoneInfo(day_zone))
    goal_text, minimum_text = get("goal"), get("minimum")
    currency, goal, minimum, deadline = "", 0, 0, None
    try:
        code = money.currency_code(get("currency") or default_currency)
    except InvalidInput as exc:
        raise at("currency", exc) from None
    if goal_text or minimum_text:
        currency = code
        for name, raw in (("goal", goal_text), ("minimum", minimum_text)):
            if not raw:
                continue
            try:
                amount = money.to_minor(money.parse_amount(raw, currency=currency,
                                                           language=language), currency)
            except InvalidInput as exc:
                raise at(name, exc) from None
            goal, minimum = (amount, minimum) if name == "goal" else (goal, amount)
        if goal and minimum > goal:
            raise at("minimum", InvalidInput(N_(
                "The minimum to go ahead cannot exceed the funding goal.")))
        deadline = when("funding_deadline") if get("funding_deadline") else cutoff
        if not now < deadline <= max(first_instant, cutoff):
            raise at("funding_deadline", InvalidInput(N_(
                "The funding deadline must be after now and no later than the start.")))
    capacity = count("capacity")
    return Draft(title[:300], aim[:4000], tuple(topics), starts, ends, cutoff, capacity,
                 count("org_cap"), count("leads"), currency, goal, minimum, deadline,
                 day_zone)


def create_sprint(session: Session, *, actor: Authorized, proposer: Person, group: Group,
                  draft: Draft, settings: Settings, language: str,
                  origin: ChatTarget | None = None) -> Sprint:
    """A proposed sprint in ``group``; ``actor`` holds ``sprint.propose`` there."""
    if actor.capability != "sprint.propose" or actor.group_id != group.id:
        raise PermissionDenied(N_("You cannot propose a sprint in this group."))
    sprint = Sprint(
        group_id=group.id, proposer_id=proposer.id, title=draft.title, aim=draft.aim,
        topics=list(draft.topics), language=language, starts_on=draft.starts_on,
        ends_on=draft.ends_on, signup_closes_on=draft.signup_closes_on,
        signup_closes_at=draft.signup_closes_at, zone=draft.zone,
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
