"""One leased queue for every table of work: the outbox and the inbox.

A row is ``pending`` (due at ``due``), claimed (``working`` status, a lease
until ``due``, ``claimed_by`` a token of the claiming process, ``owner`` that
process's instance id), then done, back to pending with a back-off, or dead
after ``max_attempts`` claims. One claim is one statement:
``UPDATE .. WHERE id IN (SELECT .. FOR UPDATE SKIP LOCKED LIMIT n) RETURNING``
on PostgreSQL, so replicas draining the same table never wait on each other
nor take the same row; SQLite is single-writer (``BEGIN IMMEDIATE``, see
storage/engine.py), so the same statement without the lock clause is safe.

A claimed row is claimable again when its lease ran out, or at once when its
owner's heartbeat (``queue_instances``) is stale or the owner restarted
(:meth:`LeasedQueue.release_owner`): a process killed mid-work does not make
its rows wait out their lease. A process that was only paused (SIGSTOP, a
frozen VM) and comes back is fenced: before each act it confirms it still
holds the row (:meth:`LeasedQueue.hold`, the token compared in the same
UPDATE) and stops its batch when it does not, so what it repeats is at most
the one act that was under way when it stopped.

Rows with a ``coalesce_key`` (``poll:12:tally:<platform>:C1``) are unique among
pending rows (a partial unique index): enqueueing one while another is pending
adds nothing, so 200 stances make one pending refresh, rendered when delivered.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import and_, bindparam, exists, or_, select, text, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from storage.base import UTCDateTime, utcnow
from storage.dbapi import autocommitted
from storage.engine import dialect_insert
from storage.models import InboxItem, OutboxMessage, QueueInstance

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_BACKOFF = 3600.0
#: Rows (or ids) a batch statement takes at most (8-10 parameters a row: well
#: under SQLite's 32,766); a power of two, see :func:`batches`.
ENQUEUE_BATCH = 512


def batches(items: list[T]) -> Iterable[list[T]]:
    """``items`` in slices of at most :data:`ENQUEUE_BATCH`, each padded with its
    last item up to a power of two: an ``IN (..)`` list or a multi-row
    ``INSERT .. ON CONFLICT DO NOTHING`` then takes one of ten SQL texts, not
    one per batch size. Every distinct text is a prepared statement in each
    connection's cache (SQLite: up to 128 a connection, tens of KB each), so
    batch sizes from 1 to 50 grew a server by 2-3 MB a minute under load. A
    repeated id or row changes nothing (the same row; the key conflicts)."""
    for start in range(0, len(items), ENQUEUE_BATCH):
        part = items[start:start + ENQUEUE_BATCH]
        yield part + part[-1:] * ((1 << (len(part) - 1).bit_length()) - len(part))


class RetryAfter(Exception):
    """Raised by a deliverer: the remote asked us to wait ``seconds`` (HTTP 429
    ``Retry-After``). The row is put back without counting an attempt, and the
    rest of the pass's rows for the same destination wait as long."""

    def __init__(self, seconds: float, message: str = "") -> None:
        super().__init__(message or f"rate limited: retry after {seconds:.1f}s")
        self.seconds = max(0.0, float(seconds))


@dataclass(frozen=True, slots=True)
class QueueTable:
    """How a table spells the queue's states: ``working`` and ``done`` statuses,
    the ``due`` column (next attempt while pending, lease end while claimed) and
    the ``done_at`` column."""

    model: Any
    working: str
    done: str
    due: str
    done_at: str


OUTBOX = QueueTable(OutboxMessage, working="sending", done="sent", due="next_attempt_at",
                    done_at="sent_at")
INBOX = QueueTable(InboxItem, working="working", done="done", due="lease_until",
                   done_at="done_at")



@dataclass(frozen=True, slots=True)
class Claimed:
    """A row this process holds: ``attempts`` counts this claim; ``token`` is
    what finishing it must match (a row taken over by another is not ours)."""

    id: int
    key: str
    kind: str
    payload: dict[str, Any]
    attempts: int
    token: str
    coalesce_key: str | None = None


def new_instance_id() -> str:
    """A random instance id (a process that cannot be recognised on restart)."""
    return f"i-{secrets.token_hex(6)}"


class LeasedQueue:
    """Enqueue, claim, finish, retry and dead-letter over one :class:`QueueTable`.

    ``lease``: how long a claim holds; ``stale``: a heartbeat older than this
    frees its owner's rows; ``backoff``: seconds before the first retry,
    doubled each attempt up to an hour. ``fixed``: column values every row of
    this queue has (``{"platform": <adapter>}`` on the shared inbox): written on
    insert, and only rows with them are claimed, released or retried. Methods
    taking ``session`` run in the caller's transaction and never commit.
    """

    def __init__(self, table: QueueTable, *, instance: str, lease: timedelta,
                 max_attempts: int = 12, backoff: float = 5.0,
                 stale: timedelta = timedelta(seconds=15),
                 fixed: Mapping[str, Any] | None = None) -> None:
        self.table = table
        self.fixed = dict(fixed or {})
        self.instance = instance
        self.lease = lease
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.stale = stale
        m = table.model
        self._due = getattr(m, table.due)
        self._stmts: dict[str, Any] = {}
        self._done_at = getattr(m, table.done_at)
        self._scope = and_(true(), *(getattr(m, k) == v for k, v in self.fixed.items()))

    def token(self) -> str:
        """A fresh claim token of this instance (at most 64 characters)."""
        return f"{self.instance[:48]}/{secrets.token_hex(6)}"

    # -- writing ---------------------------------------------------------------------
    def enqueue(self, session: Session, *, key: str, kind: str, payload: Mapping[str, Any],
                coalesce_key: str | None = None, due: datetime | None = None) -> bool:
        """Add a pending row unless ``key`` exists (or, with ``coalesce_key``, a
        pending row with that key exists). True if added. One
        ``INSERT .. ON CONFLICT DO NOTHING``."""
        now = utcnow()
        m = self.table.model
        values: dict[str, Any] = {"key": key, "kind": kind, "payload": dict(payload),
                                  "status": "pending", "attempts": 0,
                                  self.table.due: due or now, "created_at": now, **self.fixed}
        if coalesce_key is not None:
            values["coalesce_key"] = coalesce_key
        ins = dialect_insert(session.get_bind().dialect.name)(m).values(**values)
        # No conflict target: the unique key and the pending-unique coalescing
        # index both mean "already queued".
        stmt = ins.on_conflict_do_nothing().returning(m.id)
        return session.execute(stmt).first() is not None

    def enqueue_many(self, session: Session,
                     rows: Iterable[tuple[str, str, Mapping[str, Any]]]) -> set[str]:
        """:meth:`enqueue` for many (key, kind, payload) rows, in their order,
        a few hundred a statement rather than one a row (a job queueing an email
        to each of 5,000 people). A key already queued, or given twice, adds
        nothing. Returns the keys added."""
        now = utcnow()
        by_key: dict[str, dict[str, Any]] = {}
        for key, kind, payload in rows:
            by_key.setdefault(key, {"key": key, "kind": kind, "payload": dict(payload),
                                    "status": "pending", "attempts": 0, self.table.due: now,
                                    "created_at": now, **self.fixed})
        if not by_key:
            return set()
        session.flush()  # as session.execute would: what is pending lands first
        # One cached Core statement and a list of parameter sets: SQLAlchemy's
        # "insertmanyvalues" sends them as multi-row INSERTs of ENQUEUE_BATCH
        # rows (a statement built with .values([...]) would be compiled anew
        # for every wave, costing more than the rows themselves).
        stmt = self._enqueue_many_stmt(session.get_bind().dialect.name)
        conn = session.connection().execution_options(insertmanyvalues_page_size=ENQUEUE_BATCH)
        return {str(k) for part in batches(list(by_key.values()))
                for k in conn.execute(stmt, part).scalars()}

    def _enqueue_many_stmt(self, dialect: str) -> Any:
        found = self._stmts.get(f"many:{dialect}")
        if found is None:
            m = self.table.model
            # No conflict target, as in enqueue: the key and the coalescing index.
            found = dialect_insert(dialect)(m).on_conflict_do_nothing().returning(m.key)
            self._stmts[f"many:{dialect}"] = found
        return found

    def insert_claimed(self, session: Session, rows: Iterable[tuple[str, str, dict[str, Any]]],
                       token: str) -> list[Claimed]:
        """Insert ``rows`` (key, kind, payload) already claimed with ``token`` (the
        writer hands them to its own workers); existing keys are skipped.
        Returns the inserted rows in id order.

        One cached Core statement executed with a list of parameter sets
        (SQLAlchemy's "insertmanyvalues" batches them into multi-row INSERTs
        with RETURNING): no ORM bulk layer, no new compile per batch size."""
        now = utcnow()
        by_key = {key: (kind, payload) for key, kind, payload in rows}
        if not by_key:
            return []
        lease_until = now + self.lease
        params = [{"key": key, "kind": kind, "payload": payload, "status": self.table.working,
                   "attempts": 1, "claimed_by": token, "owner": self.instance,
                   self.table.due: lease_until, "created_at": now, **self.fixed}
                  for key, (kind, payload) in by_key.items()]
        stmt = self._insert_claimed_stmt(session.get_bind().dialect.name)
        conn = session.connection()
        out = [Claimed(int(i), k, by_key[k][0], by_key[k][1], 1, token)
               for part in batches(params) for i, k in conn.execute(stmt, part)]
        return sorted(out, key=lambda c: c.id)

    def insert_and_finish(self, session: Session,
                          rows: Iterable[tuple[str, str, dict[str, Any]]], token: str,
                          done: list[Claimed]) -> list[Claimed]:
        """:meth:`insert_claimed` then :meth:`finish` of ``done`` (clearing the
        due column), for a group commit. On PostgreSQL one autocommitted
        statement: one round trip instead of four (BEGIN, INSERT, UPDATE,
        COMMIT), durable when it returns; so the caller's unit of work must
        have written nothing before, and writes nothing after."""
        if session.get_bind().dialect.name != "postgresql":
            out = self.insert_claimed(session, rows, token)
            if done:
                self.finish(session, done, **{self.table.due: None})
            return out
        by_key = {key: (kind, payload) for key, kind, payload in rows}
        now = utcnow()
        # on psycopg's own connection: SQLAlchemy's machinery cost more CPU
        # than the statement, on the path of every acknowledgement (storage/dbapi.py)
        with autocommitted(session.get_bind()) as conn:
            got = conn.execute(self._pg_batch_stmt(), {
                "keys": list(by_key), "kinds": [kind for kind, _ in by_key.values()],
                "payloads": [json.dumps(payload) for _, payload in by_key.values()],
                "working": self.table.working, "token": token, "owner": self.instance,
                "lease_until": now + self.lease, "now": now, "done": self.table.done,
                "done_ids": [c.id for c in done], "done_tokens": [c.token for c in done],
                **{f"fixed_{k}": v for k, v in self.fixed.items()}}).all()
        out = [Claimed(int(i), k, by_key[k][0], by_key[k][1], 1, token) for i, k in got]
        return sorted(out, key=lambda c: c.id)

    def _pg_batch_stmt(self) -> Any:
        # the payloads as text cast to json: a payload may hold \u0000, which
        # json_to_recordset and jsonb refuse
        found = self._stmts.get("postgresql-batch")
        if found is None:
            t = self.table
            name = t.model.__table__.name
            fixed = "".join(f", {k}" for k in self.fixed)
            fixed_values = "".join(f", :fixed_{k}" for k in self.fixed)
            found = self._stmts["postgresql-batch"] = text(f"""
WITH ins AS (
    INSERT INTO {name} (key, kind, payload, status, attempts, claimed_by, owner, {t.due},
                        created_at{fixed})
    SELECT r.key, r.kind, CAST(r.payload AS json), :working, 1, :token, :owner,
           :lease_until, :now{fixed_values}
    FROM unnest(CAST(:keys AS text[]), CAST(:kinds AS text[]), CAST(:payloads AS text[]))
         AS r(key, kind, payload)
    ON CONFLICT (key) DO NOTHING
    RETURNING id, key),
fin AS (
    UPDATE {name} SET status = :done, last_error = NULL, {t.done_at} = :now, {t.due} = NULL
    WHERE (id, claimed_by) IN (SELECT * FROM unnest(CAST(:done_ids AS integer[]),
                                                    CAST(:done_tokens AS text[])))
    RETURNING id)
SELECT id, key FROM ins""").bindparams(  # noqa: S608 - names from the model, not input
                bindparam("lease_until", type_=UTCDateTime()),
                bindparam("now", type_=UTCDateTime()))
        return found

    def _insert_claimed_stmt(self, dialect: str) -> Any:
        found = self._stmts.get(dialect)
        if found is None:
            m = self.table.model
            found = (dialect_insert(dialect)(m).on_conflict_do_nothing(index_elements=["key"])
                     .returning(m.id, m.key))
            self._stmts[dialect] = found
        return found

    # -- claiming --------------------------------------------------------------------
    def claimable(self, now: datetime) -> Any:
        """Pending and due; or claimed with the lease run out or a stale owner."""
        m, t = self.table.model, self.table
        stale_owners = select(QueueInstance.id).where(
            QueueInstance.heartbeat_at < now - self.stale)
        pending = and_(m.status == "pending", or_(self._due.is_(None), self._due <= now))
        if hasattr(m, "coalesce_key"):
            # A refresh waits while an earlier one of the same key is in flight:
            # two at once could post twice or land out of order.
            other = aliased(m)
            busy = exists().where(other.coalesce_key == m.coalesce_key, other.id != m.id,
                                  other.status == t.working, getattr(other, t.due) > now)
            pending = and_(pending, or_(m.coalesce_key.is_(None), ~busy))
        return and_(self._scope, or_(
            pending,
            and_(m.status == t.working,
                 or_(self._due <= now, m.owner.in_(stale_owners.scalar_subquery()))),
        ))

    def claim(self, session: Session, *, limit: int, ids: Iterable[int] | None = None
              ) -> list[Claimed]:
        """Claim up to ``limit`` claimable rows (only ``ids`` when given), oldest
        first, counting an attempt on each."""
        m = self.table.model
        now = utcnow()
        token = self.token()
        due = self.claimable(now)
        pick = select(m.id).where(due)
        if ids is not None:
            pick = pick.where(m.id.in_([i for part in batches(list(ids)) for i in part]))
        # A materialized CTE: as a plain IN subquery, PostgreSQL may run the
        # LIMIT .. SKIP LOCKED pick more than once and claim more than ``limit``.
        picked = (pick.order_by(m.id).limit(limit).with_for_update(skip_locked=True)
                  .cte("picked").prefix_with("MATERIALIZED", dialect="postgresql"))
        cols = [m.id, m.key, m.kind, m.payload, m.attempts]
        if hasattr(m, "coalesce_key"):
            cols.append(m.coalesce_key)
        stmt = (update(m).where(m.id.in_(select(picked.c.id)), due)
                .values(status=self.table.working, claimed_by=token, owner=self.instance,
                        attempts=m.attempts + 1, **{self.table.due: now + self.lease})
                .returning(*cols).execution_options(synchronize_session=False))
        out = [Claimed(int(r[0]), r[1], r[2], dict(r[3]), int(r[4]), token,
                       r[5] if len(r) > 5 else None) for r in session.execute(stmt)]
        return sorted(out, key=lambda c: c.id)

    def hold(self, session: Session, row: Claimed) -> bool:
        """Fencing: whether this process still holds ``row`` (its token is the
        row's ``claimed_by`` and it is still claimed), checked and the lease
        renewed in one statement, right before its act (a send). False means
        another worker took it over (this one was paused past the takeover
        window): the caller stops its batch, so a paused process repeats at
        most the one act that was already under way."""
        m = self.table.model
        res = session.execute(
            update(m).where(m.id == row.id, m.claimed_by == row.token,
                            m.status == self.table.working)
            .values(**{self.table.due: utcnow() + self.lease})
            .execution_options(synchronize_session=False))
        return bool(getattr(res, "rowcount", 0))

    # -- finishing -------------------------------------------------------------------
    def finish(self, session: Session, rows: Iterable[Claimed], **values: Any) -> int:
        """Mark ``rows`` done (those still held by their token). Returns how many."""
        m = self.table.model
        by_token: dict[str, list[int]] = {}
        for c in rows:
            by_token.setdefault(c.token, []).append(c.id)
        n = 0
        for token, ids in by_token.items():
            for part in batches(ids):
                res = session.execute(
                    update(m).where(m.id.in_(part), m.claimed_by == token)
                    .values(status=self.table.done, last_error=None,
                            **{self.table.done_at: utcnow()}, **values)
                    .execution_options(synchronize_session=False))
                n += int(getattr(res, "rowcount", 0) or 0)
        return n

    def fail(self, session: Session, row: Claimed, error: BaseException | str, *,
             retry_after: float | None = None) -> str:
        """Record a failed attempt: back to pending after the back-off (or
        ``retry_after`` seconds, not counted as an attempt), or ``dead`` once
        ``max_attempts`` claims have failed. Returns the new status ('' if the
        row is no longer ours)."""
        m = self.table.model
        text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
        text = text[:2000]
        now = utcnow()
        attempts = row.attempts - 1 if retry_after is not None else row.attempts
        if retry_after is None and attempts >= self.max_attempts:
            status, delay = "dead", 0.0
        else:
            status = "pending"
            delay = retry_after if retry_after is not None else \
                min(self.backoff * (2 ** max(attempts - 1, 0)), MAX_BACKOFF)
        mine = and_(m.id == row.id, m.claimed_by == row.token)
        values = {"status": status, "last_error": text, "attempts": attempts,
                  self.table.due: now + timedelta(seconds=delay)}
        try:
            with session.begin_nested():
                res = session.execute(update(m).where(mine).values(**values)
                                      .execution_options(synchronize_session=False))
        except IntegrityError:
            # A newer refresh with the same coalescing key is pending: it renders
            # the latest state, so this one has nothing left to say.
            status = "superseded"
            res = session.execute(update(m).where(mine).values(
                status=status, last_error=text, **{self.table.done_at: now})
                .execution_options(synchronize_session=False))
        if not getattr(res, "rowcount", 0):
            return ""
        if status == "dead":
            log.error("%s %s (%s) is dead after %d attempts: %s", m.__tablename__, row.key,
                      row.kind, attempts, text)
        else:
            log.warning("%s %s failed (attempt %d), retry in %.1fs: %s", m.__tablename__,
                        row.key, attempts, delay, text)
        return status

    def release(self, session: Session, row: Claimed) -> None:
        """Give a claimed row back untouched (due now, the attempt not counted)."""
        m = self.table.model
        session.execute(update(m).where(m.id == row.id, m.claimed_by == row.token)
                        .values(status="pending", attempts=m.attempts - 1,
                                **{self.table.due: utcnow()})
                        .execution_options(synchronize_session=False))

    def release_owner(self, session: Session, owner: str | None = None) -> int:
        """At start: rows a previous run of ``owner`` (default: this instance)
        still held go back to pending, due now. Returns how many."""
        m = self.table.model
        res = session.execute(
            update(m).where(self._scope, m.status == self.table.working,
                            m.owner == (owner or self.instance))
            .values(status="pending", **{self.table.due: utcnow()})
            .execution_options(synchronize_session=False))
        return int(getattr(res, "rowcount", 0) or 0)

    def retry_dead(self, session: Session, ids: Iterable[int] | None = None) -> int:
        """Dead rows (``ids``, or all) back to pending with their attempts reset."""
        m = self.table.model
        stmt = update(m).where(self._scope, m.status == "dead")
        wanted = list(ids) if ids is not None else None
        if wanted is not None:
            stmt = stmt.where(m.id.in_(wanted))
        res = session.execute(stmt.values(status="pending", attempts=0,
                                          **{self.table.due: utcnow()})
                              .execution_options(synchronize_session=False))
        return int(getattr(res, "rowcount", 0) or 0)
