"""The stance's hot path as statements built once, at import.

A stance is written on every channel by :func:`bot.polls.stances.cast_stance`;
its SQL lives here as ``text()`` statements compiled once per dialect and
executed with plain parameters (no statement building, no ORM objects per
call). On PostgreSQL one statement locks and checks the round, reads the
unit's previous stance, upserts the new one, writes the audit row and counts
the round's stances; SQLite runs the same steps as five statements.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Connection, bindparam, text
from sqlalchemy.orm import Session

from storage.base import UTCDateTime
from storage.dbapi import RawSqlite, hot

_NOW = bindparam("now", type_=UTCDateTime())

#: SQLite: the current round with its group's voting unit and channels.
SQLITE_ROUND = text("""
SELECT r.id, r.number, r.closed_at, r.closes_at, g.voting_unit, g.channels
FROM poll_rounds AS r JOIN groups AS g ON g.id = :group_id
WHERE r.proposal_id = :proposal_id AND r.number = :number""").columns(
    closed_at=UTCDateTime(), closes_at=UTCDateTime(), channels=JSON())

#: The round's stances on a text version: the sum of its count shards, which
#: triggers on poll_stances keep (storage.models.RoundCount), so this reads at
#: most COUNT_SHARDS rows however many stances the round has.
COUNTS_SUM = """
SELECT coalesce(sum(agree), 0) AS agree, coalesce(sum(abstain), 0) AS abstain,
       coalesce(sum(disagree), 0) AS disagree, coalesce(sum(block), 0) AS block
FROM poll_round_counts WHERE round_id = {round_id} AND version = {version}"""

_COUNTS = COUNTS_SUM.format(round_id=":round_id", version=":version")

_PREVIOUS = """
SELECT stance, person_id, version FROM poll_stances
WHERE round_id = :round_id AND voter_key = :voter_key"""

#: The stance upsert's two ends, around its VALUES or SELECT (the last one counts).
STANCE_INSERT = """INSERT INTO poll_stances (round_id, voter_key, person_id, stance, reason,
                          channel, version, cast_at, updated_at)"""
STANCE_ON_CONFLICT = """ON CONFLICT (round_id, voter_key) DO UPDATE SET
    person_id = excluded.person_id, stance = excluded.stance, reason = excluded.reason,
    channel = excluded.channel, version = excluded.version, updated_at = excluded.updated_at"""

_UPSERT = f"""
{STANCE_INSERT}
VALUES (:round_id, :voter_key, :person_id, :stance, :reason, :channel, :version, :now, :now)
{STANCE_ON_CONFLICT}"""

#: PostgreSQL: every step in one round trip. The round row is read first, with
#: a shared lock; nothing is written unless it is the open round ``:round_no``.
#: The sub-statements share one snapshot, so the counts leave out this stance
#: (see :func:`cast_in_round`).
PG_CAST = text("""
WITH rnd AS (
    SELECT r.id, r.number, r.closed_at, r.closes_at, g.voting_unit, g.channels,
           CASE WHEN g.voting_unit = 'organisation' AND CAST(:org AS integer) IS NOT NULL
                THEN 'o:' || CAST(:org AS text) ELSE 'p:' || CAST(:person_id AS text)
           END AS voter_key,
           (r.closed_at IS NULL AND r.closes_at > :now AND r.number = :round_no) AS ok
    FROM poll_rounds AS r JOIN groups AS g ON g.id = :group_id
    WHERE r.proposal_id = :proposal_id AND r.number = :number
    FOR SHARE OF r),
prev AS (
    SELECT s.stance, s.person_id, s.version FROM poll_stances AS s
    JOIN rnd ON s.round_id = rnd.id AND s.voter_key = rnd.voter_key WHERE rnd.ok),
up AS (
    """ + STANCE_INSERT + """
    SELECT rnd.id, rnd.voter_key, :person_id, :stance, :reason, :channel, :version, :now, :now
    FROM rnd WHERE rnd.ok
    """ + STANCE_ON_CONFLICT + """
    RETURNING id),
aud AS (
    INSERT INTO audit_log (at, person_id, channel, action, subject_type, subject_id, detail)
    SELECT :now, :person_id, :channel,
           CASE WHEN prev.stance IS NULL THEN 'poll.stance' ELSE 'poll.stance.change' END,
           'poll', :subject_id,
           CAST(CAST(:detail AS jsonb) || jsonb_build_object(
               'round', rnd.number, 'voter', rnd.voter_key, 'previous', prev.stance,
               'previous_person', prev.person_id) AS json)
    FROM rnd LEFT JOIN prev ON true WHERE rnd.ok
    RETURNING id)
SELECT rnd.id, rnd.number, rnd.closed_at, rnd.closes_at, rnd.voting_unit, rnd.channels,
       rnd.voter_key, rnd.ok, prev.stance AS prev_stance, prev.person_id AS prev_person,
       prev.version AS prev_version, c.agree, c.abstain, c.disagree, c.block
FROM rnd LEFT JOIN prev ON true
CROSS JOIN (""" + COUNTS_SUM.format(round_id="(SELECT id FROM rnd)", version=":version") + """) AS c
""").bindparams(_NOW).columns(  # noqa: S608 - constants only
    closed_at=UTCDateTime(), closes_at=UTCDateTime(), channels=JSON())


SQLITE_PREVIOUS = text(_PREVIOUS)
SQLITE_UPSERT = text(_UPSERT).bindparams(_NOW)
SQLITE_AUDIT = text("""
INSERT INTO audit_log (at, person_id, channel, action, subject_type, subject_id, detail)
VALUES (:now, :person_id, :channel, :action, 'poll', :subject_id, :detail)""").bindparams(_NOW)
#: The round's stances on a text version, by stance (one row).
COUNTS = text(_COUNTS)


@dataclass(frozen=True, slots=True)
class InRound:
    """The current round as :func:`cast_in_round` found it (``closed_at``,
    ``closes_at``: aware UTC; ``channels``: the group's JSON) and, when the
    stance was written, ``previous`` (stance, person id; or None) and ``counts``
    (stance -> number on the current text version, this stance included)."""

    round_id: int
    number: int
    closed_at: datetime | None
    closes_at: datetime
    voting_unit: str
    channels: Any
    voter_key: str
    written: bool
    previous: tuple[str, int] | None = None
    counts: dict[str, int] | None = None


def _key(voting_unit: str, org: int | None, person_id: int) -> str:
    return f"o:{org}" if voting_unit == "organisation" and org is not None else f"p:{person_id}"


def core_connection(session: Session) -> Connection:
    """The unit of work's connection, for prebuilt Core statements on the hot
    path: executing on it skips the ORM's per-statement machinery (about a
    third of a statement's CPU). Pending ORM changes are flushed first, as
    ``session.execute`` would (autoflush)."""
    if session.new or session.dirty or session.deleted:
        session.flush()
    return session.connection()


def cast_in_round(session: Session, *, values: dict[str, Any], detail: dict[str, Any]
                  ) -> InRound | None:
    """Read the proposal's current round (shared lock on PostgreSQL) and, if it
    is round ``round_no``, open and not past ``now``, upsert the stance of the
    person's voting unit and write its audit row (action ``poll.stance`` or
    ``poll.stance.change``; ``detail`` plus round, voter, previous and
    previous_person). None when the proposal has no such round. Never commits.

    ``values``: proposal_id, group_id, number (the current round), round_no,
    person_id, org (the person's organisation id or None), stance, reason,
    channel, version, subject_id (str), now (aware datetime)."""
    conn = core_connection(session)
    if conn.dialect.name == "postgresql":
        row = conn.execute(PG_CAST, dict(values, detail=json.dumps(detail))).first()
        if row is None:
            return None
        found = InRound(row.id, row.number, row.closed_at, row.closes_at, row.voting_unit,
                        row.channels, row.voter_key, bool(row.ok))
        if not found.written:
            return found
        prev = (row.prev_stance, row.prev_person) if row.prev_stance is not None else None
        per = {"agree": row.agree, "abstain": row.abstain, "disagree": row.disagree,
               "block": row.block}
        # The counts were taken in the statement's snapshot, before this stance.
        per[values["stance"]] += 1
        if prev is not None and row.prev_version == values["version"]:
            per[prev[0]] -= 1
        return replace(found, previous=prev, counts={k: int(v) for k, v in per.items()})
    raw = hot(conn)
    r = raw.execute(SQLITE_ROUND, values).first()
    if r is None:
        return None
    key = _key(r.voting_unit, values["org"], values["person_id"])
    found = InRound(r.id, r.number, r.closed_at, r.closes_at, r.voting_unit, r.channels, key,
                    r.closed_at is None and r.closes_at > values["now"]
                    and r.number == values["round_no"])
    if not found.written:
        return found
    params = dict(values, round_id=r.id, voter_key=key)
    before = raw.execute(SQLITE_PREVIOUS, params).first()
    prev = (before[0], before[1]) if before is not None else None
    counts = sqlite_write(raw, params, previous=prev, detail=detail, number=r.number)
    return replace(found, previous=prev, counts=counts)


def sqlite_write(conn: Connection | RawSqlite, params: dict[str, Any], *,
                 previous: tuple[str, int] | None, detail: dict[str, Any],
                 number: int) -> dict[str, int]:
    """SQLite: upsert the stance, write its audit row (``detail`` plus round
    ``number``, voter, previous stance and person) and return the round's
    counts on ``params["version"]``, this stance included (stance -> number).
    ``params``: round_id, voter_key, person_id, stance, reason, channel,
    version, subject_id, now. The caller has checked the round. ``conn``: the
    unit of work's connection, or its DB-API connection (:func:`storage.dbapi.hot`)."""
    conn.execute(SQLITE_UPSERT, params)
    conn.execute(SQLITE_AUDIT, dict(
        params, action="poll.stance" if previous is None else "poll.stance.change",
        detail=json.dumps(dict(detail, round=number, voter=params["voter_key"],
                               previous=previous[0] if previous else None,
                               previous_person=previous[1] if previous else None))))
    row = conn.execute(COUNTS, params).one()
    return {k: int(v) for k, v in zip(row._fields, row, strict=True)}


def stance_count(session: Session, *, round_id: int, version: int) -> int:
    """How many stances ``round_id`` has on text ``version``."""
    row = session.execute(COUNTS, {"round_id": round_id, "version": version}).one()
    return int(sum(row))

