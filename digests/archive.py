"""The digest archive: feeds, one digest per ISO week, its items and edits.

Services take ``session=`` and never commit. Exactly one digest per ISO week is
held by the UNIQUE ``digests.week``; :func:`claim_for_send` is a conditional
UPDATE, so of two processes only one freezes and sends a week's digest.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from digests.bulk import insert_rows
from digests.fetch import FetchResult
from digests.parse.language import detect_language
from digests.parse.normalise import Entry, canonical_url
from digests.pipeline import Candidate, Gathered, site
from digests.rank import TOP, review
from digests.render import ItemView, SourceView
from digests.sources import FeedSource
from storage.base import utcnow
from storage.engine import dialect_insert
from storage.models import (
    Digest,
    DigestEdit,
    DigestExample,
    DigestFeed,
    DigestItem,
    DigestItemSource,
    DigestSuggestion,
)

WEEK_RE = re.compile(r"^(\d{4})-W(\d{2})$")
POOL_SIZE = 200


def iso_week(moment: datetime, timezone: str) -> str:
    """``2026-W48`` for ``moment`` (aware) as seen in ``timezone``."""
    y, w, _ = moment.astimezone(ZoneInfo(timezone)).isocalendar()
    return f"{y}-W{w:02d}"


def week_start(week: str, timezone: str) -> datetime:
    """Monday 00:00 of ``week`` in ``timezone``, as aware UTC. Raises ValueError
    for a malformed week (expected ``2026-W47``)."""
    m = WEEK_RE.match(week)
    if not m:
        raise ValueError(f"a week such as 2026-W47, not {week!r}")
    day = date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1)
    return datetime.combine(day, time(0), ZoneInfo(timezone)).astimezone(UTC)


def reference_time(week: str, timezone: str, now: datetime) -> datetime:
    """The moment recency is measured from: the end of ``week``, or ``now`` if earlier."""
    return min(now, week_start(week, timezone) + timedelta(days=7))


# -- feeds -----------------------------------------------------------------------------

def feed_sources(session: Session, *, urls: Iterable[str] | None = None) -> list[FeedSource]:
    """The enabled feeds as FeedSources carrying their stored validators; or
    the sources at ``urls`` (in that order) for one run only: nothing is
    saved, a known feed keeps its weight, language and validators."""
    if urls is not None:
        wanted = list(dict.fromkeys(urls))
        rows = {f.url: f for f in session.scalars(
            select(DigestFeed).where(DigestFeed.url.in_(wanted)))}
        return [FeedSource(url=u, title=rows[u].title, weight=rows[u].weight,
                           language=rows[u].language, etag=rows[u].etag,
                           last_modified=rows[u].last_modified) if u in rows
                else FeedSource(u) for u in wanted]
    chosen = list(session.scalars(
        select(DigestFeed).where(DigestFeed.enabled.is_(True)).order_by(DigestFeed.id)))
    return [FeedSource(url=f.url, title=f.title, weight=f.weight, language=f.language,
                       etag=f.etag, last_modified=f.last_modified) for f in chosen]


def remove_feed(session: Session, url: str) -> bool:
    """Delete the feed at ``url``; True when there was one."""
    result = session.execute(delete(DigestFeed).where(DigestFeed.url == url))
    return bool(getattr(result, "rowcount", 0))


def upsert_feeds(session: Session, sources: Sequence[FeedSource], *,
                 update: bool = True) -> int:
    """Add feeds (``update``: also refresh weight, language, title of known
    ones). Returns how many were added."""
    known = {f.url: f for f in session.scalars(
        select(DigestFeed).where(DigestFeed.url.in_([s.url for s in sources])))}
    added = 0
    for s in sources:
        row = known.get(s.url)
        if row is None:
            try:
                with session.begin_nested():
                    row = DigestFeed(url=s.url, title=s.title, weight=s.weight,
                                     language=s.language)
                    session.add(row)
                added += 1
            except IntegrityError:  # added meanwhile by another process
                continue
            known[s.url] = row
        elif update:
            row.weight, row.language = s.weight, s.language
            row.title = s.title or row.title
    return added


def cached_entries(session: Session, urls: Iterable[str]) -> dict[str, list[dict[str, object]]]:
    """The cached normalised entries of the feeds at ``urls`` (for 304s)."""
    rows = session.execute(select(DigestFeed.url, DigestFeed.cached_entries)
                           .where(DigestFeed.url.in_(list(urls))))
    return {u: list(c or []) for u, c in rows}


def record_fetch(session: Session, results: Sequence[FetchResult], gathered: Gathered) -> None:
    """Store each feed's validators, outcome and (fresh) entries."""
    rows = {f.url: f for f in session.scalars(select(DigestFeed).where(
        DigestFeed.url.in_([r.source.url for r in results])))}
    status = {rep.url: rep for rep in gathered.reports}
    for r in results:
        row = rows.get(r.source.url)
        if row is None:
            continue
        rep = status.get(r.source.url)
        row.last_fetched_at = r.fetched_at
        row.last_status = rep.status if rep else r.status
        row.last_error = rep.reason if rep else r.error
        if r.status == "ok":  # a failure keeps the last good validators and entries
            row.etag, row.last_modified = r.etag, r.last_modified
            row.cached_entries = [e.to_data() for e in gathered.fresh.get(r.source.url, [])]
            row.title = row.title or gathered.titles.get(r.source.url, "")[:300]


# -- the week's digest -----------------------------------------------------------------

def get_or_create_digest(session: Session, week: str) -> Digest:
    """The digest of ``week``, created as an empty draft if there is none.

    ``INSERT ... ON CONFLICT DO NOTHING`` comes first in the unit of work: a
    concurrent creator waits on the unique key (PostgreSQL) or the write lock
    (SQLite), then finds the row. (No savepoint: on SQLite a savepoint opened
    outside a transaction commits on release.)"""
    dialect = session.get_bind().dialect.name
    ins = dialect_insert(dialect)
    session.execute(ins(Digest).values(week=week, status="draft", subject="", html="",
                                       text="", report=[], built_at=utcnow())
                    .on_conflict_do_nothing(index_elements=["week"]))
    found = session.scalars(select(Digest).where(Digest.week == week)
                            .execution_options(populate_existing=True)).one()
    return found


def find_digest(session: Session, week: str) -> Digest | None:
    """The digest of ``week`` with its items and sources, or None."""
    return session.scalars(select(Digest).where(Digest.week == week).options(
        selectinload(Digest.items).selectinload(DigestItem.sources),
        selectinload(Digest.recipients))).first()


def claim_for_send(session: Session, digest: Digest) -> bool:
    """Freeze a draft as sent. True for the one caller that did it; False if
    it was sent already (by this or another process)."""
    session.flush()
    result = session.execute(update(Digest).where(Digest.id == digest.id,
                                                  Digest.status == "draft")
                             .values(status="sent", sent_at=utcnow())
                             .execution_options(synchronize_session=False))
    won = bool(getattr(result, "rowcount", 0) == 1)
    session.flush()
    session.refresh(digest)
    return won


def earlier_items(session: Session, week: str, *, weeks: int = 8) -> list[Entry]:
    """The candidates of the ``weeks`` reviews before ``week`` as entries:
    what the press review already reported (a story seen there is not news)."""
    rows = session.execute(
        select(DigestItem.canonical_url, DigestItem.title, DigestItem.summary,
               DigestItem.language, DigestItem.published_at)
        .join(Digest).where(Digest.week < week).order_by(Digest.week.desc())
        .limit(weeks * POOL_SIZE)).all()
    return [Entry(canonical_url=u, link=u, title=t, summary=s or "", published_at=when,
                  language=lang or "other", feed_url="", feed_title="")
            for u, t, s, lang, when in rows]


def carried_urls(session: Session, week: str) -> frozenset[str]:
    """Canonical URLs that a sent digest of another week carried."""
    rows = session.scalars(select(DigestItem.canonical_url).join(Digest).where(
        Digest.week != week, Digest.status == "sent", DigestItem.position.is_not(None)))
    return frozenset(rows)


def store_candidates(session: Session, digest: Digest, pool: Sequence[Candidate], *,
                     down: Iterable[str] = ()) -> int:
    """Merge a build into a draft: the best :data:`POOL_SIZE` relevant
    candidates replace the stored ones, except manual inclusions and the
    items of sources that are ``down`` (feed URLs that failed this time),
    which are kept as they were. Returns how many items were kept that way."""
    failed = set(down)
    fresh = {c.canonical_url for c in pool if c.relevant}
    keep_ids = [i.id for i in digest.items if not i.pinned and i.canonical_url not in fresh
                and failed and any(s.feed_url in failed for s in i.sources)]
    session.execute(delete(DigestItem).where(DigestItem.digest_id == digest.id,
                                             DigestItem.pinned.is_(False),
                                             DigestItem.id.not_in(keep_ids)))
    session.expire(digest, ["items"])
    kept = {i.canonical_url for i in digest.items}
    ordered = sorted((c for c in pool if c.relevant), key=lambda c: -c.score)[:POOL_SIZE]
    items: list[dict[str, object]] = []
    links: list[list[dict[str, object]]] = []
    for c in ordered:
        if c.canonical_url in kept:
            continue
        kept.add(c.canonical_url)
        lead = c.story.lead
        items.append({"digest_id": digest.id, "canonical_url": c.canonical_url[:1000],
                      "title": lead.title[:500], "summary": lead.summary,
                      "language": lead.language, "published_at": lead.published_at,
                      "topic": c.topic, "themes": list(c.themes), "matched": list(c.matched),
                      "score": c.score, "excluded": False, "pinned": False,
                      "by_observer": False, "learned": 0.0, "learned_note": "",
                      "merged": c.merged[:500]})
        seen: set[tuple[str, str]] = set()
        mine: list[dict[str, object]] = []
        for e in c.story.entries:
            if (e.feed_url, e.link) in seen:
                continue
            seen.add((e.feed_url, e.link))
            mine.append({"feed_title": e.feed_title[:300], "feed_url": e.feed_url[:1000],
                         "link": e.link, "title": e.title[:500], "publisher": ""})
        links.append(mine)
    # Core, not the ORM: one executemany each (about 22,000 source rows a build).
    ids = insert_rows(session, DigestItem, items, returning=["id"])
    insert_rows(session, DigestItemSource,
                [{**src, "item_id": got[0]} for got, mine in zip(ids, links, strict=True)
                 if got is not None for src in mine])
    session.expire(digest, ["items"])
    return len(keep_ids)


def _manual_item(digest: Digest, url: str, sug: DigestSuggestion | None) -> DigestItem:
    """An item included by hand: the article's own title when it was fetched
    (else the site's name, never the raw address), the member's note as its
    summary, and a language only when the title tells one ("" otherwise)."""
    host = urlsplit(url).hostname or url
    title = (sug.title if sug is not None else "") or host
    fetched = bool(sug is not None and sug.title)
    return DigestItem(digest=digest, canonical_url=url, title=title[:500],
                      summary=sug.note if sug is not None else "",
                      language=detect_language(title) if fetched else "",
                      published_at=utcnow(), topic="", themes=[], matched=[], score=0.0,
                      sources=[DigestItemSource(feed_title=host, feed_url="", link=url)])


def apply_edits(session: Session, digest: Digest, *, limit: int,
                topic_order: Sequence[str] = (), learn: bool = True) -> list[DigestItem]:
    """Apply the week's suggestions and include/exclude/split edits (in
    order), let what the secretariat taught move the candidates' scores
    (``learn``; :func:`relearn`), then select up to ``limit`` items and
    number them 1..n in reading order (:func:`digests.rank.reading_order`:
    the top stories, then by topic as ``topic_order`` lists them), the order
    the email and the preview show, so ``digest exclude N`` is the N a
    reader sees. Returns the selection in that order."""
    session.expire(digest, ["items"])
    items = {i.canonical_url: i for i in digest.items}
    suggestions = session.scalars(select(DigestSuggestion).where(
        DigestSuggestion.week == digest.week).order_by(DigestSuggestion.id)).all()
    by_url = {s.canonical_url: s for s in suggestions}
    for s in suggestions:
        if s.canonical_url in items:
            _mark_suggested(session, items[s.canonical_url], s)
    for edit in session.scalars(select(DigestEdit).where(DigestEdit.week == digest.week)
                                .order_by(DigestEdit.id)):
        item = items.get(edit.canonical_url)
        if edit.action == "include":
            if item is None:
                sug = by_url.get(edit.canonical_url)
                item = _manual_item(digest, edit.canonical_url, sug)
                session.add(item)
                if sug is not None:
                    _mark_suggested(session, item, sug)
                items[edit.canonical_url] = item
            item.pinned, item.excluded = True, False
        elif edit.action == "exclude" and item is not None:
            item.excluded, item.pinned = True, False
        elif edit.action == "split" and item is not None:
            for part in _split(session, digest, item, items):
                items[part.canonical_url] = part
    for item in items.values():
        item.position = None
    if learn:
        relearn(session, [i for i in items.values() if not i.pinned and not i.excluded])
    chosen = review(list(items.values()), limit=limit, topic_order=topic_order,
                    carried=carried_urls(session, digest.week), key=ranked)
    for n, item in enumerate(chosen, 1):
        item.position = n
    session.flush()
    return chosen


def ranked(item: DigestItem) -> float:
    """The score an item is ranked by: the taxonomy's, moved by what was
    learned (kept above 0: the model alone never drops a relevant item out
    of eligibility nor lets an irrelevant one in)."""
    if item.score <= 0:
        return item.score
    return max(item.score + (item.learned or 0.0), 1e-6)


def _split(session: Session, digest: Digest, item: DigestItem,
           items: dict[str, DigestItem]) -> list[DigestItem]:
    """Undo a merge: each source of ``item`` whose link is not the item's
    own becomes an item of its own (its entry's title), as scored as the
    item was; ``item`` keeps its own sources and forgets why it was merged."""
    out = []
    for src in list(item.sources):
        url = canonical_url(src.link)[:1000]
        if url == item.canonical_url or not src.title:
            continue
        part = items.get(url)
        if part is None:
            part = DigestItem(digest=digest, canonical_url=url, title=src.title[:500],
                              summary="", language=item.language,
                              published_at=item.published_at, topic=item.topic,
                              themes=list(item.themes), matched=list(item.matched),
                              score=item.score, learned=0.0, learned_note="", merged="")
            session.add(part)
            out.append(part)
        item.sources.remove(src)
        part.sources.append(DigestItemSource(feed_title=src.feed_title, feed_url=src.feed_url,
                                             link=src.link, title=src.title,
                                             publisher=src.publisher))
    item.merged = ""
    return out


def relearn(session: Session, items: Sequence[DigestItem]) -> bool:
    """Move ``items``' scores by what the secretariat taught (their
    ``learned`` and ``learned_note``; :mod:`digests.learn`). Below
    :data:`digests.learn.MIN_EXAMPLES` labelled examples nothing moves (and
    scikit-learn is not imported). True when a model was used."""
    from digests import learn

    for i in items:
        i.learned, i.learned_note = 0.0, ""
    count = session.scalar(select(func.count()).select_from(DigestExample).where(
        DigestExample.label != 0)) or 0
    if count < learn.MIN_EXAMPLES or not items:
        return False
    rows = session.execute(select(DigestExample.title, DigestExample.summary,
                                  DigestExample.label).where(DigestExample.label != 0)).all()
    model = learn.fit([learn.Example(f"{t} {s}", int(lab)) for t, s, lab in rows])
    if model is None:
        return False
    for item, shift in zip(items, model.shifts([f"{i.title} {i.summary}" for i in items]),
                           strict=True):
        item.learned = shift.delta
        if abs(shift.delta) >= learn.NOTEWORTHY:
            if shift.delta > 0 and shift.included:
                item.learned_note = f"included:{shift.included}"
            elif shift.delta < 0 and shift.excluded:
                item.learned_note = f"excluded:{shift.excluded}"
            else:
                item.learned_note = "up" if shift.delta > 0 else "down"
    return True


def add_example(session: Session, *, week: str, action: str, label: int, url: str,
                item: DigestItem | None = None, title: str = "",
                person_id: int | None = None) -> None:
    """Keep one thing the secretariat taught (``action`` include, exclude,
    split or suggest; ``label`` +1, -1 or 0) with the item's text when it
    is a candidate (else ``title``, e.g. a suggestion's note)."""
    session.add(DigestExample(
        week=week, action=action, label=label, canonical_url=canonical_url(url)[:1000],
        title=(item.title if item is not None else title)[:500],
        summary=item.summary if item is not None else "",
        language=item.language if item is not None else "other",
        topic=item.topic if item is not None else "", person_id=person_id))
    session.flush()


def learned_summary(session: Session) -> dict[str, int]:
    """How many examples were kept, per action (include, exclude, split,
    suggest)."""
    rows = session.execute(select(DigestExample.action, func.count())
                           .group_by(DigestExample.action)).all()
    return {str(a): int(n) for a, n in rows}


def reset_learned(session: Session) -> int:
    """Forget every example (back to the taxonomy alone); how many there were."""
    result = session.execute(delete(DigestExample))
    return int(getattr(result, "rowcount", 0) or 0)


def _mark_suggested(session: Session, item: DigestItem, sug: DigestSuggestion) -> None:
    from storage.models import Person

    person = session.get(Person, sug.person_id) if sug.person_id else None
    item.suggested_by = person.name if person else "?"
    item.by_observer = sug.by_observer


def add_edit(session: Session, *, week: str, action: str, url: str,
             person_id: int | None) -> None:
    """Record an include/exclude/split of ``url`` (canonicalised) for ``week``."""
    session.add(DigestEdit(week=week, action=action, canonical_url=canonical_url(url)[:1000],
                           person_id=person_id))
    session.flush()


def selected(digest: Digest) -> list[DigestItem]:
    """The digest's selected items in order."""
    return sorted((i for i in digest.items if i.position is not None),
                  key=lambda i: i.position or 0)


def views(items: Sequence[DigestItem]) -> list[ItemView]:
    """The templates' view of selected items (in reading order: its first
    items that are the biggest by score are the week's top stories)."""
    biggest = {id(i) for i in sorted(items, key=lambda i: -ranked(i))[:TOP] if ranked(i) > 0}
    head = 0
    while head < min(len(items), TOP) and id(items[head]) in biggest:
        head += 1
    return [ItemView(position=i.position or 0, title=i.title, url=i.canonical_url,
                     summary=i.summary, language=i.language, topic=i.topic,
                     matched=tuple(i.matched), published_at=i.published_at,
                     sources=tuple(SourceView(s.publisher or site(s.link) or s.feed_title
                                              or s.feed_url, s.link) for s in i.sources),
                     suggested_by=i.suggested_by, by_observer=i.by_observer,
                     merged=i.merged or "", learned_note=i.learned_note or "",
                     top=n < head) for n, i in enumerate(items)]
