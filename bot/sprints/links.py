"""Signed links of sprints: what the web pages ask the core.

``check_offer`` / ``check_join`` read a token and say what it stands for (the
GET page, which changes nothing); ``use_offer`` / ``use_join`` turn the
page's POST into a ``ButtonPress`` that enters through ``Bot.dispatch`` like
any other channel, so the person's role is checked again there, every time,
and the token's digest is the event id (a link used twice acts once). Every
refusal after the signature held carries the token's person
(``LinkRefused.person_id``), so its page is in their language.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.errors import N_, DomainError
from bot.permissions import authorize
from bot.sprints.common import ACTIVE
from bot.sprints.tokens import LinkToken, event_id, verify
from bot.tokens import LinkRefused
from bot.types import Actor, ButtonPress, Conversation, Reply
from bot.web import LINK_PLATFORM, link_used
from storage.base import utcnow
from storage.models import Person, Sprint, SprintOffer, SprintSignup

if TYPE_CHECKING:
    from bot.app import Bot

PLATFORM: Final = LINK_PLATFORM
NOT_ALLOWED = N_("Your role does not allow you to sign up for sprints: only members of the "
                 "sprint's group can (observers may follow it). Nothing was recorded.")
USED = N_("This link was already used; it works once.")
#: The reason given for an offer page's POST that names neither choice.
CHOOSE = N_("Choose accept or decline on the page.")


@dataclass(frozen=True, slots=True)
class LinkView:
    """What a valid link stands for."""

    token: LinkToken
    sprint_id: int
    title: str
    person_name: str
    email: str
    language: str
    timezone: str


def _used(bot: Bot, token: str) -> bool:
    return link_used(bot, event_id(token))


def _person(bot: Bot, session: Session, lt: LinkToken, sprint: Sprint) -> Person:
    person = session.get(Person, lt.person_id)
    if person is None or not person.primary_email:
        raise LinkRefused("not-allowed", N_("This link no longer matches anyone in the roster, "
                                            "so it cannot be used."), person_id=lt.person_id)
    try:
        authorize(session=session, person=person, capability="sprint.signup",
                  group_id=sprint.group_id, channel=PLATFORM, policy=bot.policy)
    except DomainError:
        raise LinkRefused("not-allowed", NOT_ALLOWED, person_id=lt.person_id) from None
    return person


def check_offer(bot: Bot, *, token: str, offer_id: int) -> LinkView:
    """Verify an offer link. Raises LinkRefused: tampered, expired, used (the
    offer was answered, or this link was used), cancelled (void, or the
    sprint is no longer open), not-allowed (someone else's offer, or a role
    that may not sign up)."""
    at = utcnow()
    lt = verify(token, key=bot.settings.signing_key(), purpose="offer", target=offer_id,
                now=at)
    who = lt.person_id
    if _used(bot, token):
        raise LinkRefused("used", USED, person_id=who)
    with bot.session_factory() as session:
        offer = session.get(SprintOffer, offer_id)
        sprint = session.get(Sprint, offer.sprint_id) if offer else None
        if offer is None or sprint is None:
            raise LinkRefused("tampered", N_("This offer does not exist."), person_id=who)
        if offer.status == "void" or sprint.state != "open":
            raise LinkRefused("cancelled", N_("This offer was withdrawn: the sprint was "
                                              "cancelled, or the person left it."),
                              person_id=who)
        if offer.status in ("accepted", "declined"):
            raise LinkRefused("used", N_("This offer was already answered."), person_id=who)
        if offer.status == "expired" or at >= offer.expires_at:
            raise LinkRefused("expired", N_("This offer has expired; the seat went to the next "
                                            "person in line."), person_id=who)
        if offer.person_id != who:
            raise LinkRefused("not-allowed", N_("This offer was made to someone else."),
                              person_id=who)
        person = _person(bot, session, lt, sprint)
        return LinkView(lt, sprint.id, sprint.title, person.name, person.primary_email or "",
                        person.language, person.timezone)


def check_join(bot: Bot, *, token: str, sprint_id: int) -> LinkView:
    """Verify a sign-up link. Raises LinkRefused: tampered, expired, used
    (this link was used, or the person is already in), cancelled (the sprint
    is not open), not-allowed (a role that may not sign up)."""
    lt = verify(token, key=bot.settings.signing_key(), purpose="join", target=sprint_id,
                now=utcnow())
    who = lt.person_id
    if _used(bot, token):
        raise LinkRefused("used", USED, person_id=who)
    with bot.session_factory() as session:
        sprint = session.get(Sprint, sprint_id)
        if sprint is None:
            raise LinkRefused("tampered", N_("This sprint does not exist."), person_id=who)
        if sprint.state != "open":
            raise LinkRefused("cancelled", N_("This sprint is not open for sign-ups."),
                              person_id=who)
        person = _person(bot, session, lt, sprint)
        if session.scalar(select(SprintSignup.id).where(
                SprintSignup.sprint_id == sprint.id, SprintSignup.person_id == person.id,
                SprintSignup.status.in_(ACTIVE))) is not None:
            raise LinkRefused("used", N_("You are already signed up for this sprint."),
                              person_id=who)
        return LinkView(lt, sprint.id, sprint.title, person.name, person.primary_email or "",
                        person.language, person.timezone)


def _dispatch(bot: Bot, view: LinkView, *, token: str, action_id: str,
              value: str) -> list[Reply]:
    actor = Actor(PLATFORM, "", view.email)
    where = Conversation(PLATFORM, "", "sprint-link", is_direct=True)
    replies = bot.dispatch(ButtonPress(action_id, value, actor, where, event_id(token)))
    if not replies:
        raise LinkRefused("used", USED, person_id=view.token.person_id)
    return replies


def use_offer(bot: Bot, *, token: str, offer_id: int, choice: str) -> tuple[bool, list[Reply]]:
    """Answer the offer through ``Bot.dispatch``; (recorded, replies)."""
    view = check_offer(bot, token=token, offer_id=offer_id)
    if choice not in ("accept", "decline"):
        raise LinkRefused("tampered", CHOOSE, person_id=view.token.person_id)
    replies = _dispatch(bot, view, token=token, action_id="sprint.offer",
                        value=f"{offer_id}:{choice}")
    return _used(bot, token), replies


def use_join(bot: Bot, *, token: str, sprint_id: int) -> tuple[bool, list[Reply]]:
    """Sign up through ``Bot.dispatch``; (recorded, replies)."""
    view = check_join(bot, token=token, sprint_id=sprint_id)
    replies = _dispatch(bot, view, token=token, action_id="sprint.join",
                        value=f"{sprint_id}:contributor")
    return _used(bot, token), replies
