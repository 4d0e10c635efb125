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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from bot.errors import N_
from bot.i18n import translator
from bot.mail import OutgoingEmail
from bot.members import people_in
from bot.outbox import ChatTarget, enqueue_chat, enqueue_email, enqueue_emails
from bot.settings import Settings
from bot.types import Header, Message, Section, is_safe_url
from digests import archive
from digests.classify import Classifier
from digests.fetch import FetchResult, fetch_sources
from digests.outbound import FetchPolicy
from digests.pipeline import Gathered, Gatherer, candidates
from digests.render import Rendered, render_digest
from digests.sources import FeedSource, check_source
from digests.taxonomy import Taxonomy, load_taxonomy
from storage.base import utcnow
from storage.models import Digest, DigestItem, DigestNoteOptOut, DigestRecipient, Role

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
    #: True when ``send`` was asked but the review was empty (nothing sent).
    refused_empty: bool = False
    #: Items kept from the stored draft because their source failed this time.
    kept: int = 0

    @property
    def failed(self) -> list[dict[str, object]]:
        """The reports of the sources that failed."""
        return [r for r in self.reports if r.get("status") == "failed"]


class EmptyReview(ValueError):
    """Sending a review with no article was refused (``allow_empty`` sends it)."""


def current_week(settings: Settings, now: datetime | None = None) -> str:
    """This ISO week in the digest's zone (``2026-W48``)."""
    return archive.iso_week(now or utcnow(), settings.digest.timezone)


def last_complete_week(settings: Settings, now: datetime | None = None) -> str:
    """The last ISO week that has ended at ``now`` (aware; default the clock)
    in the digest's zone: the week the review of ``now`` covers (``2026-W47``
    on any day of 2026-W48)."""
    zone = settings.digest.timezone
    start = archive.week_start(current_week(settings, now), zone)
    return archive.iso_week(start - timedelta(seconds=1), zone)


def taxonomy_for(settings: Settings) -> Taxonomy:
    """The secretariat's taxonomy file if configured, else the default."""
    return load_taxonomy(settings.digest.taxonomy_file)


def fetch_policy(settings: Settings) -> FetchPolicy:
    """The guarded client's bounds from ``[outbound]`` and ``[digest]``."""
    d, o = settings.digest, settings.outbound
    return FetchPolicy(allow_hosts=tuple(o.allow_hosts), max_redirects=o.max_redirects,
                       timeout=d.fetch_timeout, deadline=o.deadline_seconds,
                       max_bytes=d.max_feed_bytes, feed_dir=d.feed_dir)


def fetch_feeds(settings: Settings, sources: Sequence[FeedSource],
                on_result: Callable[[FetchResult], None] | None = None,
                keep: Callable[[FetchResult], FetchResult] | None = None) -> list[FetchResult]:
    """Fetch through the guarded client with the configured bound, timeout
    and size cap (``keep``: as for :func:`digests.fetch.fetch_all`)."""
    return fetch_sources(sources, policy=fetch_policy(settings),
                         concurrency=settings.digest.fetch_concurrency, on_result=on_result,
                         keep=keep)


def fetch_and_gather(settings: Settings, sources: Sequence[FeedSource],
                     cached: Mapping[str, list[dict[str, Any]]] | None = None,
                     on_result: Callable[[FetchResult], None] | None = None,
                     ) -> tuple[list[FetchResult], Gathered]:
    """:func:`fetch_feeds`, each body parsed as it arrives and then dropped
    (:class:`digests.pipeline.Gatherer`; ``cached`` as for
    :func:`digests.pipeline.gather`): the results come back without their
    bodies, so peak memory follows the entries kept, not the feeds' size."""
    gatherer = Gatherer(cached)
    results = fetch_feeds(settings, sources, on_result, keep=gatherer.add)
    return results, gatherer.result(results)


def sources_for(session: Session, settings: Settings,
                feeds: Sequence[str] | None = None) -> list[FeedSource]:
    """``feeds`` (this run only: nothing is saved) or the configured ones
    ([digest] feeds plus those added with ``convene feeds add``), with their
    stored validators. Raises SourceError (a ValueError) for a ``feeds``
    entry that is not an http(s) URL or an existing file."""
    if feeds:
        policy = fetch_policy(settings)
        return archive.feed_sources(session, urls=[check_source(u, policy=policy)
                                                   for u in feeds])
    if settings.digest.feeds:
        archive.upsert_feeds(session, [FeedSource(u) for u in settings.digest.feeds],
                             update=False)
    return archive.feed_sources(session)


def render_for(settings: Settings, digest: Digest, language: str) -> Rendered:
    """The digest's selected items rendered in ``language``, naming every
    source whose fetch failed in the week's last build (``digest.report``)."""
    tr = translator(language)
    return render_digest(items=archive.views(archive.selected(digest)), week=digest.week,
                         taxonomy=taxonomy_for(settings), language=tr.language,
                         gettext=tr.gettext, ngettext=tr.ngettext, is_safe_link=is_safe_url,
                         alliance=settings.alliance_name, timezone=settings.digest.timezone,
                         failed=[r for r in digest.report or [] if r.get("status") == "failed"])


def summary_message(settings: Settings, digest: Digest, language: str) -> Message:
    """The chat summary of ``digest`` in ``language``."""
    text = render_for(settings, digest, language).summary
    title, _, body = text.partition("\n")
    return Message(text=text, blocks=(Header(title), Section(body.strip())))


def reselect(session: Session, settings: Settings, digest: Digest) -> list[DigestItem]:
    """Apply the week's edits and select its items, numbered in reading order."""
    return archive.apply_edits(session, digest, limit=settings.digest.items,
                               topic_order=[t.key for t in taxonomy_for(settings).topics])


def persist(session: Session, settings: Settings, *, week: str, results: Sequence[FetchResult],
            gathered: Gathered, now: datetime, send: bool,
            allow_empty: bool = False) -> BuildOutcome:
    """Write a build into ``session`` (never commits): the week's digest row
    first, then feeds, candidates (only entries published in ``week``, in
    the digest's zone, merged with the stored draft: the items of a source
    that failed this time are kept), edits, renderings and, with ``send``,
    the outbox rows; an empty review is not sent unless ``allow_empty``.
    A week already sent is left as it is."""
    digest = archive.get_or_create_digest(session, week)
    archive.record_fetch(session, results, gathered)
    out = BuildOutcome(week=week, reports=[r.to_data() for r in gathered.reports])
    if digest.status == "draft":
        zone = settings.digest.timezone
        start = archive.week_start(week, zone)
        ref = archive.reference_time(week, zone, now)
        pool = candidates(gathered.entries, classifier=Classifier(taxonomy_for(settings)),
                          now=ref, window=(start, start + timedelta(days=7)),
                          seen=archive.earlier_items(session, week))
        down = [str(r["url"]) for r in out.failed]
        out.kept = archive.store_candidates(session, digest, pool, down=down)
        reselect(session, settings, digest)
        digest.report = out.reports
        digest.built_at = utcnow()
        archive_renderings(settings, digest)
        if send:
            try:
                out.sent_now = send_digest(session, settings, digest, allow_empty=allow_empty)
            except EmptyReview:
                out.refused_empty = True
    session.flush()
    session.refresh(digest)
    out.status = digest.status
    out.items = len(archive.selected(digest))
    out.rendered = render_for(settings, digest, settings.default_language)
    return out


def review_data(settings: Settings, digest: Digest) -> dict[str, object]:
    """The review as the secretariat sees it, JSON-ready: ``week``,
    ``status``, ``items`` in reading order (``number``, ``title``, ``url``,
    ``topic`` {key, label}, ``theme``, ``language``, ``published_at`` (ISO
    8601, UTC), ``sources`` (every source URL), ``why`` (the phrases behind
    "why included")), and ``failed_sources`` (url, reason)."""
    tx = taxonomy_for(settings)
    lang = settings.default_language
    items = []
    chosen = archive.selected(digest)
    for i, view in zip(chosen, archive.views(chosen), strict=True):
        topic = tx.topic(i.topic)
        theme = tx.theme(topic.theme) if topic and topic.theme else None
        items.append({
            "number": i.position, "title": i.title, "url": i.canonical_url,
            "topic": {"key": i.topic, "label": topic.label(lang) if topic else ""},
            "theme": {"key": theme.key, "label": theme.label(lang)} if theme else None,
            "language": i.language,
            "published_at": i.published_at.astimezone(UTC).isoformat(),
            "sources": [s.link for s in i.sources],
            "source_feeds": sorted({s.feed_url for s in i.sources if s.feed_url}),
            "publishers": list(dict.fromkeys(v.feed_title for v in view.sources)),
            "why": list(i.matched), "suggested_by": i.suggested_by,
            "merged": i.merged or None, "score": round(i.score, 4),
            "learned": round(i.learned or 0.0, 4),
        })
    return {"week": digest.week, "status": digest.status,
            "sent_at": digest.sent_at.isoformat() if digest.sent_at else None,
            "items": items,
            "failed_sources": [{"url": r.get("url"), "reason": r.get("reason")}
                               for r in digest.report if r.get("status") == "failed"]}


def archive_renderings(settings: Settings, digest: Digest) -> Rendered:
    """Store the default-language HTML, text and subject on the digest."""
    r = render_for(settings, digest, settings.default_language)
    digest.subject, digest.html, digest.text = r.subject[:300], r.html, r.text
    return r


def send_digest(session: Session, settings: Settings, digest: Digest, *,
                allow_empty: bool = False) -> bool:
    """Freeze ``digest`` and queue it: one email per secretariat address (in
    each person's language), the summary to ``[digest] channel``. Returns
    False when it was already sent (nothing queued twice). Raises
    EmptyReview, and sends nothing, when no article is selected (unless
    ``allow_empty``): the week stays a draft."""
    chosen = reselect(session, settings, digest)
    if not chosen and not allow_empty and digest.status == "draft":
        raise EmptyReview(digest.week)
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
    send_interest_notes(session, settings, digest)
    session.flush()
    session.expire(digest, ["recipients"])
    return True


def send_interest_notes(session: Session, settings: Settings, digest: Digest) -> int:
    """Queue, for everyone in the roster whose interests (topic keys on their
    profile) match a selected item's topic, one short note listing those
    items, in their language, once per week (outbox key
    ``digest-note:<week>:p<id>``); not to a person who said ``digest notes
    off``. Returns how many were queued now."""
    chosen = archive.selected(digest)
    if not chosen:
        return 0
    tx = taxonomy_for(settings)
    declined = set(session.scalars(select(DigestNoteOptOut.person_id)))
    notes: list[tuple[str, OutgoingEmail]] = []
    for person in people_in(session):
        wanted = set(person.interests or [])
        mine = [i for i in chosen if i.topic and i.topic in wanted]
        address = person.primary_email
        if not mine or not address or person.id in declined:
            continue
        tr = translator(person.language)
        lines = [tr.ngettext("This week's press review has {n} article on your interests:",
                             "This week's press review has {n} articles on your interests:",
                             len(mine))]
        for i in mine:
            topic = tx.topic(i.topic)
            lines.append(f"{i.position}. {i.title} <{i.canonical_url}> "
                         f"({topic.label(tr.language) if topic else i.topic})")
        lines += ["", tr.gettext(N_("Stop these notes in chat: digest notes off"))]
        key = f"digest-note:{digest.week}:p{person.id}"
        email = OutgoingEmail(to=(address,), text="\n".join(lines) + "\n",
                              subject=tr.gettext(N_("Press review, week {week}: for you"),
                                                 week=digest.week))
        notes.append((key, email))
    return len(enqueue_emails(session=session, emails=notes))


def build(*, session_factory: Callable[[], Session], settings: Settings, week: str | None = None,
          feeds: Sequence[str] | None = None, send: bool = False, allow_empty: bool = False,
          on_sources: Callable[[int], None] | None = None,
          on_result: Callable[[FetchResult], None] | None = None,
          now: datetime | None = None) -> BuildOutcome:
    """Fetch, build and (``send``) queue the digest of ``week`` (default: the
    last week that has ended, :func:`last_complete_week`; a week not yet
    ended is built only when named; ``feeds``: sources for this run only).
    ``now``: the moment of the build (default the clock; the scheduled job
    passes its tick). ``on_sources(n)`` is told
    the source count before fetching and ``on_result`` each fetch result (a
    progress bar). Idempotent per week. Raises ValueError for a bad week or
    a bad ``feeds`` entry (the message names the fix)."""
    now = now or utcnow()
    week = week or last_complete_week(settings, now)
    archive.week_start(week, settings.digest.timezone)  # ValueError for a bad week
    with session_factory() as session, session.begin():
        sources = sources_for(session, settings, feeds)
        cache = archive.cached_entries(session, [s.url for s in sources])
    if on_sources is not None:
        on_sources(len(sources))
    results, gathered = fetch_and_gather(settings, sources, cache, on_result)
    for attempt in range(5):
        try:
            with session_factory() as session, session.begin():
                return persist(session, settings, week=week, results=results,
                               gathered=gathered, now=now, send=send, allow_empty=allow_empty)
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


__all__ = ["BuildOutcome", "EmptyReview", "build", "current_week", "fetch_and_gather",
           "fetch_policy", "last_complete_week", "persist", "reselect", "review_data",
           "send_digest", "send_interest_notes", "summary_message", "write_renderings"]
