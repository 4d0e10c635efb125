"""Roster changes that cannot lock the alliance out (issue 20): removals need
--replace (or a typed confirmation at a terminal, never when piped); a file
that would leave the alliance without a chair or a group without a secretariat
is refused whatever the flags; removals are audited and undone by importing
the previous file again."""

from __future__ import annotations

from pathlib import Path

from click.testing import Result
from sqlalchemy import create_engine, select

from storage.models import AuditEntry, Group, Membership
from tests.cli import invoke, scratch_env
from tests.conftest import ROOT

EXAMPLE = ROOT / "examples" / "roster.csv"
HEADER = "email,name,organisation,role,group,language,timezone\n"
NEWCOMER = ("nadia.haddad@newmember.example,Nadia Haddad,New Member Org,member,Alliance,"
            "fr,Africa/Casablanca\n")


def _convene(tmp_path: Path, *args: str, stdin: str = "") -> Result:
    return invoke(tmp_path, *args, stdin=stdin)


def _roles(tmp_path: Path) -> set[tuple[int, str, str]]:
    engine = create_engine(f"sqlite:///{tmp_path / 'c.db'}")
    with engine.connect() as c:
        rows = c.execute(select(Membership.person_id, Group.name, Membership.role).join(
            Group, Group.id == Membership.group_id)).all()
    engine.dispose()
    return {(p, g, str(r)) for p, g, r in rows}


def test_a_one_row_file_cannot_strip_the_alliance_whatever_the_flags(tmp_path: Path) -> None:
    assert _convene(tmp_path, "roster", "import", str(EXAMPLE)).exit_code == 0
    before = _roles(tmp_path)
    one = tmp_path / "one.csv"
    one.write_text(HEADER + NEWCOMER, encoding="utf-8")
    for flags in ((), ("--replace",), ("--dry-run",)):
        out = _convene(tmp_path, "roster", "import", *flags, str(one))
        assert out.exit_code == 1, (flags, out.stdout, out.stderr)
        text = " ".join(out.stderr.split())
        assert "Refused" in text and "Alliance without a chair" in text, text
        assert "Alliance without a secretariat" in text and "nothing was changed" in text
        assert "role removed" in out.stdout  # the plan is shown, naming who would go
        assert _roles(tmp_path) == before
    # the natural way to add one newcomer still works
    added = _convene(tmp_path, "roster", "import", "--add-only", str(one))
    assert added.exit_code == 0, added.stderr
    assert len(_roles(tmp_path)) == len(before) + 1
    # and nobody lost the right to run whoami
    who = _convene(tmp_path, "chat", "--as", "helen.cho@chair.example", stdin="whoami\n")
    assert "Alliance: chair" in who.stdout.replace("member; chair", "chair"), who.stdout


def test_removals_need_replace_are_audited_and_undone_by_the_previous_file(
        tmp_path: Path) -> None:
    assert _convene(tmp_path, "roster", "import", str(EXAMPLE)).exit_code == 0
    before = _roles(tmp_path)
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines(keepends=True)
    smaller = tmp_path / "smaller.csv"
    smaller.write_text("".join(ln for ln in lines if "priya.nair" not in ln
                               and "mateo.rojas" not in ln), encoding="utf-8")
    # piped: the plan is shown and nothing is applied, even if "replace" is typed
    piped = _convene(tmp_path, "roster", "import", str(smaller), stdin="replace\n")
    assert piped.exit_code == 1
    assert piped.stdout.count("role removed") == 2, piped.stdout
    assert "--replace" in piped.stderr and "nothing was changed" in piped.stderr
    assert _roles(tmp_path) == before
    applied = _convene(tmp_path, "roster", "import", "--replace", str(smaller))
    assert applied.exit_code == 0, applied.stderr
    assert "2 removed" in applied.stdout and "audit log" in applied.stdout
    assert len(_roles(tmp_path)) == len(before) - 2
    engine = create_engine(f"sqlite:///{tmp_path / 'c.db'}")
    with engine.connect() as c:
        audited = c.execute(select(AuditEntry.action, AuditEntry.channel, AuditEntry.detail)
                            .where(AuditEntry.action == "roster.role_removed")).all()
    engine.dispose()
    assert sorted((a, ch, d["email"], d["group"], d["role"]) for a, ch, d in audited) == [
        ("roster.role_removed", "cli", "mateo.rojas@suelosvivos.example", "Alliance", "member"),
        ("roster.role_removed", "cli", "priya.nair@carbonledger.example", "Alliance", "member")]
    undo = _convene(tmp_path, "roster", "import", str(EXAMPLE))
    assert undo.exit_code == 0, undo.stderr
    assert _roles(tmp_path) == before


def test_at_a_terminal_typing_replace_applies_the_removals(tmp_path: Path) -> None:
    """The typed confirmation: only at an interactive terminal (a real pty here)."""
    import os
    import pty
    import subprocess
    import sys
    import time

    assert _convene(tmp_path, "roster", "import", str(EXAMPLE)).exit_code == 0
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines(keepends=True)
    smaller = tmp_path / "smaller.csv"
    smaller.write_text("".join(ln for ln in lines if "priya.nair" not in ln), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONVENE_")}
    env.update({k: v for k, v in scratch_env(tmp_path).items() if v is not None})

    def run(answer: str) -> tuple[int, str]:
        main, child = pty.openpty()
        proc = subprocess.Popen([sys.executable, "-c", "from bot.cli import main; main()",
                                 "roster", "import", str(smaller)], stdin=child, stdout=child,
                                stderr=child, cwd=tmp_path, env=env)
        os.close(child)
        seen, deadline = b"", time.monotonic() + 60
        while b"Type replace" not in seen and time.monotonic() < deadline:
            seen += os.read(main, 4096)
        os.write(main, answer.encode() + b"\n")
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                seen += os.read(main, 4096)
            except OSError:
                break
        proc.wait(timeout=30)
        os.close(main)
        return proc.returncode, seen.decode(errors="replace")

    code, said = run("no")
    assert code == 1 and "nothing was changed" in said, said
    before = _roles(tmp_path)
    code, said = run("replace")
    assert code == 0 and "1 removed" in said, said
    assert len(_roles(tmp_path)) == len(before) - 1
