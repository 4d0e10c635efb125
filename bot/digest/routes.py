"""Chat commands of the press review, and its weekly job.

``digest suggest URL [note]`` (anyone in the roster; an observer's suggestion
is marked as such), ``digest latest`` (the latest summary, in the reader's
language), and for the secretariat ``digest preview [WEEK]``, ``digest include
URL [WEEK]``, ``digest exclude N [WEEK]`` and ``digest send [WEEK]`` (WEEK an
ISO week such as 2026-W47; when left out, the latest draft up to this week:
on Monday, the review of the week that ended, which the scheduled build made).
"""

from __future__ import annotations

import logging
import re
from datetime import date, datetime
from functools import partial
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.context import Context
from bot.digest import service as svc
from bot.errors import N_, Conflict, InvalidInput, NotFound
from bot.numbers import digits
from bot.types import Header, Message, Section, SmallPrint, inline_plain
from digests import archive
from digests.fetch import page_title
from digests.outbound import FetchPolicy
from digests.parse.normalise import canonical_url
from digests.render import LANGUAGE_NAMES, learned_line, translator, why_line
from storage.base import utcnow
from storage.models import Digest, DigestNoteOptOut, DigestSuggestion, Role

if TYPE_CHECKING:
    from bot.app import Bot
    from bot.registry import Registry

log = logging.getLogger(__name__)
JOB_ID = "digest.weekly"
_DAYS = {"mon": "mon", "tue": "tue", "wed": "wed", "thu": "thu", "fri": "fri", "sat": "sat",
         "sun": "sun"}


def install(reg: Registry) -> None:
    """Register the digest commands and the weekly job."""
    reg.route("command", "digest suggest", suggest, capability="digest.suggest",
              usage="URL [NOTE]", help=N_("Suggest an article for this week's press review."))
    reg.route("command", "digest latest", latest, capability="digest.view",
              help=N_("Show the summary of the latest press review."))
    reg.route("command", "digest preview", preview, capability="digest.review",
              usage="[WEEK]",
              help=N_("Show a week's draft press review (by default the latest draft; "
                      "secretariat)."))
    reg.route("command", "digest include", include, capability="digest.review",
              usage="URL [WEEK]",
              help=N_("Add an article to a week's press review (secretariat)."))
    reg.route("command", "digest exclude", exclude, capability="digest.review",
              usage="N [WEEK]",
              help=N_("Remove item N from a week's press review (secretariat)."))
    reg.route("command", "digest send", send, capability="digest.review", usage="[WEEK]",
              help=N_("Send a week's press review now (secretariat)."))
    reg.route("command", "digest notes", notes, capability="digest.view", usage="on|off",
              help=N_("Get, or stop, the weekly note of press-review articles on your "
                      "interests."))
    reg.route("command", "digest split", split, capability="digest.review", usage="N [WEEK]",
              help=N_("Show the sources merged into item N as items of their own "
                      "(secretariat)."))
    reg.route("command", "digest learned reset", learned_reset, capability="digest.review",
              help=N_("Forget what the press review learned from your edits (secretariat)."))
    reg.route("command", "digest learned", learned, capability="digest.review",
              help=N_("Show what the press review learned from your edits (secretariat)."))
    d = reg.settings.digest
    hour, minute = (int(x) for x in d.time.split(":"))
    reg.job(JOB_ID, weekly_digest, trigger="cron", day_of_week=_DAYS[d.day], hour=hour,
            minute=minute, timezone=d.timezone, tick_arg="tick")
    from bot.digest.home import digest_section

    reg.home_section(digest_section, order=20)


def weekly_digest(bot: Bot, *, tick: datetime | None = None) -> None:
    """The scheduled job: build and send the review of the last week that had
    ended at ``tick`` (the firing's scheduled time, aware UTC; default the
    clock), idempotent: a week already sent is left alone, so a run taken
    over after its owner died sends it once. The outbox delivers."""
    out = svc.build(session_factory=bot.session_factory, settings=bot.settings, send=True,
                    now=tick or utcnow())
    if out.refused_empty:
        log.warning("press review %s: no article, not sent (the week stays a draft)", out.week)
    for r in out.failed:
        log.warning("press review %s: source %s failed: %s", out.week, r["url"], r["reason"])


def _week(ctx: Context) -> str:
    return svc.current_week(ctx.settings)


def _week_arg(ctx: Context) -> tuple[str, list[str]]:
    """The ISO week named among the arguments (``2026-W47``, any position), else
    the latest draft up to this week (:func:`_review_week`); and the other
    arguments. Raises InvalidInput for a word that
    looks like a week but is not one (``2026-W60``)."""
    week, rest = "", []
    for word in ctx.args.split():
        if re.fullmatch(r"\d{4}-[wW]\d{1,2}", word):
            year, num = word.upper().split("-W")
            try:
                date.fromisocalendar(int(year), int(num), 1)
            except ValueError:
                raise InvalidInput(N_("{value} is not a week: write it as 2026-W47 (year, W, "
                                      "week number 1 to 52 or 53)."), value=word) from None
            week = f"{year}-W{int(num):02d}"
        else:
            rest.append(word)
    return week or _review_week(ctx), rest


def _review_week(ctx: Context) -> str:
    """The review the secretariat is working on when no week is named: the
    latest draft up to this week (on Monday, the review of the week that
    ended, which the scheduled build made), else this week."""
    current = svc.current_week(ctx.settings)
    latest = ctx.session.scalar(select(Digest.week).where(
        Digest.status == "draft", Digest.week <= current).order_by(Digest.week.desc()).limit(1))
    return latest or current


def suggest(ctx: Context) -> Message:
    """Record a suggestion for this week. Raises InvalidInput without an http(s) URL."""
    url, _, note = ctx.args.strip().partition(" ")
    if not url.startswith(("http://", "https://")):
        raise InvalidInput(N_("Give the article's address: digest suggest URL [note]."))
    roles = ctx.auth.roles
    by_observer = Role.OBSERVER in roles and not roles & {Role.MEMBER, Role.SECRETARIAT,
                                                         Role.CHAIR}
    week = _week(ctx)
    suggestion = DigestSuggestion(week=week, url=url[:1000],
                                  canonical_url=canonical_url(url)[:1000],
                                  note=note.strip()[:2000], person_id=ctx.person.id,
                                  by_observer=by_observer)
    try:
        with ctx.session.begin_nested():
            ctx.session.add(suggestion)
    except IntegrityError:
        raise Conflict(N_("That article is already suggested for week {week}."),
                       week=week) from None
    digest = archive.find_digest(ctx.session, week)
    item = next((i for i in digest.items if i.canonical_url == canonical_url(url)), None) \
        if digest is not None else None
    archive.add_example(ctx.session, week=week, action="suggest", label=1, url=url, item=item,
                        title=note.strip(), person_id=ctx.person.id)
    # The page is fetched after the commit: never while this unit of work
    # holds the database (on SQLite, the writers' lock).
    ctx.after_commit(partial(_fetch_title, ctx.session_factory, svc.fetch_policy(ctx.settings),
                             suggestion.id, url))
    text = (ctx._("Thank you: your suggestion (as an observer) goes to the secretariat for "
                  "week {week}.", week=week) if by_observer else
            ctx._("Thank you: your suggestion goes to the secretariat for week {week}.",
                  week=week))
    text += "\n" + ctx._("The secretariat sees the article's own title, read from its page, "
                         "and your note apart from it.")
    if note.strip():
        text += "\n" + ctx._("Your note: {note}", note=note.strip()[:2000])
    return Message(text)


def _fetch_title(factory: sessionmaker[Session], policy: FetchPolicy, suggestion_id: int,
                 url: str) -> None:
    """After the commit: the suggested page's title, stored on the suggestion
    (``title_status`` ``fetched``, or ``unavailable`` with the reason logged)."""
    title, why = page_title(url, policy=policy)
    if why:
        log.info("digest suggest: no title for %s: %s", url, why)
    with factory() as session, session.begin():
        row = session.get(DigestSuggestion, suggestion_id)
        if row is not None:
            row.title, row.title_status = title, "fetched" if title else "unavailable"


def latest(ctx: Context) -> Message:
    """The latest sent digest's summary in the reader's language; when none
    was sent yet, says so (a draft is not a review the secretariat sent)."""
    digest = ctx.session.scalars(select(Digest).where(Digest.status == "sent")
                                 .order_by(Digest.week.desc())).first()
    if digest is None:
        draft = ctx.session.scalars(select(Digest).order_by(Digest.week.desc())).first()
        if draft is None:
            raise NotFound(N_("There is no press review yet."))
        raise NotFound(N_("No press review has been sent yet: the secretariat is preparing "
                          "the one of week {week}."), week=draft.week)
    return svc.summary_message(ctx.settings, digest, ctx.tr.language)


def _draft(ctx: Context, *, week: str, build: bool = False) -> Digest:
    digest = archive.find_digest(ctx.session, week)
    if digest is None and build:
        settings = ctx.settings
        sources = svc.sources_for(ctx.session, settings)
        cache = archive.cached_entries(ctx.session, [s.url for s in sources])
        results, gathered = svc.fetch_and_gather(settings, sources, cache)
        svc.persist(ctx.session, settings, week=week, results=results, gathered=gathered,
                    now=utcnow(), send=False)
        digest = archive.find_digest(ctx.session, week)
    if digest is None:
        raise NotFound(N_("There is no draft for week {week} yet: run digest preview."),
                       week=week)
    return digest


def _preview_message(ctx: Context, digest: Digest, *, note: str = "") -> Message:
    items = archive.selected(digest)
    tx = svc.taxonomy_for(ctx.settings)
    title = (ctx._("Press review, week {week} (draft)", week=digest.week)
             if digest.status == "draft" else
             ctx._("Press review, week {week} (sent)", week=digest.week))
    pending = ctx.session.scalars(select(DigestSuggestion).where(
        DigestSuggestion.week == digest.week)).all()
    no_title = ctx._("its page could not be fetched, so its title is unknown")
    untitled = {s.canonical_url for s in pending if s.title_status == "unavailable"}
    lines = []
    translate = translator(tx, ctx.tr.language)
    for view in archive.views(items):
        topic = tx.topic(view.topic)
        label = topic.label(ctx.tr.language) if topic else ctx._("Other")
        facts = [label]
        if view.language:
            facts.append(ctx._(LANGUAGE_NAMES.get(view.language, "other language")))
        facts.append(why_line(view, ctx.tr.gettext, translate))
        if view.url in untitled:
            facts.append(no_title)
        lines.append(f"{view.position}. {view.title} <{view.url}>\n   " + " · ".join(facts))
        moved = learned_line(view, ctx.tr.gettext, ctx.tr.ngettext)
        if moved:
            lines.append(f"   {moved}")
        if view.suggested_by and view.summary:
            lines.append("   " + ctx._("{name}'s note: {note}", name=view.suggested_by,
                                        note=view.summary))
    if not lines:
        lines.append(ctx._("No article of this week is about the alliance's topics yet: the "
                           "review is empty. Add one with digest include URL."))
    chosen = {i.canonical_url for i in items}
    waiting = [s for s in pending if s.canonical_url not in chosen]
    blocks: list[Header | Section | SmallPrint] = [Header(title)]
    if note:
        blocks.append(SmallPrint(note))
    blocks.append(Section("\n".join(lines)))
    if waiting:
        sug = "\n".join((f"- {s.title} <{s.url}>" if s.title else f"- {s.url}") +
                         (f" [{no_title}]" if s.title_status == "unavailable" else "") +
                         (f" ({s.note})" if s.note else "") +
                        (f" [{ctx._('observer')}]" if s.by_observer else "") for s in waiting)
        blocks.append(Section(ctx._("Suggestions not included yet:") + "\n" + sug))
    failed = [r for r in digest.report if r.get("status") == "failed"]
    if failed:
        # The fetcher's reason is the parser's words (SAXParseException...): the
        # operator reads it in `digest build`; a person here reads which source.
        blocks.append(SmallPrint(ctx._("Sources that could not be read this week: {list}",
                                       list="; ".join(str(r.get("title") or r["url"])
                                                      for r in failed))))
    text = "\n".join(inline_plain(b.text) for b in blocks)
    return Message(text=text, blocks=tuple(blocks))


def preview(ctx: Context) -> Message:
    """A week's draft (``digest preview [WEEK]``; by default the latest
    draft; built
    now if there is none)."""
    week, _ = _week_arg(ctx)
    digest = _draft(ctx, week=week, build=True)
    if digest.status == "draft":
        svc.reselect(ctx.session, ctx.settings, digest)
        svc.archive_renderings(ctx.settings, digest)
    return _preview_message(ctx, digest)


def _editable(ctx: Context, week: str) -> Digest:
    digest = _draft(ctx, week=week, build=True)
    if digest.status != "draft":
        raise Conflict(N_("The press review of week {week} was already sent."),
                       week=digest.week)
    return digest


def include(ctx: Context) -> Message:
    """Pin an article (a candidate, a suggestion or any URL) into a week's
    draft: ``digest include URL [WEEK]``."""
    week, rest = _week_arg(ctx)
    url = rest[0] if rest else ""
    if not url.startswith(("http://", "https://")):
        raise InvalidInput(N_("Give the article's address: digest include URL."))
    digest = _editable(ctx, week)
    archive.add_edit(ctx.session, week=digest.week, action="include", url=url,
                     person_id=ctx.person.id)
    known = next((i for i in digest.items if i.canonical_url == canonical_url(url)), None)
    archive.add_example(ctx.session, week=digest.week, action="include", label=1, url=url,
                        item=known, person_id=ctx.person.id)
    chosen = svc.reselect(ctx.session, ctx.settings, digest)
    svc.archive_renderings(ctx.settings, digest)
    wanted = canonical_url(url)
    n = next((i.position for i in chosen if i.canonical_url == wanted), None)
    return _preview_message(ctx, digest, note=ctx._("Added {url} as item {n}.", url=url, n=n)
                            if n else ctx._("Added {url}.", url=url))


def exclude(ctx: Context) -> Message:
    """Drop item N of a week's draft (``digest exclude N [WEEK]``); the next
    best candidate takes its place."""
    week, rest = _week_arg(ctx)
    n = digits(rest[0]) if len(rest) == 1 else None
    if n is None:
        raise InvalidInput(N_("Give the item's number from digest preview: digest exclude N."))
    digest = _editable(ctx, week)
    item = next((i for i in archive.selected(digest) if i.position == n), None)
    if item is None:
        raise NotFound(N_("There is no item {n} in the draft."), n=n)
    title = item.title
    archive.add_edit(ctx.session, week=digest.week, action="exclude", url=item.canonical_url,
                     person_id=ctx.person.id)
    archive.add_example(ctx.session, week=digest.week, action="exclude", label=-1,
                        url=item.canonical_url, item=item, person_id=ctx.person.id)
    svc.reselect(ctx.session, ctx.settings, digest)
    svc.archive_renderings(ctx.settings, digest)
    return _preview_message(ctx, digest, note=ctx._("Removed item {n}: {title}. The items "
                                                     "are numbered again below.",
                                                     n=n, title=title))


def send(ctx: Context) -> Message:
    """Freeze and queue a week's digest (``digest send [WEEK] [--allow-empty]``)."""
    week, rest = _week_arg(ctx)
    digest = _editable(ctx, week)
    try:
        sent = svc.send_digest(ctx.session, ctx.settings, digest,
                               allow_empty="--allow-empty" in rest)
    except svc.EmptyReview:
        raise InvalidInput(N_("The press review of week {week} has no article, so nothing was "
                              "sent. Add one with digest include URL, or send it empty with "
                              "digest send --allow-empty."), week=digest.week) from None
    if not sent:
        raise Conflict(N_("The press review of week {week} was already sent."),
                       week=digest.week)
    n = len([r for r in digest.recipients if r.kind == "email"])
    return Message(ctx.tr.ngettext("The press review of week {week} goes to {n} address.",
                                   "The press review of week {week} goes to {n} addresses.",
                                   n, week=digest.week))


def split(ctx: Context) -> Message:
    """Undo a merge: the sources of item N become items of their own
    (``digest split N [WEEK]``)."""
    week, rest = _week_arg(ctx)
    arg = rest[0] if len(rest) == 1 else ""
    if not (arg.isascii() and arg.isdigit()):
        raise InvalidInput(N_("Give the item's number from digest preview: digest split N."))
    digest = _editable(ctx, week)
    item = next((i for i in archive.selected(digest) if i.position == int(arg)), None)
    if item is None:
        raise NotFound(N_("There is no item {n} in the draft."), n=int(arg))
    others = [s for s in item.sources if canonical_url(s.link) != item.canonical_url and s.title]
    if not others:
        raise InvalidInput(N_("Item {n} is one article: there is nothing to split."),
                           n=int(arg))
    archive.add_edit(ctx.session, week=digest.week, action="split", url=item.canonical_url,
                     person_id=ctx.person.id)
    archive.add_example(ctx.session, week=digest.week, action="split", label=0,
                        url=item.canonical_url, item=item, person_id=ctx.person.id)
    svc.reselect(ctx.session, ctx.settings, digest)
    svc.archive_renderings(ctx.settings, digest)
    return _preview_message(ctx, digest, note=ctx.tr.ngettext(
        "Item {item} was split: {n} other source is now an item of its own.",
        "Item {item} was split: {n} other sources are now items of their own.",
        len(others), item=int(arg)))


def learned(ctx: Context) -> Message:
    """What the press review learned: the examples kept, and whether they
    re-rank the candidates yet."""
    from digests.learn import MIN_EXAMPLES

    counts = archive.learned_summary(ctx.session)
    teaching = counts.get("include", 0) + counts.get("exclude", 0) + counts.get("suggest", 0)
    lines = [ctx._("Kept from your edits: {include} included, {exclude} excluded, {suggest} "
                   "suggested by members, {split} split.",
                   include=counts.get("include", 0), exclude=counts.get("exclude", 0),
                   suggest=counts.get("suggest", 0), split=counts.get("split", 0))]
    if teaching >= MIN_EXAMPLES:
        lines.append(ctx._("They re-rank each week's candidates: an item like those you "
                           "included moves up, one like those you excluded moves down; the "
                           "taxonomy still decides what is on topic."))
    else:
        lines.append(ctx._("The review ranks by the taxonomy alone until {n} examples are "
                           "kept ({left} to go).", n=MIN_EXAMPLES, left=MIN_EXAMPLES - teaching))
    lines.append(ctx._("Forget them with digest learned reset."))
    return Message("\n".join(lines), blocks=(Header(ctx._("What the press review learned")),
                                             Section("\n".join(lines))))


def learned_reset(ctx: Context) -> Message:
    """Forget every example: the ranking starts again from the taxonomy."""
    n = archive.reset_learned(ctx.session)
    digest = archive.find_digest(ctx.session, _week(ctx))
    if digest is not None and digest.status == "draft":
        svc.reselect(ctx.session, ctx.settings, digest)
        svc.archive_renderings(ctx.settings, digest)
    return Message(ctx.tr.ngettext(
        "Forgot {n} example: the review ranks by the taxonomy alone again.",
        "Forgot {n} examples: the review ranks by the taxonomy alone again.", n))


def notes(ctx: Context) -> Message:
    """``digest notes off`` stops the weekly interest note; ``on`` resumes it."""
    arg = ctx.args.strip().lower()
    if arg not in ("on", "off"):
        raise InvalidInput(N_("Say digest notes on, or digest notes off."))
    found = ctx.session.get(DigestNoteOptOut, ctx.person.id)
    if arg == "off":
        if found is None:
            ctx.session.add(DigestNoteOptOut(person_id=ctx.person.id))
        return Message(ctx._("You will no longer get the weekly note of press-review articles "
                             "on your interests."))
    if found is not None:
        ctx.session.delete(found)
    return Message(ctx._("You will get the weekly note of press-review articles on your "
                         "interests (set them with: interests set ...)."))
