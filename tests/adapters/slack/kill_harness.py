"""Kill -9 of a real ``convene serve`` during signed Slack button presses.

Shared by tests/adapters/slack/test_slack_kill.py and bench/slack.py: a roster
of ``n`` members, each already linked to a Slack user ``U<i>`` (as users.info
would have linked them), one open poll, and ``n`` signed ``block_actions``
bodies (``poll.stance`` on that poll, one per member, each with its own
``trigger_id``, so a resend is Slack's retry of the same press). ``Serve`` runs
``convene serve`` as a subprocess on a database URL; :func:`send` posts the
presses with ``concurrency`` in flight over keep-alive HTTP/1.1 connections and
can ``kill -9`` the server once ``kill_after`` presses were acknowledged.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import httpx
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from bot.app import Bot
from bot.compose import build_app
from bot.roster import import_roster_file
from bot.settings import Settings
from storage.engine import read_only
from storage.models import AuditEntry, EmailAddress, Identity, ProcessedEvent, Round, Stance
from tests.adapters.slack.conftest import SECRET, form_headers
from tests.adapters.slack.fake_slack import TEAM

#: A signing key long enough for `convene serve` (at least 32 characters).
KEY = "kill-test-secret-" + "k" * 32

ROOT = Path(__file__).resolve().parents[3]
CHAIR = "helen.cho@chair.example"
CHANNEL = "C0GENERAL"


def voter_user(i: int) -> str:
    return f"UKILL{i:05d}"


def write_roster(path: Path, n: int) -> Path:
    """The example roster plus ``n`` members of the alliance (``voter<i>@kill.example``)."""
    rows = list(csv.reader((ROOT / "examples" / "roster.csv").read_text().splitlines()))
    for i in range(n):
        rows.append([f"voter{i:05d}@kill.example", f"Voter {i:05d}", f"Org {i % 40:02d}",
                     "member", "Alliance", "en", "UTC"])
    with path.open("w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def prepare(db_url: str, folder: Path, n: int) -> int:
    """Import the roster, link ``U<i>`` to voter ``i``, open a poll (by the chair,
    through the console). Returns the proposal id."""
    from tests.polls.helpers import new_poll

    bot = build_app(Settings(database_url=db_url, secret_key=KEY,
                             mail={"outbox_dir": folder / "out"}), plugins=False)
    try:
        with bot.session_factory() as s, s.begin():
            import_roster_file(session=s, path=write_roster(folder / "roster.csv", n),
                               alliance_name="Alliance")
        with bot.session_factory() as s, s.begin():
            ids = {str(a): int(p) for a, p in
                   s.execute(select(EmailAddress.address, EmailAddress.person_id))}
            s.execute(insert(Identity), [
                {"person_id": ids[f"voter{i:05d}@kill.example"], "platform": "slack",
                 "workspace_id": TEAM, "user_id": voter_user(i)} for i in range(n)])
        return new_poll(bot, CHAIR, title="Adopt the sampling protocol",
                        text="Adopt v2 of the sampling protocol.")
    finally:
        bot.leadership.stop()
        bot.engine.dispose()


def press_bodies(pid: int, n: int, hook_base: str, *, seed: int = 11) -> list[tuple[str, str]]:
    """``n`` (stance, body): voter ``i`` presses agree or abstain on poll ``pid``."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        stance = rng.choice(["agree", "abstain"])
        payload = {
            "type": "block_actions", "user": {"id": voter_user(i), "team_id": TEAM},
            "team": {"id": TEAM, "domain": "alliance"}, "api_app_id": "A1",
            "container": {"type": "message", "message_ts": "1.000001", "channel_id": CHANNEL},
            "channel": {"id": CHANNEL, "name": "general"},
            "trigger_id": f"kill.{i}.{rng.getrandbits(40)}",
            "response_url": f"{hook_base}/hooks/press{i}",
            "message": {"ts": "1.000001", "blocks": []},
            "actions": [{"action_id": "poll.stance", "block_id": "b1", "type": "button",
                         "value": f"{pid}:1:{stance}", "action_ts": f"{time.time():.6f}",
                         "text": {"type": "plain_text", "text": stance}}],
        }
        out.append((stance, "payload=" + quote(json.dumps(payload))))
    return out


@dataclass
class Serve:
    """``convene serve`` in a subprocess (its own config file and log)."""

    db_url: str
    folder: Path
    api_url: str
    port: int
    extra: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    ready: float = 0.0

    def start(self, *, timeout: float = 60.0) -> Serve:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CONVENE_")}
        env.update({
            "CONVENE_DATABASE_URL": self.db_url, "CONVENE_SECRET_KEY": KEY,
            "CONVENE_HTTP__PORT": str(self.port), "CONVENE_LOG_LEVEL": "INFO",
            "CONVENE_MAIL__OUTBOX_DIR": str(self.folder / "out"),
            "CONVENE_SLACK__ENABLED": "true", "CONVENE_SLACK__BOT_TOKEN": "xoxb-kill",
            "CONVENE_SLACK__SIGNING_SECRET": SECRET, "CONVENE_SLACK__API_URL": self.api_url,
            "CONVENE_CONFIG": str(self.folder / "none.toml"),
            "PYTHONPATH": str(ROOT), **self.extra})
        (self.folder / "none.toml").write_text("# every setting from the environment\n")
        log = (self.folder / f"serve-{self.port}.log").open("ab")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from bot.cli import main; main()", "serve"],
            cwd=self.folder, env=env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = self.started + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"serve exited {self.proc.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).is_success:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"serve did not answer /healthz:\n{self.log()}")
            time.sleep(0.05)
        self.ready = time.monotonic()
        return self

    def log(self) -> str:
        path = self.folder / f"serve-{self.port}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def kill(self) -> None:
        """kill -9: no clean-up of any kind."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()


def _request(body: str) -> bytes:
    data = body.encode()
    head = "POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in form_headers(body).items())
    return (head + f"Content-Length: {len(data)}\r\n\r\n").encode() + data


async def _response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    await reader.readexactly(length)
    return int(head[9:12])


@dataclass
class Sent:
    """What :func:`send` saw: status by press index (0: no response, the
    connection failed; absent: never sent) and ack latencies (ms) of the 200s."""

    status: dict[int, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    wall: float = 0.0

    @property
    def acked(self) -> set[int]:
        return {i for i, s in self.status.items() if s == 200}


async def _send(port: int, bodies: Sequence[tuple[int, str]], concurrency: int,
                kill_after: int | None, kill: Callable[[], None] | None) -> Sent:
    sent = Sent()
    todo = iter(bodies)
    killed = False

    async def close(writer: asyncio.StreamWriter | None) -> None:
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def connection() -> None:
        nonlocal killed
        reader: asyncio.StreamReader | None = None
        writer: asyncio.StreamWriter | None = None
        try:
            for i, body in todo:
                if killed:
                    return
                try:
                    if writer is None:
                        reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    assert reader is not None
                    start = time.perf_counter()
                    writer.write(_request(body))
                    status = await _response(reader)
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    sent.status[i] = 0
                    await close(writer)
                    reader = writer = None
                    continue
                sent.status[i] = status
                if status == 200:
                    sent.latencies.append((time.perf_counter() - start) * 1000)
                if (kill is not None and not killed and kill_after is not None
                        and len(sent.latencies) >= kill_after):
                    killed = True
                    kill()  # the others' in-flight requests fail from here on
        finally:
            await close(writer)

    start = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(concurrency)))
    sent.wall = time.perf_counter() - start
    return sent


def send(port: int, bodies: Sequence[tuple[int, str]], *, concurrency: int,
         kill_after: int | None = None, kill: Callable[[], None] | None = None) -> Sent:
    """Post (index, body) pairs; with ``kill_after``, call ``kill`` (synchronously,
    in the client's loop) once that many were acknowledged and stop sending."""
    return asyncio.run(_send(port, bodies, concurrency, kill_after, kill))


@dataclass(frozen=True)
class Recorded:
    """The database after the run: ``stances`` user id -> stance of the round;
    ``audits`` user id -> how many poll.stance audit rows; ``events`` how many
    processed event ids start with ``act:kill.``."""

    stances: dict[str, str]
    audits: dict[str, int]
    events: int


def recorded_stances(bot: Bot, pid: int) -> dict[str, str]:
    """User id -> stance in round 1 of ``pid`` (a read-only unit of work: on
    SQLite it takes no write lock from the server being measured)."""
    with Session(read_only(bot.engine)) as s, s.begin():
        return {str(k): str(v) for k, v in s.execute(
            select(Identity.user_id, Stance.stance)
            .join(Stance, Stance.person_id == Identity.person_id)
            .join(Round, Round.id == Stance.round_id)
            .where(Round.proposal_id == pid, Round.number == 1, Identity.platform == "slack"))}


def recorded(bot: Bot, pid: int) -> Recorded:
    with Session(read_only(bot.engine)) as s, s.begin():
        stances = dict(s.execute(
            select(Identity.user_id, Stance.stance)
            .join(Stance, Stance.person_id == Identity.person_id)
            .join(Round, Round.id == Stance.round_id)
            .where(Round.proposal_id == pid, Round.number == 1, Identity.platform == "slack")
        ).all())
        audits = dict(s.execute(
            select(Identity.user_id, func.count(AuditEntry.id))
            .join(AuditEntry, AuditEntry.person_id == Identity.person_id)
            .where(AuditEntry.action.in_(("poll.stance", "poll.stance.change")),
                   Identity.platform == "slack")
            .group_by(Identity.user_id)).all())
        events = int(s.scalar(select(func.count(ProcessedEvent.id)).where(
            ProcessedEvent.event_id.like("act:kill.%"))) or 0)
    return Recorded({str(k): str(v) for k, v in stances.items()},
                    {str(k): int(v) for k, v in audits.items()}, events)
