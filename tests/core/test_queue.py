"""The one leased queue under the outbox: a poison row fails alone and goes dead
(the secretariat told once), a dropped SMTP connection sends nothing twice, a
dead owner's rows are taken over without waiting out the lease, and dead rows
are listed and retried from the CLI."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update
from typer.testing import CliRunner

from adapters.email.smtp import SmtpMailTransport
from bot.app import Bot
from bot.heartbeat import Heartbeat
from bot.mail import OutgoingEmail
from bot.outbox import DEAD_NOTICE, enqueue_email
from bot.queue import OUTBOX, Claimed, LeasedQueue
from bot.settings import SmtpSettings
from storage.base import utcnow
from storage.models import OutboxMessage, QueueInstance
from tests.conftest import SECRETARIAT, SECRETARIAT_ES
from tests.smtp_helpers import free_port


def _email(i: int, subject: str | None = None) -> OutgoingEmail:
    return OutgoingEmail(to=(f"p{i}@x.example",), subject=subject or f"hello {i}", text="body")


def _rows(bot: Bot) -> list[OutboxMessage]:
    with bot.session_factory() as s:
        rows = list(s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        s.expunge_all()
        return rows


def test_a_poison_row_fails_alone_and_goes_dead_with_one_notice(bot: Bot) -> None:
    sent: list[str] = []

    class Mail:
        def send_batch(self, messages: list[Any]) -> list[BaseException | None]:
            sent.extend(str(m["To"]) for m in messages)
            return [None] * len(messages)

        def send(self, message: Any) -> None:
            self.send_batch([message])

    bot.mail = Mail()  # type: ignore[assignment]
    with bot.session_factory() as s, s.begin():
        enqueue_email(session=s, key="a", email=_email(0))
        # A title with a newline: building its Subject header raises.
        enqueue_email(session=s, key="poison", email=_email(1, "Budget\nBcc: x@evil.example"))
        enqueue_email(session=s, key="b", email=_email(2))
    worker = bot.new_worker()
    worker.backoff = 0.001
    worker.max_attempts = 3
    assert worker.run_once() == 2
    assert sent == ["p0@x.example", "p2@x.example"]
    poison = next(r for r in _rows(bot) if r.key == "poison")
    assert poison.status == "pending" and poison.attempts == 1
    assert "linefeed" in (poison.last_error or "") or "newline" in (poison.last_error or "")
    for _ in range(10):
        worker.run_once()
        with bot.session_factory() as s, s.begin():  # skip the back-off
            s.execute(update(OutboxMessage).where(OutboxMessage.status == "pending",
                                                  OutboxMessage.key == "poison")
                      .values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    rows = {r.key: r for r in _rows(bot)}
    assert rows["poison"].status == "dead" and rows["poison"].attempts == 3
    notices = [r for r in rows.values() if r.key.startswith(DEAD_NOTICE)]
    assert sorted(n.payload["to"][0] for n in notices) == sorted([SECRETARIAT, SECRETARIAT_ES])
    assert all("poison" in n.payload["text"] for n in notices)
    assert {n.status for n in notices} == {"sent"}  # delivered by the later passes
    # Listed and retried from the CLI.
    from bot.cli import app

    runner = CliRunner()
    env = {"CONVENE_DATABASE_URL": bot.settings.database_url}
    out = runner.invoke(app, ["outbox", "list"], env=env)
    assert out.exit_code == 0, out.output
    assert "poison" in out.output and "dead: 1" in out.output
    out = runner.invoke(app, ["outbox", "retry"], env=env)
    assert out.exit_code == 0 and "1 dead row(s) queued again" in out.output
    again = next(r for r in _rows(bot) if r.key == "poison")
    assert (again.status, again.attempts) == ("pending", 0)


class _Dropping:
    """aiosmtpd handler that accepts ``per_connection`` messages on a connection,
    then drops it when the next message starts (no reply)."""

    def __init__(self, per_connection: int) -> None:
        self.per_connection = per_connection
        self.received: list[str] = []
        self.counts: dict[int, int] = {}
        self.lock = threading.Lock()

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str,
                          options: list[str]) -> str:
        with self.lock:
            n = self.counts.get(id(session), 0)
        if n >= self.per_connection:
            server.transport.abort()
            await asyncio.sleep(0)
            return "421 gone"
        envelope.mail_from = address
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.counts[id(session)] = self.counts.get(id(session), 0) + 1
            self.received.extend(envelope.rcpt_tos)
        return "250 OK"


@pytest.fixture
def dropping_smtp() -> Iterator[tuple[_Dropping, int]]:
    handler = _Dropping(per_connection=7)
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


def test_a_dropped_smtp_connection_sends_nothing_twice(
        bot: Bot, dropping_smtp: tuple[_Dropping, int]) -> None:
    handler, port = dropping_smtp
    bot.mail = SmtpMailTransport(SmtpSettings(host="127.0.0.1", port=port, security="none",
                                              timeout=5))
    with bot.session_factory() as s, s.begin():
        for i in range(40):
            enqueue_email(session=s, key=f"m{i}", email=_email(i))
    worker = bot.new_worker()
    worker.backoff = 0.001
    for _ in range(20):
        worker.run_once()
        with bot.session_factory() as s, s.begin():
            s.execute(update(OutboxMessage).where(OutboxMessage.status == "pending")
                      .values(next_attempt_at=utcnow() - timedelta(seconds=1)))
        if all(r.status == "sent" for r in _rows(bot)):
            break
    assert len(handler.counts) >= 6  # the server really dropped connections
    assert sorted(handler.received) == sorted(f"p{i}@x.example" for i in range(40))
    assert all(r.status == "sent" for r in _rows(bot))


def test_rows_of_a_dead_owner_are_taken_over_without_waiting_out_the_lease(bot: Bot) -> None:
    with bot.session_factory() as s, s.begin():
        for i in range(3):
            enqueue_email(session=s, key=f"k{i}", email=_email(i))
    dead = LeasedQueue(OUTBOX, instance="replica-a", lease=timedelta(minutes=5),
                       stale=timedelta(seconds=5))
    other = LeasedQueue(OUTBOX, instance="replica-b", lease=timedelta(minutes=5),
                        stale=timedelta(seconds=5))
    Heartbeat(bot.session_factory, "replica-a").beat()
    with bot.session_factory() as s, s.begin():
        assert len(dead.claim(s, limit=2)) == 2
    with bot.session_factory() as s, s.begin():
        assert [c.key for c in other.claim(s, limit=10)] == ["k2"]  # a-s rows are leased
    with bot.session_factory() as s, s.begin():  # replica-a stops beating
        s.execute(update(QueueInstance).values(heartbeat_at=utcnow() - timedelta(seconds=6)))
    with bot.session_factory() as s, s.begin():
        taken = other.claim(s, limit=10)
    assert sorted(c.key for c in taken) == ["k0", "k1"] and all(c.attempts == 2 for c in taken)
    # A restart of the same instance releases what its previous run held.
    with bot.session_factory() as s, s.begin():
        assert other.release_owner(s) == 3
    assert {r.status for r in _rows(bot)} == {"pending"}


def test_two_workers_with_a_shared_queue_deliver_each_row_once(bot: Bot, tmp_path: Path
                                                               ) -> None:
    sent: list[str] = []
    lock = threading.Lock()

    class Mail:
        def send_batch(self, messages: list[Any]) -> list[BaseException | None]:
            with lock:
                sent.extend(str(m["To"]) for m in messages)
            return [None] * len(messages)

        def send(self, message: Any) -> None:
            self.send_batch([message])

    bot.mail = Mail()  # type: ignore[assignment]
    with bot.session_factory() as s, s.begin():
        for i in range(300):
            enqueue_email(session=s, key=f"k{i}", email=_email(i))
    workers = [bot.new_worker() for _ in range(3)]
    for w in workers:
        w.batch_size = 11
    threads = [threading.Thread(target=w.drain, kwargs={"max_passes": 1000}) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(sent) == sorted(f"p{i}@x.example" for i in range(300))


def test_a_group_commit_is_one_statement_on_postgresql(
        bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    """The inbox's group commit (bot/queue.py insert_and_finish): rows inserted
    claimed, a key already there skipped, done marks of their holder only; on
    PostgreSQL one autocommitted statement (on psycopg's own connection,
    storage/dbapi.py), elsewhere the same in a transaction."""
    from sqlalchemy import event

    from bot.queue import INBOX
    from storage import dbapi
    from storage.models import InboxItem

    q = LeasedQueue(INBOX, instance="t", lease=timedelta(seconds=30), max_attempts=3,
                    backoff=1.0, stale=timedelta(seconds=3), fixed={"platform": "slack"})
    with bot.session_factory() as s, s.begin():
        first = q.insert_and_finish(s, [("k1", "actions", {"body": {"v": "a\u0000b"}}),
                                        ("k2", "command", {"body": {}})], "tok", [])
    assert [c.key for c in first] == ["k1", "k2"]
    seen: list[str] = []

    def record(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
        seen.append(statement.split()[0])

    raw_execute = dbapi.RawPostgres.execute

    def record_raw(self: Any, stmt: Any, params: Any) -> Any:
        seen.append(stmt.text.split()[0] + ("" if self._raw.autocommit else " (in a transaction)"))
        return raw_execute(self, stmt, params)

    monkeypatch.setattr(dbapi.RawPostgres, "execute", record_raw)
    event.listen(bot.engine, "before_cursor_execute", record)
    try:
        with bot.session_factory() as s, s.begin():
            got = q.insert_and_finish(s, [("k2", "command", {}), ("k3", "command", {})], "tok",
                                      [first[0], Claimed(first[1].id, "k2", "command", {}, 1,
                                                         "other")])
    finally:
        event.remove(bot.engine, "before_cursor_execute", record)
    assert [c.key for c in got] == ["k3"]
    if bot.engine.dialect.name == "postgresql":
        assert seen == ["WITH"]
    with bot.session_factory() as s:
        rows = {r.key: r for r in s.scalars(select(InboxItem))}
    assert rows["k1"].status == "done" and rows["k1"].lease_until is None
    assert rows["k2"].status == "working" and rows["k2"].claimed_by == "tok"  # not "other"'s
    assert rows["k3"].status == "working" and rows["k3"].attempts == 1
    assert rows["k1"].payload == {"body": {"v": "a\u0000b"}}


def test_batches_of_any_size_take_a_few_sql_texts_and_lose_nothing(bot: Bot) -> None:
    """Each SQL text is a prepared statement in every connection's cache (tens of
    KB each on SQLite): a batch statement whose text followed the batch size
    grew a server under load. Inserted claimed, finished and claimed again by
    id in batches of 1 to 40 rows: a few texts, every row once."""
    from sqlalchemy import event, func

    from bot.queue import INBOX, batches
    from storage.models import InboxItem

    q = LeasedQueue(INBOX, instance="t", lease=timedelta(seconds=30), max_attempts=3,
                    backoff=1.0, stale=timedelta(seconds=3), fixed={"platform": "slack"})
    texts: set[str] = set()

    def record(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
        texts.add(statement)

    event.listen(bot.engine, "before_cursor_execute", record)
    try:
        for n in range(1, 41):
            with bot.session_factory() as s, s.begin():
                rows = q.insert_claimed(s, [(f"k{n}.{i}", "actions", {"i": i})
                                            for i in range(n)] + [(f"k{n}.0", "actions", {})],
                                        f"tok{n}")
                assert sorted(c.key for c in rows) == sorted(f"k{n}.{i}" for i in range(n))
                assert q.finish(s, rows) == n
    finally:
        event.remove(bot.engine, "before_cursor_execute", record)
    inserts = {t for t in texts if t.startswith("INSERT")}
    updates = {t for t in texts if t.startswith("UPDATE")}
    assert len(inserts) <= 7 and len(updates) <= 7, (len(inserts), len(updates))
    with bot.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(InboxItem)) == sum(range(1, 41))
        assert s.scalar(select(func.count()).select_from(InboxItem)
                        .where(InboxItem.status == "done")) == sum(range(1, 41))
    assert [len(b) for b in batches(list(range(1300)))] == [512, 512, 512]  # 276 padded
    assert list(batches([1, 2, 3])) == [[1, 2, 3, 3]] and list(batches([])) == []
