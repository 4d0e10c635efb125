"""The ``convene`` command (typer)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from bot.errors import ConfigError
from bot.settings import Settings, default_config_path, load_settings

app = typer.Typer(help="Convene: the alliance's collaboration bot.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
roster_app = typer.Typer(help="The roster of people, organisations, groups and roles.",
                         no_args_is_help=True)
outbox_app = typer.Typer(help="The outbox: what is queued, what is dead.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(outbox_app, name="outbox")
app.add_typer(roster_app, name="roster")

err = Console(stderr=True)

ConfigOption = Annotated[Path | None, typer.Option("--config", "-c",
                         help="A convene.toml (default: $CONVENE_CONFIG, ./convene.toml, "
                              "else the example).")]


def settings_from(ctx: typer.Context) -> tuple[Settings, Path | None]:
    """The settings for this invocation. Exits with code 2 and the reason on a bad value."""
    path = ctx.obj.get("config") if ctx.obj else None
    path = path or default_config_path()
    try:
        return load_settings(path), path
    except ConfigError as exc:
        err.print(f"[red]Configuration error:[/red] {exc}")
        raise typer.Exit(2) from None


@app.callback()
def main_callback(ctx: typer.Context, config: ConfigOption = None,
                  verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False) -> None:
    """Convene: the alliance's collaboration bot."""
    ctx.obj = {"config": config}
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@app.command()
def serve(ctx: typer.Context) -> None:
    """Run the main job: HTTP app, scheduler, outbox worker and adapters."""
    settings, path = settings_from(ctx)
    logging.getLogger().setLevel(settings.log_level)
    try:
        settings.signing_key()  # refuse an empty or short key before anything starts
    except ConfigError as exc:
        err.print(f"[red]Configuration error:[/red] {exc}", markup=True, highlight=False)
        raise typer.Exit(2) from None
    from bot.serve import serve as run

    run(settings, config_path=path)


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Upgrade the database schema to the newest revision (Alembic)."""
    settings, _ = settings_from(ctx)
    from storage.migrate import upgrade

    upgrade(settings.database_url)
    typer.echo("database is up to date")


@roster_app.command("import")
def roster_import(ctx: typer.Context, file: Annotated[Path, typer.Argument(
        exists=True, dir_okay=False, readable=True, help="CSV with columns email, name, "
        "organisation, role, group, language, timezone.")]) -> None:
    """Import a roster CSV. A bad file is reported line by line and nothing is changed."""
    settings, _ = settings_from(ctx)
    from bot.roster import RosterError, import_roster_file
    from storage.engine import make_engine, make_session_factory
    from storage.migrate import upgrade

    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session, session.begin():
            report = import_roster_file(session=session, path=file,
                                        alliance_name=settings.alliance_name)
    except RosterError as exc:
        err.print(f"[red]{file}: roster not imported, nothing changed.[/red]")
        for p in exc.problems:
            err.print(f"  line {p.line}, [bold]{p.field}[/bold]: {p.message}")
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    if not report.changed:
        typer.echo(f"{report.rows} rows read; no change")
        return
    typer.echo(f"{report.rows} rows read: {report.people_created} people added, "
               f"{report.people_updated} updated, {report.organisations_created} organisations "
               f"and {report.groups_created} groups created, {report.memberships_added} roles "
               "added")


@roster_app.command("list")
def roster_list(ctx: typer.Context) -> None:
    """List people with organisation, language, zone and roles per group."""
    settings, _ = settings_from(ctx)
    from bot.members import memberships_by_person, people_in
    from storage.engine import make_engine, make_session_factory

    engine = make_engine(settings.database_url)
    table = Table("Name", "Email", "Organisation", "Roles", "Lang", "Zone")
    with make_session_factory(engine)() as session:
        held = memberships_by_person(session)
        for p in people_in(session):
            roles = "; ".join(f"{g}: {r}" for g, r in held.get(p.id, []))
            table.add_row(p.name, p.primary_email or "", p.organisation.name
                          if p.organisation else "", roles, p.language, p.timezone)
    engine.dispose()
    Console().print(table)


@outbox_app.command("list")
def outbox_list(ctx: typer.Context, status: Annotated[str, typer.Option(
        help="dead, pending, sending, sent, superseded, or 'unsent' for all three not sent."
        )] = "dead", limit: Annotated[int, typer.Option(min=1)] = 50) -> None:
    """List outbox rows (dead ones by default) with attempts and last error."""
    settings, _ = settings_from(ctx)
    from rich.markup import escape

    from bot.deadletter import listing, summary
    from storage.engine import make_engine, make_session_factory

    engine = make_engine(settings.database_url)
    with make_session_factory(engine)() as session:
        counts = summary(session)
        rows = listing(session, status=None if status == "unsent" else status, limit=limit)
    engine.dispose()
    typer.echo(", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "outbox empty")
    table = Table("Id", "Key", "Kind", "Status", "Tries", "Next attempt", "Last error")
    for r in rows:
        table.add_row(str(r["id"]), escape(r["key"]), r["kind"], r["status"],
                      str(r["attempts"]), r["next_attempt_at"].strftime("%Y-%m-%d %H:%M:%S"),
                      escape(r["last_error"][:200]))
    Console(width=200).print(table)


@outbox_app.command("retry")
def outbox_retry(ctx: typer.Context, ids: Annotated[list[int] | None, typer.Argument(
        help="Row ids (default: every dead row).")] = None) -> None:
    """Put dead outbox rows back in the queue, attempts reset."""
    settings, _ = settings_from(ctx)
    from bot.deadletter import retry
    from storage.engine import make_engine, make_session_factory

    engine = make_engine(settings.database_url)
    with make_session_factory(engine)() as session, session.begin():
        n = retry(session, ids)
    engine.dispose()
    typer.echo(f"{n} dead row(s) queued again")


def _add_plugin_commands() -> None:
    from bot.capabilities import CapabilityError, discover
    from bot.plugins import load_plugins

    for plugin in load_plugins():
        plugin.cli(app)
    try:
        capabilities = discover()
    except CapabilityError as exc:
        err.print(f"[red]Capability error:[/red] {exc}")
        raise SystemExit(2) from None
    for cap in capabilities:
        if cap.cli is not None:
            cap.cli(app)


def main() -> None:
    """Entry point of the ``convene`` console script."""
    _add_plugin_commands()
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
