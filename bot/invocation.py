"""What a ``convene`` subcommand runs with: the settings of this invocation.

The core's CLI (:mod:`bot.cli`) and every capability's (``cli(app)`` of a
:class:`~bot.capabilities.Capability`) read them here, so no capability
imports the core's command module.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from bot.errors import ConfigError
from bot.settings import Settings, default_config_path, load_settings
from bot.text import strip_controls


def settings_from(ctx: typer.Context) -> tuple[Settings, Path | None]:
    """The settings for this invocation and the file they came from (``--config``
    on the ``convene`` command, else $CONVENE_CONFIG, ./convene.toml, the example).
    Exits with code 2 and the reason, on standard error, on a bad value."""
    path = ctx.obj.get("config") if ctx.obj else None
    path = path or default_config_path()
    try:
        return load_settings(path), path
    except ConfigError as exc:
        Console(stderr=True).print(
            f"[red]Configuration error:[/red] {escape(strip_controls(str(exc)))}")
        raise typer.Exit(2) from None
