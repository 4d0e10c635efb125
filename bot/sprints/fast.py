"""The sign-up's fast path: a common sign-up in one statement (PostgreSQL).

The ``sprint.join`` button as a contributor and ``sprint join ID`` are
registered with a fast path (:data:`bot.routing.FastPath`). On PostgreSQL one
autocommitted statement resolves the actor, checks that the person holds the
route's capability in the sprint's group (the policy's
:class:`~bot.permissions.RoleRule` as SQL), locks the sprint (``FOR UPDATE``:
the locked row comes back as the last holder of the lock left it, its sign-up
counts included, see :class:`storage.models.Sprint`), decides as
:func:`bot.sprints.seats.join` decides for one person, writes the sign-up
row, the event id and the audit row, and returns what the reply says. The
sprint's lock is held for that one statement on the server, never across a
round trip to this process (where a thread waits for the interpreter while
others run): that wait, taken several times under the lock, was what a
sign-up under contention cost.

The statement takes only what it decides exactly as the general path does: an
open sprint before its cut-off, without a per-organisation cap, and a person
with no row in it yet; a free seat only when the seats held are 1..n (the
next, n + 1, is then free: otherwise its insert meets the seat's key and
writes nothing). Anything else writes nothing and yields no row: the
dispatcher runs the general path in a unit of work of its own, which gives
every refusal its sentence. A repeated event id is the same: the general
path finds it recorded. SQLite (one writer at a time, in this process) always
takes the general path.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import TextualSelect, bindparam, text
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError

from bot.i18n import translator
from bot.members import ACTOR_SQL, ADDRESS_PLATFORMS, actor_sql_params
from bot.numbers import INT32_MAX, id_number
from bot.permissions import RoleRule
from bot.routing import DECLINED, Done, FastCall, FastFailed, FastOutcome
from bot.sprints.chat import joined_message
from bot.sprints.seats import Joined
from bot.types import ButtonPress, Command, Reply
from storage.base import UTCDateTime, utcnow
from storage.dbapi import autocommitted

# The audit row's detail is seats.join's (bot.audit.values), key for key.
_SQL = """
WITH who AS (SELECT p.id, p.name, p.language, p.organisation_id FROM {link} WHERE {cond}),
lk AS (
    SELECT s.id, s.title, s.capacity, s.held_count, s.ahead_count, s.last_asked_at,
           who.id AS person_id, who.name, who.language, who.organisation_id
    FROM sprints AS s CROSS JOIN who
    WHERE s.id = :sprint_id AND s.state = 'open' AND s.signup_closes_at > :now
      AND s.org_cap = 0 AND {may}
      AND NOT EXISTS (SELECT 1 FROM processed_events AS e
                      WHERE e.platform = :platform AND e.event_id = :event_id)
    FOR UPDATE OF s),
dec AS (
    SELECT lk.*, lk.held_count < lk.capacity AS free,
           greatest(CAST(:now AS timestamptz),
                    lk.last_asked_at + interval '1 microsecond') AS asked
    FROM lk),
ins AS (
    INSERT INTO sprint_signups (sprint_id, person_id, organisation_id, role, status, seat,
                                priority, party, channel, asked_at, updated_at)
    SELECT dec.id, dec.person_id, dec.organisation_id, 'contributor',
           CASE WHEN dec.free THEN 'seated' ELSE 'waitlisted' END,
           CASE WHEN dec.free THEN dec.held_count + 1 END, 0, '', :platform, dec.asked, :now
    FROM dec
    ON CONFLICT DO NOTHING
    RETURNING seat),
ded AS (
    INSERT INTO processed_events (platform, event_id, at)
    SELECT :platform, :event_id, :now FROM ins RETURNING id),
aud AS (
    INSERT INTO audit_log (at, person_id, channel, action, subject_type, subject_id, detail)
    SELECT :now, dec.person_id, :platform,
           CASE WHEN ins.seat IS NULL THEN 'sprint.waitlist' ELSE 'sprint.join' END,
           'sprint', CAST(dec.id AS text),
           CASE WHEN ins.seat IS NULL THEN json_build_object(
                    'position', dec.ahead_count + 1, 'role', 'contributor',
                    'people', dec.name,
                    'reason', dec.name || ' waitlisted at ' || (dec.ahead_count + 1) || ': '
                              || greatest(0, dec.capacity - dec.held_count)
                              || ' seat(s) free for a party of 1')
                ELSE json_build_object(
                    'seats', json_build_array(ins.seat), 'role', 'contributor',
                    'people', dec.name,
                    'reason', 'seat ' || ins.seat || ' to ' || dec.name
                              || ': free on sign-up') END
    FROM ins CROSS JOIN dec CROSS JOIN ded
    RETURNING id)
SELECT dec.id, dec.title, dec.language, ins.seat, dec.ahead_count + 1 AS position,
       (SELECT count(*) FROM aud) AS audited
FROM ins CROSS JOIN dec"""

_STATEMENTS: dict[tuple[bool, RoleRule], TextualSelect] = {}


def _statement(dialect: Dialect, *, by_address: bool, rule: RoleRule) -> TextualSelect:
    """The statement, built once per actor kind and rule (the roles are
    literals: the plan is cached)."""
    key = (by_address, rule)
    stmt = _STATEMENTS.get(key)
    if stmt is None:
        link, cond = ACTOR_SQL[by_address]
        sql = _SQL.format(link=link, cond=cond,
                          may=rule.sql_exists(dialect, person="who.id", group="s.group_id"))
        stmt = _STATEMENTS[key] = text(sql).bindparams(
            bindparam("now", type_=UTCDateTime())).columns()
    return stmt


def join_fast(call: FastCall) -> FastOutcome:
    """The fast path of ``sprint join ID`` and of a ``sprint.join`` button as a
    contributor (``<sprint id>:contributor``)."""
    event = call.event
    if isinstance(event, ButtonPress):
        raw, _, role = event.value.partition(":")
        if role != "contributor":
            return DECLINED
    elif isinstance(event, Command):
        words = call.args.split()
        if len(words) != 1:
            return DECLINED
        raw = words[0]
    else:
        return DECLINED
    bind = call.session.get_bind()
    sid = id_number(raw)
    if bind.dialect.name != "postgresql" or not event.event_id or sid is None \
            or not 0 < sid <= INT32_MAX:
        return DECLINED
    actor = event.actor
    stmt = _statement(bind.dialect, by_address=actor.platform in ADDRESS_PLATFORMS,
                      rule=call.services.policy.rule(call.route.capability))
    params: dict[str, Any] = {"sprint_id": sid, "event_id": event.event_id[:255],
                              "now": utcnow(), **actor_sql_params(actor)}
    try:
        # On psycopg's own connection in autocommit mode: the statement is the
        # whole transaction, durable when it returns (storage/dbapi.py).
        with autocommitted(bind) as conn:
            row = conn.execute(stmt, params).first()
    except IntegrityError:
        return DECLINED  # the event id met a concurrent delivery's: nothing was written
    if row is None:
        return DECLINED  # nothing was written: the general path says why
    tr = translator(row.language)
    try:
        result = (Joined("seated", (int(row.seat),), 0, title=row.title) if row.seat
                  else Joined("waitlisted", (), int(row.position), title=row.title))
        return Done([Reply(joined_message(tr, sid, result))])
    except Exception as exc:
        raise FastFailed(exc, tr=tr, committed=True) from exc
