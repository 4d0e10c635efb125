"""``convene digest build|show`` and ``convene feeds add|import|list``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from bot.cli import settings_from

if TYPE_CHECKING:
    from bot.app import Bot

digest_app = typer.Typer(help="The weekly press review.", no_args_is_help=True)
feeds_app = typer.Typer(help="The press review's sources.", no_args_is_help=True)
err = Console(stderr=True)


def register_cli(app: typer.Typer) -> None:
    """Add ``digest`` and ``feeds`` to the ``convene`` command."""
    app.add_typer(digest_app, name="digest")
    app.add_typer(feeds_app, name="feeds")


def _bot(ctx: typer.Context) -> Bot:
    from bot.app import build_app
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
        "--feeds", help="Sources for this run only (URL or path); repeat for several.")] = None,
    out: Annotated[Path | None, typer.Option(help="Write the HTML and text renderings here."
                                             )] = None,
    send: Annotated[bool, typer.Option("--send", help="Send it to the secretariat and the "
                                       "channel now (once per week).")] = False,
) -> None:
    """Fetch the sources and build the week's digest (a draft unless --send)."""
    from bot.digest.service import build, write_renderings

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
                                week=week, feeds=feeds, send=send, on_sources=on_sources,
                                on_result=on_result)
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
        if send:
            delivered = bot.new_worker().drain()
            typer.echo(f"{outcome.week}: {outcome.status}, {outcome.items} items"
                       f"{' (queued now)' if outcome.sent_now else ' (already sent)'}; "
                       f"{delivered} delivered now")
        else:
            typer.echo(f"{outcome.week}: {outcome.status}, {outcome.items} items")
    finally:
        bot.engine.dispose()


@digest_app.command("show")
def show_cmd(ctx: typer.Context,
             week: Annotated[str, typer.Argument(help="ISO week, e.g. 2026-W47.")]) -> None:
    """Print an archived digest: items, sources, recipients and the text."""
    from digests import archive

    bot = _bot(ctx)
    try:
        with bot.session_factory() as session:
            d = archive.find_digest(session, week)
            if d is None:
                err.print(f"No digest for {week}.")
                raise typer.Exit(1)
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


@feeds_app.command("add")
def feeds_add(ctx: typer.Context, url: str,
              weight: Annotated[float, typer.Option(min=0.0, max=10.0)] = 1.0,
              language: Annotated[str | None, typer.Option(help="en, fr or es")] = None) -> None:
    """Add (or update) a source: an http(s) URL or a local path."""
    from digests.archive import upsert_feeds
    from digests.sources import FeedSource

    if language is not None and language not in ("en", "fr", "es"):
        err.print("--language must be en, fr or es")
        raise typer.Exit(2)
    bot = _bot(ctx)
    try:
        with bot.session_factory() as session, session.begin():
            added = upsert_feeds(session, [FeedSource(url, weight=weight, language=language)])
    finally:
        bot.engine.dispose()
    typer.echo(f"{'added' if added else 'updated'} {url}")


@feeds_app.command("import")
def feeds_import(ctx: typer.Context, file: Annotated[Path, typer.Argument(
        exists=True, dir_okay=False, readable=True, help="An OPML file.")]) -> None:
    """Add every feed of an OPML file."""
    from digests.archive import upsert_feeds
    from digests.sources import OpmlError, read_opml

    try:
        sources = read_opml(file)
    except OpmlError as exc:
        err.print(f"[red]{file}: {exc}[/red]")
        raise typer.Exit(1) from None
    bot = _bot(ctx)
    try:
        with bot.session_factory() as session, session.begin():
            added = upsert_feeds(session, sources)
    finally:
        bot.engine.dispose()
    typer.echo(f"{len(sources)} feeds read, {added} added")


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
