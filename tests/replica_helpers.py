"""Real ``convene serve`` replicas for the multi-replica tests and bench/replicas.py:
each a subprocess on one PostgreSQL database, with its own instance id, HTTP
port and envelope sender, short heartbeats and lease checks, and SMTP pointed
at a loopback server."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from tests.smtp_helpers import free_port


class Replica:
    """One ``convene serve`` process. ``name`` is its instance id and the local
    part of its envelope sender (``<name>@replicas.example``)."""

    def __init__(self, name: str, *, db_url: str, cwd: Path, smtp_port: int | None = None,
                 extra_env: dict[str, str] | None = None) -> None:
        self.name = name
        self.port = free_port()
        self.log = cwd / f"{name}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("CONVENE_")}
        env.update({
            "CONVENE_DATABASE_URL": db_url,
            "CONVENE_SECRET_KEY": "replica-test-secret-" + "k" * 32,
            "CONVENE_HTTP__PORT": str(self.port),
            "CONVENE_QUEUE__INSTANCE_ID": name,
            "CONVENE_QUEUE__HEARTBEAT_SECONDS": "0.5",
            "CONVENE_QUEUE__STALE_SECONDS": "2",
            "CONVENE_JOBS__LEASE_CHECK_SECONDS": "0.5",
            "CONVENE_OUTBOX__POLL_SECONDS": "0.2",
            "CONVENE_OUTBOX__BACKOFF_SECONDS": "0.5",
            "CONVENE_MAIL__FROM_ADDRESS": f"{name}@replicas.example",
            "CONVENE_MAIL__OUTBOX_DIR": str(cwd / f"{name}-eml"),
            "CONVENE_LOG_LEVEL": "INFO",
        })
        if smtp_port is not None:
            env.update({"CONVENE_SMTP__HOST": "127.0.0.1", "CONVENE_SMTP__PORT": str(smtp_port),
                        "CONVENE_SMTP__SECURITY": "none"})
        env.update(extra_env or {})
        cwd.mkdir(parents=True, exist_ok=True)
        self._out = self.log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from bot.cli import main; main()", "serve"],
            cwd=cwd, env=env, stdout=self._out, stderr=subprocess.STDOUT)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def ready(self, timeout: float = 45.0) -> dict[str, Any]:
        """Wait for /readyz to answer 200; its JSON body."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited early:\n{self.output()}")
            try:
                r = httpx.get(self.url + "/readyz", timeout=2)
                if r.status_code == 200:
                    return dict(r.json())
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} not ready in {timeout:.0f} s:\n{self.output()}")

    def leader(self) -> bool:
        return bool(httpx.get(self.url + "/readyz", timeout=5).json().get("leader"))

    def output(self) -> str:
        self._out.flush()
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._out.close()


def scratch_database(prefix: str) -> tuple[str, str]:
    """A new, migrated PostgreSQL database: (admin URL, its URL). Raises when
    PostgreSQL is unreachable (callers turn that into ``need``)."""
    import uuid

    from sqlalchemy import create_engine, text

    from storage.engine import make_engine
    from storage.migrate import upgrade_engine
    from tests.conftest import PG_URL

    admin_url = PG_URL.replace("postgresql://", "postgresql+psycopg://", 1)
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = f"{admin_url.rpartition('/')[0]}/{name}"
    engine = make_engine(url)
    upgrade_engine(engine)
    engine.dispose()
    return admin_url, url


def drop_database(admin_url: str, url: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rpartition("/")[2]}" WITH (FORCE)'))
    admin.dispose()


class CountingSink:
    """A loopback SMTP server (aiosmtpd) counting accepted messages by
    Message-ID and envelope sender. ``kill_at``: (sender, n, callback): when
    the n-th message from ``sender`` arrives, ``callback()`` runs (it kills that
    replica) and the message is refused with 451, so the kill lands mid-send,
    before the server took the message."""

    def __init__(self, kill_at: tuple[str, int, Any] | None = None) -> None:
        import threading
        from collections import Counter

        from aiosmtpd.controller import Controller

        self.port = free_port()
        self.by_id: Counter[str] = Counter()
        self.by_sender: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.kill_at = kill_at
        self.killed_at: float | None = None
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        import re

        sender = str(envelope.mail_from)
        raw = envelope.original_content or envelope.content
        m = re.search(rb"^Message-ID:\s*(\S+)", raw, re.M | re.I)
        mid = m.group(1).decode() if m else "?"
        with self.lock:
            if (self.kill_at is not None and self.killed_at is None
                    and sender == self.kill_at[0]
                    and self.by_sender[sender] + 1 >= self.kill_at[1]):
                self.kill_at[2]()
                self.killed_at = time.monotonic()
                return "451 4.3.0 try again later"
            self.by_id[mid] += 1
            self.by_sender[sender] += 1
        return "250 OK"

    def accepted(self) -> int:
        with self.lock:
            return sum(self.by_id.values())

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()


def enqueue_load(session_factory: Any, rows: int) -> None:
    """``rows`` emails in the outbox (keys ``load:<i>``, Message-IDs
    ``<load-<i>@replicas.example>``), in one transaction."""
    from bot.mail import OutgoingEmail
    from bot.outbox import enqueue_email

    with session_factory() as session, session.begin():
        for i in range(rows):
            enqueue_email(session=session, key=f"load:{i}", email=OutgoingEmail(
                to=(f"member{i % 97}@alliance.example",), subject=f"Message {i}",
                text=f"Body {i}", message_id=f"<load-{i}@replicas.example>"))


def sent_count(session_factory: Any) -> int:
    """How many outbox rows are marked sent."""
    from sqlalchemy import func, select

    from storage.models import OutboxMessage

    with session_factory() as session:
        return session.scalar(select(func.count()).select_from(OutboxMessage)
                              .where(OutboxMessage.status == "sent")) or 0
