"""Prebuilt ``text()`` statements run on SQLite's own DB-API connection.

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
"""

from __future__ import annotations

import sqlite3
from collections import namedtuple
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Connection, TextClause
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.elements import TextClause as _Text
from sqlalchemy.sql.selectable import TextualSelect

Processor = Callable[[Any], Any]


class _Plan:
    """What one statement needs, found once per dialect: its SQL, its typed
    parameters' processors and its typed columns' processors."""

    __slots__ = ("binds", "columns", "row", "sql", "stmt")

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


class Rows:
    """The rows of one statement: :meth:`first`, :meth:`one` (attribute access
    by column name, as SQLAlchemy's rows)."""

    __slots__ = ("_rows",)

    def __init__(self, rows: list[Any]) -> None:
        self._rows = rows

    def first(self) -> Any:
        return self._rows[0] if self._rows else None

    def one(self) -> Any:
        if len(self._rows) != 1:
            raise ValueError(f"expected one row, got {len(self._rows)}")
        return self._rows[0]


class RawSqlite:
    """``execute(stmt, params)`` on the DB-API connection under ``conn``."""

    _plans: dict[tuple[int, str], _Plan] = {}
    _raw: sqlite3.Connection

    def __init__(self, conn: Connection) -> None:
        self.dialect = conn.dialect
        dbapi = conn.connection.dbapi_connection
        assert isinstance(dbapi, sqlite3.Connection)
        self._raw = dbapi

    def _plan(self, stmt: TextClause | TextualSelect) -> _Plan:
        key = (id(stmt), self.dialect.name)
        plan = self._plans.get(key)
        if plan is None:
            # statements are module constants built at import: id() is stable
            plan = self._plans[key] = _Plan(stmt, self.dialect)
        return plan

    def execute(self, stmt: TextClause | TextualSelect, params: Mapping[str, Any]) -> Rows:
        plan = self._plan(stmt)
        if plan.binds:
            params = dict(params)
            for name, proc in plan.binds.items():
                if name in params:
                    params[name] = proc(params[name])
        try:
            cur = self._raw.execute(plan.sql, params)
            got = cur.fetchall()
        except sqlite3.Error as exc:
            raise DBAPIError.instance(plan.sql, params, exc, sqlite3.Error,
                                      dialect=self.dialect) from exc
        if not got or cur.description is None:
            return Rows([])
        if plan.row is None:
            plan.row = namedtuple("Row", [d[0] for d in cur.description],  # type: ignore[misc]
                                  rename=True)
        make = plan.row._make
        if plan.columns:
            names = plan.row._fields
            procs = [plan.columns.get(n) for n in names]
            return Rows([make(v if p is None else p(v) for p, v in zip(procs, r, strict=True))
                         for r in got])
        return Rows([make(r) for r in got])


def hot(conn: Connection) -> RawSqlite | Connection:
    """``conn`` for prebuilt statements: on SQLite its DB-API connection
    (:class:`RawSqlite`), elsewhere ``conn`` itself."""
    return RawSqlite(conn) if conn.dialect.name == "sqlite" else conn
