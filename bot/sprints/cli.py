"""CLI: ``convene sprints list|show|export`` (read-only: the operator looks;
signing up, leading and pledging happen only as a person, through chat,
email links or the web pages, where the policy is checked)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker


class ExportFormat(StrEnum):
    """Formats of a sprint export."""

    csv = "csv"
    json = "json"


def register_cli(app: typer.Typer) -> None:
    """Add ``sprints list``, ``sprints show ID`` and ``sprints export ID``."""
    sprints_app = typer.Typer(help="Innovation sprints.", no_args_is_help=True,
                              rich_markup_mode=None)
    app.add_typer(sprints_app, name="sprints")

    def _session_factory(ctx: typer.Context) -> tuple[Engine, sessionmaker[Session]]:
        from bot.invocation import settings_from
        from storage.engine import make_engine, make_session_factory

        settings, _ = settings_from(ctx)
        engine = make_engine(settings.database_url)
        return engine, make_session_factory(engine)

    @sprints_app.command("list")
    def list_cmd(ctx: typer.Context) -> None:
        """Every sprint: id, state, seats held of capacity, waitlist, title."""
        from sqlalchemy import select

        from bot.sprints.seats import counts
        from storage.models import Sprint

        engine, factory = _session_factory(ctx)
        try:
            with factory() as session:
                for s in session.scalars(select(Sprint).order_by(Sprint.id)).all():
                    n = counts(session, s.id)
                    typer.echo(f"#{s.id}\t{s.state}\t{n.get('seated', 0) + n.get('offered', 0)}"
                               f"/{s.capacity}\twaiting {n.get('waitlisted', 0)}\t{s.title}")
        finally:
            engine.dispose()

    @sprints_app.command("show")
    def show_cmd(ctx: typer.Context, sprint_id: Annotated[int, typer.Argument()]) -> None:
        """A sprint with its people, pledges, waitlist and allocation log."""
        _emit(ctx, sprint_id, ExportFormat.json, None)

    @sprints_app.command("export")
    def export_cmd(ctx: typer.Context, sprint_id: Annotated[int, typer.Argument()],
                   fmt: Annotated[ExportFormat, typer.Option(
                       "--format", "-f", help="csv or json")] = ExportFormat.csv,
                   output: Annotated[Path | None, typer.Option(
                       "--output", "-o", help="File (default stdout).")] = None) -> None:
        """Export people, roles, organisations, pledges, waitlist and allocation log."""
        _emit(ctx, sprint_id, fmt, output)

    def _emit(ctx: typer.Context, sprint_id: int, fmt: ExportFormat,
              output: Path | None) -> None:
        from bot.errors import DomainError
        from bot.sprints.export import export_sprint, to_csv, to_json

        engine, factory = _session_factory(ctx)
        try:
            with factory() as session:
                data = export_sprint(session, sprint_id)
        except DomainError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(1) from None
        finally:
            engine.dispose()
        text = to_json(data) if fmt == ExportFormat.json else to_csv(data)
        if output is None:
            typer.echo(text, nl=False)
        else:
            output.write_text(text, encoding="utf-8")
            typer.echo(f"sprint #{sprint_id} written to {output}", err=True)
