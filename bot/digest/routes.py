"""Chat commands of the press review, and its weekly job.

``digest suggest URL [note]`` (anyone in the roster; an observer's suggestion
is marked as such), ``digest latest`` (the latest summary, in the reader's
language), and for the secretariat ``digest preview``, ``digest include URL``,
``digest exclude N`` and ``digest send``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.context import Context
from bot.digest import service as svc
from bot.errors import N_, Conflict, InvalidInput, NotFound
from bot.types import Header, Message, Section, SmallPrint, inline_plain
from digests import archive
from digests.parse.normalise import canonical_url
from digests.render import LANGUAGE_NAMES, why_line
from storage.base import utcnow
from storage.models import Digest, DigestSuggestion, Role

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
              help=N_("Show this week's draft press review (secretariat)."))
    reg.route("command", "digest include", include, capability="digest.review", usage="URL",
              help=N_("Add an article to this week's press review (secretariat)."))
    reg.route("command", "digest exclude", exclude, capability="digest.review", usage="N",
              help=N_("Remove item N from this week's press review (secretariat)."))
    reg.route("command", "digest send", send, capability="digest.review",
              help=N_("Send this week's press review now (secretariat)."))
    d = reg.settings.digest
    hour, minute = (int(x) for x in d.time.split(":"))
    reg.job(JOB_ID, weekly_digest, trigger="cron", day_of_week=_DAYS[d.day], hour=hour,
            minute=minute, timezone=d.timezone)
    from bot.digest.home import digest_section

    reg.home_section(digest_section, order=20)


def weekly_digest(bot: Bot) -> None:
    """The scheduled job: build and send this week's digest (idempotent: a
    week already sent is left alone), then wake nobody: the outbox delivers."""
    out = svc.build(session_factory=bot.session_factory, settings=bot.settings, send=True)
    if out.refused_empty:
        log.warning("press review %s: no article, not sent (the week stays a draft)", out.week)
    for r in out.failed:
        log.warning("press review %s: source %s failed: %s", out.week, r["url"], r["reason"])


def _week(ctx: Context) -> str:
    return svc.current_week(ctx.settings)


def suggest(ctx: Context) -> Message:
    """Record a suggestion for this week. Raises InvalidInput without an http(s) URL."""
    url, _, note = ctx.args.strip().partition(" ")
    if not url.startswith(("http://", "https://")):
        raise InvalidInput(N_("Give the article's address: digest suggest URL [note]."))
    roles = ctx.auth.roles
    by_observer = Role.OBSERVER in roles and not roles & {Role.MEMBER, Role.SECRETARIAT,
                                                         Role.CHAIR}
    week = _week(ctx)
    try:
        with ctx.session.begin_nested():
            ctx.session.add(DigestSuggestion(week=week, url=url[:1000],
                                             canonical_url=canonical_url(url)[:1000],
                                             note=note.strip()[:2000], person_id=ctx.person.id,
                                             by_observer=by_observer))
    except IntegrityError:
        raise Conflict(N_("That article is already suggested for week {week}."),
                       week=week) from None
    text = (ctx._("Thank you: your suggestion (as an observer) goes to the secretariat for "
                  "week {week}.", week=week) if by_observer else
            ctx._("Thank you: your suggestion goes to the secretariat for week {week}.",
                  week=week))
    return Message(text)


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


def _draft(ctx: Context, *, build: bool = False) -> Digest:
    week = _week(ctx)
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
    lines = []
    for view in archive.views(items):
        topic = tx.topic(view.topic)
        label = topic.label(ctx.tr.language) if topic else ctx._("Other")
        lines.append(f"{view.position}. {view.title} <{view.url}>\n   {label} · "
                     f"{ctx._(LANGUAGE_NAMES.get(view.language, 'other language'))} · "
                     f"{why_line(view, ctx.tr.gettext)}")
    if not lines:
        lines.append(ctx._("No article of this week is about the alliance's topics yet: the "
                           "review is empty. Add one with digest include URL."))
    pending = ctx.session.scalars(select(DigestSuggestion).where(
        DigestSuggestion.week == digest.week)).all()
    chosen = {i.canonical_url for i in items}
    waiting = [s for s in pending if s.canonical_url not in chosen]
    blocks: list[Header | Section | SmallPrint] = [Header(title)]
    if note:
        blocks.append(SmallPrint(note))
    blocks.append(Section("\n".join(lines)))
    if waiting:
        sug = "\n".join(f"- {s.url}" + (f" ({s.note})" if s.note else "") +
                        (f" [{ctx._('observer')}]" if s.by_observer else "") for s in waiting)
        blocks.append(Section(ctx._("Suggestions not included yet:") + "\n" + sug))
    failed = [r for r in digest.report if r.get("status") == "failed"]
    if failed:
        blocks.append(SmallPrint(ctx._("Sources that failed: {list}", list="; ".join(
            f"{r['url']} ({r['reason']})" for r in failed))))
    text = "\n".join(inline_plain(b.text) for b in blocks)
    return Message(text=text, blocks=tuple(blocks))


def preview(ctx: Context) -> Message:
    """This week's draft (built now if there is none)."""
    digest = _draft(ctx, build=True)
    if digest.status == "draft":
        svc.reselect(ctx.session, ctx.settings, digest)
        svc.archive_renderings(ctx.settings, digest)
    return _preview_message(ctx, digest)


def _editable(ctx: Context) -> Digest:
    digest = _draft(ctx, build=True)
    if digest.status != "draft":
        raise Conflict(N_("The press review of week {week} was already sent."),
                       week=digest.week)
    return digest


def include(ctx: Context) -> Message:
    """Pin an article (a candidate, a suggestion or any URL) into the draft."""
    url = ctx.args.strip().split(" ")[0] if ctx.args.strip() else ""
    if not url.startswith(("http://", "https://")):
        raise InvalidInput(N_("Give the article's address: digest include URL."))
    digest = _editable(ctx)
    archive.add_edit(ctx.session, week=digest.week, action="include", url=url,
                     person_id=ctx.person.id)
    chosen = svc.reselect(ctx.session, ctx.settings, digest)
    svc.archive_renderings(ctx.settings, digest)
    wanted = canonical_url(url)
    n = next((i.position for i in chosen if i.canonical_url == wanted), None)
    return _preview_message(ctx, digest, note=ctx._("Added {url} as item {n}.", url=url, n=n)
                            if n else ctx._("Added {url}.", url=url))


def exclude(ctx: Context) -> Message:
    """Drop item N of the draft; the next best candidate takes its place."""
    arg = ctx.args.strip()
    if not arg.isdigit():
        raise InvalidInput(N_("Give the item's number from digest preview: digest exclude N."))
    digest = _editable(ctx)
    item = next((i for i in archive.selected(digest) if i.position == int(arg)), None)
    if item is None:
        raise NotFound(N_("There is no item {n} in the draft."), n=int(arg))
    title = item.title
    archive.add_edit(ctx.session, week=digest.week, action="exclude", url=item.canonical_url,
                     person_id=ctx.person.id)
    svc.reselect(ctx.session, ctx.settings, digest)
    svc.archive_renderings(ctx.settings, digest)
    return _preview_message(ctx, digest, note=ctx._("Removed item {n}: {title}. The items "
                                                     "are numbered again below.",
                                                     n=int(arg), title=title))


def send(ctx: Context) -> Message:
    """Freeze and queue this week's digest."""
    digest = _editable(ctx)
    try:
        sent = svc.send_digest(ctx.session, ctx.settings, digest,
                               allow_empty="--allow-empty" in ctx.args.split())
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
