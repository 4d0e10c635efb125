"""`convene --version` and `--help` without markup debris (issue 20): every
command's help is read as a person reads it, and must hold no typer type tag
beside a flag (``<bool>``), no reStructuredText, Sphinx or rich markup."""

from __future__ import annotations

import re
from importlib.metadata import version
from pathlib import Path

import typer

from tests.cli import convene_app, invoke

DEBRIS = re.compile(r"<bool>|``|:(func|class|meth|mod|attr|ref):|\*\*\w|\[/?(bold|red|green)\]")


def _paths(command: object, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = [prefix]
    for name, sub in getattr(command, "commands", {}).items():
        out += _paths(sub, (*prefix, name))
    return out


def test_version_prints_the_installed_version(tmp_path: Path) -> None:
    out = invoke(tmp_path, "--version")
    assert out.exit_code == 0
    assert out.stdout.strip() == f"convene {version('convene')}"


def test_every_help_page_is_free_of_markup_debris(tmp_path: Path) -> None:
    paths = _paths(typer.main.get_command(convene_app()))
    assert len(paths) > 30 and ("roster", "import") in paths and ("digest", "build") in paths
    debris = {}
    for path in paths:
        out = invoke(tmp_path, *path, "--help")
        assert out.exit_code == 0, (path, out.output)
        found = [m.group(0) for m in DEBRIS.finditer(out.stdout)]
        if found:
            debris[" ".join(path)] = found
    assert not debris, sorted(debris)
