"""Who holds the vote on a proposal: one check for every path.

The dispatcher (``poll.vote`` in the proposal's group), the round-2 ballot
list, the confirmation pages of vote links and the tally all ask here, so a
person is never sent a ballot they would be refused on, and a stance counts
only while its voter holds the vote.
"""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import Select, select, union
from sqlalchemy.orm import Session

from bot.permissions import Policy
from storage.models import Group, Membership

#: The capability a stance needs (see bot.permissions.POLICY).
VOTE = "poll.vote"


class HasGroup(Protocol):
    """Anything that belongs to a group: a Proposal, a ProposalHead."""

    @property
    def group_id(self) -> int: ...


def may_vote(session: Session, person_id: int, proposal: HasGroup, *,
             policy: Policy | None = None) -> bool:
    """Whether ``person_id`` holds ``poll.vote`` in ``proposal``'s group, with
    alliance-wide roles applying as :mod:`bot.permissions` says. The same
    decision :func:`bot.permissions.authorize` makes for the stance itself;
    fails closed (False) when it cannot be decided."""
    try:
        return (policy or Policy()).rule(VOTE).admits(session, person_id=person_id,
                                                      group_id=proposal.group_id)
    except Exception:  # noqa: BLE001 - fail closed, as authorize() does
        return False


def voter_ids(group_id: int, *, policy: Policy | None = None) -> Select[Any]:
    """A SELECT of the ids of people who hold ``poll.vote`` in ``group_id``
    (for ``IN (...)``): a voting role held in the group, or an alliance-wide
    voting role held in the alliance group."""
    rule = (policy or Policy()).rule(VOTE)
    direct = select(Membership.person_id).where(Membership.group_id == group_id,
                                                Membership.role.in_(sorted(rule.in_group)))
    wide = sorted(rule.alliance_wide)
    if not wide:
        return direct
    reach = (select(Membership.person_id).join(Group, Group.id == Membership.group_id)
             .where(Group.is_alliance.is_(True), Membership.role.in_(wide)))
    u = union(direct, reach).subquery()
    return select(u.c.person_id)
