"""PostgreSQL: stances across a dropped connection, and counts under a burst.

No ``pool_pre_ping``: a connection the server closed while it was idle is
replaced at checkout (a ``poll()``, no round trip), and one found dropped by
the unit of work is run again once. Kept counts (poll_round_counts, kept by
triggers) equal a recount after concurrent stances, stance changes and a
text-version change.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text

from bot.app import Bot
from bot.compose import build_app
from bot.roster import import_roster_file
from bot.types import Actor, ButtonPress, Command, Conversation, FormSubmission
from storage.engine import make_engine, make_session_factory, normalise_url
from storage.models import (
    AuditEntry,
    EmailAddress,
    Group,
    Membership,
    Person,
    ProcessedEvent,
    Role,
    RoundCount,
    Stance,
)
from tests.conftest import (
    EXAMPLES,
    MEMBER,
    MEMBER_ES,
    MEMBER_FR,
    SECRETARIAT,
    _truncate_pg,
    make_settings,
)
from tests.polls.helpers import new_poll

WHERE = Conversation("console", "", "c", is_direct=True)
PRIYA = "priya.nair@carbonledger.example"


@pytest.fixture
def pg_url(_pg_database: str) -> str:
    """The session's PostgreSQL scratch database, emptied (these tests are
    about PostgreSQL connections: they do not run on SQLite at all)."""
    engine = make_engine(_pg_database)
    _truncate_pg(engine)
    engine.dispose()
    return _pg_database


def _pg_bot(url: str, tmp_path: Path, *, check_on_checkout: bool) -> Bot:
    bot = build_app(make_settings(url, tmp_path),
                    engine=make_engine(url, check_on_checkout=check_on_checkout))
    with bot.session_factory() as s, s.begin():
        import_roster_file(session=s, path=EXAMPLES / "roster.csv", alliance_name="Alliance")
    return bot


def _terminate_backends(url: str) -> int:
    """Terminate every other backend of the database (as a server restart would)."""
    admin = create_engine(normalise_url(url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        n = conn.execute(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar_one()
    admin.dispose()
    return int(n)


def _vote(bot: Bot, who: str, line: str, eid: str) -> str:
    replies = bot.dispatch(Command("vote", line, Actor("console", "", who), WHERE, eid))
    return replies[0].message.text if replies else ""


def _rows(bot: Bot) -> tuple[int, int, int]:
    with bot.session_factory() as s:
        return (s.scalar(select(func.count(Stance.id))) or 0,
                s.scalar(select(func.count(AuditEntry.id)).where(
                    AuditEntry.action.like("poll.stance%"))) or 0,
                s.scalar(select(func.count(ProcessedEvent.id))) or 0)


@pytest.mark.parametrize("check_on_checkout", [True, False],
                         ids=["checkout-poll", "unit-of-work-retry"])
def test_a_terminated_backend_between_two_stances(pg_url: str, tmp_path: Path,
                                                  check_on_checkout: bool) -> None:
    bot = _pg_bot(pg_url, tmp_path, check_on_checkout=check_on_checkout)
    try:
        pid = new_poll(bot, SECRETARIAT)
        assert "round 1: Agree" in _vote(bot, MEMBER, f"{pid} agree", "a")
        before = _rows(bot)
        assert _terminate_backends(pg_url) >= 1
        # the fast path (one autocommitted statement) on a pooled connection
        # whose backend is gone: it still succeeds, once
        out = _vote(bot, MEMBER_FR, f"{pid} abstain", "b")
        assert out.startswith("Votre position sur la proposition"), out
        assert "1" in out.splitlines()[1]
        stances, audits, events = _rows(bot)
        assert (stances, audits, events) == (before[0] + 1, before[1] + 1, before[2] + 1)
        # the general path (a reason form) likewise
        assert _terminate_backends(pg_url) >= 1
        replies = bot.dispatch(FormSubmission(
            "poll.reason", (("reason", "Not before the trials"),),
            Actor("console", "", MEMBER_ES), WHERE, "c", context=f"{pid}:1:1:block"))
        assert "round 1" in replies[0].message.text.lower() or "ronda 1" in \
            replies[0].message.text, replies[0].message.text
        assert _rows(bot) == (stances + 1, audits + 1, events + 1)
        # and a retry of the same event after the drop is still dropped
        assert _terminate_backends(pg_url) >= 1
        assert _vote(bot, MEMBER_FR, f"{pid} abstain", "b") == ""
        assert _rows(bot) == (stances + 1, audits + 1, events + 1)
    finally:
        bot.leadership.stop()
        bot.engine.dispose()


def _add_voters(bot: Bot, n: int) -> list[str]:
    with bot.session_factory() as s, s.begin():
        alliance = s.scalars(select(Group).where(Group.is_alliance.is_(True))).one()
        emails = []
        for i in range(n):
            p = Person(name=f"Voter {i:03d}", language="en", timezone="UTC", interests=[])
            p.emails.append(EmailAddress(address=f"v{i:03d}@burst.example"))
            s.add_all([p, Membership(person=p, group=alliance, role=Role.MEMBER)])
            emails.append(f"v{i:03d}@burst.example")
    bot.caches.clear()
    return emails


def test_kept_counts_equal_a_recount_after_a_concurrent_burst(pg_url: str,
                                                              make_bot: Callable[..., Bot]
                                                              ) -> None:
    bot = make_bot(pg_url)
    voters = _add_voters(bot, 130)[:120]  # ten never vote: the round stays open
    pid = new_poll(bot, SECRETARIAT)
    rng = random.Random(16)
    stances = ("agree", "abstain", "disagree", "block")
    passes: list[list[Any]] = []
    for round_trip in range(3):
        plan: list[Any] = []
        for v in [*voters, MEMBER, MEMBER_FR, PRIYA]:
            st = rng.choice(stances)
            eid = f"{v}:{round_trip}"
            actor = Actor("console", "", v)
            if st in ("disagree", "block") and rng.random() < 0.5:
                plan.append(FormSubmission("poll.reason", (("reason", "Because"),), actor,
                                           WHERE, eid, context=f"{pid}:1:{st}"))
            elif st in ("agree", "abstain") and rng.random() < 0.5:
                plan.append(ButtonPress("poll.stance", f"{pid}:1:{st}", actor, WHERE, eid))
            else:
                plan.append(Command("vote", f"{pid} {st} reason {round_trip}", actor, WHERE,
                                    eid))
        passes.append(plan)
    wrong: list[str] = []
    edited: list[str] = []
    lock = threading.Lock()

    def one(ev: Any) -> None:
        if ev == "edit":
            out = bot.dispatch(Command("poll", f"edit {pid} We adopt v3 instead.",
                                       Actor("console", "", SECRETARIAT), WHERE, "edit"))
            edited.append(out[0].message.text)
            return
        replies = bot.dispatch(ev)
        body = replies[0].message.text if replies else ""
        ok = any(w in body for w in ("round 1:", "tour 1", "changed", "a changé"))
        if not ok:
            with lock:
                wrong.append(body)

    # the text changes while the second pass is under way; the third is on version 2
    for number, plan in enumerate(passes):
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(one, ["edit", *plan] if number == 1 else plan))
    assert edited and "text version 2" in edited[0], edited
    assert not wrong, wrong[:3]
    kept, recount = _kept_and_recount(pg_url)
    # stances were cast on both text versions and moved from the first to the second
    assert {v for _r, v, _s in kept} == {1, 2}, recount
    assert sum(recount.values()) == len(voters) + 3
    assert {k: n for k, n in kept.items() if n} == recount


Counts = dict[tuple[int, int, str], int]


def _kept_and_recount(url: str) -> tuple[Counts, Counts]:
    """The kept counts (summed over shards) and a recount of poll_stances, by
    (round, version, stance)."""
    engine = make_engine(url)
    with make_session_factory(engine)() as s:
        recount = {(r, v, st): n for r, v, st, n in s.execute(
            select(Stance.round_id, Stance.version, Stance.stance, func.count())
            .group_by(Stance.round_id, Stance.version, Stance.stance)).all()}
        kept: Counts = {}
        for c in s.scalars(select(RoundCount)).all():
            for st in ("agree", "abstain", "disagree", "block"):
                kept[(c.round_id, c.version, st)] = kept.get((c.round_id, c.version, st),
                                                             0) + getattr(c, st)
    engine.dispose()
    return kept, recount


def test_kept_counts_follow_every_kind_of_move(pg_url: str,
                                               make_bot: Callable[..., Bot]) -> None:
    """The counts trigger, move by move: a changed stance on the same counter
    row (one UPDATE since stance_0960_counts_move), the same stance again, a
    move to another text version, to another shard (a changed id), a delete."""
    bot = make_bot(pg_url)
    pid = new_poll(bot, SECRETARIAT)
    for who in (MEMBER, MEMBER_FR, PRIYA):
        _vote(bot, who, f"{pid} agree", f"{who}:1")
    engine = create_engine(normalise_url(pg_url))
    with engine.connect() as conn:
        a, b, c = conn.execute(text("SELECT id FROM poll_stances ORDER BY id")).scalars().all()
    moves = [
        f"UPDATE poll_stances SET stance = 'block' WHERE id = {a}",
        f"UPDATE poll_stances SET stance = 'block' WHERE id = {a}",
        f"UPDATE poll_stances SET stance = 'disagree', version = 2 WHERE id = {b}",
        f"UPDATE poll_stances SET id = {c + 1001}, stance = 'abstain' WHERE id = {c}",
        f"UPDATE poll_stances SET stance = 'agree' WHERE id = {b}",
        f"DELETE FROM poll_stances WHERE id = {c + 1001}",
    ]
    for move in moves:
        with engine.begin() as conn:
            assert conn.execute(text(move)).rowcount == 1, move
        kept, recount = _kept_and_recount(pg_url)
        assert {k: n for k, n in kept.items() if n} == recount, move
    engine.dispose()
    assert sum(recount.values()) == 2
