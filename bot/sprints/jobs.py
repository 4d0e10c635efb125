"""Scheduled work of sprints. ``tick`` passes expired offers on and settles
funding deadlines; ``nudge`` emails each person the open sprints with room
that match their interests, once a week (one outbox key per person and ISO
week). Both are idempotent: what is due is a row with a due time, acted on
once by a conditional UPDATE or a unique key."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.app import Bot

import logging
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from bot.errors import N_, PermissionDenied
from bot.i18n import translator
from bot.mail import OutgoingEmail
from bot.outbox import enqueue_emails
from bot.permissions import authorize, prime_roles
from bot.sprints import notify, offers, pledges
from bot.sprints.common import HOLDING, local, topic_label
from bot.sprints.seats import counts_of
from storage.base import utcnow
from storage.models import Person, Sprint

log = logging.getLogger(__name__)


def run(bot: object, *, now: datetime | None = None) -> tuple[int, int]:
    """One tick for ``bot`` (a :class:`bot.app.Bot`) at ``now`` (default:
    :func:`storage.base.utcnow`). Returns (offers expired, sprints settled)."""
    from bot.app import Bot

    assert isinstance(bot, Bot)
    now = now or utcnow()
    expired = offers.expire_due(bot.session_factory, bot.settings, now=now)
    settled = pledges.settle_due(bot.session_factory, now=now)
    return expired, settled


def tick(bot: Bot) -> None:
    """The ``sprints.tick`` job (every ``sprints.tick_seconds``)."""
    expired, settled = run(bot)
    if expired or settled:
        log.info("sprints: %d offer(s) expired, %d sprint(s) settled", expired, settled)


def send_nudges(bot: object, *, now: datetime | None = None,
                week_of: datetime | None = None) -> int:
    """Queue the nudge of the ISO week (UTC) of ``week_of`` (default ``now``)
    for everyone with interests matching an open sprint that has room, whose
    sign-ups are still open at ``now`` and which they may join (observers are
    not nudged to sign up). Returns how many were queued (0 the second time in
    a week: one outbox key per person and week, so a run taken over after a
    partial one completes it)."""
    from bot.app import Bot

    assert isinstance(bot, Bot)
    now = now or utcnow()
    year, week, _ = (week_of or now).astimezone(UTC).isocalendar()
    emails: list[tuple[str, OutgoingEmail]] = []
    with bot.session_factory() as session, session.begin():
        candidates = session.scalars(select(Sprint).where(
            Sprint.state == "open", Sprint.signup_closes_at > now).order_by(Sprint.id)).all()
        taken = counts_of(session, [s.id for s in candidates])
        open_ = [s for s in candidates
                 if sum(taken[s.id].get(k, 0) for k in HOLDING) < s.capacity]
        if not open_:
            return 0
        people = session.scalars(select(Person).order_by(Person.id).options(
            selectinload(Person.emails))).all()
        prime_roles(session)  # everyone's roles in one statement, not one a person
        for person in people:
            wanted = set(person.interests or [])
            matching = [s for s in open_ if wanted & set(s.topics)
                        and _may_join(session, person, s.group_id)]
            if not matching:
                continue
            tr = translator(person.language)
            lines = [tr.gettext(N_("Open innovation sprints with room that match your "
                                   "interests:"))]
            for s in matching:
                topics = ", ".join(topic_label(t, person.language) for t in s.topics)
                lines.append(tr.gettext(N_("#{id} {title} ({topics}); sign-ups close {when}. "
                                           "In chat: sprint join {id}"), id=s.id,
                                        title=s.title, topics=topics,
                                        when=local(s.signup_closes_at, person.timezone)))
            lines += ["", tr.gettext(N_("Change your interests in chat: interests set ..."))]
            email = notify.plain_email(person, subject_line=tr.gettext(
                N_("Innovation sprints for you this week")), lines=lines)
            if email is not None:
                emails.append((f"sprint-nudge:{year}-W{week:02d}:p{person.id}"[:255], email))
        return len(enqueue_emails(session=session, emails=emails))


def _may_join(session: Session, person: Person, group_id: int) -> bool:
    try:
        authorize(session=session, person=person, capability="sprint.signup",
                  group_id=group_id, channel="job")
    except PermissionDenied:
        return False
    return True


def nudge(bot: Bot, *, tick: datetime | None = None) -> None:
    """The weekly ``sprints.nudge`` job; ``tick``: its scheduled time (aware
    UTC), whose week the nudge is for however late it runs."""
    n = send_nudges(bot, week_of=tick)
    log.info("sprints: %d weekly nudge(s) queued", n)
