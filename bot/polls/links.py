"""Vote links: what the HTTP confirmation page asks the core.

``check_link`` reads a token and says what it would do (for the GET page);
``cast_by_link`` turns the page's POST into a ``ButtonPress`` (or, with a
reason, a ``FormSubmission``) that enters through ``Bot.dispatch`` like any
other channel, so the role is checked again there, every time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Final

from sqlalchemy.orm import Session

from bot.errors import N_, DomainError
from bot.permissions import authorize
from bot.polls.proposals import current_text
from bot.polls.stances import NEEDS_REASON, current_round
from bot.polls.tokens import VoteToken, event_id, verify
from bot.tokens import LinkRefused
from bot.types import Actor, ButtonPress, Conversation, Event, FormSubmission, Reply
from bot.web import LINK_PLATFORM, link_used
from storage.base import utcnow
from storage.engine import read_only
from storage.models import Person, Proposal

if TYPE_CHECKING:
    from bot.app import Bot

#: The platform name vote-link events are recorded under.
PLATFORM: Final = LINK_PLATFORM


@dataclass(frozen=True, slots=True)
class LinkView:
    """What a valid link stands for: the stance, the voter and the proposal."""

    token: VoteToken
    person_name: str
    email: str
    language: str
    title: str
    text: str
    needs_reason: bool


def _used(bot: Bot, token: str) -> bool:
    return link_used(bot, event_id(token))


def check_link(bot: Bot, *, token: str, poll_id: int, now: datetime | None = None) -> LinkView:
    """Verify a link for proposal ``poll_id``. Raises LinkRefused with the
    reason: tampered, other-poll, expired, used (already cast with this link),
    closed (the round is over), not-allowed (the person may not vote, e.g. an
    observer, or is no longer in the roster), old-version (the text changed
    since the link was sent: the refusal carries the new text)."""
    now = now or utcnow()
    vt = verify(token, key=bot.settings.signing_key(), poll_id=poll_id, now=now)
    if _used(bot, token):
        raise LinkRefused("used", N_("This link was already used; your stance is recorded. "
                                      "To change it, use another link from the email, reply "
                                      "to it, or vote in chat."), person_id=vt.person_id)
    # Only reads: on SQLite it takes neither the write lock nor the writers'
    # queue (a vote page under load waited behind every stance being written).
    with Session(read_only(bot.session_factory.kw["bind"])) as session:
        proposal = session.get(Proposal, vt.poll_id)
        person = session.get(Person, vt.person_id)
        if proposal is None or person is None or not person.primary_email:
            raise LinkRefused("not-allowed", N_("This link no longer matches anyone in the "
                                                 "roster, so it cannot be used."))
        if vt.version != proposal.version:
            raise LinkRefused("old-version", N_("The text of proposal #{id} changed after this "
                                                 "link was sent (it is now version {version}), "
                                                 "so this link cannot be used; nothing was "
                                                 "recorded. Use the links of the new ballot "
                                                 "email. The new text:"),
                               person_id=person.id, id=proposal.id, version=proposal.version,
                               text=current_text(proposal))
        rnd = current_round(session, proposal)
        if (proposal.state != "open" or rnd is None or rnd.number != vt.round_no
                or rnd.closed_at is not None or rnd.closes_at <= now):
            raise LinkRefused("closed", N_("Round {round} of proposal #{id} is closed; "
                                            "this link can no longer be used."),
                               person_id=person.id, round=vt.round_no, id=vt.poll_id)
        try:
            authorize(session=session, person=person, capability="poll.vote",
                      group_id=proposal.group_id, channel=PLATFORM, policy=bot.policy)
        except DomainError:
            raise LinkRefused("not-allowed", N_("Your role does not allow you to take a "
                                                 "stance on this proposal; nothing was "
                                                 "recorded."), person_id=person.id) from None
        return LinkView(vt, person.name, person.primary_email, person.language,
                        proposal.title, current_text(proposal), vt.stance in NEEDS_REASON)


def link_event(view: LinkView, *, token: str, reason: str) -> Event:
    """The event a confirmed link stands for: ``poll.stance`` (no reason) or
    ``poll.reason`` (with one), by the link's person, with the token's digest
    as event id (so using a link twice acts once)."""
    actor = Actor(PLATFORM, "", view.email)
    where = Conversation(PLATFORM, "", "vote-link", is_direct=True)
    if reason.strip():
        return FormSubmission("poll.reason", (("reason", reason.strip()),), actor, where,
                              event_id(token), context=view.token.value)
    return ButtonPress("poll.stance", view.token.value, actor, where, event_id(token))


def cast_by_link(bot: Bot, *, token: str, poll_id: int, reason: str = "",
                 now: datetime | None = None) -> tuple[bool, list[Reply]]:
    """Cast the link's stance through ``Bot.dispatch``. Returns (recorded,
    replies): ``recorded`` is True once the stance is committed. Raises
    LinkRefused as :func:`check_link`, and ``reason-needed`` for a disagree or
    block without a reason."""
    view = check_link(bot, token=token, poll_id=poll_id, now=now)
    if view.needs_reason and not reason.strip():
        raise LinkRefused("reason-needed", N_("A disagree or a block needs a reason: say "
                                               "what would change your mind."),
                           person_id=view.token.person_id)
    replies = bot.dispatch(link_event(view, token=token, reason=reason))
    recorded = _used(bot, token) and bool(replies) and all(
        r.message.form is None for r in replies)
    if not replies:
        raise LinkRefused("used", N_("This link was already used; your stance is recorded. "
                                      "To change it, use another link from the email, reply "
                                      "to it, or vote in chat."),
                           person_id=view.token.person_id)
    return recorded, replies
