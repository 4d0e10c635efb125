"""The press review, wired to the core: build a week's digest from the feeds,
and send it through the outbox (emails to the secretariat, a summary to the
``[digest] channel``).

A build fetches with no transaction open, then writes in one unit of work
that starts by inserting the week's digest row (UNIQUE week), so a second
process waits, then finds it. Sending freezes the draft with a conditional
UPDATE and writes one outbox row per address under ``digest:<week>:<address>``
in the same transaction: two processes, or a crash mid-send, cannot send twice.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from bot.i18n import translator
from bot.mail import OutgoingEmail
from bot.members import people_in
from bot.outbox import ChatTarget, enqueue_chat, enqueue_email
from bot.settings import Settings
from bot.types import Header, Message, Section
from digests import archive
from digests.classify import Classifier
from digests.fetch import FetchResult, fetch_sources
from digests.pipeline import Gathered, candidates, gather
from digests.render import Rendered, render_digest
from digests.sources import FeedSource
from digests.taxonomy import Taxonomy, load_taxonomy
from storage.base import utcnow
from storage.models import Digest, DigestRecipient, Role

log = logging.getLogger(__name__)


@dataclass
class BuildOutcome:
    """What a build did: the week, per-source reports, the digest's status
    (draft, sent), whether this call sent it, and the selected item count."""

    week: str
    reports: list[dict[str, object]] = field(default_factory=list)
    status: str = "draft"
    sent_now: bool = False
    items: int = 0
    rendered: Rendered | None = None


def current_week(settings: Settings, now: datetime | None = None) -> str:
    """This ISO week in the digest's zone (``2026-W48``)."""
    return archive.iso_week(now or utcnow(), settings.digest.timezone)


def taxonomy_for(settings: Settings) -> Taxonomy:
    """The secretariat's taxonomy file if configured, else the default."""
    return load_taxonomy(settings.digest.taxonomy_file)


def fetch_feeds(settings: Settings, sources: Sequence[FeedSource],
                on_result: Callable[[FetchResult], None] | None = None) -> list[FetchResult]:
    """Fetch with the configured bound, timeout and size cap."""
    d = settings.digest
    return fetch_sources(sources, concurrency=d.fetch_concurrency, timeout=d.fetch_timeout,
                         max_bytes=d.max_feed_bytes, on_result=on_result)


def sources_for(session: Session, settings: Settings,
                feeds: Sequence[str] | None = None) -> list[FeedSource]:
    """``feeds`` (this run only) or the configured ones ([digest] feeds plus
    those added with ``convene feeds add``), with their stored validators."""
    if feeds:
        return archive.feed_sources(session, urls=feeds)
    if settings.digest.feeds:
        archive.upsert_feeds(session, [FeedSource(u) for u in settings.digest.feeds],
                             update=False)
    return archive.feed_sources(session)


def render_for(settings: Settings, digest: Digest, language: str) -> Rendered:
    """The digest's selected items rendered in ``language``."""
    tr = translator(language)
    return render_digest(items=archive.views(archive.selected(digest)), week=digest.week,
                         taxonomy=taxonomy_for(settings), language=tr.language,
                         gettext=tr.gettext, alliance=settings.alliance_name,
                         timezone=settings.digest.timezone)


def summary_message(settings: Settings, digest: Digest, language: str) -> Message:
    """The chat summary of ``digest`` in ``language``."""
    text = render_for(settings, digest, language).summary
    title, _, body = text.partition("\n")
    return Message(text=text, blocks=(Header(title), Section(body.strip())))


def persist(session: Session, settings: Settings, *, week: str, results: Sequence[FetchResult],
            gathered: Gathered, now: datetime, send: bool) -> BuildOutcome:
    """Write a build into ``session`` (never commits): the week's digest row
    first, then feeds, candidates, edits, renderings and, with ``send``, the
    outbox rows. A week already sent is left as it is."""
    digest = archive.get_or_create_digest(session, week)
    archive.record_fetch(session, results, gathered)
    out = BuildOutcome(week=week, reports=[r.to_data() for r in gathered.reports])
    if digest.status == "draft":
        ref = archive.reference_time(week, settings.digest.timezone, now)
        pool = candidates(gathered.entries, classifier=Classifier(taxonomy_for(settings)),
                          now=ref)
        archive.store_candidates(session, digest, pool)
        archive.apply_edits(session, digest, limit=settings.digest.items)
        digest.report = out.reports
        digest.built_at = utcnow()
        archive_renderings(settings, digest)
        if send:
            out.sent_now = send_digest(session, settings, digest)
    session.flush()
    session.refresh(digest)
    out.status = digest.status
    out.items = len(archive.selected(digest))
    out.rendered = render_for(settings, digest, settings.default_language)
    return out


def archive_renderings(settings: Settings, digest: Digest) -> Rendered:
    """Store the default-language HTML, text and subject on the digest."""
    r = render_for(settings, digest, settings.default_language)
    digest.subject, digest.html, digest.text = r.subject[:300], r.html, r.text
    return r


def send_digest(session: Session, settings: Settings, digest: Digest) -> bool:
    """Freeze ``digest`` and queue it: one email per secretariat address (in
    each person's language), the summary to ``[digest] channel``. Returns
    False when it was already sent (nothing queued twice)."""
    archive.apply_edits(session, digest, limit=settings.digest.items)
    archive_renderings(settings, digest)
    if not archive.claim_for_send(session, digest):
        return False
    domain = settings.mail.from_address.rsplit("@", 1)[-1] or "convene.local"
    for person in people_in(session, roles=[Role.SECRETARIAT]):
        address = person.primary_email
        if not address:
            continue
        r = render_for(settings, digest, person.language)
        key = f"digest:{digest.week}:{address}"
        mid = hashlib.sha256(key.encode()).hexdigest()[:20]
        email = OutgoingEmail(to=(address,), subject=r.subject, text=r.text, html=r.html,
                              message_id=f"<digest-{digest.week}-{mid}@{domain}>")
        enqueue_email(session=session, key=key, email=email)
        session.add(DigestRecipient(digest_id=digest.id, address=address, kind="email",
                                    outbox_key=key))
    channel = settings.digest.channel
    if channel and ":" in channel:
        platform, channel_id = channel.split(":", 1)
        key = f"digest:{digest.week}:chat:{channel}"
        enqueue_chat(session=session, key=key,
                     target=ChatTarget(platform=platform, workspace_id="",
                                       channel_id=channel_id),
                     message=summary_message(settings, digest, settings.default_language),
                     ref=f"digest:{digest.week}")
        session.add(DigestRecipient(digest_id=digest.id, address=channel, kind="chat",
                                    outbox_key=key))
    session.flush()
    session.expire(digest, ["recipients"])
    return True


def build(*, session_factory: Callable[[], Session], settings: Settings, week: str | None = None,
          feeds: Sequence[str] | None = None, send: bool = False,
          on_sources: Callable[[int], None] | None = None,
          on_result: Callable[[FetchResult], None] | None = None) -> BuildOutcome:
    """Fetch, build and (``send``) queue the digest of ``week`` (default: this
    week). ``on_sources(n)`` is told the source count before fetching and
    ``on_result`` each fetch result (a progress bar). Idempotent per week."""
    now = utcnow()
    week = week or current_week(settings, now)
    archive.week_start(week, settings.digest.timezone)  # ValueError for a bad week
    with session_factory() as session, session.begin():
        sources = sources_for(session, settings, feeds)
        cache = archive.cached_entries(session, [s.url for s in sources])
    if on_sources is not None:
        on_sources(len(sources))
    results = fetch_feeds(settings, sources, on_result)
    gathered = gather(results, cached=cache)
    for attempt in range(5):
        try:
            with session_factory() as session, session.begin():
                return persist(session, settings, week=week, results=results,
                               gathered=gathered, now=now, send=send)
        except OperationalError:  # SQLite: another writer held the file too long
            if attempt == 4:
                raise
            log.warning("database busy while saving the %s digest; retrying", week)
            time.sleep(0.5 * (attempt + 1))
    raise AssertionError("unreachable")


def write_renderings(rendered: Rendered, week: str, folder: Path) -> list[Path]:
    """Write ``<week>.html`` and ``<week>.txt`` under ``folder``; returns the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    html, text = folder / f"{week}.html", folder / f"{week}.txt"
    html.write_text(rendered.html, encoding="utf-8")
    text.write_text(rendered.text, encoding="utf-8")
    return [html, text]


__all__ = ["BuildOutcome", "build", "current_week", "persist", "send_digest",
           "summary_message", "write_renderings"]
