"""The outbox: what leaves the process is written in the same transaction as
the change that caused it, then delivered with retries.

The table is a :class:`bot.queue.LeasedQueue`: every replica drains it
(``FOR UPDATE SKIP LOCKED`` and a lease), a row whose worker died mid-send is
taken again once its lease runs out (or at once if its owner's heartbeat is
stale). Each row is built and delivered on its own: a row that cannot be built
fails alone, with its error, and goes ``dead`` after ``max_attempts``; dead rows
are listed by ``convene outbox list`` and the secretariat is told once per pass.

A *refresh* (:func:`enqueue_refresh`) carries no message but the name of a
renderer (``bot.registry.renderers``) and its arguments; it is coalesced by key (one
pending row per living message and target) and rendered when delivered, so a
burst of stances makes one ``chat.update`` showing the latest tally.
"""

from __future__ import annotations

import inspect
import logging
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.mail import MailTransport, NotHeld, OutgoingEmail, build_mime
from bot.queue import OUTBOX, Claimed, LeasedQueue, RetryAfter, new_instance_id
from bot.types import CalendarEvent, Message, to_data
from storage.base import utcnow
from storage.engine import read_only
from storage.models import ChatPost

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


#: The queue's rules for writers (enqueue never claims; workers make their own).
_WRITER = LeasedQueue(OUTBOX, instance="", lease=LEASE)

#: A renderer: ``(session, args) -> Message`` (None: nothing to post any more).
Renderer = Callable[[Session, Mapping[str, Any]], Message | None]


def enqueue(*, session: Session, key: str, kind: str, payload: Mapping[str, Any],
            coalesce_key: str | None = None) -> bool:
    """Add an outbox row unless one with ``key`` exists (or, with
    ``coalesce_key``, a pending one with that coalescing key). Returns True if
    added. One ``INSERT .. ON CONFLICT DO NOTHING``; never commits: the row
    lands with the caller's unit of work."""
    return _WRITER.enqueue(session, key=key, kind=kind, payload=payload,
                           coalesce_key=coalesce_key)


def enqueue_refresh(*, session: Session, key: str, target: ChatTarget, render: str,
                    args: Mapping[str, Any], ref: str) -> bool:
    """Queue a refresh of the living message ``ref`` (``poll:12``) on ``target``,
    rendered at delivery by ``bot.registry.renderers[render](session, args)``. ``key``
    (``poll:12:tally``) coalesces: while a refresh for the same key and target
    is pending, another adds nothing. Returns True if a row was added."""
    coalesce = f"{key}:{target.platform}:{target.workspace_id}:{target.channel_id}"[:255]
    payload = {"platform": target.platform, "workspace_id": target.workspace_id,
               "channel_id": target.channel_id, "thread_id": target.thread_id,
               "user_id": target.user_id, "ref": ref, "render": render, "args": dict(args)}
    return enqueue(session=session, key=f"{coalesce[:200]}:{uuid.uuid4().hex}",
                   kind=f"chat:{target.platform}", payload=payload, coalesce_key=coalesce)


def enqueue_email(*, session: Session, key: str, email: OutgoingEmail) -> bool:
    """Queue ``email`` once under ``key`` (e.g. ``digest:2026-W47:a@b.org``)."""
    return enqueue(session=session, key=key, kind="email", payload=email.to_payload())


def enqueue_emails(*, session: Session, emails: Iterable[tuple[str, OutgoingEmail]]
                   ) -> set[str]:
    """Queue each (key, email) once, in order, a few hundred a statement
    (:meth:`bot.queue.LeasedQueue.enqueue_many`): a job's wave of emails costs
    statements in hundreds of rows, not one a person. Returns the keys added."""
    return _WRITER.enqueue_many(session, ((key, "email", email.to_payload())
                                          for key, email in emails))


def enqueue_chat(*, session: Session, key: str, target: ChatTarget, message: Message,
                 ref: str | None = None) -> bool:
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


def enqueue_calendar(*, session: Session, key: str, target: ChatTarget, event: CalendarEvent,
                     ref: str) -> bool:
    """Queue the publication (or update, or cancellation) of a platform-native
    calendar event on ``target`` (its ``workspace_id``: the platform's server). The
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
    platform's id of the message, or None. Raises on failure; raises
    :class:`bot.queue.RetryAfter` when the platform asks to slow down."""

    def __call__(self, payload: Mapping[str, Any], *, existing_id: str | None) -> str | None: ...


#: Called after a pass that sent rows dead: ``(session, [(key, kind, error)])``,
#: in the pass's transaction (e.g. to queue a notice to the secretariat).
DeadNotifier = Callable[[Session, list[tuple[str, str, str]]], object]
Outcome = tuple[Claimed, BaseException | None, str | None]


class OutboxWorker:
    """Delivers due outbox rows. ``run_once()`` for a pass; ``start()`` for a thread.

    ``instance``: this process's instance id (rows it claims carry it);
    ``renderers``: ``bot.registry.renderers`` for refresh rows; ``on_dead``: see
    :data:`DeadNotifier`.
    """

    def __init__(
        self,
        *,
        session_factory: sessionmaker[Session],
        mail: MailTransport,
        sender: str,
        sender_name: str = "",
        chat: Mapping[str, ChatDeliverer] | None = None,
        renderers: Mapping[str, Renderer] | None = None,
        max_attempts: int = 12,
        backoff_seconds: float = 5.0,
        batch_size: int = 100,
        poll_seconds: float = 2.0,
        instance: str | None = None,
        lease: timedelta = LEASE,
        stale: timedelta = timedelta(seconds=15),
        on_dead: DeadNotifier | None = None,
    ) -> None:
        self.session_factory = session_factory
        self.mail = mail
        self.sender = sender
        self.sender_name = sender_name
        self.chat: Mapping[str, ChatDeliverer] = chat if chat is not None else {}
        self.renderers: Mapping[str, Renderer] = renderers if renderers is not None else {}
        self.queue = LeasedQueue(OUTBOX, instance=instance or new_instance_id(), lease=lease,
                                 max_attempts=max_attempts, backoff=backoff_seconds,
                                 stale=stale)
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.on_dead = on_dead
        self._recorded: set[int] = set()  # rows of this pass already recorded sent
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def backoff(self) -> float:
        """Seconds before the first retry (doubled per attempt)."""
        return self.queue.backoff

    @backoff.setter
    def backoff(self, value: float) -> None:
        self.queue.backoff = value

    @property
    def max_attempts(self) -> int:
        return self.queue.max_attempts

    @max_attempts.setter
    def max_attempts(self, value: int) -> None:
        self.queue.max_attempts = value

    # -- recording -------------------------------------------------------------------
    def _record(self, outcomes: list[Outcome]) -> None:
        """A pass's outcomes in one transaction: plain successes in one UPDATE,
        posts with an id and failures row by row."""
        if not outcomes:
            return
        dead: list[tuple[str, str, str]] = []
        with self.session_factory() as session, session.begin():
            plain = [c for c, err, ext in outcomes
                     if err is None and not ext and c.id not in self._recorded]
            self._recorded.clear()
            self.queue.finish(session, plain)
            for row, error, ext in outcomes:
                if error is None:
                    if ext:
                        done = self.queue.finish(session, [row], result={"external_id": ext})
                        if done and row.payload.get("ref"):
                            self._remember_post(session, row.payload, ext)
                    continue
                retry = error.seconds if isinstance(error, RetryAfter) else None
                status = self.queue.fail(session, row, error, retry_after=retry)
                if status == "dead" and not row.key.startswith(DEAD_NOTICE):
                    dead.append((row.key, row.kind, f"{type(error).__name__}: {error}"))
            if dead and self.on_dead is not None:
                self.on_dead(session, dead)

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
        with self._reading() as session:
            return session.scalar(select(ChatPost.external_id).where(
                ChatPost.ref == payload["ref"], ChatPost.platform == payload["platform"],
                ChatPost.workspace_id == payload["workspace_id"],
                ChatPost.channel_id == payload["channel_id"]))

    def _reading(self) -> Session:
        """A session for reads only: on SQLite a deferred transaction, so a tally
        rendered here does not hold the writers' lock (the inbox's
        acknowledgements wait on it) while it is built."""
        return Session(read_only(self.session_factory.kw["bind"]))

    # -- delivering ------------------------------------------------------------------
    def _rendered(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        """A refresh row's payload with its ``message`` rendered now (the latest
        state); other payloads as they are. None: nothing left to post."""
        name = payload.get("render")
        if not name:
            return payload
        render = self.renderers.get(str(name))
        if render is None:
            raise LookupError(f"no renderer registered for {name!r}")
        with self._reading() as session:
            message = render(session, payload.get("args") or {})
        if message is None:
            return None
        return {**payload, "message": to_data(message)}

    def _emails(self, rows: list[Claimed]) -> list[Outcome]:
        """Build each row's MIME on its own (a bad one fails alone), then send
        the good ones over one connection, keeping the transport's per-message
        results: what the server accepted is recorded sent."""
        out: list[Outcome] = []
        built: list[tuple[Claimed, Any]] = []
        for r in rows:
            try:
                email = OutgoingEmail.from_payload(r.payload)
                if not email.message_id:
                    domain = self.sender.rsplit("@", 1)[-1] or "convene.local"
                    email = replace(email, message_id=f"<outbox-{r.id}@{domain}>")
                built.append((r, build_mime(email, sender=self.sender,
                                            sender_name=self.sender_name)))
            except Exception as exc:  # noqa: BLE001 - this row alone fails, with its error
                log.warning("outbox %s cannot be built: %s", r.key, exc)
                out.append((r, exc, None))
        if built:
            out += self._send(built)
        return out

    def _holds(self, row: Claimed) -> bool:
        """Fencing: this worker still holds ``row`` (see LeasedQueue.hold)."""
        with self.session_factory() as session, session.begin():
            held = self.queue.hold(session, row)
        if not held:
            log.warning("outbox %s was taken over by another worker; this one stops its "
                        "batch", row.key)
        return held

    def _send(self, built: list[tuple[Claimed, Any]]) -> list[Outcome]:
        """Send built messages, confirming each row is still held right before
        it leaves and stopping at the first that is not. Each accepted message
        is recorded sent before the next one leaves (when the transport can say
        so): a kill mid-batch then leaves no accepted message unrecorded for
        another replica to send again."""
        recorded: set[int] = set()
        confirmed: dict[int, bool] = {}

        def on_sent(i: int) -> None:
            # Recording message i sent and confirming the hold on message
            # i + 1 share one transaction: nothing else happens between this
            # commit and the next send.
            row = built[i][0]
            with self.session_factory() as session, session.begin():
                self.queue.finish(session, [row])
                if i + 1 < len(built):
                    confirmed[i + 1] = self.queue.hold(session, built[i + 1][0])
            recorded.add(row.id)

        def before_send(i: int) -> bool:
            held = confirmed.pop(i, None)
            if held is None:
                return self._holds(built[i][0])
            if not held:
                log.warning("outbox %s was taken over by another worker; this one stops its "
                            "batch", built[i][0].key)
            return held

        send = self.mail.send_batch
        params = inspect.signature(send).parameters
        results: list[BaseException | None] = []
        try:
            if "before_send" in params:
                kwargs: dict[str, Any] = {"before_send": before_send}
                if "on_sent" in params:
                    kwargs["on_sent"] = on_sent
                results = list(send([m for _, m in built], **kwargs))
            else:
                # A transport without the hook: one message a call, each row
                # confirmed before its message leaves.
                for i, (_, m) in enumerate(built):
                    if not before_send(i):
                        results += [NotHeld()] * (len(built) - i)
                        break
                    results += list(send([m]))
        except Exception as exc:  # noqa: BLE001 - a transport error fails the batch
            results = [exc] * len(built)
        if len(results) != len(built):
            results = [RuntimeError("mail transport returned a wrong number of results")
                       ] * len(built)
        self._recorded.update(recorded)
        return [(r, None if r.id in recorded else err, None)
                for (r, _), err in zip(built, results, strict=True)]

    def _chats(self, rows: list[Claimed]) -> list[Outcome]:
        out: list[Outcome] = []
        waits: dict[str, RetryAfter] = {}
        for r in rows:
            platform = r.kind.split(":", 1)[-1]
            if platform in waits:  # the platform asked us to slow down: the rest wait too
                out.append((r, waits[platform], None))
                continue
            deliverer = self.chat.get(platform)
            if deliverer is None:
                out.append((r, LookupError(f"no adapter configured for {platform}"), None))
                continue
            # A refresh renders the latest state into the same post: doing it
            # twice repeats nothing a person sees, so only new posts are fenced
            # (a hold there would also wait on the writers' locks on busy rows).
            if not r.payload.get("render") and not self._holds(r):
                out += [(rest, NotHeld(), None) for rest in rows[rows.index(r):]]
                break
            try:
                payload = self._rendered(r.payload)
                if payload is None:
                    out.append((r, None, None))
                    continue
                ext = deliverer(payload, existing_id=self._existing_post(payload))
            except RetryAfter as exc:
                waits[platform] = exc
                out.append((r, exc, None))
            except Exception as exc:  # noqa: BLE001 - retried; logged when recorded
                out.append((r, exc, None))
            else:
                out.append((r, None, ext or None))
        return out

    def run_once(self) -> int:
        """Deliver what is due now. Returns how many rows were delivered."""
        with self.session_factory() as session, session.begin():
            rows = self.queue.claim(session, limit=self.batch_size)
        if not rows:
            return 0
        outcomes = self._emails([r for r in rows if r.kind == "email"])
        outcomes += self._chats([r for r in rows if r.kind != "email"])
        self._record(outcomes)
        return sum(err is None for _, err, _ in outcomes)

    def drain(self, *, max_passes: int = 100) -> int:
        """Run passes until nothing is due (tests, CLI ``--send``)."""
        total = 0
        for _ in range(max_passes):
            n = self.run_once()
            total += n
            if n == 0:
                break
        return total

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


#: Key prefix of the secretariat's dead-letter notices (never notified about).
DEAD_NOTICE = "outbox:dead:"

DelivererFactory = Callable[..., ChatDeliverer]
