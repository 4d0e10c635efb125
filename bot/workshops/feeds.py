"""Calendar feeds: a person's (secret, revocable URL, with join links) and the
public one (no join links), as ``text/calendar`` with ETag and Last-Modified."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from bot.errors import N_
from bot.i18n import translator
from bot.tokens import LinkRefused
from bot.workshops import feed_events, tokens
from bot.workshops.ical import calendar_of
from storage.base import utcnow
from storage.engine import read_only
from storage.models import Membership, Person, Workshop, WorkshopFeedKey

if TYPE_CHECKING:
    from bot.app import Bot
    from bot.settings import Settings


def feed_version(session: Session, person_id: int) -> int:
    """The person's current feed key version (1 when never revoked)."""
    return session.scalar(select(WorkshopFeedKey.version).where(
        WorkshopFeedKey.person_id == person_id)) or 1


def revoke(session: Session, person_id: int) -> int:
    """Raise the person's key version: every earlier feed URL stops working."""
    row = session.scalar(select(WorkshopFeedKey).where(WorkshopFeedKey.person_id == person_id))
    if row is None:
        row = WorkshopFeedKey(person_id=person_id, version=1)
        session.add(row)
    row.version += 1
    row.updated_at = utcnow()
    return row.version


def feed_url(session: Session, settings: Settings, person_id: int) -> str:
    """The person's secret feed URL."""
    t = tokens.mint(key=settings.signing_key(), purpose="feed", person_id=person_id,
                    version=feed_version(session, person_id))
    return f"{settings.http.public_url()}/workshops/feed/{t}.ics"


def feed_bytes(session: Session, settings: Settings, *, person: Person | None
               ) -> tuple[bytes, datetime, list[feed_events.Built]]:
    """The feed's iCalendar bytes, its last change (aware UTC) and the events
    it built rather than read from the store (for :func:`feed_events.keep`):
    the person's groups' workshops with join links, or every workshop without."""
    where: ColumnElement[bool] = true()
    if person is not None:
        where = Workshop.group_id.in_(select(Membership.group_id).where(
            Membership.person_id == person.id))
    got = feed_events.read(session, settings, where=where, with_join=person is not None)
    return (calendar_of(got.events, method=None, name=settings.alliance_name), got.changed,
            got.built)


NOT_VALID = N_("This calendar feed address is not valid. Write in chat: workshop feed")
REVOKED = N_("This calendar feed address was replaced by a new one. Write in chat: "
             "workshop feed")


def _refused(language: str, status: int, msgid: str) -> Response:
    """A refused feed, as plain text in ``language`` (a calendar shows it, if anything)."""
    return Response(translator(language).gettext(msgid) + "\n", status_code=status,
                    media_type="text/plain; charset=utf-8",
                    headers={"Content-Language": translator(language).language})


def feed_response(bot: Bot, request: Request, *, token: str | None) -> Response:
    """The HTTP answer for a feed, 304 when the client's ETag still matches."""
    person: Person | None = None
    # Only reads: on SQLite it takes neither the write lock nor the writers'
    # lock, so a calendar client polling never holds up a stance or a press.
    with Session(read_only(bot.session_factory.kw["bind"])) as session:
        if token is not None:
            try:
                link = tokens.verify(token, key=bot.settings.signing_key(), purpose="feed",
                                     now=utcnow())
            except LinkRefused:
                return _refused(bot.settings.default_language, 404, NOT_VALID)
            person = session.get(Person, link.person_id)
            if person is None or link.version != feed_version(session, person.id):
                return _refused(person.language if person else bot.settings.default_language,
                                410, REVOKED)
        body, changed, built = feed_bytes(session, bot.settings, person=person)
    feed_events.keep(bot.session_factory, built)
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Last-Modified": format_datetime(changed.astimezone(UTC),
                                                              usegmt=True),
               "Cache-Control": "private, max-age=300" if person else "public, max-age=300"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="text/calendar; charset=utf-8", headers=headers)
