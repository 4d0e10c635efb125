"""Forms waiting behind an "open" button, in the database.

A chat platform can only open a form (a modal) as the first
answer to a press, so a form the core returns later is stashed behind an
"open" button. Every replica serves the platforms' HTTP endpoints, and the
press may reach any of them: the stash is the ``form_stash`` table, not a
process's memory. Rows live ``ttl`` seconds from the last page filled;
expired rows are swept as new ones are stashed. What a row holds is the
adapter's business (:attr:`Stashed.data`, JSON).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from storage.base import utcnow
from storage.models import StashedForm


@dataclass(frozen=True, slots=True)
class Stashed:
    """A stashed form: the adapter's ``data``, the next ``page`` to open
    (0-based) and the (field, value) ``values`` of the pages before it."""

    data: dict[str, Any]
    page: int = 0
    values: tuple[tuple[str, str], ...] = ()


class FormStash:
    """The ``form_stash`` rows of one ``platform``; ``ttl``: seconds a form
    waits from its last page. Each method is its own unit of work."""

    def __init__(self, session_factory: sessionmaker[Session], *, platform: str,
                 ttl: float = 3600.0) -> None:
        self.session_factory = session_factory
        self.platform = platform
        self.ttl = timedelta(seconds=ttl)

    def put(self, data: Mapping[str, Any], *, page: int = 0,
            values: tuple[tuple[str, str], ...] = ()) -> str:
        """Stash ``data`` at ``page`` (default its first) with the ``values`` of
        the pages before it (a form reopened where a field was refused);
        returns its token (16 URL-safe characters). Sweeps expired rows."""
        token = secrets.token_urlsafe(12)
        now = utcnow()
        with self.session_factory() as session, session.begin():
            session.execute(delete(StashedForm).where(StashedForm.expires_at < now))
            session.add(StashedForm(token=token, platform=self.platform, data=dict(data),
                                    page=page, page_values=[list(v) for v in values],
                                    expires_at=now + self.ttl,
                                    created_at=now))
        return token

    def get(self, token: str) -> Stashed | None:
        """The stashed form, or None when unknown, expired or another platform's."""
        with self.session_factory() as session:
            row = session.execute(select(StashedForm.data, StashedForm.page,
                                         StashedForm.page_values).where(
                StashedForm.token == token[:32], StashedForm.platform == self.platform,
                StashedForm.expires_at >= utcnow())).first()
        if row is None:
            return None
        return Stashed(dict(row[0]), int(row[1]), tuple((str(k), str(v)) for k, v in row[2]))

    def advance(self, token: str, *, page: int, values: tuple[tuple[str, str], ...]
                ) -> Stashed | None:
        """Add ``values`` (the fields of ``page``) and move to the next page, in
        one compare-and-set: None when unknown, expired, or when the form no
        longer waits for ``page`` (a page submitted twice, on any replica: only
        the first counts)."""
        now = utcnow()
        with self.session_factory() as session, session.begin():
            row = session.execute(select(StashedForm).where(
                StashedForm.token == token[:32], StashedForm.platform == self.platform,
                StashedForm.expires_at >= now, StashedForm.page == page)).scalar_one_or_none()
            if row is None:
                return None
            merged = [*row.page_values, *([k, v] for k, v in values)]
            done = session.execute(
                update(StashedForm).where(StashedForm.token == row.token,
                                          StashedForm.page == page)
                .values(page=page + 1, page_values=merged, expires_at=now + self.ttl)
                .execution_options(synchronize_session=False))
            if not getattr(done, "rowcount", 0):
                return None
            data = dict(row.data)
        return Stashed(data, page + 1, tuple((str(k), str(v)) for k, v in merged))

    def drop(self, token: str) -> None:
        """Forget a form once it is submitted whole."""
        with self.session_factory() as session, session.begin():
            session.execute(delete(StashedForm).where(StashedForm.token == token[:32]))

    def sweep(self) -> int:
        """Delete expired rows; returns how many."""
        with self.session_factory() as session, session.begin():
            res = session.execute(delete(StashedForm).where(StashedForm.expires_at < utcnow()))
        return int(getattr(res, "rowcount", 0) or 0)
