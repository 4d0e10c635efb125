"""Run the ``convene`` command in this process (typer's CliRunner), with the
capabilities' and plugins' commands added once: a subprocess per command costs
seconds on a busy machine."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import typer
from click.testing import Result
from typer.testing import CliRunner

_ready: list[typer.Typer] = []


def convene_app() -> typer.Typer:
    """The ``convene`` typer app with every command registered (once)."""
    from bot.cli import _add_plugin_commands, app

    if not _ready:
        names = {c.name for c in app.registered_commands} | {
            g.name for g in app.registered_groups}
        if "chat" not in names:
            _add_plugin_commands()
        _ready.append(app)
    return _ready[0]


def scratch_env(tmp_path: Path, **extra: str) -> dict[str, str | None]:
    """Environment of a scratch instance: SQLite file, outbox and secret in ``tmp_path``."""
    env: dict[str, str | None] = {"CONVENE_DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}",
           "CONVENE_MAIL__OUTBOX_DIR": str(tmp_path / "outbox"),
           "CONVENE_SECRET_FILE": str(tmp_path / "secret"), "COLUMNS": "200",
           "CONVENE_CONFIG": None}
    env.update(extra)
    return env


def invoke(tmp_path: Path, *args: str, stdin: str = "",
           env: Mapping[str, str | None] | None = None, cwd: Path | None = None) -> Result:
    """``convene ARGS`` with ``stdin`` in a scratch instance; the result holds
    exit_code, stdout and stderr apart."""
    old = Path.cwd()
    os.chdir(cwd or tmp_path)
    try:
        return CliRunner().invoke(convene_app(), list(args), input=stdin,
                                  env=dict(env or scratch_env(tmp_path)),
                                  catch_exceptions=False)
    finally:
        os.chdir(old)
