"""The voting rule is declared once (the policy table's roles for ``poll.vote``,
and the alliance-wide roles) and rendered twice: the Python check
(:func:`bot.permissions.authorize`, :func:`bot.polls.voters.may_vote`) and the
SQL of the stance's fast path. Changing the declaration changes both."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from sqlalchemy import select, text

from bot.app import Bot
from bot.members import person_by_email
from bot.permissions import POLICY, Policy
from bot.polls.voters import may_vote
from bot.routing import Declined, Done, FastCall
from bot.types import Actor, Command, Conversation
from storage.models import Group, Person, Proposal, Role
from tests.conftest import CHAIR, MEMBER, OBSERVER, SECRETARIAT
from tests.polls.helpers import new_poll

WHERE = Conversation("console", "", "term", True)
OBSERVERS_VOTE = Policy({**POLICY, "poll.vote": frozenset({Role.MEMBER, Role.OBSERVER})})
NOBODY_WIDE = Policy({**POLICY, "poll.vote": frozenset({Role.MEMBER, Role.CHAIR})},
                     alliance_wide=frozenset())


def _fast_vote(bot: Bot, policy: Policy, email: str, pid: int, eid: str) -> object:
    route = bot.registry.routes.find("command", "vote")
    assert route is not None and route.fast is not None
    services = dataclasses.replace(bot.services, policy=policy)
    with bot.session_factory() as session:
        return route.fast(FastCall(services, session, Command(
            "vote", f"{pid} agree", Actor("console", "", email), WHERE, eid), route,
            f"{pid} agree"))


def test_a_changed_declaration_changes_the_python_check_and_the_sql(
        make_bot: Callable[..., Bot], db_url: str) -> None:
    bot = make_bot(db_url)
    pid = new_poll(bot, SECRETARIAT)
    with bot.session_factory() as s:
        observer = person_by_email(s, OBSERVER)
        assert observer is not None
        proposal = s.get(Proposal, pid)
        assert proposal is not None
        assert not may_vote(s, observer.id, proposal)
        assert may_vote(s, observer.id, proposal, policy=OBSERVERS_VOTE)
    # The fast path's statement: declines the observer under the table as
    # shipped, records their stance once the table lets observers vote.
    assert isinstance(_fast_vote(bot, Policy(), OBSERVER, pid, "o1"), Declined)
    assert isinstance(_fast_vote(bot, OBSERVERS_VOTE, OBSERVER, pid, "o2"), Done)


def test_the_sql_and_the_python_agree_for_every_person_group_and_rule(
        make_bot: Callable[..., Bot], db_url: str) -> None:
    """For every capability of the table (and two changed declarations), every
    roster person and every group: the rule's SQL says what its Python says."""
    bot = make_bot(db_url)
    policies = [Policy(), OBSERVERS_VOTE, NOBODY_WIDE]
    with bot.session_factory() as s:
        dialect = s.get_bind().dialect
        people = s.scalars(select(Person.id)).all()
        groups = s.scalars(select(Group.id)).all()
        assert people and len(groups) > 1
        checked = 0
        for policy in policies:
            for rule in {policy.rule(c) for c in policy.table}:
                sql = text("SELECT " + rule.sql_exists(dialect, person=":p", group=":g"))
                for pid in people:
                    for gid in groups:
                        in_sql = bool(s.execute(sql, {"p": pid, "g": gid}).scalar())
                        assert in_sql is rule.admits(s, person_id=pid, group_id=gid), \
                            (rule, pid, gid)
                        checked += 1
        assert checked > 100
        # And the declaration matters: the chair of the alliance reaches a
        # working group's vote only while alliance-wide roles are declared.
        chair = person_by_email(s, CHAIR)
        member = person_by_email(s, MEMBER)
        assert chair is not None and member is not None
        working = s.scalars(select(Group.id).where(Group.is_alliance.is_(False))).first()
        assert working is not None
        wide = Policy({**POLICY, "poll.vote": frozenset({Role.MEMBER, Role.CHAIR})})
        assert wide.rule("poll.vote").admits(s, person_id=chair.id, group_id=working)
        assert not NOBODY_WIDE.rule("poll.vote").admits(s, person_id=chair.id,
                                                       group_id=working)
