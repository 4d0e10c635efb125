"""``convene digest build|show`` and ``convene feeds add|import|list|remove|check``.

``digest build`` exits 0 when every source answered, 1 when a source failed
(the draft keeps what that source gave before), 2 for bad input, 3 when
``--send`` found an empty review and sent nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from bot.invocation import settings_from
from digests.sources import FeedSource

if TYPE_CHECKING:
    from bot.app import Bot

digest_app = typer.Typer(help="The weekly press review.", no_args_is_help=True,
                         rich_markup_mode=None)
feeds_app = typer.Typer(help="The press review's sources.", no_args_is_help=True,
                        rich_markup_mode=None)
err = Console(stderr=True)


def register_cli(app: typer.Typer) -> None:
    """Add ``digest`` and ``feeds`` to the ``convene`` command."""
    app.add_typer(digest_app, name="digest")
    app.add_typer(feeds_app, name="feeds")


def _bot(ctx: typer.Context) -> Bot:
    from bot.compose import build_app
    from storage.migrate import upgrade

    settings, _ = settings_from(ctx)
    upgrade(settings.database_url)
    return build_app(settings)


@digest_app.command("build")
def build_cmd(
    ctx: typer.Context,
    week: Annotated[str | None, typer.Option(help="ISO week, e.g. 2026-W47 (default: this "
                                             "week).")] = None,
    feeds: Annotated[list[str] | None, typer.Option(
        "--feeds", help="Sources for this run only (URL or path); several may follow one "
        "--feeds (--feeds a.xml b.xml, or a shell pattern: --feeds feeds/*).")] = None,
    more: Annotated[list[str] | None, typer.Argument(
        metavar="[URL_OR_PATH]...", show_default=False,
        help="The further sources of --feeds.")] = None,
    out: Annotated[Path | None, typer.Option(help="Write the HTML and text renderings here."
                                             )] = None,
    send: Annotated[bool, typer.Option("--send", help="Send it to the secretariat and the "
                                       "channel now (once per week).")] = False,
    allow_empty: Annotated[bool, typer.Option(
        "--allow-empty", help="With --send: send even a review with no article.")] = False,
) -> None:
    """Fetch the sources and build the week's digest (a draft unless --send).
    Exit code: 0 all sources answered, 1 a source failed, 2 bad input, 3 an
    empty review was not sent."""
    from bot.digest.service import build, write_renderings

    if more and not feeds:
        # click gives one value to an option; the values after it arrive here
        err.print(f"Unexpected {' '.join(more)}: give sources after --feeds "
                  "(--feeds URL_OR_PATH ...).", markup=False, highlight=False)
        raise typer.Exit(2)
    if more:
        feeds = [*(feeds or []), *more]

    bot = _bot(ctx)
    try:
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      console=err, transient=False) as progress:
            task = progress.add_task("Fetching sources", total=None)

            def on_sources(n: int) -> None:
                progress.update(task, total=n)

            def on_result(r: object) -> None:
                progress.advance(task)

            try:
                outcome = build(session_factory=bot.session_factory, settings=bot.settings,
                                week=week, feeds=feeds, send=send, allow_empty=allow_empty,
                                on_sources=on_sources, on_result=on_result)
            except ValueError as exc:
                err.print(f"[red]{exc}[/red]")
                raise typer.Exit(2) from None
        for r in outcome.reports:
            if r["status"] in ("failed", "bozo"):
                colour = "red" if r["status"] == "failed" else "yellow"
                err.print(f"[{colour}]{r['status']}[/{colour}] {r['url']}: {r['reason']}")
        if out is not None and outcome.rendered is not None:
            for p in write_renderings(outcome.rendered, outcome.week, out):
                typer.echo(f"wrote {p}")
        if outcome.kept:
            err.print(f"[yellow]kept {outcome.kept} items of the stored draft whose source "
                      "failed this time[/yellow]")
        if outcome.refused_empty:
            err.print(f"[red]{outcome.week}: the review has no article, so nothing was sent "
                      "and the week stays a draft. Add articles (digest include URL in chat) "
                      "or send it empty with --send --allow-empty.[/red]")
            raise typer.Exit(3)
        if send:
            delivered = bot.new_worker().drain()
            typer.echo(f"{outcome.week}: {outcome.status}, {outcome.items} items"
                       f"{' (queued now)' if outcome.sent_now else ' (already sent)'}; "
                       f"{delivered} delivered now")
        else:
            typer.echo(f"{outcome.week}: {outcome.status}, {outcome.items} items")
        if outcome.failed:
            raise typer.Exit(1)
    finally:
        bot.engine.dispose()


@digest_app.command("show")
def show_cmd(ctx: typer.Context,
             week: Annotated[str, typer.Argument(help="ISO week, e.g. 2026-W47.")],
             fmt: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
             ) -> None:
    """Print an archived digest: items, sources, recipients and the text
    (--format json: the review as the secretariat sees it)."""
    import json

    from bot.digest.service import review_data
    from digests import archive

    if not archive.WEEK_RE.match(week):
        err.print(f"[red]{week!r} is not a week: write it as YEAR-Wnn, e.g. 2026-W47[/red]")
        raise typer.Exit(2)
    if fmt not in ("text", "json"):
        err.print("[red]--format is text or json[/red]")
        raise typer.Exit(2)
    bot = _bot(ctx)
    try:
        with bot.session_factory() as session:
            d = archive.find_digest(session, week)
            if d is None:
                err.print(f"No digest for {week}: build it with convene digest build "
                          f"--week {week}.")
                raise typer.Exit(1)
            if fmt == "json":
                typer.echo(json.dumps(review_data(bot.settings, d), ensure_ascii=False,
                                      indent=2))
                return
            console = Console()
            sent = d.sent_at.isoformat() if d.sent_at else "-"
            console.print(f"[bold]{d.subject or week}[/bold]  status={d.status} sent={sent}")
            table = Table("#", "Title", "Topic", "Lang", "Sources")
            for i in archive.selected(d):
                table.add_row(str(i.position), i.title, i.topic, i.language,
                              "\n".join(f"{s.feed_title}: {s.link}" for s in i.sources))
            console.print(table)
            for r in d.recipients:
                console.print(f"sent to {r.address} ({r.kind})")
            typer.echo(d.text)
    finally:
        bot.engine.dispose()


def _reachable(bot: Bot, sources: list[FeedSource]) -> dict[str, str]:
    """Fetch each source once; the reason of each that failed, by URL."""
    from bot.digest.service import fetch_feeds

    return {r.source.url: str(r.error) for r in fetch_feeds(bot.settings, sources)
            if r.status == "failed"}


@feeds_app.command("add")
def feeds_add(ctx: typer.Context, url: str,
              weight: Annotated[float, typer.Option(min=0.0, max=10.0)] = 1.0,
              language: Annotated[str | None, typer.Option(help="en, fr or es")] = None,
              check: Annotated[bool, typer.Option(help="Fetch it once to check it answers."
                                                  )] = True) -> None:
    """Add (or update) a source: an http(s) URL or a feed file's path (stored
    absolute). Refused at once if the scheme, the path or the fetch is wrong."""
    from digests.archive import upsert_feeds
    from digests.sources import FeedSource, SourceError, check_source

    if language is not None and language not in ("en", "fr", "es"):
        err.print("--language must be en, fr or es")
        raise typer.Exit(2)
    try:
        url = check_source(url)
    except SourceError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    bot = _bot(ctx)
    try:
        source = FeedSource(url, weight=weight, language=language)
        failed = _reachable(bot, [source]) if check else {}
        if failed:
            err.print(f"[red]{url}: {failed[url]}; fix the address or add it with --no-check"
                      "[/red]")
            raise typer.Exit(1)
        with bot.session_factory() as session, session.begin():
            added = upsert_feeds(session, [source])
    finally:
        bot.engine.dispose()
    typer.echo(f"{'added' if added else 'updated'} {url}")


@feeds_app.command("import")
def feeds_import(ctx: typer.Context, file: Annotated[Path, typer.Argument(
        exists=True, dir_okay=False, readable=True, help="An OPML file.")],
        check: Annotated[bool, typer.Option(help="Fetch each feed once to check it answers."
                                            )] = True) -> None:
    """Add every usable feed of an OPML file; each refused entry is reported
    with its line (relative paths are read from the file's folder)."""
    from digests.archive import upsert_feeds
    from digests.sources import OpmlError, checked_sources, read_opml

    try:
        sources, bad = checked_sources(read_opml(file), base=file.resolve().parent)
    except OpmlError as exc:
        err.print(f"[red]{file}: {exc}[/red]")
        raise typer.Exit(1) from None
    bot = _bot(ctx)
    try:
        failed = _reachable(bot, sources) if check and sources else {}
        bad += [f"line {s.line}: {s.url}: {failed[s.url]}" for s in sources if s.url in failed]
        usable = [s for s in sources if s.url not in failed]
        with bot.session_factory() as session, session.begin():
            added = upsert_feeds(session, usable)
    finally:
        bot.engine.dispose()
    for line in bad:
        err.print(f"[red]{file}: {line}[/red]")
    typer.echo(f"{len(usable) + len(bad)} feeds read, {added} added, {len(bad)} refused")
    if bad:
        raise typer.Exit(1)


@feeds_app.command("remove")
def feeds_remove(ctx: typer.Context, url: str) -> None:
    """Remove a source (give it as "convene feeds list" shows it, or as added)."""
    from digests.archive import remove_feed
    from digests.sources import SourceError, check_source

    bot = _bot(ctx)
    try:
        with bot.session_factory() as session, session.begin():
            gone = remove_feed(session, url)
            if not gone:
                try:
                    gone = remove_feed(session, check_source(url))
                except SourceError:
                    pass
    finally:
        bot.engine.dispose()
    if not gone:
        err.print(f"[red]{url} is not a source; see convene feeds list[/red]")
        raise typer.Exit(1)
    typer.echo(f"removed {url}")


@feeds_app.command("check")
def feeds_check(ctx: typer.Context) -> None:
    """Fetch every enabled source once and say which fail (exit 1 if any)."""
    from digests.archive import feed_sources

    bot = _bot(ctx)
    try:
        with bot.session_factory() as session:
            sources = [FeedSource(s.url) for s in feed_sources(session)]
        failed = _reachable(bot, sources)
    finally:
        bot.engine.dispose()
    for s in sources:
        typer.echo(f"{'FAILED' if s.url in failed else 'ok':6} {s.url}"
                   + (f": {failed[s.url]}" if s.url in failed else ""))
    if failed:
        raise typer.Exit(1)


@feeds_app.command("list")
def feeds_list(ctx: typer.Context) -> None:
    """List the sources with weight, language and the last fetch's outcome."""
    from sqlalchemy import select

    from storage.models import DigestFeed

    bot = _bot(ctx)
    table = Table("URL", "Weight", "Lang", "Last status", "Error")
    try:
        with bot.session_factory() as session:
            for f in session.scalars(select(DigestFeed).order_by(DigestFeed.id)):
                table.add_row(f.url, f"{f.weight:g}", f.language or "", f.last_status,
                              (f.last_error or "")[:80])
    finally:
        bot.engine.dispose()
    Console().print(table)
