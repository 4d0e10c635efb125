"""Ballot replies by email: the ``reply:poll`` route.

The email adapter dispatches an :class:`~bot.types.InboundEmail`; the
dispatcher routes it here by the ``poll`` tag of the Message-ID it answers
(and has already refused a sender who is not in the roster, with no email
back: no backscatter). A stance is recorded only when

1. a Message-ID it references is a ballot binding that verifies and was sent
   (:mod:`bot.polls.ballots`), to the person the From address belongs to;
2. the receiving server's ``Authentication-Results`` does not mark it failed
   (:func:`bot.mailauth.failed`);
3. the ballot's text version is the proposal's current one (else the answer
   is a new ballot with the new text);
4. its first line reads as a stance (:func:`bot.polls.replies.read_reply`;
   never a guess);
5. the person holds ``poll.vote`` in the proposal's group, and the round is open.

Every answer (what was recorded, or why nothing was) is queued through the
outbox in this unit of work, in the sender's language, as a reply to their
message; the answer is also returned as the route's reply.
"""

from __future__ import annotations

import hashlib
import logging

from bot.context import Context
from bot.errors import N_, DomainError
from bot.outbox import enqueue_email
from bot.polls import ballots, emails, routes
from bot.polls.ballots import BallotRef
from bot.polls.proposals import current_text
from bot.polls.replies import read_reply
from bot.polls.stances import find_proposal, find_proposal_head
from bot.types import InboundEmail, Message, Reply, Section, plain_times

log = logging.getLogger(__name__)


def _event(ctx: Context) -> InboundEmail:
    assert isinstance(ctx.event, InboundEmail)
    return ctx.event


def _refs(ctx: Context) -> list[BallotRef]:
    memo: list[BallotRef] | None = ctx.session.info.get("polls.reply_refs")
    if memo is None:
        event = _event(ctx)
        memo = ballots.referenced([event.in_reply_to, *reversed(event.references)],
                                  key=ctx.settings.signing_key())
        ctx.session.info["polls.reply_refs"] = memo
    return memo


def scope_reply(ctx: Context) -> int | None:
    """The group of the proposal of the first verified ballot the reply
    references (the alliance when none verifies: the handler answers why)."""
    refs = _refs(ctx)
    if not refs:
        return None
    try:
        return find_proposal_head(ctx.session, refs[0].poll_id).group_id
    except DomainError:
        return None


def _answer(ctx: Context, message: Message, *, links: dict[tuple[str, str], str] | None = None,
            message_id: str | None = None) -> list[Reply]:
    event = _event(ctx)
    email = emails.answer(tr=ctx.tr, settings=ctx.settings, to=event.actor.user_id,
                          subject=event.subject, in_reply_to=event.event_id, message=message,
                          links=links, message_id=message_id)
    enqueue_email(session=ctx.session, key=f"poll-reply:{event.event_id or event.subject}"[:255],
                  email=email)
    return [Reply(message)]


def _say(ctx: Context, msgid: str, **params: object) -> list[Reply]:
    text = ctx._(msgid, **params)
    return _answer(ctx, Message(text, blocks=(Section(text),), accent="warning"))


def reply(ctx: Context) -> list[Reply]:
    """``reply:poll``: read a ballot reply and cast its stance (see the module doc)."""
    event = _event(ctx)
    mine = [r for r in _refs(ctx) if r.person_id == ctx.who.id]
    if not _refs(ctx):
        return _say(ctx, N_("I could not tell which ballot your email answers, so nothing was "
                            "recorded. Reply to the ballot email itself."))
    if not mine:
        log.warning("reply from %s references a ballot sent to someone else", event.actor.user_id)
        return _say(ctx, N_("This email answers a ballot that was sent to someone else, so "
                            "nothing was recorded. Reply to the ballot sent to you."))
    ref = mine[0]
    if not ballots.was_sent(ctx.session, ref):
        return _say(ctx, N_("I could not tell which ballot your email answers, so nothing was "
                            "recorded. Reply to the ballot email itself."))
    from bot.mailauth import failed

    why = failed(event.authentication_results)
    if why is not None:
        log.warning("reply from %s refused: Authentication-Results %s", event.actor.user_id, why)
        return _say(ctx, N_("Our mail server could not confirm that this email comes from your "
                            "address ({why}), so nothing was recorded. Use a link in the "
                            "ballot, or vote in chat."), why=why)
    proposal = find_proposal_head(ctx.session, ref.poll_id)
    if ref.version != proposal.version:
        return _old_version(ctx, ref)
    reading = read_reply(event.text)
    if reading.stance is None:
        return _say(ctx, N_("We could not read a stance in your email, so nothing was "
                            "recorded. Reply with one of {words} alone on the first line, and "
                            "your reason below it."), words=emails.reply_words(ctx.tr))
    try:
        ctx.auth = ctx.authorize("poll.vote", group_id=proposal.group_id)
        replies = routes._cast(ctx, proposal, ref.round_no, reading.stance, reading.reason)
    except DomainError as exc:
        from bot.errors import render_error

        text = render_error(ctx.tr, exc)
        return _answer(ctx, Message(text, blocks=(Section(text),), accent="danger"))
    texts = [plain_times(r.message.text) for r in replies]
    if any(r.message.form is not None for r in replies):
        texts.append(ctx._("Reply again with the stance on the first line and your reason "
                           "below it."))
    text = "\n\n".join(texts)
    return _answer(ctx, Message(text, blocks=(Section(text),), accent="success"))


def _old_version(ctx: Context, ref: BallotRef) -> list[Reply]:
    """The answer to a reply on an older text: a new ballot, bound to the
    current version, that says so first."""
    proposal = find_proposal(ctx.session, ref.poll_id)
    rnd = next((r for r in proposal.rounds if r.number == ref.round_no), None)
    if rnd is None or rnd.closed_at is not None or proposal.state != "open":
        return _say(ctx, N_("Round {round} of proposal #{id} is closed; your stance was not "
                            "recorded."), round=ref.round_no, id=ref.poll_id)
    previous = next((r for r in proposal.rounds if r.number == ref.round_no - 1), None)
    note = ctx._(N_("Your email answers an earlier text of proposal #{id}, so nothing was "
                    "recorded. The text is now version {version}: read it below and reply to "
                    "this email."), id=proposal.id, version=proposal.version)
    salt = hashlib.sha256(_event(ctx).event_id.encode()).hexdigest()[:8]
    settings = ctx.settings
    mid = ballots.message_id(key=settings.signing_key(), person_id=ctx.who.id,
                             poll_id=proposal.id, round_no=rnd.number, version=proposal.version,
                             kind=f"a{salt}", domain=emails.domain(settings))
    new = BallotRef(ctx.who.id, proposal.id, rnd.number, proposal.version, mid)
    ballots.record(ctx.session, new)
    message = emails.ballot_message(tr=ctx.tr, proposal=proposal, rnd=rnd,
                                    text=current_text(proposal), person=ctx.person,
                                    previous=previous, note=note)
    return _answer(ctx, message, message_id=mid, links=emails.vote_links(
        settings=settings, proposal=proposal, rnd=rnd, person=ctx.person))
