"""The terminal and the CLI as a newcomer meets them (issue 11): piped input,
buttons only for those who may press them, plurals, French typography, control
characters, CSV export, tables, database down, configuration errors."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from adapters.console import ConsoleSession, run_chat
from bot.app import Bot
from bot.errors import ConfigError
from bot.polls.register import decisions, to_csv
from bot.settings import load_settings
from storage.models import Proposal
from tests.conftest import MEMBER, MEMBER_ES, MEMBER_FR, ROOT, SECRETARIAT
from tests.polls.helpers import closes_in, new_poll, stances

CONVENE = [sys.executable, "-c", "from bot.cli import main; main()"]
Chat = Callable[[str], ConsoleSession]


def _convene(tmp_path: Path, *args: str, stdin: str = "", db: str | None = None,
             **env_extra: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, CONVENE_DATABASE_URL=db or f"sqlite:///{tmp_path / 'c.db'}",
               CONVENE_MAIL__OUTBOX_DIR=str(tmp_path / "outbox"),
               CONVENE_SECRET_FILE=str(tmp_path / "secret"), COLUMNS="80", **env_extra)
    env.pop("CONVENE_CONFIG", None)
    return subprocess.run([*CONVENE, *args], input=stdin, text=True, capture_output=True,
                          cwd=tmp_path, env=env, timeout=120, check=False)


def test_a_missing_reason_on_piped_input_does_not_swallow_the_next_line(bot: Bot) -> None:
    pid = new_poll(bot, SECRETARIAT)
    piped = ConsoleSession(dispatch=bot.dispatch, email=MEMBER, interactive=False)
    out = io.StringIO()
    run_chat(piped, io.StringIO(f"vote {pid} disagree\nvote {pid} agree\n"), out,
             interactive=False)
    text = out.getvalue()
    assert f"vote {pid} disagree YOUR REASON" in text and "nothing was recorded" in text
    assert stances(bot, pid) == {"p:1": ("agree", "console", "")}


def test_secretariat_is_not_shown_voting_buttons(bot: Bot, chat: Chat) -> None:
    pid = new_poll(bot, SECRETARIAT)
    secretariat = chat(SECRETARIAT)
    shown = secretariat.feed(f"poll show {pid}")
    assert "[1] Agree" not in shown and not secretariat.choices
    member = chat(MEMBER)
    assert "[1] Agree" in member.feed(f"poll show {pid}") and len(member.choices) == 4


def test_plural_and_french_colon(bot: Bot, chat: Chat) -> None:
    pid = new_poll(bot, SECRETARIAT)
    for who in (MEMBER, MEMBER_FR, MEMBER_ES):
        chat(who).feed(f"vote {pid} agree")
    assert "is closed" in chat(SECRETARIAT).feed(f"poll close {pid}")
    out = chat(MEMBER).feed("decisions")
    assert "1 round)" in out and "1 rounds" not in out
    fr = ConsoleSession(dispatch=bot.dispatch, email=MEMBER_FR, language="fr").feed(
        f"poll show {pid}")
    assert "Tour\u202f: 1 (dans la messagerie)" in fr, fr
    assert "Statut:" not in fr


def test_control_characters_are_refused_in_titles_and_stripped_on_the_terminal(
        bot: Bot, chat: Chat) -> None:
    out = chat(MEMBER).feed(f"poll new Evil \x1b[2J\x1b[31mtitle | Text | {closes_in()}")
    assert "must be one line of text" in out and "title" in out, out
    with bot.session_factory() as s:
        assert s.scalars(select(Proposal)).first() is None
    pid = new_poll(bot, MEMBER, text="Text with \x1b]0;pwned\x07 an escape \x07bell")
    shown = chat(MEMBER).feed(f"poll show {pid}")
    assert "\x1b" not in shown and "\x07" not in shown and "an escape bell" in shown
    out = chat(MEMBER).feed(f"poll new {'T' * 301} | Text | {closes_in()}")
    assert "301 characters long; keep it to 300" in out


def test_a_long_reason_is_cut_with_a_word(bot: Bot, chat: Chat) -> None:
    pid = new_poll(bot, SECRETARIAT)
    out = chat(MEMBER).feed(f"vote {pid} block {'x' * 4100}")
    assert "kept to its first 4,000 characters" in out, out
    assert len(stances(bot, pid)["p:1"][2]) == 4000


def test_csv_export_neutralises_formulas(bot: Bot, chat: Chat) -> None:
    pid = new_poll(bot, SECRETARIAT, title='=HYPERLINK("http://evil.example","x")')
    chat(MEMBER).feed(f"vote {pid} disagree @SUM(1+1) too early")
    for who in (MEMBER_FR, MEMBER_ES):
        chat(who).feed(f"vote {pid} agree")
    chat(SECRETARIAT).feed(f"poll close {pid}")
    with bot.session_factory() as s:
        records = decisions(s)
    records[0]["determination_note"] = "+1 -cmd|calc"
    records[0]["discussion"] = [{"name": "\tx", "text": "=1", "advisory": False}]
    rows = list(csv.reader(io.StringIO(to_csv(records))))
    cells = [c for c in rows[1] if c]
    assert rows[1][1] == "'=HYPERLINK(\"http://evil.example\",\"x\")"
    assert rows[1][9] == "'+1 -cmd|calc" and rows[1][11] == "'\tx: =1"
    assert not any(c[0] in "=+-@\t\r" for c in cells)


def test_roster_list_escapes_markup_and_keeps_addresses_whole(tmp_path: Path) -> None:
    roster = tmp_path / "r.csv"
    long = "mallory.markup-tester@soil-research.example"
    roster.write_text("email,name,organisation,role,group,language,timezone\n"
                      f"{long},[red]Mallory[/red] \x1b[31m,[bold]Org,member;observer,"
                      "Alliance,en,UTC\n", encoding="utf-8")
    imported = _convene(tmp_path, "roster", "import", str(roster))
    assert imported.returncode == 1 and "control character" in imported.stderr
    roster.write_text(roster.read_text(encoding="utf-8").replace(" \x1b[31m", ""),
                      encoding="utf-8")
    dry = _convene(tmp_path, "roster", "import", "--dry-run", str(roster))
    assert dry.returncode == 0, dry.stderr
    assert "new person, role added" in dry.stdout and "Dry run" in dry.stdout
    imported = _convene(tmp_path, "roster", "import", str(roster))
    assert imported.returncode == 0, imported.stderr
    listed = _convene(tmp_path, "roster", "list")
    assert long in listed.stdout, listed.stdout
    # shown as typed (wrapped in its narrow column), not taken as rich markup
    assert "[red" in listed.stdout and "[bol" in listed.stdout, listed.stdout


def test_db_upgrade_says_what_it_did(tmp_path: Path) -> None:
    first = _convene(tmp_path, "db", "upgrade")
    assert first.returncode == 0 and "new database: created the schema at revision" in \
        first.stdout, first.stdout + first.stderr
    again = _convene(tmp_path, "db", "upgrade")
    assert "already at revision" in again.stdout and "nothing to do" in again.stdout


def test_database_down_is_one_line_and_non_zero(tmp_path: Path) -> None:
    down = "postgresql://postgres@127.0.0.1:9/nowhere"
    for args in (("chat", "--as", MEMBER), ("roster", "list"), ("db", "upgrade")):
        out = _convene(tmp_path, *args, stdin="whoami\n", db=down)
        assert out.returncode == 1, (args, out.stderr)
        assert "Traceback" not in out.stderr + out.stdout
        lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1 and lines[0].startswith("Database error"), out.stderr


def test_configuration_errors_never_echo_secrets(tmp_path: Path) -> None:
    cfg = tmp_path / "convene.toml"
    cfg.write_text('secret_key = 12345\n[smtp]\npassword = ["hunter2-secret"]\n'
                   'port = "eighty"\n[slack]\nbot_token = 99\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(cfg)
    text = str(info.value)
    assert "smtp.port" in text and "'eighty'" in text  # ordinary values are shown
    assert "hunter2" not in text and "12345" not in text and "99" not in text
    assert "smtp.password" in text and "(value hidden)" in text


def test_readme_commands_are_on_the_path_after_make_run() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "~/.local/bin/convene" in readme and "source .venv/bin/activate" in readme
    assert "shim:" in makefile and "ln -sf" in makefile
    run = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert "shim" in run
