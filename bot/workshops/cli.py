"""CLI: ``convene workshops list|show|export|remind``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register_cli(app: typer.Typer) -> None:
    """Add the ``workshops`` command group to the ``convene`` CLI."""
    ws_app = typer.Typer(help="Quarterly virtual workshops.", no_args_is_help=True,
                         rich_markup_mode=None)
    app.add_typer(ws_app, name="workshops")

    def _bot(ctx: typer.Context):  # type: ignore[no-untyped-def]
        from bot.compose import build_app
        from bot.invocation import settings_from

        settings, _ = settings_from(ctx)
        return build_app(settings, plugins=False)

    @ws_app.command("list")
    def list_cmd(ctx: typer.Context) -> None:
        """Every workshop: id, quarter, state, start (UTC and anchor zone)."""
        from bot.workshops.render import local_text
        from bot.workshops.series import list_workshops

        bot = _bot(ctx)
        try:
            with bot.session_factory() as session:
                for ws in list_workshops(session, limit=1000):
                    when = (local_text(ws.starts_at, ws.series.anchor_zone, "en")
                            if ws.starts_at else "-")
                    typer.echo(f"#{ws.id}\t{ws.quarter}\t{ws.state}\t{when}\t{ws.title}")
        finally:
            bot.engine.dispose()

    @ws_app.command("show")
    def show_cmd(ctx: typer.Context, workshop: Annotated[int, typer.Argument()]) -> None:
        """One workshop: its time in the world's zones, RSVP counts, agenda."""
        from bot.topics import topic_text
        from bot.workshops import agenda, rsvp
        from bot.workshops.render import RSVP_LABELS, STATE_LABELS, world_times
        from bot.workshops.series import find_workshop

        bot = _bot(ctx)
        try:
            with bot.session_factory() as session:
                ws = find_workshop(session, str(workshop))
                typer.echo(f"#{ws.id} {ws.title} ({STATE_LABELS.get(ws.state, ws.state)})")
                if ws.series.topic:
                    typer.echo(f"Topic: {topic_text(ws.series.topic, 'en')}")
                if ws.starts_at:
                    typer.echo(world_times(ws.starts_at, "en"))
                counts = rsvp.counts(session, ws.id)
                typer.echo("Answers: " + ", ".join(f"{RSVP_LABELS[k]} {counts.get(k, 0)}"
                                                   for k in RSVP_LABELS))
                for item in agenda.items(session, ws.id):
                    typer.echo(f"  agenda [{item.id}] {item.text} ({item.state})")
        finally:
            bot.engine.dispose()

    @ws_app.command("export")
    def export_cmd(ctx: typer.Context, workshop: Annotated[int, typer.Argument()],
                   out: Annotated[Path | None, typer.Option("--out", "-o",
                                                            help="File (default stdout).")
                                  ] = None) -> None:
        """The workshop as an .ics file (METHOD:PUBLISH-less, with a VTIMEZONE)."""
        from bot.errors import DomainError
        from bot.workshops.ical import calendar_bytes
        from bot.workshops.meetings import meeting_for
        from bot.workshops.series import find_workshop

        bot = _bot(ctx)
        try:
            with bot.session_factory() as session:
                try:
                    ws = find_workshop(session, str(workshop))
                except DomainError as exc:
                    typer.echo(str(exc), err=True)
                    raise typer.Exit(1) from None
                if ws.starts_at is None:
                    typer.echo(f"workshop #{ws.id} has no confirmed time yet", err=True)
                    raise typer.Exit(1)
                data = calendar_bytes([meeting_for(ws, bot.settings, person=None,
                                                   cancelled=ws.state == "cancelled")],
                                      method=None)
        finally:
            bot.engine.dispose()
        if out is None:
            typer.echo(data.decode("utf-8"), nl=False)
        else:
            out.write_bytes(data)
            typer.echo(f"written to {out}", err=True)

    @ws_app.command("remind")
    def remind_cmd(ctx: typer.Context) -> None:
        """Queue every due reminder now (what "convene serve" does each tick)."""
        from bot.workshops.reminders import send_due

        bot = _bot(ctx)
        try:
            typer.echo(f"{send_due(bot.session_factory, bot.settings)} reminder(s) queued")
        finally:
            bot.engine.dispose()
