"""The polls section of a person's home page (a chat platform's home tab):
open proposals they can see, and those still waiting for their stance,
each with its stance buttons."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.errors import PermissionDenied
from bot.permissions import authorize
from bot.polls.render import when
from bot.polls.stances import STANCE_LABELS, STANCES, voter_key
from bot.registry import HomeContext
from bot.types import Actions, Block, Button, Header, Section, SmallPrint, Span, Strong
from storage.models import Group, Person, Proposal, Round, Stance

MAX_SHOWN = 10


def polls_section(ctx: HomeContext) -> list[Block]:
    """Open proposals (at most ten), pending stances first, with buttons for those."""
    session, person = ctx.session, ctx.person
    rows = session.execute(
        select(Proposal, Round).join(Round, (Round.proposal_id == Proposal.id)
                                     & (Round.number == Proposal.current_round))
        .where(Proposal.state == "open", Round.closed_at.is_(None))
        .order_by(Round.closes_at)).all()
    pending: list[Block] = []
    others: list[Block] = []
    groups = {g.id: g for g in session.scalars(select(Group).where(
        Group.id.in_({p.group_id for p, _ in rows})))} if rows else {}
    stances = _stances(session, person, [(rnd, groups[p.group_id]) for p, rnd in rows])
    for proposal, rnd in rows:
        try:
            authorize(session=session, person=person, capability="poll.view",
                      group_id=proposal.group_id, channel="web")
        except PermissionDenied:
            continue
        group = groups.get(proposal.group_id)
        closes = ctx._("closes {when}", when=when(rnd.closes_at, person.timezone,
                                                  person.language))
        line: list[str | Span] = [Strong(f"#{proposal.id} {proposal.title}"),
                                  f" ({group.name if group else ''}, {closes})"]
        try:
            authorize(session=session, person=person, capability="poll.vote",
                      group_id=proposal.group_id, channel="web")
            can_vote = True
        except PermissionDenied:
            can_vote = False
        mine = stances.get((rnd.id, voter_key(person, group))) if can_vote and group \
            else None
        if mine is not None and mine.version != proposal.version:
            mine = None  # a stance on an earlier text no longer counts: ask again
        if can_vote and mine is None and rnd.medium == "chat":
            pending.append(Section((*line, "\n" + ctx._("Waiting for your stance."))))
            pending.append(Actions(tuple(
                Button(ctx._(STANCE_LABELS[s]), "poll.stance",
                       f"{proposal.id}:{rnd.number}:{proposal.version}:{s}",
                       style="danger" if s == "block" else "default") for s in STANCES)))
        else:
            note = (ctx._("Your stance: {stance}.", stance=ctx._(STANCE_LABELS[mine.stance]))
                    if mine is not None else ctx._("You follow this proposal as an observer.")
                    if not can_vote else ctx._("Voting by email in this round."))
            others.append(Section((*line, f"\n{note}")))
    if not pending and not others:
        return [Header(ctx._("Consensus polls")), SmallPrint(ctx._("No proposal is open."))]
    blocks: list[Block] = [Header(ctx._("Consensus polls"))]
    return blocks + (pending + others)[: MAX_SHOWN * 2]





def _stances(session: Session, person: Person, rounds: list[tuple[Round, Group]]
             ) -> dict[tuple[int, str], Stance]:
    """The stances of ``person``'s voting unit in each of ``rounds`` (as
    :func:`bot.polls.stances.stance_of` finds them), by (round id, voter
    key), in one statement rather than one a proposal."""
    if not rounds:
        return {}
    keys = {voter_key(person, g) for _, g in rounds}
    return {(st.round_id, st.voter_key): st for st in session.scalars(select(Stance).where(
        Stance.round_id.in_({r.id for r, _ in rounds}), Stance.voter_key.in_(keys)))}
