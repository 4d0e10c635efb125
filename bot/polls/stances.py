"""Stances and tallies: one stance per voting unit per round, on every channel.

The UNIQUE (round, voter_key) constraint holds the rule in the database; a
stance is written with an upsert (``INSERT ... ON CONFLICT DO UPDATE``), so
two concurrent stances of one voter, by chat and by email, leave one row (the
last one counts) on PostgreSQL and SQLite alike.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, case, distinct, func, select
from sqlalchemy.orm import Session, selectinload

from bot.errors import N_, Conflict, InvalidInput, NotFound, PermissionDenied
from bot.numbers import fits, id_number
from bot.permissions import Authorized, PersonRef
from bot.polls.voters import voter_ids
from bot.polls.words import split_stance, stance_word
from bot.polls.write import cast_in_round, core_connection
from bot.text import multi_line
from storage.base import utcnow
from storage.models import Group, Person, Proposal, Round, Stance

STANCES = ("agree", "abstain", "disagree", "block")
NEEDS_REASON = frozenset({"disagree", "block"})

#: Stance names for people, by stance word.
STANCE_LABELS = {
    "agree": N_("Agree"),
    "abstain": N_("Abstain"),
    "disagree": N_("Disagree"),
    "block": N_("Block"),
}


def parse_stance(word: str) -> str:
    """``agree|abstain|disagree|block``, or a stance word of any language
    (:func:`bot.polls.words.stance_word`: ``bloquer``, ``bloqueo``). Raises
    InvalidInput otherwise."""
    found = stance_word(word)
    if found is None:
        raise InvalidInput(N_("{word!r} is not a stance: use agree, abstain, disagree or "
                              "block."), word=word)
    return found


def parse_chat_stance(text: str) -> tuple[str, str]:
    """What follows ``vote ID`` as ``(stance, reason)``: a stance phrase of any
    language (``pas d'accord trop cher``, ``en desacuerdo``). Raises InvalidInput
    naming the words to use."""
    found = split_stance(text)
    if found is None:
        raise InvalidInput(N_("{word!r} is not a stance: use agree, abstain, disagree or "
                              "block."), word=(text.split() or [""])[0])
    return found


def voter_key(person: Person, group: Group) -> str:
    """``o:<organisation id>`` when ``group`` votes by organisation and the person
    has one; else ``p:<person id>``."""
    if group.voting_unit == "organisation" and person.organisation_id is not None:
        return f"o:{person.organisation_id}"
    return f"p:{person.id}"


def eligible_count(session: Session, *, group: Group) -> int:
    """How many voting units ``group`` has (see :func:`eligible_units`)."""
    return eligible_units(session, group_id=group.id, voting_unit=group.voting_unit)


def eligible_units(session: Session, *, group_id: int, voting_unit: str) -> int:
    """How many voting units a group has: the people who hold the vote in it
    (:func:`bot.polls.voters.voter_ids`), or their distinct organisations (a
    voter without one counts alone)."""
    base = (select(Person.id, Person.organisation_id)
            .where(Person.id.in_(voter_ids(group_id))))
    if voting_unit != "organisation":
        return session.scalar(select(func.count(distinct(base.subquery().c.id)))) or 0
    sub = base.subquery()
    unit = case((sub.c.organisation_id.is_not(None), -sub.c.organisation_id), else_=sub.c.id)
    return session.scalar(select(func.count(distinct(unit)))) or 0


def eligible_people(session: Session, *, group: Group) -> list[Person]:
    """Every person who holds the vote in ``group`` (the same rule as
    :func:`bot.polls.voters.may_vote`), by name."""
    q = select(Person).where(Person.id.in_(voter_ids(group.id))).options(
        selectinload(Person.emails), selectinload(Person.organisation))
    return list(session.scalars(q.order_by(Person.name, Person.id)).all())


def current_round(session: Session, proposal: Proposal, *, lock: bool = False) -> Round | None:
    """The proposal's current round; ``lock`` takes a shared row lock
    (PostgreSQL) so that a close waits for stances being written."""
    q = select(Round).where(Round.proposal_id == proposal.id,
                            Round.number == proposal.current_round)
    if lock:
        q = q.with_for_update(read=True)
    return session.scalars(q).first()


@dataclass(frozen=True, slots=True)
class Cast:
    """A stance as written: ``previous`` is the unit's stance before, or None;
    ``counts``: stance -> number on the current text version, as this unit of
    work sees them (stances in flight elsewhere are not in them)."""

    round_id: int
    round_no: int
    voter_key: str
    stance: str
    previous: str | None
    voting_unit: str
    posted: bool
    #: The round's stances on the current text version, this one included.
    counts: dict[str, int]
    #: The proposal's results are hidden until the close: a confirmation shows
    #: no count (:func:`results_hidden`).
    hidden: bool = False


def cast_stance(
    *,
    session: Session,
    actor: Authorized,
    person: Person | PersonRef,
    proposal: Proposal | ProposalHead,
    round_no: int,
    stance: str,
    reason: str = "",
) -> Cast:
    """Record ``person``'s stance in round ``round_no`` (the last one counts).

    ``actor`` must hold ``poll.vote`` in the proposal's group (observers never
    do). Raises PermissionDenied, Conflict (round closed or not current),
    InvalidInput (unknown stance; disagree/block without ``reason``). Writes an
    audit row with the channel and the previous stance (see bot.polls.write:
    on PostgreSQL the round check, the read of the previous stance, the upsert,
    the audit row and the counts are one statement). Never commits.

    The round row is read with a shared lock (PostgreSQL ``FOR SHARE``): stances
    proceed side by side, while a close (an UPDATE of that row) waits for them.
    """
    if (actor.capability != "poll.vote" or actor.group_id != proposal.group_id
            or actor.person_id != person.id):
        raise PermissionDenied(N_("Only members of the proposal's group can take a stance."))
    stance = parse_stance(stance)
    reason = multi_line(reason)[:4000]
    if stance in NEEDS_REASON and not reason:
        raise InvalidInput(N_("A {stance} needs a reason: say what would change your mind."),
                           stance=stance)
    now = utcnow()
    found = None
    if proposal.state == "open":
        found = cast_in_round(session, values={
            "proposal_id": proposal.id, "group_id": proposal.group_id,
            "number": proposal.current_round, "round_no": round_no, "person_id": person.id,
            "org": person.organisation_id, "stance": stance, "reason": reason,
            "channel": actor.channel, "version": proposal.version,
            "subject_id": str(proposal.id), "now": now,
        }, detail={"version": proposal.version, "stance": stance, "reason": reason})
    if found is None or found.number != round_no:
        raise Conflict(N_("Round {round} of proposal #{id} is not open; your stance was not "
                          "recorded."), round=round_no, id=proposal.id)
    if not found.written or found.counts is None:
        raise Conflict(N_("Round {round} of proposal #{id} is closed; your stance was not "
                          "recorded."), round=round_no, id=proposal.id)
    before = found.previous
    return Cast(found.round_id, found.number, found.voter_key, stance,
                before[0] if before else None, found.voting_unit,
                bool(proposal.origin_channel or found.channels), found.counts,
                proposal.visibility == "hidden")


def eligible_cached(session: Session, *, group_id: int, voting_unit: str,
                    cache: dict[tuple[int, str], tuple[float, int]],
                    ttl: float = 30.0) -> int:
    """:func:`eligible_units`, kept in ``cache`` per (group, unit) for ``ttl``
    seconds: it changes only with the roster, and the early close recounts it
    exactly before closing."""
    key = (group_id, voting_unit)
    now = time.monotonic()
    hit = cache.get(key)
    if hit is not None and now - hit[0] < ttl:
        return hit[1]
    eligible = eligible_units(session, group_id=group_id, voting_unit=voting_unit)
    cache[key] = (now, eligible)
    return eligible


@dataclass
class Tally:
    """A round's tally. ``counts``: stance -> number (current text version only);
    ``dissent`` and ``blocks``: (name, reason) pairs; ``eligible``: voting units."""

    proposal_id: int
    round_no: int
    counts: dict[str, int]
    eligible: int
    quorum_percent: int
    rule: str
    dissent: list[tuple[str, str]] = field(default_factory=list)
    blocks: list[tuple[str, str]] = field(default_factory=list)
    names: dict[str, list[str]] = field(default_factory=dict)

    @property
    def cast(self) -> int:
        return sum(self.counts.values())

    @property
    def quorum_needed(self) -> int:
        """Units needed for quorum (ceil of percent of eligible; at least 1)."""
        return max(1, -(-self.eligible * self.quorum_percent // 100))

    @property
    def quorum_met(self) -> bool:
        return self.cast >= self.quorum_needed

    @property
    def complete(self) -> bool:
        return self.eligible > 0 and self.cast >= self.eligible

    @property
    def outcome(self) -> str:
        """``consensus`` (quorum met, no block; under ``unanimity`` no disagree
        either) or ``not_reached``."""
        ok = self.quorum_met and not self.counts.get("block")
        if self.rule == "unanimity":
            ok = ok and not self.counts.get("disagree")
        return "consensus" if ok else "not_reached"

    def to_json(self) -> dict[str, Any]:
        """The JSON frozen into ``Round.result`` at the close."""
        return {"counts": dict(self.counts), "eligible": self.eligible, "cast": self.cast,
                "quorum_percent": self.quorum_percent, "quorum_needed": self.quorum_needed,
                "quorum_met": self.quorum_met, "outcome": self.outcome,
                "dissent": [list(d) for d in self.dissent],
                "blocks": [list(b) for b in self.blocks]}


def tally(session: Session, *, proposal: Proposal, rnd: Round, names_limit: int = 25) -> Tally:
    """Count the stances of ``rnd`` cast on the proposal's current text version
    by people who hold the vote now (a stance cast while a member no longer
    counts once the membership is gone; it stays in the audit log).

    ``names`` lists up to ``names_limit`` voters per stance (for live display);
    every disagree and block reason is returned in ``dissent``/``blocks``.
    """
    group = session.get(Group, proposal.group_id)
    assert group is not None
    where = (Stance.round_id == rnd.id, Stance.version == proposal.version,
             Stance.person_id.in_(voter_ids(proposal.group_id)))
    counts = dict.fromkeys(STANCES, 0)
    for stance, n in session.execute(select(Stance.stance, func.count(Stance.id))
                                     .where(*where).group_by(Stance.stance)).all():
        counts[stance] = int(n)
    t = Tally(proposal.id, rnd.number, counts, eligible_count(session, group=group),
              proposal.quorum_percent, proposal.rule)
    for stance, reason, name in session.execute(
            select(Stance.stance, Stance.reason, Person.name).join(Person)
            .where(*where, Stance.stance.in_(sorted(NEEDS_REASON))).order_by(Stance.id)).all():
        (t.blocks if stance == "block" else t.dissent).append((name, reason))
    for stance, name in session.execute(
            select(Stance.stance, Person.name).join(Person).where(*where)
            .order_by(Stance.updated_at.desc()).limit(names_limit * 4)).all():
        bucket = t.names.setdefault(stance, [])
        if len(bucket) < names_limit:
            bucket.append(name)
    return t


def stance_of(session: Session, *, proposal: Proposal, rnd: Round, person: Person) -> Stance | None:
    """The stance that counts for ``person``'s voting unit in ``rnd``, or None."""
    group = session.get(Group, proposal.group_id)
    assert group is not None
    return session.scalars(select(Stance).where(
        Stance.round_id == rnd.id, Stance.voter_key == voter_key(person, group))).first()


@dataclass(frozen=True, slots=True)
class ProposalHead:
    """The columns of a proposal that a stance needs, read without the ORM
    (no identity map, no attribute instrumentation): a stance is the hot path."""

    id: int
    group_id: int
    state: str
    current_round: int
    version: int
    origin_channel: str
    visibility: str = "live"


_HEAD = select(Proposal.id, Proposal.group_id, Proposal.state, Proposal.current_round,
               Proposal.version, Proposal.origin_channel, Proposal.visibility).where(
    Proposal.id == bindparam("proposal_id"))


def find_proposal_head(session: Session, proposal_id: int | str) -> ProposalHead:
    """The :class:`ProposalHead` of proposal ``proposal_id``, read once per unit
    of work (the route's scope and its handler share it). Raises NotFound (also
    for a non-number). Use :func:`find_proposal` for anything that changes it."""
    pid = proposal_number(proposal_id)
    memo: dict[int, ProposalHead] = session.info.setdefault("polls.heads", {})
    head = memo.get(pid)
    if head is None:
        row = core_connection(session).execute(_HEAD, {"proposal_id": pid}).first()
        if row is None:
            raise NotFound(N_("There is no proposal #{id}."), id=pid)
        head = memo[pid] = ProposalHead(*row)
    return head


def proposal_number(proposal_id: int | str) -> int:
    """The proposal id in ``12`` or ``#12`` (ASCII digits, within the id column:
    :mod:`bot.numbers`). Raises NotFound for anything else."""
    pid = id_number(proposal_id)
    if pid is None or not fits(pid):
        raise NotFound(N_("There is no proposal #{id}."), id=str(proposal_id).lstrip("#"))
    return pid


def find_proposal(session: Session, proposal_id: int | str) -> Proposal:
    """The proposal with that id. Raises NotFound (also for a non-number)."""
    pid = proposal_number(proposal_id)
    proposal = session.get(Proposal, pid)
    if proposal is None:
        raise NotFound(N_("There is no proposal #{id}."), id=pid)
    # A strong reference for the unit of work, so the route's scope and its
    # handler share one load (the identity map holds objects weakly).
    session.info.setdefault("polls.loaded", []).append(proposal)
    return proposal
