"""The sign-up counts on the sprint row (kept by triggers, migration
sprint_0960_counts) equal a count of the rows after any mix of what changes
sign-ups, on SQLite and PostgreSQL, and a writer killed mid-transaction
leaves them as they were (the migration's backfill: tests/storage)."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select, update

from bot.app import Bot
from bot.sprints import offers as offer_service
from storage.base import utcnow
from storage.models import EmailAddress, Person, Sprint, SprintSignup
from tests.conftest import ROOT, SECRETARIAT
from tests.sprints.helpers import add_members, command, open_sprint, press

_S = SprintSignup
ACTIVE = ("seated", "offered", "waitlisted")


def stored_and_counted(bot: Bot, sid: int) -> tuple[tuple[object, ...], tuple[object, ...]]:
    """(the counts on the sprint row, the same counted from its sign-ups)."""
    with bot.session_factory() as s:
        stored = s.execute(select(Sprint.held_count, Sprint.waitlisted_count,
                                  Sprint.ahead_count, Sprint.lead_count)
                           .where(Sprint.id == sid)).one()
        counted = s.execute(select(
            func.count().filter(_S.status.in_(("seated", "offered"))),
            func.count().filter(_S.status == "waitlisted"),
            func.count().filter(_S.status == "waitlisted", _S.priority >= 0),
            func.count().filter(_S.role == "lead", _S.status.in_(ACTIVE)),
        ).where(_S.sprint_id == sid)).one()
    return tuple(stored), tuple(counted)


def last_asked(bot: Bot, sid: int) -> tuple[object, object]:
    with bot.session_factory() as s:
        return (s.scalar(select(Sprint.last_asked_at).where(Sprint.id == sid)),
                s.scalar(select(func.max(_S.asked_at)).where(_S.sprint_id == sid)))


@pytest.mark.parametrize("org_cap", [0, 2])
def test_counts_equal_the_rows_after_random_mixes(bot: Bot, org_cap: int) -> None:
    rng = random.Random(24 + org_cap)
    emails = add_members(bot, 24, orgs=6)
    sids = [open_sprint(bot, capacity=4, org_cap=org_cap) for _ in range(2)]
    removed = False
    for step in range(90):
        sid = rng.choice(sids)
        who = rng.choice(emails)
        kind = rng.choice(["join", "join", "join", "lead", "party", "leave", "leave",
                           "accept", "decline", "priority", "capacity", "expire", "remove"])
        if kind in ("join", "lead"):
            press(bot, who, "sprint.join", f"{sid}:{'lead' if kind == 'lead' else 'contributor'}")
        elif kind == "party":
            pals = rng.sample([e for e in emails if e != who], 2)
            command(bot, who, f"sprint join {sid} with {', '.join(pals)}")
        elif kind in ("leave", "accept", "decline"):
            command(bot, who, f"sprint {kind} {sid}")
        elif kind == "priority":
            command(bot, SECRETARIAT, f"sprint priority {sid} {who} {rng.randint(-3, 3)}")
        elif kind == "capacity":  # no route changes it; an operator might, in the database
            with bot.session_factory() as s, s.begin():
                s.execute(update(Sprint).where(Sprint.id == sid)
                          .values(capacity=rng.randint(2, 6)))
        elif kind == "expire":
            offer_service.expire_due(bot.session_factory, bot.settings,
                                     now=utcnow() + timedelta(days=5))
        elif step > 30:  # a person leaves the roster: their sign-ups go by cascade
            with bot.session_factory() as s, s.begin():
                pid = s.scalar(select(EmailAddress.person_id)
                               .where(EmailAddress.address == who))
                s.execute(delete(Person).where(Person.id == pid))
            emails.remove(who)
            removed = True
        for each in sids:
            stored, counted = stored_and_counted(bot, each)
            assert stored == counted, (step, kind, each)
    with bot.session_factory() as s:
        kinds = set(s.scalars(select(_S.status)).all())
    assert {"seated", "waitlisted", "withdrawn"} <= kinds  # the mix did move rows
    assert removed
    for each in sids:
        kept, newest = last_asked(bot, each)
        assert kept is not None and newest is not None and kept >= newest  # type: ignore[operator]


KILLED = """
import os, sys
from datetime import UTC, datetime
from sqlalchemy import insert, select
from storage.engine import make_engine, make_session_factory
from storage.models import Person, SprintSignup
factory = make_session_factory(make_engine(sys.argv[1]))
with factory() as s:
    s.begin()
    ids = s.scalars(select(Person.id).order_by(Person.id).limit(3)).all()
    now = datetime.now(UTC)
    for pid in ids:
        s.execute(insert(SprintSignup).values(sprint_id=int(sys.argv[2]), person_id=pid,
                                              status="waitlisted", asked_at=now,
                                              updated_at=now))
    s.flush()
    print("written", flush=True)
    os.kill(os.getpid(), 9)  # kill -9 before the commit
"""


def test_a_writer_killed_mid_transaction_leaves_the_counts_right(bot: Bot,
                                                                  db_url: str) -> None:
    emails = add_members(bot, 2)
    sid = open_sprint(bot, capacity=1)
    press(bot, emails[0], "sprint.join", f"{sid}:contributor")
    press(bot, emails[1], "sprint.join", f"{sid}:contributor")
    before = stored_and_counted(bot, sid)
    assert before[0] == before[1] == (1, 1, 1, 0)
    run = subprocess.run([sys.executable, "-c", KILLED, db_url, str(sid)],
                         capture_output=True, text=True, timeout=60, cwd=ROOT,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert run.returncode == -9 and "written" in run.stdout, (run.stdout, run.stderr)
    assert stored_and_counted(bot, sid) == before
