"""The outbox: written with the change, delivered once, retried while SMTP is down."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import select

from adapters.email.smtp import SmtpMailTransport
from bot.app import Bot
from bot.mail import FileMailTransport, OutgoingEmail
from bot.outbox import ChatTarget, enqueue_chat, enqueue_email
from bot.settings import SmtpSettings
from bot.types import Message
from storage.models import OutboxMessage


def _queue(bot: Bot, n: int, prefix: str = "k") -> None:
    with bot.session_factory() as s, s.begin():
        for i in range(n):
            enqueue_email(session=s, key=f"{prefix}{i}", email=OutgoingEmail(
                to=(f"p{i}@x.example",), subject=f"hello {i}", text="body", html="<p>body</p>"))


def test_same_key_twice_is_one_row_and_one_file(bot: Bot, tmp_path: Path) -> None:
    _queue(bot, 1)
    _queue(bot, 1)
    with bot.session_factory() as s:
        assert len(s.scalars(select(OutboxMessage)).all()) == 1
    bot.mail = FileMailTransport(tmp_path / "mail")
    assert bot.new_worker().drain() == 1
    assert bot.new_worker().drain() == 0
    files = list((tmp_path / "mail").glob("*.eml"))
    assert len(files) == 1 and b"multipart/alternative" in files[0].read_bytes()


def test_smtp_down_then_up_delivers_exactly_once(bot: Bot, smtp_server) -> None:
    bot.mail = SmtpMailTransport(SmtpSettings(host="127.0.0.1", port=smtp_server.port,
                                              security="none", timeout=5))
    smtp_server.stop()
    _queue(bot, 3)
    worker = bot.new_worker()
    worker.backoff = 0.01
    assert worker.run_once() == 0
    with bot.session_factory() as s:
        rows = s.scalars(select(OutboxMessage)).all()
        assert all(r.status == "pending" and r.attempts == 1 and r.last_error for r in rows)
    smtp_server.start()
    import time
    time.sleep(0.05)
    assert worker.drain() == 3
    assert worker.drain() == 0
    got = smtp_server.messages
    assert sorted(r[0][0] for r in got) == ["p0@x.example", "p1@x.example", "p2@x.example"]
    assert all(m["Message-ID"] and m["Date"] for _, m in got)


def test_two_workers_deliver_each_row_once(bot: Bot, tmp_path: Path) -> None:
    sent: list[str] = []
    lock = threading.Lock()

    class Recording(FileMailTransport):
        def send(self, message):  # type: ignore[no-untyped-def]
            with lock:
                sent.append(str(message["To"]))
            super().send(message)

    bot.mail = Recording(tmp_path / "mail")
    _queue(bot, 60)
    workers = [bot.new_worker() for _ in range(2)]
    for w in workers:
        w.batch_size = 7
    threads = [threading.Thread(target=w.drain) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(sent) == sorted(f"p{i}@x.example" for i in range(60))


def test_chat_posts_with_a_ref_update_the_same_message(bot: Bot, tmp_path: Path) -> None:
    calls: list[tuple[str, str | None]] = []

    def deliver(payload, *, existing_id):  # type: ignore[no-untyped-def]
        calls.append((payload["message"]["text"], existing_id))
        return existing_id or "msg-1"

    bot.chat_deliverers["console"] = deliver
    target = ChatTarget("console", "", "room")
    for i in range(2):
        with bot.session_factory() as s, s.begin():
            enqueue_chat(session=s, key=f"tally{i}", target=target, message=Message(f"v{i}"),
                         ref="poll:1")
        bot.new_worker().drain()
    assert calls == [("v0", None), ("v1", "msg-1")]


def test_an_unconfigured_platform_is_retried_not_lost(bot: Bot) -> None:
    with bot.session_factory() as s, s.begin():
        enqueue_chat(session=s, key="d1", target=ChatTarget("discord", "g", "c"),
                     message=Message("hi"))
    bot.new_worker().run_once()
    with bot.session_factory() as s:
        row = s.scalars(select(OutboxMessage)).one()
        assert row.status == "pending" and "no adapter configured" in (row.last_error or "")
