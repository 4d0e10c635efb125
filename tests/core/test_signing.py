"""The signing key: generated atomically (one key under concurrent first use),
never empty or short, never left readable by others."""

from __future__ import annotations

import logging
import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.settings import load_settings
from bot.signing import MIN_KEY_LENGTH, key_from_file, signing_key


def _race(path: str, barrier, out) -> None:
    from bot.signing import key_from_file

    barrier.wait()
    out.put(key_from_file(Path(path)))


def test_two_processes_racing_first_use_get_one_key(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    for attempt in range(3):
        path = tmp_path / f"k{attempt}" / "convene.secret"
        barrier, out = ctx.Barrier(2), ctx.Queue()
        procs = [ctx.Process(target=_race, args=(str(path), barrier, out)) for _ in range(2)]
        for p in procs:
            p.start()
        keys = [out.get(timeout=60) for _ in procs]
        for p in procs:
            p.join(30)
        assert keys[0] == keys[1] == path.read_text().strip()
        assert len(keys[0]) >= MIN_KEY_LENGTH
        assert stat_mode(path) == 0o600
        assert [p.name for p in path.parent.iterdir()] == ["convene.secret"]  # no temp left


def test_a_lost_race_reads_the_winners_key(tmp_path: Path, monkeypatch) -> None:
    """The O_EXCL race: another process publishes between our check and our link."""
    path = tmp_path / "convene.secret"
    real_link = os.link

    def link_after_the_other(src: str, dst: str) -> None:
        Path(dst).write_text("w" * 64 + "\n")  # the other process won
        os.chmod(dst, 0o600)
        real_link(src, dst)

    monkeypatch.setattr(os, "link", link_after_the_other)
    assert key_from_file(path) == "w" * 64
    assert sorted(p.name for p in tmp_path.iterdir()) == ["convene.secret"]


def stat_mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_empty_or_short_keys_are_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.secret"
    empty.write_text("")
    os.chmod(empty, 0o600)
    with pytest.raises(ConfigError, match="is empty"):
        key_from_file(empty)
    short = tmp_path / "short.secret"
    short.write_text("abc\n")
    os.chmod(short, 0o600)
    with pytest.raises(ConfigError, match="too short"):
        key_from_file(short)
    with pytest.raises(ConfigError, match="secret_key is too short") as info:
        signing_key("hunter2", tmp_path / "unused")
    assert "hunter2" not in str(info.value)
    s = load_settings(None, secret_file=empty)
    with pytest.raises(ConfigError):
        s.signing_key()


def test_a_secret_file_readable_by_others_is_made_private(tmp_path: Path, caplog) -> None:
    path = tmp_path / "convene.secret"
    path.write_text("x" * 48)
    os.chmod(path, 0o644)
    with caplog.at_level(logging.WARNING, logger="bot.signing"):
        assert key_from_file(path) == "x" * 48
    assert stat_mode(path) == 0o600
    assert any("readable by others" in r.message for r in caplog.records)


def test_serve_refuses_a_short_key_at_start_up(tmp_path: Path) -> None:
    env = dict(os.environ, CONVENE_SECRET_KEY="short",
               CONVENE_DATABASE_URL=f"sqlite:///{tmp_path}/c.db")
    env.pop("CONVENE_CONFIG", None)
    done = subprocess.run([sys.executable, "-c", "from bot.cli import main; main()", "serve"],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
                          check=False)
    assert done.returncode == 2
    assert "secret_key is too short" in done.stderr and "short" not in done.stderr.replace(
        "too short", "")
    assert not (tmp_path / "c.db").exists()
