"""The stance's fast path: a common stance in one statement (PostgreSQL).

``vote ID STANCE [REASON]`` and the ``poll.stance`` button are registered with
a fast path (:data:`bot.routing.FastPath`). On PostgreSQL one statement records
the event id, resolves the actor, checks that the person holds the route's
capability in the proposal's group (the rule of :func:`bot.permissions.
roles_in` and :func:`bot.polls.voters.may_vote`: a voting role in the group, or
an alliance-wide voting role held in the alliance), checks the proposal and its
open round (and, for a button, the text version it showed), upserts the
stance, writes the audit row, queues the refresh of the tally where the
proposal is posted (the outbox rows of :func:`bot.polls.proposals.post`, the
same columns and payload, coalesced the same way) and returns the round's
counts (kept by triggers, see :class:`storage.models.RoundCount`; they decide
the early close, and the confirmation shows them unless the proposal's results
are hidden until the close). The
statement is autocommitted: a warm stance is one round trip, durable when it
returns. SQLite runs the same steps as statements on the unit of work's
connection: one read that decides, then the writes (the refresh queued by
:func:`bot.polls.confirm.stance_replies`, as on the general path).

Anything the statement does not qualify (an unknown person, an observer, a
closed round, an outdated button, a block without a reason, a malformed
command; on PostgreSQL a group's ``channels`` it cannot spell as Python would,
see ``_PG_TARGETS_OK``) writes nothing and yields None: the dispatcher runs the
general path in the same unit of work, which gives the refusal its sentence.
The reply is built by the same code as the general path's (:func:`bot.polls.
confirm.stance_replies`). The outcome is typed (:data:`bot.routing.FastOutcome`);
a failure once the person is known is raised as :class:`bot.routing.FastFailed`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import JSON, TextualSelect, bindparam, text
from sqlalchemy.engine import Dialect

from bot.errors import InvalidInput, NotFound
from bot.i18n import Translator, translator
from bot.members import ACTOR_SQL, ADDRESS_PLATFORMS, actor_sql_params
from bot.numbers import INT32_MAX
from bot.permissions import RoleRule
from bot.polls.confirm import REASON_LIMIT, stance_replies
from bot.polls.proposals import TALLY_RENDERER
from bot.polls.stances import NEEDS_REASON, Cast, parse_chat_stance, proposal_number
from bot.polls.versions import parse_stance_value
from bot.polls.write import (
    COUNTS_SUM,
    STANCE_INSERT,
    STANCE_ON_CONFLICT,
    core_connection,
    sqlite_write,
)
from bot.routing import DECLINED, Done, FastCall, FastFailed, FastOutcome, Repeated
from bot.text import multi_line
from bot.types import ButtonPress, Command
from storage.base import UTCDateTime, utcnow
from storage.dbapi import autocommitted, hot

#: Ids PostgreSQL's ``integer`` holds; anything else goes the general way.
_INT_MAX = INT32_MAX


# Who, what, and whether: the person behind the actor, the proposal's head, the
# current round if it takes this stance now and the person may vote in the
# group, and the voting unit's previous stance. Shared by both dialects.
_QUALIFY = """
who AS (SELECT p.id, p.language, p.organisation_id FROM {link} WHERE {cond}),
head AS (SELECT h.id, h.group_id, h.state, h.current_round, h.version, h.origin_platform,
                h.origin_workspace, h.origin_channel, h.visibility
         FROM poll_proposals AS h WHERE h.id = :proposal_id),{targets}
rnd AS (
    SELECT r.id, r.number, g.voting_unit, g.channels, who.id AS person_id,
           CASE WHEN g.voting_unit = 'organisation' AND who.organisation_id IS NOT NULL
                THEN 'o:' || CAST(who.organisation_id AS text)
                ELSE 'p:' || CAST(who.id AS text) END AS voter_key
    FROM who CROSS JOIN head
    JOIN poll_rounds AS r ON r.proposal_id = head.id AND r.number = head.current_round
    JOIN groups AS g ON g.id = head.group_id
    WHERE head.state = 'open' AND r.closed_at IS NULL AND r.closes_at > :now
      AND r.number = coalesce(CAST(:round_no AS integer), head.current_round)
      AND (CAST(:shown AS integer) = 0
           OR head.version = CAST(:shown_version AS integer)
           OR (CAST(:shown_version AS integer) IS NULL AND head.version = 1))
      AND {may}
      {targets_ok}
    {lock}),
prev AS (SELECT s.stance, s.person_id, s.version FROM poll_stances AS s
         JOIN rnd ON s.round_id = rnd.id AND s.voter_key = rnd.voter_key)"""

_PG = """
WITH {qualify},
ded AS (
    INSERT INTO processed_events (platform, event_id, at)
    SELECT :platform, :event_id, :now FROM rnd
    ON CONFLICT (platform, event_id) DO NOTHING RETURNING id),
up AS (
    {stance_insert}
    SELECT rnd.id, rnd.voter_key, rnd.person_id, :stance, :reason, :channel, head.version,
           :now, :now
    FROM rnd CROSS JOIN head CROSS JOIN ded
    {stance_on_conflict}
    RETURNING id),
aud AS (
    INSERT INTO audit_log (at, person_id, channel, action, subject_type, subject_id, detail)
    SELECT :now, rnd.person_id, :channel,
           CASE WHEN prev.stance IS NULL THEN 'poll.stance' ELSE 'poll.stance.change' END,
           'poll', CAST(head.id AS text),
           CAST(jsonb_build_object(
               'version', head.version, 'stance', CAST(:stance AS text),
               'reason', CAST(:reason AS text), 'round', rnd.number, 'voter', rnd.voter_key,
               'previous', prev.stance, 'previous_person', prev.person_id) AS json)
    FROM rnd CROSS JOIN head CROSS JOIN ded LEFT JOIN prev ON true
    RETURNING id),
refresh AS (
    INSERT INTO outbox (key, kind, payload, status, attempts, next_attempt_at, created_at,
                        coalesce_key)
    SELECT left(t.coalesce_key, 200) || ':'
               || replace(CAST(gen_random_uuid() AS text), '-', ''),
           'chat:' || t.platform,
           CAST('{{"platform": ' || CAST(to_json(t.platform) AS text)
                || ', "workspace_id": ' || CAST(to_json(t.workspace_id) AS text)
                || ', "channel_id": ' || CAST(to_json(t.channel_id) AS text)
                || ', ' || CAST(:refresh_tail AS text) AS json),
           'pending', 0, :now, :now, t.coalesce_key
    FROM (SELECT tgt.*, left(CAST(:tally_key AS text) || ':' || tgt.platform || ':'
                             || tgt.workspace_id || ':' || tgt.channel_id, 255) AS coalesce_key
          FROM tgt) AS t
    CROSS JOIN ded
    ORDER BY t.ord, t.platform COLLATE "C"
    ON CONFLICT DO NOTHING
    RETURNING id)
SELECT (SELECT count(*) FROM ded) AS first, who.id AS person_id, who.language,
       head.id AS proposal_id, head.group_id, head.version, head.origin_channel,
       head.visibility,
       rnd.id AS round_id, rnd.number, rnd.voting_unit, rnd.channels, rnd.voter_key,
       prev.stance AS prev_stance, prev.version AS prev_version,
       c.agree, c.abstain, c.disagree, c.block
FROM rnd CROSS JOIN who CROSS JOIN head LEFT JOIN prev ON true
CROSS JOIN ({counts}) AS c"""

_SQLITE = """
WITH {qualify}
SELECT who.id AS person_id, who.language, who.organisation_id,
       head.id AS proposal_id, head.group_id, head.version, head.origin_channel,
       head.visibility,
       rnd.id AS round_id, rnd.number, rnd.voting_unit, rnd.channels, rnd.voter_key,
       prev.stance AS prev_stance, prev.person_id AS prev_person
FROM rnd CROSS JOIN who CROSS JOIN head LEFT JOIN prev ON true"""

_SQLITE_DEDUPE = text("""
INSERT INTO processed_events (platform, event_id, at) VALUES (:platform, :event_id, :now)
ON CONFLICT (platform, event_id) DO NOTHING RETURNING id""").bindparams(
    bindparam("now", type_=UTCDateTime()))

# Where the proposal's tally lives (:func:`bot.polls.proposals.targets`, in
# order): the conversation it was created in, then the group's ``channels``
# entries by platform (code point order: ``ord``, then platform, when
# inserting), an entry used when it is an object with a truthy ``channel_id``
# and not the conversation itself (entries have distinct platforms, so that is
# the only duplicate there can be). No window or anti-join: each plan node is
# set up on every stance, whether the proposal is posted anywhere or not.
_PG_TARGETS = """
chan AS (
    SELECT e.key AS platform, e.value AS at
    FROM head JOIN groups AS cg ON cg.id = head.group_id
    CROSS JOIN LATERAL jsonb_each(CASE WHEN jsonb_typeof(CAST(cg.channels AS jsonb)) = 'object'
                                       THEN CAST(cg.channels AS jsonb) ELSE '{}' END) AS e
    WHERE jsonb_typeof(e.value) = 'object'
      AND e.value -> 'channel_id' NOT IN ('null', '""', '0', 'false', '[]', '{}')),
tgt AS (
    SELECT 0 AS ord, head.origin_platform AS platform, head.origin_workspace AS workspace_id,
           head.origin_channel AS channel_id
    FROM head WHERE head.origin_platform <> '' AND head.origin_channel <> ''
    UNION ALL
    SELECT 1, chan.platform, coalesce(chan.at ->> 'workspace_id', ''), chan.at ->> 'channel_id'
    FROM chan CROSS JOIN head
    WHERE head.origin_platform = '' OR head.origin_channel = ''
       OR (chan.platform, coalesce(chan.at ->> 'workspace_id', ''), chan.at ->> 'channel_id')
          IS DISTINCT FROM (head.origin_platform, head.origin_workspace, head.origin_channel)),"""

# The targets the statement writes exactly as Python would, or it declines (the
# general path then queues them): ``channels`` an object or a falsy JSON value
# (anything else fails in Python), ids that are strings (``str()`` of another
# JSON value is Python's spelling), in printable ASCII (``to_json`` then writes
# them as ``json.dumps`` does), and a platform that fits the outbox's ``kind``.
_PG_TARGETS_OK = """
      AND (g.channels IS NULL OR jsonb_typeof(CAST(g.channels AS jsonb)) = 'object'
           OR CAST(g.channels AS jsonb) IN ('[]', '""', '0', 'false', 'null'))
      AND NOT EXISTS (SELECT 1 FROM chan
                      WHERE jsonb_typeof(chan.at -> 'channel_id') <> 'string'
                         OR coalesce(jsonb_typeof(chan.at -> 'workspace_id'), 'string')
                            <> 'string')
      AND NOT EXISTS (SELECT 1 FROM tgt
                      WHERE length(tgt.platform) > 27
                         OR tgt.platform || tgt.workspace_id || tgt.channel_id !~ '^[ -~]*$')"""

_STATEMENTS: dict[tuple[str, bool, RoleRule], TextualSelect] = {}


def _statement(dialect: Dialect, *, by_address: bool, rule: RoleRule) -> TextualSelect:
    """The dialect's qualifying (and, on PostgreSQL, writing) statement, built
    once per actor kind and rule; whether the person may vote is the policy's
    :class:`~bot.permissions.RoleRule` rendered as SQL (roles are literals: the
    plan is cached)."""
    key = (dialect.name, by_address, rule)
    stmt = _STATEMENTS.get(key)
    if stmt is None:
        link, cond = ACTOR_SQL[by_address]
        postgresql = dialect.name == "postgresql"
        qualify = _QUALIFY.format(
            link=link, cond=cond,
            may=rule.sql_exists(dialect, person="who.id", group="head.group_id"),
            lock="FOR SHARE OF r" if postgresql else "",
            targets=_PG_TARGETS if postgresql else "",
            targets_ok=_PG_TARGETS_OK if postgresql else "")
        sql = (_PG.format(qualify=qualify, stance_insert=STANCE_INSERT,
                          stance_on_conflict=STANCE_ON_CONFLICT, counts=COUNTS_SUM.format(
            round_id="(SELECT id FROM rnd)", version="(SELECT version FROM head)"))
            if postgresql else _SQLITE.format(qualify=qualify))
        stmt = _STATEMENTS[key] = text(sql).bindparams(
            bindparam("now", type_=UTCDateTime())).columns(channels=JSON())
    return stmt


def vote_fast(call: FastCall) -> FastOutcome:
    """The fast path of ``vote ID agree|abstain|disagree|block [REASON]``."""
    if not isinstance(call.event, Command):
        return DECLINED
    words = call.args.split(None, 1)
    if len(words) < 2:
        return DECLINED
    try:
        stance, reason = parse_chat_stance(words[1])
    except InvalidInput:
        return DECLINED
    return _fast(call, raw_id=words[0], round_no=None, shown=False, version=None,
                 stance=stance, reason=reason)


def button_fast(call: FastCall) -> FastOutcome:
    """The fast path of a ``poll.stance`` button (``<id>:<round>[:<version>]:<stance>``)."""
    if not isinstance(call.event, ButtonPress):
        return DECLINED
    try:
        raw_id, round_no, version, stance = parse_stance_value(call.event.value)
    except InvalidInput:
        return DECLINED
    if not 0 <= round_no <= _INT_MAX or (version is not None and not 0 <= version <= _INT_MAX):
        return DECLINED
    return _fast(call, raw_id=raw_id, round_no=round_no, shown=True, version=version,
                 stance=stance, reason="")


def _fast(call: FastCall, *, raw_id: str, round_no: int | None, shown: bool,
          version: int | None, stance: str, reason: str) -> FastOutcome:
    event = call.event
    if not event.event_id:
        return DECLINED
    try:
        proposal_id = proposal_number(raw_id)
    except NotFound:
        return DECLINED
    kept = multi_line(reason)[:REASON_LIMIT]
    if not 0 < proposal_id <= _INT_MAX or (stance in NEEDS_REASON and not kept):
        return DECLINED
    rule = call.services.policy.rule(call.route.capability)
    actor = event.actor
    by_address = actor.platform in ADDRESS_PLATFORMS
    params: dict[str, Any] = {
        "proposal_id": proposal_id, "round_no": round_no, "shown": int(shown),
        "shown_version": version, "stance": stance, "reason": kept,
        "channel": actor.platform, "event_id": event.event_id[:255], "now": utcnow(),
        **actor_sql_params(actor)}
    dialect = call.session.get_bind().dialect
    stmt = _statement(dialect, by_address=by_address, rule=rule)
    cut = len(multi_line(reason)) > REASON_LIMIT
    if dialect.name == "postgresql":
        return _postgresql(call, stmt, params, proposal_id=proposal_id, stance=stance, cut=cut)
    tr: Translator | None = None
    unsure = False
    try:
        with call.session.begin():
            # the DB-API connection: SQLAlchemy's per-statement machinery cost
            # more than SQLite's work (storage/dbapi.py)
            conn = hot(core_connection(call.session))
            row = conn.execute(stmt, params).first()
            if row is None:
                return DECLINED  # nothing was written: the general path says why
            tr = translator(row.language)
            if conn.execute(_SQLITE_DEDUPE, params).first() is None:
                return Repeated()
            previous = ((row.prev_stance, row.prev_person) if row.prev_stance is not None
                        else None)
            counts = sqlite_write(conn, dict(params, round_id=row.round_id,
                                             voter_key=row.voter_key, person_id=row.person_id,
                                             version=row.version, subject_id=str(proposal_id)),
                                  previous=previous, number=row.number,
                                  detail={"version": row.version, "stance": stance,
                                          "reason": kept})
            cast = Cast(row.round_id, row.number, row.voter_key, stance,
                        previous[0] if previous else None, row.voting_unit,
                        bool(row.origin_channel or row.channels), counts,
                        row.visibility == "hidden")
            outcome = _replies(call, tr, row, cast, cut=cut)
            unsure = True  # the COMMIT follows
        return outcome
    except Exception as exc:
        if tr is None:
            raise  # before the person was known, nothing written: as the general path
        raise FastFailed(exc, tr=tr, unsure=unsure) from exc


def _postgresql(call: FastCall, stmt: TextualSelect, params: dict[str, Any], *,
                proposal_id: int, stance: str, cut: bool) -> FastOutcome:
    # The statement is the whole transaction, the tally's refresh included
    # (autocommitted: one round trip, durable when it returns).
    tail = json.dumps({"thread_id": None, "user_id": None, "ref": f"poll:{proposal_id}",
                       "render": TALLY_RENDERER, "args": {"proposal_id": proposal_id}})
    # On psycopg's own connection, not the unit of work's session: the
    # session's transaction and SQLAlchemy's per-statement machinery cost more
    # CPU than the statement (storage/dbapi.py).
    with autocommitted(call.session.get_bind()) as conn:
        # Not ``unsure``: should the connection drop just as this commits, the
        # dispatcher's retry finds the event id recorded and writes nothing.
        row = conn.execute(stmt, dict(params, tally_key=f"poll:{proposal_id}:tally",
                                      refresh_tail=tail[1:])).first()
    if row is None:
        return DECLINED  # nothing was written: the general path says why
    tr = translator(row.language)
    if not row.first:
        return Repeated()
    try:
        return _replies(call, tr, row, _pg_cast(row, stance), cut=cut, refreshed=True)
    except Exception as exc:
        # Durable already: a failure now must not say "nothing was changed".
        raise FastFailed(exc, tr=tr, committed=True) from exc


def _pg_cast(row: Any, stance: str) -> Cast:
    previous = row.prev_stance
    # The counts were read in the statement's snapshot, before this stance.
    counts = {"agree": int(row.agree), "abstain": int(row.abstain),
              "disagree": int(row.disagree), "block": int(row.block)}
    counts[stance] += 1
    if previous is not None and row.prev_version == row.version:
        counts[previous] -= 1
    # Hidden results: the counts still decide the early close, but the
    # confirmation shows none (stance_replies reads ``hidden``).
    return Cast(row.round_id, row.number, row.voter_key, stance, previous, row.voting_unit,
                bool(row.origin_channel or row.channels), counts, row.visibility == "hidden")


def _replies(call: FastCall, tr: Translator, row: Any, cast: Cast, *, cut: bool,
             refreshed: bool = False) -> Done:
    after: list[Callable[[], None]] = []
    replies = stance_replies(
        services=call.services, session=call.session, tr=tr, after_commit=after.append,
        proposal_id=row.proposal_id, group_id=row.group_id, cast=cast, cut=cut,
        refreshed=refreshed)
    return Done(replies, after)
