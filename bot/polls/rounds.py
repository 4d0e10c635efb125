"""Rounds: close and outcome, the email round, escalation, the chair's
determination, reminders.

A round closes once: ``closed_at`` is set by a conditional UPDATE, so a job
in two processes, a restart, or an early close racing the deadline cannot
close it twice. Casting a stance takes a shared lock on the round row, so the
close waits for stances being written and counts them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.audit import record
from bot.errors import N_, Conflict, InvalidInput
from bot.i18n import translator
from bot.mail import OutgoingEmail
from bot.members import people_in
from bot.outbox import enqueue_emails
from bot.permissions import Authorized, authorize_system, roles_in
from bot.polls import ballots, emails
from bot.polls.proposals import TEXT_LIMIT, current_text, post
from bot.polls.render import tally_message
from bot.polls.stances import (
    current_round,
    eligible_people,
    eligible_units,
    tally,
    voter_key,
)
from bot.polls.voters import may_vote, voter_ids
from bot.settings import Settings
from bot.text import multi_line
from bot.types import Message
from storage.base import utcnow
from storage.models import Group, Person, Proposal, Role, Round, Stance

log = logging.getLogger(__name__)


def proposal_message(session: Session, proposal: Proposal, *, language: str | None = None,
                     zone: str = "UTC", reader: int | None = None) -> Message:
    """The proposal's current tally Message (in ``language``, default the
    proposal's own). With ``reader`` (a person id) the stance buttons are shown
    only if that person may vote (:func:`bot.polls.voters.may_vote`); without,
    (a post everyone sees) they are shown and each press is checked."""
    rnd = current_round(session, proposal)
    assert rnd is not None
    t = tally(session, proposal=proposal, rnd=rnd)
    can_vote = reader is None or may_vote(session, reader, proposal)
    return tally_message(tr=translator(language or proposal.language), proposal=proposal,
                         rnd=rnd, t=t, text=current_text(proposal), zone=zone,
                         closed=rnd.closed_at is not None, can_vote=can_vote,
                         show_counts=sees_results(session, proposal, rnd, reader=reader))


def sees_results(session: Session, proposal: Proposal, rnd: Round, *,
                 reader: int | None) -> bool:
    """Whether ``reader`` (a person id; None: a post everyone sees, a card in
    a channel) may see ``rnd``'s counts and quorum figure: always once the
    round is closed or when the proposal's results are live; while a hidden
    round is open, only the secretariat (in the proposal's group or
    alliance-wide). Fails closed."""
    if proposal.visibility != "hidden" or rnd.closed_at is not None:
        return True
    if reader is None:
        return False
    try:
        return Role.SECRETARIAT in roles_in(session, person_id=reader,
                                            group_id=proposal.group_id)
    except Exception:
        log.exception("deciding whether person %s sees the results of proposal %s", reader,
                      proposal.id)
        return False


def refresh(session: Session, proposal: Proposal) -> int:
    """Queue a refresh of the tally to every place the proposal was posted
    (coalesced; rendered by :func:`render_tally` when delivered)."""
    return post(session, proposal)


def render_tally(session: Session, args: Mapping[str, Any]) -> Message | None:
    """The ``poll.tally`` renderer: the current tally Message of proposal
    ``args["proposal_id"]``, or None if it is gone."""
    proposal = session.get(Proposal, int(args["proposal_id"]))
    if proposal is None or current_round(session, proposal) is None:
        return None
    return proposal_message(session, proposal)


def _email_people(session: Session, people: list[Person], key: str,
                  build: Callable[[Person], OutgoingEmail]) -> int:
    return len(enqueue_emails(session=session, emails=[
        (f"{key}:p{p.id}"[:255], build(p)) for p in people if p.primary_email]))


def close_round(*, session: Session, actor: Authorized, proposal: Proposal,
                settings: Settings, now: datetime | None = None) -> Round | None:
    """Close the current round now (deadline reached, every unit voted, or the
    secretariat's ``poll close``). Returns the closed round, or None when it was
    already closed. Freezes the tally, sets the outcome, announces it, and on
    failure: after round 1 tells the secretariat (or opens the email round when
    ``polls.auto_email_round``); after round 2 escalates to the chair.
    Never commits."""
    now = now or utcnow()
    rnd = current_round(session, proposal)
    if rnd is None:
        return None
    done = session.execute(update(Round).where(Round.id == rnd.id, Round.closed_at.is_(None))
                           .values(closed_at=now).execution_options(synchronize_session=False))
    if getattr(done, "rowcount", 0) != 1:
        return None
    session.refresh(rnd)
    session.refresh(proposal)
    t = tally(session, proposal=proposal, rnd=rnd, names_limit=1000)
    rnd.result = t.to_json()
    rnd.outcome = t.outcome
    record(session=session, actor=actor, action="poll.close", subject_type="poll",
           subject_id=proposal.id, round=rnd.number, outcome=t.outcome, counts=t.counts,
           eligible=t.eligible)
    group = session.get(Group, proposal.group_id)
    assert group is not None
    everyone = people_in(session, group_id=group.id)
    if t.outcome == "consensus":
        proposal.state, proposal.outcome, proposal.decided_at = "decided", "consensus", now
        _email_people(session, everyone, f"poll:{proposal.id}:outcome",
                      lambda p: emails.announcement(tr=translator(p.language),
                                                    proposal=proposal, person=p))
    elif rnd.number == 1:
        proposal.state = "failed"
        secretariat = people_in(session, roles=[Role.SECRETARIAT])
        _email_people(session, secretariat, f"poll:{proposal.id}:r1:failed",
                      lambda p: _round1_failed(p, proposal, settings))
        if settings.polls.auto_email_round:
            open_email_round(session=session, actor=actor, proposal=proposal,
                             settings=settings, now=now)
    else:
        escalate(session=session, actor=actor, proposal=proposal)
    refresh(session, proposal)
    return rnd


def _round1_failed(person: Person, proposal: Proposal, settings: Settings) -> OutgoingEmail:
    tr = translator(person.language)
    text = "\n".join([
        tr.gettext(N_("Round 1 of proposal #{id} ({title}) closed without consensus."),
                   id=proposal.id, title=proposal.title),
        tr.gettext(N_("Open the email round in chat: poll email-round {id}"), id=proposal.id)])
    return OutgoingEmail(to=(person.primary_email or "",), subject=emails.subject_tag(
        proposal, 1) + " " + tr.gettext(N_("No consensus: {title}"), title=proposal.title),
        text=text)


def open_email_round(*, session: Session, actor: Authorized, proposal: Proposal,
                     settings: Settings, now: datetime | None = None) -> int:
    """Open round 2 by email after a failed round 1 and queue one ballot per
    eligible voter (signed links per stance, reply instructions). Returns the
    number of emails queued. Raises Conflict unless round 1 failed."""
    now = now or utcnow()
    if proposal.state != "failed" or proposal.current_round != 1:
        raise Conflict(N_("Proposal #{id} is not waiting for an email round."), id=proposal.id)
    closes = now + timedelta(hours=settings.polls.email_round_hours)
    previous = current_round(session, proposal)
    rnd = Round(proposal_id=proposal.id, number=2, medium="email", opens_at=now,
                closes_at=closes)
    session.add(rnd)
    proposal.current_round, proposal.state, proposal.closes_at = 2, "open", closes
    session.flush()
    record(session=session, actor=actor, action="poll.email_round", subject_type="poll",
           subject_id=proposal.id, round=2, closes_at=closes.isoformat())
    n = send_ballots(session=session, proposal=proposal, rnd=rnd, settings=settings,
                     previous=previous)
    refresh(session, proposal)
    return n


def send_ballots(*, session: Session, proposal: Proposal, rnd: Round, settings: Settings,
                 previous: Round | None, people: list[Person] | None = None,
                 note_msgid: str = "") -> int:
    """Queue one round-``rnd`` ballot for the proposal's current text version to
    each of ``people`` (default: everyone who holds the vote, the same rule as
    :func:`bot.polls.voters.may_vote`). One outbox key per proposal, text
    version and person, so an edit sends the new text once more. Returns the
    number queued."""
    group = session.get(Group, proposal.group_id)
    assert group is not None
    return _queue_ballots(session=session, settings=settings, proposal=proposal, rnd=rnd,
                          people=people if people is not None
                          else eligible_people(session, group=group),
                          previous=previous, note_msgid=note_msgid)


def _queue_ballots(*, session: Session, settings: Settings, proposal: Proposal, rnd: Round,
                   people: list[Person], previous: Round | None, note_msgid: str = "") -> int:
    """Queue one ballot per person for ``rnd`` on the current text version and
    record each reply binding (:mod:`bot.polls.ballots`). ``note_msgid`` (a
    msgid with ``{id}`` and ``{version}``) goes first in each, translated:
    why the ballot is sent again. Idempotent per (round, version, person).
    Returns how many were queued."""
    text = current_text(proposal)
    kind = "b" if proposal.version == 1 and not note_msgid else f"v{proposal.version}"
    version = f":v{proposal.version}" if proposal.version > 1 else ""
    batch: list[tuple[str, OutgoingEmail]] = []
    refs: dict[str, ballots.BallotRef] = {}
    for p in people:
        if not p.primary_email:
            continue
        tr = translator(p.language)
        note = tr.gettext(note_msgid, id=proposal.id, version=proposal.version) \
            if note_msgid else ""
        mail, ref = emails.ballot(tr=tr, settings=settings, proposal=proposal, rnd=rnd,
                                  text=text, person=p, previous=previous, kind=kind, note=note)
        key = f"poll:{proposal.id}:r{rnd.number}{version}:ballot:p{p.id}"[:255]
        batch.append((key, mail))
        refs[key] = ref
    added = enqueue_emails(session=session, emails=batch)
    for key, _ in batch:
        if key in added:
            ballots.record(session, refs[key])
    return len(added)


#: Why a ballot is sent again after an edit (first line of the new ballot).
EDITED = N_("The text of proposal #{id} changed (now version {version}): stances and replies "
            "on the earlier text no longer count. Here is the new text; take your stance "
            "again.")


def ballots_after_edit(*, session: Session, settings: Settings, proposal: Proposal) -> int:
    """After an edit that opened a new text version in an email round, send
    every voter the new ballot (replies and links for the old text are refused).
    Returns how many were queued (0 outside an email round)."""
    rnd = current_round(session, proposal)
    if rnd is None or rnd.medium != "email" or rnd.closed_at is not None:
        return 0
    group = session.get(Group, proposal.group_id)
    assert group is not None
    previous = session.scalars(select(Round).where(
        Round.proposal_id == proposal.id, Round.number == rnd.number - 1)).first()
    return send_ballots(session=session, settings=settings, proposal=proposal, rnd=rnd,
                        people=eligible_people(session, group=group), previous=previous,
                        note_msgid=EDITED)


def escalate(*, session: Session, actor: Authorized, proposal: Proposal) -> int:
    """Hand a proposal that failed its last round to the chair: the objection
    brief goes to every chair by email. Returns the number of briefs queued."""
    proposal.state = "escalated"
    rounds = list(session.scalars(select(Round).where(Round.proposal_id == proposal.id)
                                  .order_by(Round.number)).all())
    record(session=session, actor=actor, action="poll.escalate", subject_type="poll",
           subject_id=proposal.id, rounds=len(rounds))
    chairs = people_in(session, roles=[Role.CHAIR])
    text = current_text(proposal)
    return _email_people(session, chairs, f"poll:{proposal.id}:brief",
                         lambda p: emails.brief(tr=translator(p.language), proposal=proposal,
                                                text=text, rounds=rounds, person=p))


def determine(*, session: Session, actor: Authorized, proposal: Proposal, decision: str,
              note: str, chair: Person) -> None:
    """Record the chair's final determination (``upheld`` or ``rejected``) on an
    escalated proposal, and announce it. Raises InvalidInput for another word or
    an empty note, Conflict when the proposal is not escalated."""
    decision = decision.strip().lower()
    if decision not in ("upheld", "rejected"):
        raise InvalidInput(N_("The determination is upheld or rejected, then a note."))
    note = multi_line(note)
    if not note:
        raise InvalidInput(N_("Add a note that explains the determination."))
    if len(note) > TEXT_LIMIT:
        raise InvalidInput(N_("The note is {n} characters long; keep it to {limit}."),
                           n=len(note), limit=TEXT_LIMIT)
    if proposal.state != "escalated":
        raise Conflict(N_("Proposal #{id} is not escalated to the chair."), id=proposal.id)
    now = utcnow()
    proposal.state, proposal.outcome, proposal.decided_at = "decided", decision, now
    proposal.determination_note, proposal.determined_by = note, chair.id
    record(session=session, actor=actor, action="poll.determine", subject_type="poll",
           subject_id=proposal.id, decision=decision, note=proposal.determination_note)
    everyone = people_in(session, group_id=proposal.group_id)
    _email_people(session, everyone, f"poll:{proposal.id}:determination",
                  lambda p: emails.announcement(tr=translator(p.language), proposal=proposal,
                                                person=p, note=note.strip()))
    refresh(session, proposal)


def due_rounds(session: Session, *, now: datetime) -> list[int]:
    """Ids of proposals whose current round is open and past its close."""
    return list(session.scalars(
        select(Proposal.id).join(Round, (Round.proposal_id == Proposal.id)
                                 & (Round.number == Proposal.current_round))
        .where(Proposal.state == "open", Round.closed_at.is_(None), Round.closes_at <= now)
        .order_by(Proposal.id)).all())


def close_due(session_factory: sessionmaker[Session], settings: Settings,
              *, now: datetime | None = None) -> int:
    """Close every round past its deadline, and every open round in which each
    voting unit has a stance, each in its own unit of work. Returns how many
    were closed (0 for those another process closed first)."""
    now = now or utcnow()
    with session_factory() as session:
        ids = due_rounds(session, now=now)
    closed = 0
    for pid in ids:
        with session_factory() as session, session.begin():
            proposal = session.get(Proposal, pid)
            if proposal is None:
                continue
            actor = authorize_system(capability="poll.manage", channel="job",
                                     group_id=proposal.group_id)
            closed += close_round(session=session, actor=actor, proposal=proposal,
                                  settings=settings, now=now) is not None
    # A backstop for early closes: a round every unit has voted in closes now.
    with session_factory() as session:
        still_open = session.scalars(select(Proposal.id).where(Proposal.state == "open")).all()
    for pid in still_open:
        if pid not in ids:
            closed += close_if_complete(session_factory, settings, pid)
    return closed


def _voting_unit(session: Session, group_id: int) -> str:
    group = session.get(Group, group_id)
    assert group is not None
    return group.voting_unit


def close_if_complete(session_factory: sessionmaker[Session], settings: Settings,
                      proposal_id: int) -> bool:
    """Close the current round early when every voting unit has a stance (in
    its own unit of work, after the stance's commit). Returns True if closed."""
    with session_factory() as session, session.begin():
        proposal = session.get(Proposal, proposal_id)
        if proposal is None or proposal.state != "open":
            return False
        rnd = current_round(session, proposal)
        if rnd is None or rnd.closed_at is not None:
            return False
        # Two counts first; the close itself counts again, in full.
        eligible = eligible_units(session, group_id=proposal.group_id,
                                  voting_unit=_voting_unit(session, proposal.group_id))
        cast = session.scalar(select(func.count(Stance.id)).where(
            Stance.round_id == rnd.id, Stance.version == proposal.version,
            Stance.person_id.in_(voter_ids(proposal.group_id)))) or 0
        if eligible == 0 or cast < eligible:
            return False
        actor = authorize_system(capability="poll.manage", channel="job",
                                 group_id=proposal.group_id)
        return close_round(session=session, actor=actor, proposal=proposal,
                           settings=settings) is not None


def send_reminders(session: Session, *, settings: Settings, now: datetime | None = None) -> int:
    """Queue reminders for open rounds at each ``polls.reminder_hours`` offset
    before the close, only to people whose voting unit has no stance on the
    current text. Idempotent (one outbox key per round, version, offset and
    person). Returns how many were queued."""
    now = now or utcnow()
    queued = 0
    rows = session.execute(
        select(Proposal, Round).join(Round, (Round.proposal_id == Proposal.id)
                                     & (Round.number == Proposal.current_round))
        .where(Proposal.state == "open", Round.closed_at.is_(None), Round.closes_at > now)
    ).all()
    for proposal, rnd in rows:
        group = session.get(Group, proposal.group_id)
        assert group is not None
        due = [h for h in settings.polls.reminder_hours
               if rnd.closes_at - timedelta(hours=h) <= now
               and rnd.opens_at < rnd.closes_at - timedelta(hours=h)]
        if not due:
            continue
        hours = min(due)
        voted = set(session.scalars(select(Stance.voter_key).where(
            Stance.round_id == rnd.id, Stance.version == proposal.version)).all())
        batch: list[tuple[str, OutgoingEmail]] = []
        refs: dict[str, ballots.BallotRef | None] = {}
        for p in eligible_people(session, group=group):
            if voter_key(p, group) in voted or not p.primary_email:
                continue
            key = f"poll:{proposal.id}:r{rnd.number}:v{proposal.version}:remind{hours}:p{p.id}"
            mail, refs[key] = emails.reminder(tr=translator(p.language), settings=settings,
                                              proposal=proposal, rnd=rnd, person=p,
                                              hours=hours)
            batch.append((key, mail))
        added = enqueue_emails(session=session, emails=batch)
        queued += len(added)
        for key, _ in batch:
            ref = refs[key]
            if key in added and ref is not None:
                ballots.record(session, ref)
    return queued
