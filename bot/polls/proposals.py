"""Proposals: creation, text versions, comments, and where they are posted."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.audit import record
from bot.errors import N_, Conflict, FieldError, InvalidInput, PermissionDenied
from bot.localtime import parse_local_time
from bot.outbox import ChatTarget, enqueue_refresh
from bot.permissions import Authorized
from bot.text import multi_line, single_line
from storage.base import utcnow
from storage.models import (
    Group,
    Person,
    PollComment,
    Proposal,
    ProposalVersion,
    Role,
    Round,
    Stance,
)

#: The longest title (characters; the column's size) and comment.
TITLE_LIMIT = 300
TEXT_LIMIT = 4000

def parse_closes(text: str, *, zone: str, now: datetime | None = None) -> datetime:
    """A closing time: ISO 8601 with an offset, or ``YYYY-MM-DD HH:MM`` in ``zone``
    (the person's IANA zone). Returns an aware UTC datetime. Raises InvalidInput
    when it cannot be read or is not in the future."""
    raw = text.strip()
    now = now or utcnow()
    try:
        when = parse_local_time(raw, zone=zone)
    except ValueError:
        raise FieldError("closes", N_("I cannot read the closing time {text!r}: write it as "
                                      "2026-12-01 17:00 (your time zone) or ISO 8601 with an "
                                      "offset."), text=raw) from None
    if when <= now + timedelta(minutes=1):
        raise FieldError("closes", N_("The closing time must be in the future."))
    return when


def create_proposal(
    *,
    session: Session,
    actor: Authorized,
    author: Person,
    group: Group,
    title: str,
    text: str,
    closes_at: datetime,
    quorum_percent: int,
    visibility: str = "live",
    rule: str = "consensus",
    language: str = "en",
    origin: ChatTarget | None = None,
    discussion: str = "",
) -> Proposal:
    """Create a proposal with version 1 of its text and round 1 (chat) open until
    ``closes_at`` (aware). ``actor`` must hold ``poll.create`` in ``group``.
    Raises InvalidInput for an empty title/text, a quorum outside 0..100 or an
    unknown visibility/rule. Never commits."""
    if actor.capability != "poll.create" or actor.group_id != group.id:
        raise PermissionDenied(N_("You cannot create a proposal in this group."))
    title, text = single_line(title, field=N_("title")), multi_line(text)
    if not title or not text:
        raise InvalidInput(N_("A proposal needs a title and a text."))
    if len(title) > TITLE_LIMIT:
        raise FieldError("title", N_("The title is {n} characters long; keep it to {limit}."),
                           n=len(title), limit=TITLE_LIMIT)
    if not 0 <= quorum_percent <= 100:
        raise FieldError("quorum", N_("The quorum is a percentage from 0 to 100."))
    if visibility not in ("live", "hidden"):
        raise InvalidInput(N_("Visibility is live or hidden."))
    if rule not in ("consensus", "unanimity"):
        raise InvalidInput(N_("The rule is consensus or unanimity."))
    proposal = Proposal(
        group_id=group.id, author_id=author.id, title=title, language=language,
        rule=rule, quorum_percent=quorum_percent, visibility=visibility, state="open",
        current_round=1, version=1, closes_at=closes_at,
        origin_platform=origin.platform if origin else "",
        origin_workspace=origin.workspace_id if origin else "",
        origin_channel=origin.channel_id if origin else "",
        discussion=discussion or (f"{origin.platform}:{origin.channel_id}" if origin else ""),
    )
    proposal.versions.append(ProposalVersion(number=1, text=text, author_id=author.id))
    proposal.rounds.append(Round(number=1, medium="chat", opens_at=utcnow(),
                                 closes_at=closes_at))
    session.add(proposal)
    session.flush()
    record(session=session, actor=actor, action="poll.create", subject_type="poll",
           subject_id=proposal.id, title=proposal.title, group=group.name,
           closes_at=closes_at.isoformat(), quorum=quorum_percent, visibility=visibility)
    return proposal


def current_text(proposal: Proposal) -> str:
    """The text of the proposal's current version."""
    for v in proposal.versions:
        if v.number == proposal.version:
            return v.text
    return ""


def edit_text(*, session: Session, actor: Authorized, proposal: Proposal, text: str,
              editor: Person) -> int:
    """Replace the text: every edit opens a new text version (so a stance, a
    reply or a link for the text a voter saw never counts for another text);
    stances on earlier versions stay on record and no longer count. Returns
    the version it replaces. Only the author or the secretariat may edit;
    raises PermissionDenied, Conflict when no round is open, InvalidInput for
    an empty or unchanged text. Never commits; the caller asks the voters
    again (:func:`bot.polls.versions.ask_again`)."""
    if proposal.author_id != editor.id and Role.SECRETARIAT not in actor.roles:
        raise PermissionDenied(N_("Only the author or the secretariat can edit a proposal."))
    if proposal.state != "open":
        raise Conflict(N_("Proposal #{id} has no open round; its text can no longer change."),
                       id=proposal.id)
    text = multi_line(text)
    if not text:
        raise InvalidInput(N_("A proposal needs a title and a text."))
    if text == current_text(proposal):
        raise InvalidInput(N_("That is already the text of proposal #{id}; nothing changed."),
                           id=proposal.id)
    old = proposal.version
    rnd_ids = select(Round.id).where(Round.proposal_id == proposal.id,
                                     Round.number == proposal.current_round)
    invalidated = session.scalar(select(func.count(Stance.id)).where(
        Stance.round_id.in_(rnd_ids.scalar_subquery()), Stance.version == old)) or 0
    proposal.version = old + 1
    proposal.versions.append(ProposalVersion(number=proposal.version, text=text,
                                             author_id=editor.id))
    session.flush()
    record(session=session, actor=actor, action="poll.edit", subject_type="poll",
           subject_id=proposal.id, version=proposal.version, previous_version=old,
           invalidated=invalidated)
    return old


def add_comment(*, session: Session, actor: Authorized, proposal: Proposal, person: Person,
                text: str, advisory: bool) -> PollComment:
    """A comment on ``proposal``; ``advisory`` when the author holds no vote
    (observers). Raises InvalidInput for an empty text. Never commits."""
    text = multi_line(text)
    if not text:
        raise InvalidInput(N_("Write the comment after the proposal number."))
    if len(text) > TEXT_LIMIT:
        raise InvalidInput(N_("The comment is {n} characters long; keep it to {limit}."),
                           n=len(text), limit=TEXT_LIMIT)
    comment = PollComment(proposal_id=proposal.id, person_id=person.id, text=text,
                          advisory=advisory, channel=actor.channel)
    session.add(comment)
    record(session=session, actor=actor, action="poll.comment", subject_type="poll",
           subject_id=proposal.id, advisory=advisory)
    return comment


def comments(session: Session, proposal: Proposal) -> list[tuple[str, str, bool]]:
    """(author name, text, advisory) for each comment, oldest first."""
    rows = session.execute(select(Person.name, PollComment.text, PollComment.advisory)
                           .join(Person, Person.id == PollComment.person_id)
                           .where(PollComment.proposal_id == proposal.id)
                           .order_by(PollComment.id)).all()
    return [(n, t, bool(a)) for n, t, a in rows]


def targets(session: Session, proposal: Proposal) -> list[ChatTarget]:
    """Where the proposal's message lives: the conversation it was created in
    (unless a direct one) and the group's configured channels
    (``Group.channels``: ``{"<platform>": {"workspace_id": .., "channel_id": ..}}``)."""
    out: list[ChatTarget] = []
    if proposal.origin_platform and proposal.origin_channel:
        out.append(ChatTarget(proposal.origin_platform, proposal.origin_workspace,
                              proposal.origin_channel))
    group = session.get(Group, proposal.group_id)
    for platform, where in sorted(((group.channels or {}) if group else {}).items()):
        if not isinstance(where, dict) or not where.get("channel_id"):
            continue
        t = ChatTarget(platform, str(where.get("workspace_id", "")), str(where["channel_id"]))
        if t not in out:
            out.append(t)
    return out


#: The renderer of a proposal's living message (``bot.registry.renderers``).
TALLY_RENDERER = "poll.tally"


def post(session: Session, proposal: Proposal) -> int:
    """Queue a refresh of the proposal's message (its tally) for every target,
    with ref ``poll:<id>`` so adapters update the same message. Coalesced by
    ``poll:<id>:tally``: while a refresh is pending for a target, another adds
    nothing, and the outbox renders the latest state when it delivers.
    Returns how many refreshes were queued."""
    return sum(enqueue_refresh(session=session, key=f"poll:{proposal.id}:tally", target=t,
                               render=TALLY_RENDERER, args={"proposal_id": proposal.id},
                               ref=f"poll:{proposal.id}")
               for t in targets(session, proposal))


def list_open(session: Session, *, limit: int = 20) -> list[Proposal]:
    """The newest proposals that are not decided, newest first."""
    return list(session.scalars(select(Proposal).where(Proposal.state != "decided")
                                .order_by(Proposal.id.desc()).limit(limit)).all())
