"""The stance's fast path (bot/polls/fast.py) against the general path.

The same events go to two bots on two databases of the same kind: one with
the routes' fast paths removed (the general path only), one with them. Every
reply and everything written (stances, audit rows, event ids, outbox rows,
rounds, counts) must be the same; the events that qualify must have taken the
fast path, and the others fallen back.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Text, cast, event, func, select, update

from bot.app import Bot
from bot.compose import build_app
from bot.permissions import POLICY, Policy
from bot.roster import import_roster_file
from bot.routing import Declined, Done, FastCall, FastOutcome, Repeated
from bot.types import Actor, ButtonPress, Command, Conversation, Event, FormSubmission
from storage.engine import make_engine
from storage.models import (
    AuditEntry,
    Group,
    Identity,
    OutboxMessage,
    Person,
    ProcessedEvent,
    Proposal,
    Role,
    Round,
    RoundCount,
    Stance,
)
from tests.conftest import (
    CHAIR,
    EXAMPLES,
    MEMBER,
    MEMBER_ES,
    MEMBER_FR,
    OBSERVER,
    OBSERVER_FR,
    SECRETARIAT,
    _truncate_pg,
    make_settings,
    scratch_pg_database,
)

PRIYA = "priya.nair@carbonledger.example"
WHERE = Conversation("console", "", "c", is_direct=True)
CLOSES = "2030-01-15T17:00:00+00:00"


@pytest.fixture(scope="module")
def _second_pg() -> Iterator[str]:
    yield from scratch_pg_database("convene_twin")


@pytest.fixture
def twin_urls(request: pytest.FixtureRequest, db_url: str, tmp_path: Path) -> tuple[str, str]:
    """Two empty migrated databases of the kind ``db_url`` is."""
    if db_url.startswith("sqlite"):
        other = tmp_path / "twin.db"
        shutil.copy(db_url.split("///", 1)[1], other)
        return db_url, f"sqlite:///{other}"
    url = request.getfixturevalue("_second_pg")
    engine = make_engine(url)
    _truncate_pg(engine)
    engine.dispose()
    return db_url, url


class Twins:
    """A general-path bot and a fast-path bot, fed the same events."""

    def __init__(self, urls: tuple[str, str], tmp_path: Path, policy: Policy | None) -> None:
        self.general = self._bot(urls[0], tmp_path / "g", policy)
        self.fast = self._bot(urls[1], tmp_path / "f", policy)
        for key, route in list(self.general.registry.routes._routes.items()):
            if route.fast is not None:
                self.general.registry.routes._routes[key] = dataclasses.replace(route, fast=None)
        #: Per fast-path call: "fast", "repeat" or "general" (declined).
        self.taken: list[str] = []
        for key, route in list(self.fast.registry.routes._routes.items()):
            if route.fast is not None:
                self.fast.registry.routes._routes[key] = dataclasses.replace(
                    route, fast=self._recorded(route.fast))
        self.n = 0

    @staticmethod
    def _bot(url: str, tmp: Path, policy: Policy | None) -> Bot:
        bot = build_app(make_settings(url, tmp), policy=policy)
        with bot.session_factory() as s, s.begin():
            import_roster_file(session=s, path=EXAMPLES / "roster.csv", alliance_name="Alliance")
        return bot

    def _recorded(self, fn: Callable[[FastCall], FastOutcome]
                  ) -> Callable[[FastCall], FastOutcome]:
        def recorded(call: FastCall) -> FastOutcome:
            out = fn(call)
            self.taken.append({Declined: "general", Done: "fast", Repeated: "repeat"}[type(out)])
            return out
        return recorded

    def both(self, fn: Callable[[Bot], Any]) -> None:
        fn(self.general)
        fn(self.fast)

    def send(self, who: str | Actor, ev: Callable[[Actor, str], Event], *,
             event_id: str | None = None) -> str:
        """Dispatch one event to both; assert identical replies; return how the
        fast bot took it ("fast", "repeat", "general", or "none": no fast path)."""
        self.n += 1
        actor = who if isinstance(who, Actor) else Actor("console", "", who)
        eid = event_id if event_id is not None else f"e{self.n}"
        before = len(self.taken)
        a = self.general.dispatch(ev(actor, eid))
        b = self.fast.dispatch(ev(actor, eid))
        assert _shown(a) == _shown(b)
        return self.taken[before] if len(self.taken) > before else "none"

    def same_state(self) -> None:
        assert _state(self.general) == _state(self.fast)

    def close(self) -> None:
        for bot in (self.general, self.fast):
            bot.leadership.stop()
            bot.engine.dispose()


def _shown(replies: list[Any]) -> list[Any]:
    return [dataclasses.asdict(r) for r in replies]


def _state(bot: Bot) -> dict[str, Any]:
    with bot.session_factory() as s:
        recount = {(r, v, st): n for r, v, st, n in s.execute(
            select(Stance.round_id, Stance.version, Stance.stance, func.count())
            .group_by(Stance.round_id, Stance.version, Stance.stance)).all()}
        kept: dict[tuple[int, int, str], int] = {}
        for c in s.scalars(select(RoundCount)).all():
            for st in ("agree", "abstain", "disagree", "block"):
                key = (c.round_id, c.version, st)
                kept[key] = kept.get(key, 0) + getattr(c, st)
        assert {k: n for k, n in kept.items() if n} == recount, "counts drifted from a recount"
        return {
            "stances": sorted(s.execute(select(
                Stance.round_id, Stance.voter_key, Stance.person_id, Stance.stance,
                Stance.reason, Stance.channel, Stance.version)).all()),
            "audit": [(a.action, a.person_id, a.channel, a.subject_type, a.subject_id,
                       a.detail) for a in s.scalars(select(AuditEntry).order_by(AuditEntry.id))],
            "events": sorted(s.execute(select(ProcessedEvent.platform,
                                              ProcessedEvent.event_id)).all()),
            "outbox": [_outbox_row(*row) for row in s.execute(select(
                OutboxMessage.key, OutboxMessage.kind, cast(OutboxMessage.payload, Text),
                OutboxMessage.status, OutboxMessage.attempts, OutboxMessage.coalesce_key,
                OutboxMessage.claimed_by, OutboxMessage.owner)
                .order_by(OutboxMessage.id)).all()],
            "rounds": sorted(s.execute(select(Round.proposal_id, Round.number,
                                              Round.closed_at.is_(None), Round.outcome)).all()),
            "proposals": sorted(s.execute(select(Proposal.id, Proposal.state,
                                                 Proposal.version)).all()),
            "counts": recount,
        }


def _outbox_row(key: str, *rest: Any) -> tuple[Any, ...]:
    """An outbox row as written (the payload as stored text), its key's random
    part checked and left out: a refresh's key is its coalescing key's first 200
    characters, a colon and 32 hex digits (``uuid4().hex``)."""
    coalesce_key = rest[4]
    if coalesce_key is not None:
        assert re.fullmatch(re.escape(coalesce_key[:200]) + ":[0-9a-f]{32}", key), key
        key = coalesce_key[:200]
    return (key, *rest)


@pytest.fixture
def twins(twin_urls: tuple[str, str], tmp_path: Path) -> Iterator[Twins]:
    t = Twins(twin_urls, tmp_path, None)
    yield t
    t.close()


def vote(line: str) -> Callable[[Actor, str], Event]:
    return lambda actor, eid: Command("vote", line, actor, WHERE, eid)


def command(name: str, args: str, where: Conversation = WHERE) -> Callable[[Actor, str], Event]:
    return lambda actor, eid: Command(name, args, actor, where, eid)


def button(value: str) -> Callable[[Actor, str], Event]:
    return lambda actor, eid: ButtonPress("poll.stance", value, actor, WHERE, eid)


def new_poll(t: Twins, author: str | Actor = MEMBER, group: str = "",
             where: Conversation = WHERE) -> int:
    assert t.send(author, command("poll", f"new Soil protocol | We adopt v2. | {CLOSES}"
                                  + (f" | {group}" if group else ""), where)) == "none"
    with t.fast.session_factory() as s:
        return int(s.scalar(select(func.max(Proposal.id))) or 0)


def test_the_same_replies_and_rows_on_both_paths(twins: Twins) -> None:
    t = twins
    pid = new_poll(t)
    assert t.send(MEMBER, vote(f"{pid} agree"), event_id="first") == "fast"
    assert t.send(MEMBER, vote(f"{pid} agree"), event_id="first") == "repeat"
    assert t.send(MEMBER, vote(f"{pid} abstain")) == "fast"  # a stance change
    assert t.send(MEMBER_FR, button(f"{pid}:1:1:agree")) == "fast"
    assert t.send(MEMBER_ES, button(f"{pid}:1:agree")) == "fast"  # the older value shape
    assert t.send(PRIYA, vote(f"{pid} disagree Not before the trials")) == "fast"
    # Everything below falls back, and says what the general path says.
    assert t.send(OBSERVER, vote(f"{pid} agree")) == "general"
    assert t.send(OBSERVER_FR, button(f"{pid}:1:1:agree")) == "general"
    assert t.send(SECRETARIAT, vote(f"{pid} agree")) == "general"
    assert t.send("nobody@else.example", vote(f"{pid} agree")) == "general"
    assert t.send(Actor("slack", "T1", "U404"), vote(f"{pid} agree")) == "general"
    assert t.send(MEMBER, vote(f"{pid} block")) == "general"  # the reason form
    assert t.send(MEMBER, button(f"{pid}:1:1:disagree")) == "general"
    assert t.send(MEMBER, button(f"{pid}:1:7:agree")) == "general"  # outdated text
    assert t.send(MEMBER, button(f"{pid}:2:1:agree")) == "general"  # not the round
    assert t.send(MEMBER, button(f"{pid}:x:agree")) == "general"
    assert t.send(MEMBER, vote("999 agree")) == "general"
    assert t.send(MEMBER, vote(f"{pid} maybe")) == "general"
    assert t.send(MEMBER, vote(f"{pid}")) == "general"
    assert t.send(MEMBER, vote(f"{pid} agree"), event_id="") == "general"  # no event id
    # the fifth voting unit: the round closes early, after the commit
    assert t.send(CHAIR, vote(f"#{pid} BLOCK " + "x" * 4100)) == "fast"  # reason cut
    assert t.send(MEMBER, vote(f"{pid} agree"), event_id="first") == "general"  # a repeat
    assert t.send(MEMBER, vote(f"{pid} agree")) == "general"  # closed now
    t.same_state()


def test_closed_round_text_versions_and_languages(twins: Twins) -> None:
    t = twins
    pid = new_poll(t)
    assert t.send(MEMBER_FR, vote(f"{pid} agree")) == "fast"
    assert t.send(MEMBER, command("poll", f"edit {pid} We adopt v3 instead.")) == "none"
    # the French member's stance on version 1 no longer counts
    assert t.send(MEMBER_ES, vote(f"{pid} agree")) == "fast"
    assert t.send(MEMBER_FR, button(f"{pid}:1:1:agree")) == "general"  # outdated
    assert t.send(MEMBER_FR, button(f"{pid}:1:agree")) == "general"  # older shape, v2 now
    assert t.send(MEMBER_FR, button(f"{pid}:1:2:abstain")) == "fast"  # moves versions
    assert t.send(SECRETARIAT, command("poll", f"close {pid}")) == "none"
    assert t.send(MEMBER_FR, vote(f"{pid} agree")) == "general"  # closed, in French
    assert t.send(MEMBER_ES, button(f"{pid}:1:2:agree")) == "general"
    t.same_state()


def test_organisation_voting_units_and_working_groups(twins: Twins) -> None:
    t = twins

    def by_organisation(bot: Bot) -> None:
        with bot.session_factory() as s, s.begin():
            for g in s.scalars(select(Group)).all():
                g.voting_unit = "organisation"
            amara = s.scalars(select(Person).where(Person.name == "Amara Okafor")).one()
            priya = s.scalars(select(Person).where(Person.name == "Priya Nair")).one()
            priya.organisation_id = amara.organisation_id
        bot.caches.clear()

    t.both(by_organisation)
    pid = new_poll(t)
    assert t.send(MEMBER, vote(f"{pid} agree")) == "fast"
    assert t.send(PRIYA, vote(f"{pid} block Not our position")) == "fast"  # same unit
    assert t.send(MEMBER, button(f"{pid}:1:1:abstain")) == "fast"
    wg = new_poll(t, group="Measurement Working Group")
    assert t.send(MEMBER_FR, vote(f"{wg} agree")) == "fast"
    assert t.send(MEMBER_ES, vote(f"{wg} agree")) == "general"  # not in that group
    assert t.send(CHAIR, vote(f"{wg} agree")) == "general"
    t.same_state()


def test_linked_chat_identities_and_a_posted_tally(twins: Twins) -> None:
    t = twins
    actor = Actor("slack", "T1", "U1")

    def link(bot: Bot) -> None:
        assert bot.identify(actor, MEMBER)
        with bot.session_factory() as s, s.begin():
            g = s.scalars(select(Group).where(Group.is_alliance.is_(True))).one()
            g.channels = {"slack": {"workspace_id": "T1", "channel_id": "C1"}}

    t.both(link)
    pid = new_poll(t, author=MEMBER_FR)
    # posted in the group's channel: the stance's statement queues the refresh
    assert t.send(actor, vote(f"{pid} agree")) == "fast"
    assert t.send(MEMBER_ES, button(f"{pid}:1:1:abstain")) == "fast"
    assert t.send(Actor("slack", "T1", "U2"), vote(f"{pid} agree")) == "general"
    with t.fast.session_factory() as s:
        assert s.scalar(select(func.count(Identity.id))) == 1
        assert s.scalar(select(func.count(OutboxMessage.id))) >= 1
    t.same_state()


def _channels(value: Any) -> Callable[[Bot], None]:
    def configure(bot: Bot) -> None:
        with bot.session_factory() as s, s.begin():
            s.scalars(select(Group).where(Group.is_alliance.is_(True))).one().channels = value
        bot.caches.clear()
    return configure


def _all_sent(bot: Bot) -> None:
    with bot.session_factory() as s, s.begin():
        s.execute(update(OutboxMessage).where(OutboxMessage.status == "pending")
                  .values(status="sent"))


def _refreshes(bot: Bot, pid: int) -> list[tuple[str, str]]:
    """The pending refreshes of proposal ``pid``'s tally: (kind, coalescing key)."""
    with bot.session_factory() as s:
        return [(k, c) for k, c in s.execute(
            select(OutboxMessage.kind, OutboxMessage.coalesce_key)
            .where(OutboxMessage.status == "pending",
                   OutboxMessage.coalesce_key.like(f"poll:{pid}:tally:%"))
            .order_by(OutboxMessage.id)).all()]


def test_a_tally_posted_in_its_channel_and_the_groups_channels(twins: Twins) -> None:
    """The fast statement queues the tally's refresh where the general path
    does: the conversation the proposal was created in, then the group's
    channels by platform (entries without a channel skipped, the origin not
    twice), coalesced while one is pending; channels it cannot spell as Python
    does send the stance the general way."""
    t = twins
    author = Actor("slack", "T1", "U1")
    t.both(lambda bot: bot.identify(author, MEMBER_FR))
    t.both(_channels({"slack": {"workspace_id": "T1", "channel_id": "C1"},
                      "discord": {"workspace_id": "G1", "channel_id": "D1"},
                      "matrix": "not a place", "teams": {"channel_id": ""},
                      "zulip": {"workspace_id": "Z", "channel_id": 0}}))
    pid = new_poll(t, author=author, where=Conversation("slack", "T1", "C9"))
    again = new_poll(t, author=author, where=Conversation("slack", "T1", "C1"))
    t.both(_all_sent)
    assert t.send(MEMBER, vote(f"{pid} agree")) == "fast"
    expected = [("chat:slack", f"poll:{pid}:tally:slack:T1:C9"),
                ("chat:discord", f"poll:{pid}:tally:discord:G1:D1"),
                ("chat:slack", f"poll:{pid}:tally:slack:T1:C1")]
    assert _refreshes(t.fast, pid) == expected
    # pending: coalesced, on both paths
    assert t.send(MEMBER_ES, button(f"{pid}:1:1:abstain")) == "fast"
    assert t.send(MEMBER, vote(f"{pid} disagree Not yet")) == "fast"
    assert _refreshes(t.fast, pid) == expected
    t.same_state()
    t.both(_all_sent)  # delivered: the next stance queues them again
    assert t.send(PRIYA, vote(f"{pid} agree")) == "fast"
    assert _refreshes(t.fast, pid) == expected
    assert t.send(MEMBER, vote(f"{again} agree")) == "fast"  # created in C1: once
    assert _refreshes(t.fast, again) == [
        ("chat:slack", f"poll:{again}:tally:slack:T1:C1"),
        ("chat:discord", f"poll:{again}:tally:discord:G1:D1")]
    t.same_state()
    t.both(_all_sent)
    postgresql = t.fast.engine.dialect.name == "postgresql"
    for odd in ({"slack": {"workspace_id": 7, "channel_id": "C1"}},  # str(7) in Python
                {"slack": {"channel_id": "C\u00e9"}}):  # json.dumps escapes it
        t.both(_channels(odd))
        taken = t.send(MEMBER, vote(f"{pid} abstain"))
        if postgresql:  # SQLite's fast path queues them with the general path's code
            assert taken == "general"
        t.same_state()
    t.both(_channels(["slack"]))  # not a mapping: the general path fails, and says so
    before = len(t.taken)
    for bot in (t.general, t.fast):
        replies = bot.dispatch(vote(f"{pid} agree")(Actor("console", "", MEMBER), "odd"))
        assert "nothing was changed" in replies[0].message.text
    assert t.taken[before:] == (["general"] if postgresql else [])
    t.same_state()
    t.both(_all_sent)
    t.both(_channels([]))  # falsy: no group channel
    assert t.send(MEMBER_ES, vote(f"{pid} agree")) == "fast"
    assert _refreshes(t.fast, pid) == [("chat:slack", f"poll:{pid}:tally:slack:T1:C9")]
    t.same_state()


def test_a_policy_where_alliance_wide_roles_vote(twin_urls: tuple[str, str],
                                                 tmp_path: Path) -> None:
    """The fast path applies the bot's own policy table and the alliance-wide
    reach of secretariat and chair roles, as bot.permissions does."""
    table = dict(POLICY)
    table["poll.vote"] = table["poll.vote"] | {Role.SECRETARIAT}
    t = Twins(twin_urls, tmp_path, Policy(table))
    try:
        wg = new_poll(t, group="Measurement Working Group")
        assert t.send(SECRETARIAT, vote(f"{wg} agree")) == "fast"  # reaches every group
        assert t.send(CHAIR, vote(f"{wg} agree")) == "general"  # chair: member of Alliance only
        assert t.send(OBSERVER, vote(f"{wg} agree")) == "general"
        t.same_state()
    finally:
        t.close()


def test_a_reason_form_stays_on_the_general_path(twins: Twins) -> None:
    t = twins
    pid = new_poll(t)
    assert t.send(MEMBER, button(f"{pid}:1:1:block")) == "general"

    def form(actor: Actor, eid: str) -> Event:
        return FormSubmission("poll.reason", (("reason", "Too early"),), actor, WHERE, eid,
                              context=f"{pid}:1:1:block")

    assert t.send(MEMBER, form) == "none"
    t.same_state()


@pytest.mark.parametrize("posted", [False, True], ids=["unposted", "posted"])
def test_postgresql_one_statement_and_no_transaction(db_url: str, make_bot, posted: bool,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A warm stance on PostgreSQL is one statement, autocommitted (no BEGIN and
    no COMMIT of its own), for a proposal posted in chats too (the tally's
    refresh is queued by that statement); on SQLite it is five on one
    connection (run on its DB-API connection, storage/dbapi.py), and the
    refresh's statements when posted."""
    bot = make_bot(db_url)
    from tests.polls.helpers import new_poll as chat_poll

    if posted:
        _channels({"slack": {"workspace_id": "T1", "channel_id": "C1"},
                   "discord": {"workspace_id": "G1", "channel_id": "D1"}})(bot)
    pid = chat_poll(bot, SECRETARIAT)
    seen: list[tuple[str, bool]] = []

    def record(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        # psycopg sends BEGIN itself before a statement unless autocommitting
        seen.append((statement.split()[0],
                     bool(getattr(conn.connection.dbapi_connection, "autocommit", False))))

    from storage import dbapi

    raw_execute = dbapi.RawSqlite.execute

    def record_raw(self: Any, stmt: Any, params: Any) -> Any:
        seen.append((getattr(stmt, "element", stmt).text.split()[0], False))
        return raw_execute(self, stmt, params)

    raw_pg_execute = dbapi.RawPostgres.execute

    def record_raw_pg(self: Any, stmt: Any, params: Any) -> Any:
        # PostgreSQL: on psycopg's own connection, autocommitted
        seen.append((getattr(stmt, "element", stmt).text.split()[0], self._raw.autocommit))
        return raw_pg_execute(self, stmt, params)

    monkeypatch.setattr(dbapi.RawSqlite, "execute", record_raw)
    monkeypatch.setattr(dbapi.RawPostgres, "execute", record_raw_pg)
    bot.dispatch(Command("vote", f"{pid} agree", Actor("console", "", MEMBER), WHERE, "w"))
    _all_sent(bot)
    seen.clear()
    route = bot.registry.routes.find("command", "vote")
    assert route is not None and route.fast is not None
    event.listen(bot.engine, "before_cursor_execute", record)
    with bot.session_factory() as session:
        out = route.fast(FastCall(bot.services, session, Command(
            "vote", f"{pid} abstain", Actor("console", "", MEMBER_FR), WHERE, "x"),
            route, f"{pid} abstain"))
    event.remove(bot.engine, "before_cursor_execute", record)
    assert isinstance(out, Done)
    if db_url.startswith("postgresql"):
        assert seen == [("WITH", True)]
    else:
        # posted: the proposal and its group are read, a refresh queued per channel
        assert [s for s, _ in seen] == ["BEGIN", "WITH", "INSERT", "INSERT", "INSERT",
                                        "SELECT"] + (["SELECT", "SELECT", "INSERT", "INSERT"]
                                                     if posted else [])
    assert _refreshes(bot, pid) == ([("chat:discord", f"poll:{pid}:tally:discord:G1:D1"),
                                     ("chat:slack", f"poll:{pid}:tally:slack:T1:C1")]
                                    if posted else [])


def test_a_failure_after_the_stance_is_durable_says_so(db_url: str, make_bot,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """On PostgreSQL the warm stance is autocommitted: an error while building
    the confirmation must not claim that nothing was changed (and asks for no
    second send). On SQLite the same error rolls the stance back, and the
    apology says so."""
    bot = make_bot(db_url)
    from bot.polls import fast
    from tests.polls.helpers import new_poll as chat_poll

    pid = chat_poll(bot, SECRETARIAT)

    def broken(**_: Any) -> Any:
        raise RuntimeError("confirmation failed")

    monkeypatch.setattr(fast, "stance_replies", broken)
    replies = bot.dispatch(Command("vote", f"{pid} agree", Actor("console", "", MEMBER),
                                   WHERE, "broken-1"))
    text = replies[0].message.text
    with bot.session_factory() as session:
        kept = session.scalar(select(func.count()).select_from(Stance))
    if db_url.startswith("postgresql"):
        assert kept == 1
        assert "was recorded" in text and "nothing was changed" not in text
    else:
        assert kept == 0
        assert "nothing was changed" in text
