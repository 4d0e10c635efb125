"""`convene chat --as` through the real console script, as a person would use it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import OBSERVER, OBSERVER_FR, ROOT, SECRETARIAT

CONVENE = [sys.executable, "-c", "from bot.cli import main; main()"]


def _chat(tmp_path: Path, email: str, lines: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, CONVENE_DATABASE_URL=f"sqlite:///{tmp_path / 'c.db'}",
               CONVENE_MAIL__OUTBOX_DIR=str(tmp_path / "outbox"),
               CONVENE_SECRET_FILE=str(tmp_path / "secret"))
    env.pop("CONVENE_CONFIG", None)
    return subprocess.run([*CONVENE, "chat", "--as", email], input=lines, text=True,
                          capture_output=True, cwd=tmp_path, env=env, timeout=120, check=False)


def test_observer_sees_roles_and_is_refused_members_with_a_sentence(tmp_path: Path) -> None:
    out = _chat(tmp_path, OBSERVER, "whoami\nmembers\n")
    assert out.returncode == 0, out.stderr
    assert "Tom Becker" in out.stdout and "Alliance: observer" in out.stdout
    assert "Your role (observer) does not allow this: it needs secretariat." in out.stdout
    assert "Traceback" not in out.stdout + out.stderr


def test_the_same_in_french(tmp_path: Path) -> None:
    out = _chat(tmp_path, OBSERVER_FR, "whoami\nmembers\n")
    assert out.returncode == 0, out.stderr
    # French typography: a narrow no-break space before the colon
    assert "Voici qui vous êtes" in out.stdout and "Alliance\u202f: observateur" in out.stdout
    assert "Nom\u202f: Lucie Martin" in out.stdout
    assert "Votre rôle (observateur) ne le permet pas\u202f: il faut être secrétariat." in \
        out.stdout


def test_secretariat_lists_members_and_help_lists_only_what_is_allowed(tmp_path: Path) -> None:
    out = _chat(tmp_path, SECRETARIAT, "members\nhelp\n")
    assert "9 people in the roster" in out.stdout
    assert "`members`" in out.stdout
    observer_help = _chat(tmp_path, OBSERVER, "help\n").stdout
    assert "`whoami`" in observer_help and "`members`" not in observer_help


def test_an_address_not_in_the_roster_is_refused(tmp_path: Path) -> None:
    out = _chat(tmp_path, "intruder@elsewhere.example", "whoami\n")
    assert out.returncode == 1
    assert "not in the alliance roster" in out.stderr
    assert "Traceback" not in out.stderr


def test_project_root_has_the_example_roster() -> None:
    assert (ROOT / "examples" / "roster.csv").exists()
