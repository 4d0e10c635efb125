"""Reminders fire once each across a ``kill -9`` and a restart of the real
``convene serve`` (a subprocess on a SQLite file, the file mail transport),
and never for the person who declined.

The workshop is confirmed by the secretariat "ten minutes ago" (the planning
clock is set back), with ``reminder_minutes`` chosen so that two reminders per
person are due when serve starts and a third is an hour away. serve's
``workshops.tick`` (every 5 s here) sends the two; its outbox worker writes
each as an .eml named after its Message-ID. serve is then killed with SIGKILL;
while it is down a second workshop is confirmed the same way, and serve is
restarted on the same file. The restarted serve sends the second workshop's
reminders (so its tick ran) and none of the first's again: no new file for
it, and no file rewritten (same inode and mtime).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select

from bot.app import Bot
from bot.workshops.availability import invitees
from storage.models import Workshop, WorkshopReminder
from tests.clock import freeze
from tests.conftest import CHAIR, OBSERVER, SECRETARIAT
from tests.smtp_helpers import free_port
from tests.workshops.helpers import say

KEY = "test-secret-key-not-for-production"


def _serve(tmp_path: Path, db_url: str, port: int, minutes: list[int], run: int
           ) -> subprocess.Popen[str]:
    """``convene serve`` in ``tmp_path``; its output goes to ``serve-<run>.log``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONVENE_")}
    env.update(CONVENE_DATABASE_URL=db_url, CONVENE_SECRET_KEY=KEY,
               CONVENE_HTTP__PORT=str(port), CONVENE_MAIL__OUTBOX_DIR=str(tmp_path / "outbox"),
               CONVENE_WORKSHOPS__TICK_SECONDS="5",
               CONVENE_WORKSHOPS__REMINDER_MINUTES=str(minutes))
    with (tmp_path / f"serve-{run}.log").open("w") as log:
        return subprocess.Popen([sys.executable, "-c", "from bot.cli import main; main()",
                                 "serve"], cwd=tmp_path, env=env, stdout=log,
                                stderr=subprocess.STDOUT, text=True)


def _ready(port: int, proc: subprocess.Popen[str], log: Path) -> float:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"serve exited:\n{log.read_text()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return time.monotonic()
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail("serve was not ready within 30 s")


def _reminder_files(outbox: Path) -> dict[str, tuple[int, str, int, int]]:
    """file name -> (workshop id, recipient, inode, mtime_ns) of each reminder .eml."""
    out = {}
    for f in sorted(outbox.glob("*.eml")) if outbox.is_dir() else []:
        msg = message_from_bytes(f.read_bytes(), policy=policy.default)
        mid = str(msg["Message-ID"])
        if ".reminder." in mid:
            st = f.stat()
            out[f.name] = (int(mid.split(".")[1]), str(msg["To"]).lower(), st.st_ino,
                           st.st_mtime_ns)
    return out


def _per_person(files: dict[str, tuple[int, str, int, int]], wid: int) -> dict[str, int]:
    got: dict[str, int] = {}
    for w, to, _ino, _mtime in files.values():
        if w == wid:
            got[to] = got.get(to, 0) + 1
    return got


def _confirmed(bot: Bot, start: datetime, *, planned_at: datetime,
               decliner: str) -> tuple[int, dict[str, int]]:
    """A workshop at ``start`` confirmed at ``planned_at`` and declined by
    ``decliner``; (its id, recipient -> reminders due now)."""
    out = say(bot, SECRETARIAT, "workshop series new Soil | Europe/Paris | 15:00 | 60")
    sid = out.split("#", 1)[1].split()[0]
    out = say(bot, SECRETARIAT, f"workshop open {sid} {start.year}-Q4")
    wid = int(out.split("#", 1)[1].split()[0])
    assert "added" in say(bot, SECRETARIAT, f"workshop slot add {wid} {start:%Y-%m-%d %H:%M}")
    freeze(planned_at)  # confirmed (its reminders planned) at planned_at
    assert "invitations" in say(bot, SECRETARIAT, f"workshop confirm {wid}")
    freeze(None)
    assert "decline" in say(bot, decliner, f"workshop rsvp {wid} decline")
    with bot.session_factory() as s:
        ws = s.get(Workshop, wid)
        assert ws is not None
        people = {str(i.person.primary_email) for i in invitees(s, ws)}
        due = s.scalars(select(WorkshopReminder.due_at).where(
            WorkshopReminder.workshop_id == wid)).all()
    assert decliner in people and len(people) > 3
    now = datetime.now(UTC)
    assert sum(1 for d in due if d.replace(tzinfo=UTC) <= now) == 2 * len(people)
    assert len(due) == 3 * len(people)  # two due per person when serve runs, one later
    return wid, {p: 2 for p in people if p != decliner}


def _wait(outbox: Path, wid: int, want: dict[str, int], proc: subprocess.Popen[str],
          log: Path) -> dict[str, tuple[int, str, int, int]]:
    deadline = time.monotonic() + 30
    while True:
        files = _reminder_files(outbox)
        if sum(_per_person(files, wid).values()) >= sum(want.values()):
            return files
        assert time.monotonic() < deadline, f"only {_per_person(files, wid)} sent"
        assert proc.poll() is None, log.read_text()
        time.sleep(0.2)


def test_reminders_fire_once_across_kill_9_and_restart(
        make_bot: Callable[..., Bot], sqlite_url: str, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    paris = ZoneInfo("Europe/Paris")
    start = (now + timedelta(minutes=91)).astimezone(paris).replace(second=0, microsecond=0)
    ahead = int((start - now).total_seconds() // 60)  # 90: start - ahead is just after now
    minutes = [ahead + 1, ahead + 2, 30]  # due a few seconds ago, a minute before, later
    bot = make_bot(sqlite_url, workshops={"reminder_minutes": minutes})
    w1, want1 = _confirmed(bot, start, planned_at=now - timedelta(minutes=10),
                           decliner=OBSERVER)
    bot.leadership.stop()
    bot.engine.dispose()

    outbox, port = tmp_path / "outbox", free_port()
    logs = [tmp_path / "serve-1.log", tmp_path / "serve-2.log"]
    t0 = time.monotonic()
    proc = _serve(tmp_path, sqlite_url, port, minutes, 1)
    try:
        t1 = _ready(port, proc, logs[0])
        first = _wait(outbox, w1, want1, proc, logs[0])
        proc.send_signal(signal.SIGKILL)  # kill -9: no shutdown code runs
        proc.wait(10)
        t2 = time.monotonic()
        # while serve is down, a second workshop is confirmed: its reminders
        # prove the restarted serve's tick ran
        w2, want2 = _confirmed(bot, start, planned_at=now - timedelta(minutes=5),
                               decliner=CHAIR)
        bot.engine.dispose()
        proc = _serve(tmp_path, sqlite_url, port, minutes, 2)
        t3 = _ready(port, proc, logs[1])
        _wait(outbox, w2, want2, proc, logs[1])
        time.sleep(1)  # the outbox worker's next pass, had anything been left claimed
        after = _reminder_files(outbox)
        print(f"ready {t1 - t0:.1f}s, sent {t2 - t1:.1f}s, restarted {t3 - t2:.1f}s")
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
    assert _per_person(first, w1) == want1  # once per due reminder, none to the decliner
    assert _per_person(after, w2) == want2
    # after the restart nothing of the first workshop was sent again or rewritten
    assert {k: v for k, v in after.items() if v[0] == w1} == first
    with bot.session_factory() as s:
        status = sorted(s.scalars(select(WorkshopReminder.status).where(
            WorkshopReminder.workshop_id == w1)).all())
    n = len(want1) + 1
    assert status == sorted(["sent"] * (2 * n - 2) + ["skipped"] * 2 + ["pending"] * n)
