"""The outbox: what leaves the process is written in the same transaction as
the change that caused it, then delivered with retries.

Rows are claimed with a single conditional UPDATE (a lease), so two workers in
two processes never deliver the same row at the same time, on SQLite or
PostgreSQL. A row whose lease expires (its worker died mid-send) is retried.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.mail import MailTransport, OutgoingEmail, build_mime
from bot.types import CalendarEvent, Message, to_data
from storage.base import utcnow
from storage.engine import dialect_insert
from storage.models import ChatPost, OutboxMessage

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class ChatTarget:
    """A conversation to post in. ``user_id`` set: an ephemeral/private post to that user."""

    platform: str
    workspace_id: str
    channel_id: str
    thread_id: str | None = None
    user_id: str | None = None


def enqueue(*, session: Session, key: str, kind: str, payload: Mapping[str, Any]) -> bool:
    """Add an outbox row unless one with ``key`` exists. Returns True if added.

    One ``INSERT .. ON CONFLICT (key) DO NOTHING``; never commits: the row lands
    with the caller's unit of work.
    """
    now = utcnow()
    values = {"key": key, "kind": kind, "payload": dict(payload), "status": "pending",
              "attempts": 0, "next_attempt_at": now, "created_at": now}
    dialect = session.get_bind().dialect.name
    ins = dialect_insert(dialect)(OutboxMessage)
    stmt = ins.values(**values).on_conflict_do_nothing(index_elements=["key"])
    return bool(session.execute(stmt.returning(OutboxMessage.id)).first())


def enqueue_email(*, session: Session, key: str, email: OutgoingEmail) -> bool:
    """Queue ``email`` once under ``key`` (e.g. ``digest:2026-W47:a@b.org``)."""
    return enqueue(session=session, key=key, kind="email", payload=email.to_payload())


def enqueue_chat(
    *,
    session: Session,
    key: str,
    target: ChatTarget,
    message: Message,
    ref: str | None = None,
) -> bool:
    """Queue a chat post. With ``ref`` (``poll:12``), a later post with the same
    ref and target updates the earlier message instead of adding one."""
    payload = {
        "platform": target.platform,
        "workspace_id": target.workspace_id,
        "channel_id": target.channel_id,
        "thread_id": target.thread_id,
        "user_id": target.user_id,
        "ref": ref,
        "message": to_data(message),
    }
    return enqueue(session=session, key=key, kind=f"chat:{target.platform}", payload=payload)


def enqueue_calendar(
    *,
    session: Session,
    key: str,
    target: ChatTarget,
    event: CalendarEvent,
    ref: str,
) -> bool:
    """Queue the publication (or update, or cancellation) of a platform-native
    calendar event on ``target`` (its ``workspace_id``: a Discord guild). The
    deliverer of ``target.platform`` gets a payload with ``calendar_event``
    (``to_data(event)``) instead of ``message``; ``ref`` (``workshop:12:1``) ties
    later updates to the event it created, as for chat posts."""
    payload = {
        "platform": target.platform,
        "workspace_id": target.workspace_id,
        "channel_id": target.channel_id,
        "thread_id": None,
        "user_id": None,
        "ref": ref,
        "calendar_event": to_data(event),
    }
    return enqueue(session=session, key=key, kind=f"chat:{target.platform}", payload=payload)


class ChatDeliverer(Protocol):
    """Posts (or, given ``existing_id``, updates) a chat message; returns the
    platform's id of the message, or None. Raises on failure."""

    def __call__(self, payload: Mapping[str, Any], *, existing_id: str | None) -> str | None: ...


class OutboxWorker:
    """Delivers due outbox rows. ``run_once()`` for a pass; ``start()`` for a thread."""

    def __init__(
        self,
        *,
        session_factory: sessionmaker[Session],
        mail: MailTransport,
        sender: str,
        sender_name: str = "",
        chat: Mapping[str, ChatDeliverer] | None = None,
        max_attempts: int = 12,
        backoff_seconds: float = 5.0,
        batch_size: int = 100,
        poll_seconds: float = 2.0,
    ) -> None:
        self.session_factory = session_factory
        self.mail = mail
        self.sender = sender
        self.sender_name = sender_name
        self.chat: dict[str, ChatDeliverer] = dict(chat or {})
        self.max_attempts = max_attempts
        self.backoff = backoff_seconds
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.worker_id = secrets.token_hex(8)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    # -- claiming ------------------------------------------------------------
    def _claim(self) -> list[OutboxMessage]:
        now = utcnow()
        token = f"{self.worker_id}:{secrets.token_hex(4)}"
        due = or_(
            and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now),
            and_(OutboxMessage.status == "sending", OutboxMessage.next_attempt_at <= now),
        )
        with self.session_factory() as session, session.begin():
            ids = select(OutboxMessage.id).where(due).order_by(OutboxMessage.id)
            ids = ids.limit(self.batch_size)
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids.scalar_subquery()), due)
                .values(status="sending", claimed_by=token, next_attempt_at=now + LEASE)
                .execution_options(synchronize_session=False)
            )
        with self.session_factory() as session:
            rows = session.scalars(
                select(OutboxMessage).where(OutboxMessage.claimed_by == token,
                                            OutboxMessage.status == "sending")
                .order_by(OutboxMessage.id)
            ).all()
            session.expunge_all()
            return list(rows)

    def _finish(self, row: OutboxMessage, error: BaseException | None,
                result: dict[str, Any] | None = None) -> None:
        self._finish_many([(row, error, result)])

    def _finish_many(
        self, outcomes: list[tuple[OutboxMessage, BaseException | None, dict[str, Any] | None]]
    ) -> None:
        """Record a pass's outcomes in one transaction: successes in one UPDATE,
        failures (rare) row by row with their back-off."""
        if not outcomes:
            return
        now = utcnow()
        with self.session_factory() as session, session.begin():
            plain = [r for r, err, res in outcomes if err is None and not r.payload.get("ref")]
            for token in {r.claimed_by for r in plain}:
                ids = [r.id for r in plain if r.claimed_by == token]
                session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id.in_(ids), OutboxMessage.claimed_by == token)
                    .values(status="sent", sent_at=now, last_error=None,
                            attempts=OutboxMessage.attempts + 1)
                    .execution_options(synchronize_session=False))
            for row, error, result in outcomes:
                if error is None and not row.payload.get("ref"):
                    continue
                current = session.get(OutboxMessage, row.id)
                if current is None or current.claimed_by != row.claimed_by:
                    continue
                current.attempts += 1
                if error is None:
                    current.status = "sent"
                    current.sent_at = now
                    current.last_error = None
                    current.result = result
                    ext = (result or {}).get("external_id")
                    if ext:
                        self._remember_post(session, current.payload, str(ext))
                    continue
                current.last_error = f"{type(error).__name__}: {error}"[:2000]
                if current.attempts >= self.max_attempts:
                    current.status = "dead"
                    log.error("outbox %s (%s) gave up after %d attempts: %s", current.key,
                              current.kind, current.attempts, current.last_error)
                else:
                    current.status = "pending"
                    delay = min(self.backoff * (2 ** (current.attempts - 1)), 3600.0)
                    current.next_attempt_at = now + timedelta(seconds=delay)
                    log.warning("outbox %s failed (attempt %d), retry in %.0fs: %s",
                                current.key, current.attempts, delay, current.last_error)

    @staticmethod
    def _remember_post(session: Session, payload: Mapping[str, Any], external_id: str) -> None:
        post = session.scalars(select(ChatPost).where(
            ChatPost.ref == payload["ref"], ChatPost.platform == payload["platform"],
            ChatPost.workspace_id == payload["workspace_id"],
            ChatPost.channel_id == payload["channel_id"])).first()
        if post is None:
            session.add(ChatPost(ref=payload["ref"], platform=payload["platform"],
                                 workspace_id=payload["workspace_id"],
                                 channel_id=payload["channel_id"], external_id=external_id))
        else:
            post.external_id = external_id
            post.updated_at = utcnow()

    def _existing_post(self, payload: Mapping[str, Any]) -> str | None:
        if not payload.get("ref") or payload.get("user_id"):
            return None
        with self.session_factory() as session:
            return session.scalar(select(ChatPost.external_id).where(
                ChatPost.ref == payload["ref"], ChatPost.platform == payload["platform"],
                ChatPost.workspace_id == payload["workspace_id"],
                ChatPost.channel_id == payload["channel_id"]))

    # -- delivering ----------------------------------------------------------
    def run_once(self) -> int:
        """Deliver what is due now. Returns how many rows were delivered."""
        rows = self._claim()
        if not rows:
            return 0
        delivered = 0
        emails = [r for r in rows if r.kind == "email"]
        if emails:
            mimes = []
            for r in emails:
                email = OutgoingEmail.from_payload(r.payload)
                if not email.message_id:
                    domain = self.sender.rsplit("@", 1)[-1] or "convene.local"
                    email = _with_message_id(email, f"<outbox-{r.id}@{domain}>")
                mimes.append(build_mime(email, sender=self.sender, sender_name=self.sender_name))
            try:
                results = self.mail.send_batch(mimes)
            except Exception as exc:  # noqa: BLE001  (a transport error fails the batch)
                results = [exc] * len(mimes)
            self._finish_many([(r, err, None) for r, err in zip(emails, results, strict=True)])
            delivered += sum(err is None for err in results)
        for r in rows:
            if r.kind == "email":
                continue
            platform = r.kind.split(":", 1)[-1]
            deliverer = self.chat.get(platform)
            if deliverer is None:
                self._finish(r, LookupError(f"no adapter configured for {platform}"))
                continue
            try:
                ext = deliverer(r.payload, existing_id=self._existing_post(r.payload))
            except Exception as exc:  # noqa: BLE001  (retried; logged in _finish)
                self._finish(r, exc)
                continue
            self._finish(r, None, {"external_id": ext} if ext else None)
            delivered += 1
        return delivered

    def drain(self, *, max_passes: int = 100) -> int:
        """Run passes until nothing is due (tests, CLI ``--send``)."""
        total = 0
        for _ in range(max_passes):
            n = self.run_once()
            total += n
            if n == 0:
                break
        return total

    def wake(self) -> None:
        """Ask the thread to look now rather than at its next poll."""
        self._wake.set()

    def start(self) -> None:
        """Deliver in a background thread until :meth:`stop`."""
        self._thread = threading.Thread(target=self._loop, name="outbox", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                n = self.run_once()
            except Exception:
                log.exception("outbox pass failed")
                n = 0
            if n == 0:
                self._wake.wait(self.poll_seconds)
                self._wake.clear()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the thread after its current pass."""
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout)


def _with_message_id(email: OutgoingEmail, mid: str) -> OutgoingEmail:
    from dataclasses import replace

    return replace(email, message_id=mid)


DelivererFactory = Callable[..., ChatDeliverer]
