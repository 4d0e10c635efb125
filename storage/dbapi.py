"""Prebuilt ``text()`` statements run on the driver's own connection.

A stance on SQLite is five short statements; through SQLAlchemy's Core each
costs about three times what SQLite spends on it (execution context, result
metadata, events), which was half the stance's CPU, and on a busy machine CPU
is what a closed loop's tail is made of (each slice of it a chance to be
preempted). :class:`RawSqlite` runs the same statements, with the same
parameters and the same type processing (a statement's typed bind parameters
and typed result columns, e.g. :class:`storage.base.UTCDateTime` and JSON), on
the unit of work's DB-API connection, inside the transaction SQLAlchemy began
(so the writers' lock, ``BEGIN IMMEDIATE`` and the commit are unchanged).
``sqlite3`` takes ``:name`` parameters natively. A driver error is raised as
SQLAlchemy would raise it (:meth:`sqlalchemy.exc.DBAPIError.instance`), so
callers that tell an unavailable database from a bug see no difference.
Only for SQLite: anything else gets the Connection back (:func:`hot`).

PostgreSQL's stance is one statement, and through SQLAlchemy it cost more CPU
on the client than on the server: the execution context and result metadata,
the ORM session's transaction around it, and psycopg parsing the statement's
``%(name)s`` placeholders on every call (psycopg caches that only for
statements under 4 KB; the stance's is 6 KB). :func:`autocommitted` checks a
connection out of the engine's pool and runs prebuilt statements on psycopg's
own connection in autocommit mode (each statement its own transaction,
durable when it returns), the SQL turned once into ``$n`` placeholders for a
:class:`psycopg.RawCursor` (psycopg still prepares it after a few calls). A
lost connection is invalidated and raised as SQLAlchemy would raise it
(``connection_invalidated``), so ``Bot.dispatch`` runs the event again.
"""

from __future__ import annotations

import re
import sqlite3
from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, cast

import psycopg
from sqlalchemy import Connection, Engine, TextClause
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.sql.elements import TextClause as _Text
from sqlalchemy.sql.selectable import TextualSelect

Processor = Callable[[Any], Any]


class _Plan:
    """What one statement needs, found once per dialect: its SQL, its typed
    parameters' processors and its typed columns' processors."""

    __slots__ = ("_numbered", "binds", "columns", "order", "row", "sql", "stmt")

    def __init__(self, stmt: TextClause | TextualSelect, dialect: Dialect) -> None:
        self.stmt = stmt  # held: the plans are keyed by id()
        clause = stmt.element if isinstance(stmt, TextualSelect) else stmt
        assert isinstance(clause, _Text)
        self.sql: str = clause.text
        self.binds: dict[str, Processor] = {}
        for name, bp in clause._bindparams.items():
            proc = bp.type.dialect_impl(dialect).bind_processor(dialect)
            if proc is not None:
                self.binds[name] = proc
        self.columns: dict[str, Processor] = {}
        if isinstance(stmt, TextualSelect):
            for col in stmt.selected_columns:
                proc = col.type.dialect_impl(dialect).result_processor(dialect, None)
                if proc is not None:
                    self.columns[col.key] = proc
        self.row: Any = None  # the row class, made from the first description
        self.order: list[str] = []  # PostgreSQL: the parameter of each $n
        self._numbered = ""

    def numbered(self) -> str:
        """The SQL with ``$1, $2, ...`` for its ``:name`` parameters (found as
        SQLAlchemy finds them; ``\\:`` unescaped), filling :attr:`order`;
        made on the first call."""
        def number(m: re.Match[str]) -> str:
            name = m.group(1)
            if name not in self.order:
                self.order.append(name)
            return f"${self.order.index(name) + 1}"
        if not self._numbered:
            self.order = []
            self._numbered = _BIND_ESC.sub(r"\1", _BIND.sub(number, self.sql))
        return self._numbered

    def bind(self, params: Mapping[str, Any]) -> Mapping[str, Any]:
        """``params`` with the typed parameters' processors applied."""
        if not self.binds:
            return params
        params = dict(params)
        for name, proc in self.binds.items():
            if name in params:
                params[name] = proc(params[name])
        return params

    def rows(self, got: list[Any], names: list[str]) -> Rows:
        """``got`` (tuples) as rows with attribute access, typed columns
        processed; ``names``: the columns' (needed for the first rows only)."""
        if not got:
            return Rows([])
        if self.row is None:
            self.row = namedtuple("Row", names, rename=True)  # type: ignore[misc]
        make = self.row._make
        if self.columns:
            procs = [self.columns.get(n) for n in self.row._fields]
            return Rows([make(v if p is None else p(v) for p, v in zip(procs, r, strict=True))
                         for r in got])
        return Rows([make(r) for r in got])


_PLANS: dict[tuple[int, str], _Plan] = {}


def _plan_for(stmt: TextClause | TextualSelect, dialect: Dialect) -> _Plan:
    """The plan of ``stmt`` on ``dialect``, made once (the statements are
    module constants built at import: their id() is stable)."""
    key = (id(stmt), dialect.name)
    plan = _PLANS.get(key)
    if plan is None:
        plan = _PLANS[key] = _Plan(stmt, dialect)
    return plan


#: How SQLAlchemy finds a text() statement's parameters, and its escaped colon.
_BIND = TextClause._bind_params_regex
_BIND_ESC = re.compile(r"\x5c(:\w*)(?![:\w])")


class Rows:
    """The rows of one statement: :meth:`first`, :meth:`one`, :meth:`all`
    (attribute access by column name, as SQLAlchemy's rows)."""

    __slots__ = ("_rows",)

    def __init__(self, rows: list[Any]) -> None:
        self._rows = rows

    def first(self) -> Any:
        return self._rows[0] if self._rows else None

    def all(self) -> list[Any]:
        return list(self._rows)

    def one(self) -> Any:
        if len(self._rows) != 1:
            raise ValueError(f"expected one row, got {len(self._rows)}")
        return self._rows[0]


class RawSqlite:
    """``execute(stmt, params)`` on the DB-API connection under ``conn``."""

    _raw: sqlite3.Connection

    def __init__(self, conn: Connection) -> None:
        self.dialect = conn.dialect
        dbapi = conn.connection.dbapi_connection
        assert isinstance(dbapi, sqlite3.Connection)
        self._raw = dbapi

    def execute(self, stmt: TextClause | TextualSelect, params: Mapping[str, Any]) -> Rows:
        plan = _plan_for(stmt, self.dialect)
        params = plan.bind(params)
        try:
            cur = self._raw.execute(plan.sql, params)
            got = cur.fetchall()
        except sqlite3.Error as exc:
            raise DBAPIError.instance(plan.sql, params, exc, sqlite3.Error,
                                      dialect=self.dialect) from exc
        return plan.rows(got, [d[0] for d in cur.description or ()])


def hot(conn: Connection) -> RawSqlite | Connection:
    """``conn`` for prebuilt statements: on SQLite its DB-API connection
    (:class:`RawSqlite`), elsewhere ``conn`` itself."""
    return RawSqlite(conn) if conn.dialect.name == "sqlite" else conn


class RawPostgres:
    """``execute(stmt, params)`` on ``raw``, the psycopg connection of the
    pooled connection ``pooled``, in the transaction mode it is in (see
    :func:`autocommitted`)."""

    def __init__(self, dialect: Dialect, pooled: PoolProxiedConnection, raw: Any) -> None:
        self.dialect = dialect
        self._pooled = pooled
        self._raw = raw

    def execute(self, stmt: TextClause | TextualSelect, params: Mapping[str, Any]) -> Rows:
        plan = _plan_for(stmt, self.dialect)
        sql = plan.numbered()
        bound = plan.bind(params)
        with psycopg.RawCursor(self._raw) as cur:
            try:
                cur.execute(sql, [bound[name] for name in plan.order])
                res = cur.pgresult
                rows = (cur.fetchall() if res is not None
                        and res.status == psycopg.pq.ExecStatus.TUPLES_OK else [])
                # the column names once per statement: psycopg makes a
                # description's columns anew on every call
                names = ([d.name for d in cur.description or ()]
                         if rows and plan.row is None else [])
            except psycopg.Error as exc:
                lost = self.dialect.is_disconnect(cast(Any, exc), self._raw, cast(Any, cur))
                if lost:
                    self._pooled.invalidate(exc)
                raise DBAPIError.instance(sql, bound, exc, psycopg.Error,
                                          dialect=self.dialect,
                                          connection_invalidated=lost) from exc
        return plan.rows(rows, names)


@contextmanager
def autocommitted(bind: Engine | Connection) -> Iterator[RawPostgres | Connection]:
    """A pooled connection of ``bind`` (a session's bind) in autocommit mode,
    for prebuilt statements: on PostgreSQL through psycopg (:class:`RawPostgres`),
    with any other driver, or a bind that is a Connection already, an SQLAlchemy
    Connection (``execute(stmt, params)`` either way). Back in the pool in its
    usual transaction mode."""
    if isinstance(bind, Connection):
        yield bind.execution_options(isolation_level="AUTOCOMMIT")
        return
    if bind.dialect.driver != "psycopg":
        with bind.connect() as conn:
            yield conn.execution_options(isolation_level="AUTOCOMMIT")
        return
    try:
        pooled = bind.raw_connection()
    except bind.dialect.loaded_dbapi.Error as exc:  # as Engine.connect() raises it
        raise DBAPIError.instance(
            None, None, exc, bind.dialect.loaded_dbapi.Error, dialect=bind.dialect,
            connection_invalidated=bind.dialect.is_disconnect(exc, None, None)) from exc
    try:
        raw: Any = pooled.driver_connection
        raw.autocommit = True
        try:
            yield RawPostgres(bind.dialect, pooled, raw)
        finally:
            if pooled.is_valid:  # not after a lost connection (invalidated)
                raw.autocommit = False
    except BaseException:
        if pooled.is_valid:
            pooled.invalidate()  # a state nobody checked: not back in the pool
        raise
    finally:
        pooled.close()
