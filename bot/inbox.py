"""The durable inbox: a verified chat request is written to ``inbox`` before
its platform gets the acknowledgement, then worked off by threads.

Platform-neutral: an adapter makes one :class:`Inbox` with its ``platform``
name (the rows' ``platform`` column: each adapter writes, sweeps and works
only its own rows) and a ``handler`` that turns a row back into a core event.

Writes go through one group-commit writer thread: every request queued while
the previous transaction commits lands in the next one (one ``INSERT .. ON
CONFLICT (key) DO NOTHING`` per row, one commit per batch). The caller waits on
a future; the HTTP route awaits it, so the 200 leaves only after the commit.
A row is inserted already claimed by this process (``working``, a lease of
``LEASE``) and handed to the worker threads in memory; the same writer marks
worked rows ``done`` with a later batch of acknowledgements (a batch of marks
alone waits up to ``DONE_FLUSH_SECONDS`` for one). So the inbox costs no extra
transaction per request.

The table is a :class:`bot.queue.LeasedQueue` (the outbox's state machine):
rows a crash left behind (``pending``, or ``working`` with a lease run out or
an owner whose heartbeat is stale, or an owner that restarted and released
them) are claimed, up to ``batch`` in one statement, by the sweep that runs at
start, again when ``start()`` is called once the process has taken its rows
back (``convene serve``), and every ``sweep_seconds`` (1 s; a read taking no
SQLite write lock when nothing is due), so a killed process's acknowledged
requests are worked within about a second of the restart (same instance id)
or of its heartbeat going stale (``[queue] stale_seconds``, a new id). Two
threads or processes never work the same row at the same time,
on SQLite and PostgreSQL; ``Bot.dispatch`` dedupes by event id, so a row
worked twice acts once. A row that keeps failing goes ``dead`` after
``MAX_ATTEMPTS``. Work that meets an unavailable database is tried again in
memory until it is back (see :meth:`Inbox.handle`); a request that cannot be
written is not acknowledged (the adapter answers 503 and, where its platform
allows, tells the person).

On SQLite (one writer at a time) the writer and the dispatches of this
process take turns through a gate that lets the writer in first: the
acknowledgement waits for at most one dispatch, never for SQLite's busy back-off.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
from concurrent.futures import Future
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from bot.backlog import AgedQueue, Backlog
from bot.errors import is_unavailable
from bot.gate import Gate
from bot.inbox_item import Handler, InboxItem, Remote, Row, Write
from bot.queue import INBOX, LeasedQueue, new_instance_id
from storage.base import utcnow
from storage.engine import read_only
from storage.models import InboxItem as InboxRow

log = logging.getLogger(__name__)

#: How long a claimed row is left to its worker: after a crash, the rows it held
#: are picked up once their lease has run out, or sooner: when its process
#: restarts (it releases them) or its heartbeat goes stale.
LEASE = timedelta(seconds=30)
#: Done rows are kept this long (a platform's retry of one adds nothing), then pruned.
KEEP = timedelta(days=1)
#: How often done rows past KEEP are pruned.
PRUNE_SECONDS = 60.0
MAX_ATTEMPTS = 5
#: Longest wait between two tries of a row whose work met an unavailable database.
RETRY_MAX_SECONDS = 5.0
#: Longest a "done" mark waits to share the transaction of acknowledged rows.
DONE_FLUSH_SECONDS = 0.25
#: Pause of the writer after a failed write (the database is likely down).
WRITE_RETRY_SECONDS = 0.2




class Inbox:
    """Writer + workers over the ``platform`` rows of ``inbox``. ``put()`` /
    ``submit()`` write, ``start()`` starts ``workers`` threads running
    ``handler`` on claimed rows, ``close()`` stops them."""

    def __init__(self, session_factory: sessionmaker[Session], *, platform: str,
                 handler: Handler,
                 workers: int, sweep_seconds: float = 1.0, durable: bool = True,
                 instance: str | None = None,
                 stale: timedelta = timedelta(seconds=3), batch: int = 100,
                 max_backlog_seconds: float = 5.0, backlog_floor: int = 1000) -> None:
        self.session_factory = session_factory
        self.platform = platform
        #: False: requests go straight to the workers in memory (no row before the
        #: ack, as DESIGN.md's "transport receipt" ack); a crash between the ack
        #: and the commit loses that request, which its sender never saw confirmed.
        self.durable = durable
        self._memory_ids = itertools.count(-1, -1)
        self.handler = handler
        self.workers = workers
        self.sweep_seconds = sweep_seconds
        #: Rows claimed by one sweep (and the most it lets wait in memory).
        self.batch = batch
        self._engine = session_factory.kw["bind"]
        self._wake = threading.Event()
        #: In-memory retries of rows whose work met an unavailable database: id -> tries.
        self._retries: dict[int, int] = {}
        self._retry_lock = threading.Lock()
        self.queue = LeasedQueue(INBOX, instance=instance or new_instance_id(),
                                 lease=LEASE, max_attempts=MAX_ATTEMPTS, backoff=1.0,
                                 stale=stale, fixed={"platform": platform})
        #: The writer's claim token: rows it inserts are held by this process.
        self.token = self.queue.token()
        self.gate = Gate(enabled=session_factory.kw["bind"].dialect.name == "sqlite")
        self._writes: queue.SimpleQueue[Write | InboxItem | None] = queue.SimpleQueue()
        self._ready: AgedQueue[InboxItem | int | None] = AgedQueue()
        self._threads: list[threading.Thread] = []
        #: The pace of the workers, for :meth:`retry_after` (backpressure).
        self.backlog = Backlog(max_seconds=max_backlog_seconds, floor=backlog_floor)
        self._stop = threading.Event()
        self._writer = threading.Thread(target=self._write_loop, name=f"{platform}-inbox-writer",
                                        daemon=True)
        self._writer.start()
        self._sweeper: threading.Thread | None = None
        #: Set: written rows go to workers in another process, never to this one's.
        self.remote: Remote | None = None

    # -- writing (before the acknowledgement) -------------------------------------------
    def submit(self, rows: list[Row], *, hand_off: bool = True) -> Future[list[InboxItem]]:
        """Queue ``rows`` (key, kind, payload) for the next group commit; the
        future resolves once they are committed (or raises the database error)
        to the rows written (a key already in the table is not written again).

        ``hand_off``: the written rows go to this inbox's workers. False: the
        caller works them itself, live, and calls :meth:`done` for each; the
        rows are only the record a crash leaves for the sweep (claimed by this
        process until the lease runs out). Not durable: nothing is recorded."""
        fut: Future[list[InboxItem]] = Future()
        if not self.durable:
            items = [InboxItem(next(self._memory_ids), kind, payload)
                     for _key, kind, payload in rows]
            for item in items if hand_off else ():
                self._ready.put(item)
            fut.set_result(items if hand_off else [])
            return fut
        self._writes.put((rows, fut, hand_off))
        return fut

    def done(self, item: InboxItem) -> None:
        """Mark ``item`` (written with ``hand_off=False``) worked: done with the
        writer's next batch."""
        if item.id >= 0:
            self._writes.put(item)

    def retry_after(self) -> int | None:
        """Seconds to wait before sending more (a 503's ``Retry-After``) when the
        requests not yet worked off (queued or held by a worker) are past
        ``max_backlog_seconds`` at the workers' pace, or the oldest waited that long."""
        if self.remote is not None:
            return self.remote.retry_after()
        r = self._ready
        return self.backlog.retry_after(r.pending(), r.oldest(), r.busy())

    def put(self, rows: list[Row], *, timeout: float = 10.0) -> None:
        """Write ``rows`` and wait for the commit (raises on failure or timeout)."""
        self.submit(rows).result(timeout)

    def _write_loop(self) -> None:
        while True:
            first = self._writes.get()
            if first is None:
                return
            batch: list[Write] = []
            done: list[InboxItem] = []
            stopping = self._collect(first, batch, done)
            if not batch and not stopping:
                # Only "done" marks: they wait (at most DONE_FLUSH_SECONDS) to go
                # with the next acknowledgement's rows rather than take a
                # transaction of their own ahead of it. Lost in a crash, a mark
                # costs a redelivery that dispatch drops as seen.
                deadline = time.monotonic() + DONE_FLUSH_SECONDS
                while not batch and not stopping:
                    try:
                        nxt = self._writes.get(timeout=max(0.0, deadline - time.monotonic()))
                    except queue.Empty:
                        break
                    stopping = self._collect(nxt, batch, done)
            try:
                items = self._write([row for rows, _, _ in batch for row in rows], done)
            except Exception as exc:  # noqa: BLE001 - handed to every waiting request
                log.error("%s inbox write failed (%d requests, %d done marks): %s",
                          self.platform, len(batch), len(done), exc)
                for _, fut, _ in batch:
                    if fut.set_running_or_notify_cancel():
                        fut.set_exception(exc)
                # The done marks are idempotent: they go with the next batch. A
                # pause, so a database that stays down is not spun against.
                for item in done:
                    self._writes.put(item)
                self._stop.wait(WRITE_RETRY_SECONDS)
                continue
            for rows, fut, hand_off in batch:
                mine = [items[key] for key, _, _ in rows if key in items]
                if hand_off:
                    (self.remote.send if self.remote is not None else self.enqueue)(mine)
                if fut.set_running_or_notify_cancel():
                    fut.set_result(mine)

    def _collect(self, first: Write | InboxItem | None, batch: list[Write],
                 done: list[InboxItem]) -> bool:
        """Add ``first`` and everything queued behind it to ``batch`` (requests)
        and ``done`` (marks). True when the stop sentinel was met (put back)."""
        nxt = first
        while True:
            if nxt is None:
                self._writes.put(None)  # seen again by the loop, after this batch
                return True
            if isinstance(nxt, InboxItem):
                done.append(nxt)
            else:
                batch.append(nxt)
            try:
                nxt = self._writes.get_nowait()
            except queue.Empty:
                return False

    def _write(self, rows: list[Row], done: list[InboxItem]) -> dict[str, InboxItem]:
        """One transaction: insert ``rows`` claimed by us, mark ``done`` rows done.
        Returns the inserted rows by key, in id order."""
        with self.gate.writer(), self.session_factory() as session, session.begin():
            # one autocommitted statement on PostgreSQL (bot/queue.py insert_and_finish)
            return {c.key: InboxItem(c.id, c.kind, c.payload, c.token, c.attempts)
                    for c in self.queue.insert_and_finish(
                        session, rows, self.token, [d.claimed() for d in done])}

    # -- working (after it) ---------------------------------------------------------------
    def enqueue(self, items: list[InboxItem]) -> None:
        """Queue claimed ``items`` for this process's workers."""
        for item in items:
            self._ready.put(item)

    def start(self) -> None:
        """Start the workers and the sweep (which first claims what a crash left);
        when started already, sweep now (serve calls it again once it has taken
        back the rows its previous run held)."""
        if self._stop.is_set():
            return
        if self._threads:
            self.wake()
            return
        for i in range(self.workers):
            t = threading.Thread(target=self._work_loop, name=f"{self.platform}-work-{i}",
                                 daemon=True)
            t.start()
            self._threads.append(t)
        self._sweeper = threading.Thread(target=self._sweep_loop,
                                         name=f"{self.platform}-inbox-sweep", daemon=True)
        self._sweeper.start()

    @property
    def started(self) -> bool:
        return bool(self._threads)

    def claim(self, row_id: int) -> InboxItem | None:
        """Claim row ``row_id`` (see :meth:`bot.queue.LeasedQueue.claimable`);
        None if someone else has it or it is not due."""
        with self.gate.worker(), self.session_factory() as session, session.begin():
            got = self.queue.claim(session, limit=1, ids=[row_id])
            if got and got[0].attempts > MAX_ATTEMPTS:
                self.queue.fail(session, got[0], "too many attempts")
                return None
        if not got:
            return None
        c = got[0]
        return InboxItem(c.id, c.kind, c.payload, c.token, c.attempts)

    def sweep(self) -> int:
        """Claim up to ``batch`` claimable rows (left pending, lease run out,
        owner restarted or its heartbeat stale) in one statement and queue them
        for the workers. Returns how many were queued.

        Nothing is claimed while ``batch`` claimed rows still wait in memory
        (their leases would run while they wait). When nothing is claimable the
        check is one read that, on SQLite, takes no write lock."""
        if self._ready.qsize() >= self.batch:
            return 0
        now = utcnow()
        with Session(read_only(self._engine)) as session, session.begin():
            due = session.scalar(select(InboxRow.id).where(self.queue.claimable(now))
                                 .limit(1))
        if due is None:
            return 0
        with self.gate.worker(), self.session_factory() as session, session.begin():
            got = self.queue.claim(session, limit=self.batch)
            for c in got:
                if c.attempts > MAX_ATTEMPTS:
                    self.queue.fail(session, c, "too many attempts")
        items = [InboxItem(c.id, c.kind, c.payload, c.token, c.attempts)
                 for c in got if c.attempts <= MAX_ATTEMPTS]
        for item in items:
            self._ready.put(item)
        return len(items)

    def prune(self) -> int:
        """Delete done rows older than KEEP. Returns how many."""
        with self.gate.worker(), self.session_factory() as session, session.begin():
            res = session.execute(delete(InboxRow).where(
                InboxRow.platform == self.platform, InboxRow.status == "done",
                InboxRow.done_at < utcnow() - KEEP))
        return int(getattr(res, "rowcount", 0) or 0)

    def wake(self) -> None:
        """Sweep now (the sweeper otherwise looks every ``sweep_seconds``)."""
        self._wake.set()

    def _sweep_loop(self) -> None:
        pruned = 0.0
        while not self._stop.is_set():
            self._wake.clear()
            found = 0
            try:
                found = self.sweep()
                if found:
                    log.info("%s inbox: %d interrupted request(s) picked up", self.platform,
                             found)
                if time.monotonic() - pruned > PRUNE_SECONDS:
                    pruned = time.monotonic()
                    self.prune()
            except Exception as exc:  # noqa: BLE001 - logged; the next sweep retries
                log.error("%s inbox sweep failed: %s", self.platform, exc)
            # A full batch or a backlog in memory: look again soon, not in a second.
            busy = found >= self.batch or self._ready.qsize() >= self.batch
            self._wake.wait(0.05 if busy else self.sweep_seconds)

    def _work_loop(self) -> None:
        while True:
            got = self._ready.get()
            if got is None:
                self._ready.put(None)  # let the other workers see it too
                return
            try:
                if isinstance(got, int):
                    self.work(got)
                else:
                    self.handle(got)
            except Exception:
                log.exception("%s inbox row %s failed", self.platform,
                              got if isinstance(got, int) else got.id)
            finally:
                self._ready.task_done()

    def work_queued(self) -> int:
        """Work off, in this thread, what the writer queued (for a runtime whose
        workers are not started). Returns how many rows were handled."""
        n = 0
        while True:
            try:
                got = self._ready.get_nowait()
            except queue.Empty:
                return n
            if got is None:
                self._ready.put(None)
                return n
            n += self.work(got) if isinstance(got, int) else self.handle(got)
            self._ready.task_done()

    def work(self, row_id: int) -> bool:
        """Claim (the sweep's condition), handle and finish row ``row_id``;
        False if it was not there to be done."""
        item = self.claim(row_id)
        return False if item is None else self.handle(item)

    def handle(self, item: InboxItem) -> bool:
        """Run the handler on a claimed row, then have it marked done (with the
        writer's next batch) or, on failure, back to pending for the sweep.

        When the database is unavailable (:func:`bot.errors.is_unavailable`;
        the handler dispatches with ``raise_unavailable``) the row, which this
        process still holds, is tried again in memory after a back-off (0.5 s
        doubling to ``RETRY_MAX_SECONDS``) until the database is back, without
        counting an attempt: a press acknowledged before an outage is recorded
        after it, and the person is not told "nothing was changed" meanwhile."""
        try:
            self.handler(item)
        except Exception as exc:
            if is_unavailable(exc) and not self._stop.is_set():
                self._retry_later(item, exc)
                return True
            log.exception("%s work item %s (%s) failed", self.platform, item.id, item.kind)
            if item.id < 0:  # held in memory only: nothing to retry from
                return True
            # Back to pending after a back-off (dead after MAX_ATTEMPTS); dispatch
            # dedupes what committed.
            with self.gate.worker(), self.session_factory() as session, session.begin():
                self.queue.fail(session, item.claimed(), exc)
            return True
        self.backlog.completed()
        if self._retries:
            with self._retry_lock:
                self._retries.pop(item.id, None)
        if item.id >= 0:
            self._writes.put(item)
        return True

    def _retry_later(self, item: InboxItem, exc: BaseException) -> None:
        with self._retry_lock:
            tries = self._retries[item.id] = self._retries.get(item.id, 0) + 1
        delay = min(RETRY_MAX_SECONDS, 0.5 * 2 ** (tries - 1))
        log.warning("%s work item %s (%s) waits for the database (try %d, again in "
                    "%.1fs): %s", self.platform, item.id, item.kind, tries, delay, exc)
        timer = threading.Timer(delay, self._ready.put, (item,))
        timer.daemon = True
        timer.start()

    def close(self, *, wait: bool = True) -> None:
        """Stop. With ``wait``, rows already queued are worked off first; without,
        they stay in the table for the next start."""
        self._stop.set()
        self._wake.set()
        if not wait:
            # Drop the in-memory queue: the rows wait in the table.
            while True:
                try:
                    self._ready.get_nowait()
                except queue.Empty:
                    break
        self._ready.put(None)
        for t in self._threads:
            t.join(30 if wait else 1)
        if self._sweeper is not None:
            self._sweeper.join(5)
        self._writes.put(None)  # after the workers: their last "done" marks land
        self._writer.join(10)
