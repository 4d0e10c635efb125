"""CLI: ``convene decisions export`` and ``convene polls close-due``."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer


class ExportFormat(StrEnum):
    """Formats of the decision register export."""

    csv = "csv"
    json = "json"


def register_cli(app: typer.Typer) -> None:
    """Add ``decisions export`` and ``polls close-due`` to the ``convene`` CLI."""
    decisions_app = typer.Typer(help="The decision register.", no_args_is_help=True,
                                rich_markup_mode=None)
    polls_app = typer.Typer(help="Consensus polls.", no_args_is_help=True,
                            rich_markup_mode=None)
    app.add_typer(decisions_app, name="decisions")
    app.add_typer(polls_app, name="polls")

    @decisions_app.command("export")
    def export(ctx: typer.Context,
               fmt: Annotated[ExportFormat, typer.Option("--format", "-f",
                                                         help="csv or json")] = ExportFormat.csv,
               output: Annotated[Path | None, typer.Option("--output", "-o",
                                                           help="File (default stdout).")] = None,
               ) -> None:
        """Export every decision: id, text version, rounds, tallies, dissent, outcome, link."""
        from bot.invocation import settings_from
        from bot.polls.register import decisions, to_csv, to_json
        from storage.engine import make_engine, make_session_factory

        settings, _ = settings_from(ctx)
        engine = make_engine(settings.database_url)
        try:
            with make_session_factory(engine)() as session:
                records = decisions(session)
        finally:
            engine.dispose()
        text = to_json(records) if fmt == ExportFormat.json else to_csv(records)
        if output is None:
            typer.echo(text, nl=False)
        else:
            output.write_text(text, encoding="utf-8")
            from bot.i18n import translator

            tr = translator(settings.default_language)
            typer.echo(tr.ngettext("{n} decision written to {path}",
                                   "{n} decisions written to {path}", len(records),
                                   path=str(output)), err=True)

    @polls_app.command("close-due")
    def close_due_cmd(ctx: typer.Context) -> None:
        """Close every round past its deadline and queue due reminders now."""
        from bot.compose import build_app
        from bot.invocation import settings_from
        from bot.polls.jobs import run

        settings, _ = settings_from(ctx)
        bot = build_app(settings)
        try:
            closed, reminded = run(bot)
        finally:
            bot.engine.dispose()
        from bot.i18n import translator

        tr = translator(settings.default_language)
        typer.echo(tr.ngettext("{n} round closed", "{n} rounds closed", closed) + ", "
                   + tr.ngettext("{n} reminder queued", "{n} reminders queued", reminded))
