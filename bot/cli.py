"""The ``convene`` command (typer)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bot.errors import N_, ConfigError
from bot.invocation import settings_from

if TYPE_CHECKING:
    from bot.i18n import Translator
    from bot.roster import ImportReport as RosterReport

# rich_markup_mode=None on every Typer: plain help, without typer's "<bool>"
# beside each flag (a flag takes no value) or markup a person would read as debris.
app = typer.Typer(help="Convene: the alliance's collaboration bot.", no_args_is_help=True,
                  pretty_exceptions_enable=False, rich_markup_mode=None)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True,
                     rich_markup_mode=None)
roster_app = typer.Typer(help="The roster of people, organisations, groups and roles.",
                         no_args_is_help=True, rich_markup_mode=None)
outbox_app = typer.Typer(help="The outbox: what is queued, what is dead.", no_args_is_help=True,
                         rich_markup_mode=None)
app.add_typer(db_app, name="db")
app.add_typer(outbox_app, name="outbox")
app.add_typer(roster_app, name="roster")

err = Console(stderr=True)

ConfigOption = Annotated[Path | None, typer.Option("--config", "-c",
                         help="A convene.toml (default: $CONVENE_CONFIG, ./convene.toml, "
                              "else the example).")]


def _print_version(value: bool) -> None:
    """``convene --version``: the installed distribution's version, then exit."""
    if value:
        from importlib.metadata import version

        typer.echo(f"convene {version('convene')}")
        raise typer.Exit()


@app.callback()
def main_callback(ctx: typer.Context, config: ConfigOption = None,
                  verbose: Annotated[bool, typer.Option(
                      "--verbose", "-v", help="Log what happens (debug level).")] = False,
                  version: Annotated[bool, typer.Option(
                      "--version", callback=_print_version, is_eager=True,
                      help="Print Convene's version and exit.")] = False) -> None:
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
    from storage.migrate import current_revisions, upgrade

    before = current_revisions(settings.database_url)
    upgrade(settings.database_url)
    after = current_revisions(settings.database_url)
    if before == after:
        typer.echo(f"database already at revision {', '.join(after)}; nothing to do")
    elif not before:
        typer.echo(f"new database: created the schema at revision {', '.join(after)}")
    else:
        typer.echo(f"database upgraded from revision {', '.join(before)} to "
                   f"{', '.join(after)}")


def _cell(value: object) -> str:
    """A table cell from stored text: control characters stripped, rich markup
    escaped (a name like ``[red]x`` is shown as typed)."""
    from bot.text import strip_controls

    return escape(strip_controls(str(value)))


def _print_plan(out: Console, report: RosterReport, tr: Translator) -> None:
    """The change an import makes (or would make), before it is applied."""
    if not (report.added or report.removed or report.new_people):
        out.print(escape(tr.gettext(N_("No role changes."))))
        return
    new = set(report.new_people)
    for c in report.added:
        label = N_("new person, role added") if c.email in new else N_("role added")
        out.print("[green]+[/green] " + _cell(tr.gettext(
            N_("{change}: {name} <{email}>, {group}: {role}"), change=tr.gettext(label),
            name=c.name, email=c.email, group=c.group, role=tr.gettext(c.role))))
    for c in report.removed:
        out.print("[red]-[/red] " + _cell(tr.gettext(
            N_("{change}: {name} <{email}>, {group}: {role}"),
            change=tr.gettext(N_("role removed")), name=c.name, email=c.email,
            group=c.group, role=tr.gettext(c.role))))


@roster_app.command("import")
def roster_import(ctx: typer.Context, file: Annotated[Path, typer.Argument(
        exists=True, dir_okay=False, readable=True, help="CSV with columns email, name, "
        "organisation, role, group, language, timezone.")],
        add_only: Annotated[bool, typer.Option(
            "--add-only", help="Only add: keep roles that the file does not give.")] = False,
        replace: Annotated[bool, typer.Option(
            "--replace", help="Apply a file that removes roles (the removals are listed "
            "first and written to the audit log).")] = False,
        dry_run: Annotated[bool, typer.Option(
            "--dry-run", help="List the change and apply nothing.")] = False) -> None:
    """Import a roster CSV: the whole roster of every group it names.

    The change is listed before it is applied. Roles the file does not give are
    removed only with --replace (or a typed confirmation at a terminal);
    --add-only keeps them. A file that would leave the alliance without a chair
    or a group without a secretariat is refused. A bad file is reported line
    by line and nothing is changed.
    """
    settings, _ = settings_from(ctx)
    from bot.i18n import translator
    from bot.roster import RosterError, RosterLockout, import_roster_file
    from storage.engine import make_engine, make_session_factory
    from storage.migrate import upgrade

    tr = translator(settings.default_language)
    out = Console()
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session, session.begin():
            try:
                plan = import_roster_file(session=session, path=file,
                                          alliance_name=settings.alliance_name,
                                          add_only=add_only, dry_run=True)
            except RosterLockout as exc:
                _print_plan(out, exc.report, tr)
                err.print("[red]" + _cell(exc.render(tr)) + "[/red]")
                raise typer.Exit(1) from None
            _print_plan(out, plan, tr)
            if dry_run:
                out.print(escape(tr.gettext(N_("Dry run: nothing was changed."))))
                return
            if plan.removed and not replace and not _confirm_removals(tr, len(plan.removed)):
                err.print(_cell(tr.ngettext(
                    "This file removes {n} role (listed above); nothing was changed. Run "
                    "again with --replace to apply it, or with --add-only to only add.",
                    "This file removes {n} roles (listed above); nothing was changed. Run "
                    "again with --replace to apply it, or with --add-only to only add.",
                    len(plan.removed))))
                raise typer.Exit(1)
            report = import_roster_file(session=session, path=file,
                                        alliance_name=settings.alliance_name,
                                        add_only=add_only)
    except RosterError as exc:
        err.print("[red]" + _cell(tr.gettext(N_("{file}: roster not imported, nothing "
                                                "changed."), file=str(file))) + "[/red]")
        for p in exc.problems:
            err.print("  " + _cell(p.render(tr)))
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    if not report.changed:
        typer.echo(tr.ngettext("{n} row read; no change", "{n} rows read; no change",
                               report.rows))
        return
    typer.echo(tr.ngettext("{n} row read", "{n} rows read", report.rows) + ": " + tr.gettext(
        N_("{people} people added, {updated} updated, {orgs} organisations and {groups} "
           "groups created, {added} roles added, {removed} removed"),
        people=report.people_created, updated=report.people_updated,
        orgs=report.organisations_created, groups=report.groups_created,
        added=report.memberships_added, removed=report.memberships_removed))
    if report.removed:
        typer.echo(tr.gettext(N_("The removals are in the audit log; to undo them, import "
                                 "the previous file again.")))


def _confirm_removals(tr: Translator, n: int) -> bool:
    """At an interactive terminal, ask the operator to type ``replace`` to
    apply ``n`` removals; piped input is never taken as a confirmation."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        return False
    answer: str = typer.prompt(tr.ngettext(
        "This file removes {n} role (listed above). Type replace to apply it",
        "This file removes {n} roles (listed above). Type replace to apply it", n),
        default="", show_default=False)
    return answer.strip().lower() == "replace"


@roster_app.command("list")
def roster_list(ctx: typer.Context) -> None:
    """List people with organisation, language, zone and roles per group."""
    settings, _ = settings_from(ctx)
    from bot.members import memberships_by_person, people_in
    from storage.engine import make_engine, make_session_factory

    engine = make_engine(settings.database_url)
    table = Table("Name", "Email", "Organisation", "Roles", "Lang", "Zone")
    for i, col in enumerate(table.columns):
        # Addresses stay whole (they are copied); the other columns wrap.
        col.no_wrap = i == 1
        col.overflow = "fold" if i != 1 else "ellipsis"
    try:
        with make_session_factory(engine)() as session:
            held = memberships_by_person(session)
            for p in people_in(session):
                roles = "; ".join(f"{g}: {r}" for g, r in held.get(p.id, []))
                table.add_row(_cell(p.name), _cell(p.primary_email or ""),
                              _cell(p.organisation.name if p.organisation else ""),
                              _cell(roles), _cell(p.language), _cell(p.timezone))
    finally:
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
    """Entry point of the ``convene`` console script. A database that cannot
    be reached is one line on stderr and exit code 1, never a traceback."""
    from sqlalchemy.exc import DBAPIError

    _add_plugin_commands()
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
    except DBAPIError as exc:
        err.print(_cell(database_down_line(exc)), highlight=False, soft_wrap=True)
        sys.exit(1)


def database_down_line(exc: BaseException) -> str:
    """One line saying the database could not be used, with the driver's first
    line (which names the host and port, never a password)."""
    cause = getattr(exc, "orig", None) or exc
    first = next((ln.strip() for ln in str(cause).splitlines() if ln.strip()), "")
    return (f"Database error: {type(cause).__name__}: {first} (check database_url and that "
            "the database server is running)")
