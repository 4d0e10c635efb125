"""The stance's hot path as statements built once, at import.

A stance is written on every channel by :func:`bot.polls.stances.cast_stance`;
its SQL lives here as ``text()`` statements compiled once per dialect and
executed with plain parameters (no statement building, no ORM objects per
call). On PostgreSQL one statement reads the unit's previous stance, upserts
the new one, writes the audit row and counts the round's stances; SQLite runs
the same steps as four statements.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, TextualSelect, bindparam, text
from sqlalchemy.orm import Session

from storage.base import UTCDateTime

_NOW = bindparam("now", type_=UTCDateTime())

_ROUND = """
SELECT r.id, r.number, r.closed_at, r.closes_at, g.voting_unit, g.channels
FROM poll_rounds AS r JOIN groups AS g ON g.id = :group_id
WHERE r.proposal_id = :proposal_id AND r.number = :number"""


def _round_stmt(suffix: str) -> TextualSelect:
    return text(_ROUND + suffix).columns(closed_at=UTCDateTime(), closes_at=UTCDateTime(),
                                         channels=JSON())


#: The current round with its group's voting unit and channels; on PostgreSQL
#: with a shared lock on the round row (a close, an UPDATE of it, waits).
ROUND = {"postgresql": _round_stmt(" FOR SHARE OF r"), "sqlite": _round_stmt("")}

_COUNTS = """
SELECT count(*) FILTER (WHERE stance = 'agree') AS agree,
       count(*) FILTER (WHERE stance = 'abstain') AS abstain,
       count(*) FILTER (WHERE stance = 'disagree') AS disagree,
       count(*) FILTER (WHERE stance = 'block') AS block
FROM poll_stances WHERE round_id = :round_id AND version = :version"""

_PREVIOUS = """
SELECT stance, person_id, version FROM poll_stances
WHERE round_id = :round_id AND voter_key = :voter_key"""

_UPSERT = """
INSERT INTO poll_stances (round_id, voter_key, person_id, stance, reason, channel, version,
                          cast_at, updated_at)
VALUES (:round_id, :voter_key, :person_id, :stance, :reason, :channel, :version, :now, :now)
ON CONFLICT (round_id, voter_key) DO UPDATE SET
    person_id = excluded.person_id, stance = excluded.stance, reason = excluded.reason,
    channel = excluded.channel, version = excluded.version, updated_at = excluded.updated_at"""

#: PostgreSQL: every step in one round trip. The sub-statements share one
#: snapshot, so the counts leave out this stance (see :func:`write_stance`).
#: (Only this module's constant SQL is interpolated, never a value.)
PG_STANCE = text(f"""
WITH prev AS ({_PREVIOUS}),
up AS ({_UPSERT} RETURNING id),
aud AS (
    INSERT INTO audit_log (at, person_id, channel, action, subject_type, subject_id, detail)
    SELECT :now, :person_id, :channel,
           CASE WHEN prev.stance IS NULL THEN 'poll.stance' ELSE 'poll.stance.change' END,
           'poll', :subject_id,
           CAST(CAST(:detail AS jsonb) || jsonb_build_object(
               'previous', prev.stance, 'previous_person', prev.person_id) AS json)
    FROM (SELECT 1) AS one LEFT JOIN prev ON true
    RETURNING id)
SELECT prev.stance, prev.person_id, prev.version, c.agree, c.abstain, c.disagree, c.block
FROM ({_COUNTS}) AS c LEFT JOIN prev ON true
""").bindparams(_NOW)  # noqa: S608

SQLITE_PREVIOUS = text(_PREVIOUS)
SQLITE_UPSERT = text(_UPSERT).bindparams(_NOW)
SQLITE_AUDIT = text("""
INSERT INTO audit_log (at, person_id, channel, action, subject_type, subject_id, detail)
VALUES (:now, :person_id, :channel, :action, 'poll', :subject_id, :detail)""").bindparams(_NOW)
#: The round's stances on a text version, by stance (one row).
COUNTS = text(_COUNTS)


@dataclass(frozen=True, slots=True)
class Written:
    """What a stance replaced (``previous``: stance, person id; or None) and
    the round's counts on the current text version, this stance included."""

    previous: tuple[str, int] | None
    counts: dict[str, int]


def write_stance(session: Session, *, values: dict[str, Any], subject_id: int,
                 detail: dict[str, Any]) -> Written:
    """Upsert the stance row ``values`` (round_id, voter_key, person_id, stance,
    reason, channel, version; ``now``: aware datetime) and write its audit row
    (action ``poll.stance`` or ``poll.stance.change``; ``detail`` plus
    ``previous`` and ``previous_person``). Never commits."""
    params = dict(values, subject_id=str(subject_id))
    if session.get_bind().dialect.name == "postgresql":
        row = session.execute(PG_STANCE, dict(params, detail=json.dumps(detail))).one()
        prev = (row[0], row[1], row[2]) if row[0] is not None else None
        per = {"agree": row[3], "abstain": row[4], "disagree": row[5], "block": row[6]}
        # The counts were taken in the statement's snapshot, before this stance.
        per[values["stance"]] += 1
        if prev is not None and prev[2] == values["version"]:
            per[prev[0]] -= 1
    else:
        found = session.execute(SQLITE_PREVIOUS, params).first()
        prev = (found[0], found[1], found[2]) if found is not None else None
        session.execute(SQLITE_UPSERT, params)
        session.execute(SQLITE_AUDIT, dict(
            params, action="poll.stance" if prev is None else "poll.stance.change",
            detail=json.dumps(dict(detail, previous=prev[0] if prev else None,
                                   previous_person=prev[1] if prev else None))))
        per = dict(session.execute(COUNTS, params).one()._mapping)
    return Written((prev[0], prev[1]) if prev else None, {k: int(v) for k, v in per.items()})


def stance_count(session: Session, *, round_id: int, version: int) -> int:
    """How many stances ``round_id`` has on text ``version``."""
    row = session.execute(COUNTS, {"round_id": round_id, "version": version}).one()
    return int(sum(row))

