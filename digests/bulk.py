"""Inserting many rows with Core, one refused row costing only itself.

The ORM's unit of work flushes one object at a time (``store_candidates``
spent about 5 s on 22,000 source rows); a Core ``INSERT`` with a list of
parameters is one executemany (PostgreSQL and SQLite batch it, RETURNING
included: SQLAlchemy's "insertmanyvalues"). It runs in a savepoint: if the
database refuses any row (a constraint, a NUL byte PostgreSQL will not store),
the batch is rolled back and the rows go one by one, each in its own
savepoint, so the others are kept and the refused ones are logged.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)


def insert_rows(session: Session, model: type[Any], rows: Sequence[dict[str, Any]], *,
                returning: Sequence[str] = ()) -> list[tuple[Any, ...] | None]:
    """Insert ``rows`` (column name -> value) into the table of ``model`` (a
    mapped class; no ORM events or relationships run) in ``session``'s
    transaction (never commits). Returns one entry per row, in order: the
    values of the ``returning`` columns (an empty tuple when none are asked),
    or None for a row the database refused (logged at WARNING with the error).
    Errors other than the database's (DBAPIError) propagate."""
    if not rows:
        return []
    table = cast(Table, model.__table__)
    stmt = insert(table)
    if returning:
        stmt = stmt.returning(*(table.c[name] for name in returning),
                              sort_by_parameter_order=True)
    try:
        with session.begin_nested():
            result = session.execute(stmt, list(rows))
            return [tuple(r) for r in result] if returning else [() for _ in rows]
    except DBAPIError as exc:
        log.warning("bulk insert into %s refused (%s); inserting its %d rows one by one",
                    table.name, exc.__class__.__name__, len(rows))
    out: list[tuple[Any, ...] | None] = []
    for row in rows:
        try:
            with session.begin_nested():
                result = session.execute(stmt, [row])
                out.append(tuple(result.one()) if returning else ())
        except DBAPIError as exc:
            log.warning("row refused by %s: %s", table.name, str(exc.orig).strip()[:300])
            out.append(None)
    return out
