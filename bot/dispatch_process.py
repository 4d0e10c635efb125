"""A durable inbox worked off in a process of its own.

In one process the acknowledgement (event loop, the inbox's group-commit
writer) and the dispatch (the workers: the stance, the reply's rendering)
share one interpreter lock: with eight workers busy, an acknowledgement
waited for the lock at every step, and its p99 on PostgreSQL was 154 ms
against a target of 100 (the chat acknowledgement bench). Here the HTTP process only writes
and acknowledges; a child process (``multiprocessing``, spawned) builds its
own Bot and runs the inbox's workers, its sweep and an outbox worker.

The hand-off, per group commit:

1. the parent's writer inserts the rows claimed by the child's instance id
   (``<instance>/<platform>``) with the parent's claim token;
2. a sender thread pipes the rows (id, kind, payload, token, attempts) to the
   child, whose reader thread queues them for its workers; the child marks
   them done through its own writer (the token travels with the row).

Crashes. The child dies with the parent (``PR_SET_PDEATHSIG``, and a watch of
its parent's pid). When the child dies alone the parent starts another (after
a back-off: 0.5 s doubling to 30 s); the new child says it is ready, then
puts every row its instance id still holds back to pending and sweeps them
up, so rows piped to the dead child, or inserted while none was ready, are
worked; a row both piped and swept is worked twice and acts once
(``Bot.dispatch`` dedupes by event id). A kill -9 of the parent leaves rows
held by both ids; the restarted parent and its child take them back, as one
process did.

Backpressure: every ``PUBLISH_SECONDS`` the child publishes its inbox's
:meth:`bot.inbox.Inbox.retry_after` in shared memory, and the parent's
endpoint refuses (503, Retry-After) on it; while no child is ready the
endpoint refuses with ``Retry-After: 1``.

Only with PostgreSQL: on SQLite (one writer) two processes would wait on each
other in SQLite's busy back-off, which the in-process gate avoids.
"""

from __future__ import annotations

import ctypes
import importlib
import logging
import math
import multiprocessing as mp
import os
import queue
import signal
import threading
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable
    from multiprocessing.connection import Connection

    from bot.app import Bot
    from bot.inbox import Inbox
    from bot.inbox_item import InboxItem
    from bot.settings import Settings

log = logging.getLogger(__name__)

#: How often the child publishes its backlog's Retry-After (seconds).
PUBLISH_SECONDS = 0.02
#: A child that dies is started again after this, doubled each time (to 30 s).
RESPAWN_SECONDS = 0.5
#: How long a stopping parent waits for its child to finish what it holds.
STOP_SECONDS = 15.0
#: Rows piped in one message.
PIPE_BATCH = 64
#: Group commits waiting for the pipe past which the endpoint refuses (a child
#: alive but not reading would otherwise be handed work it never sees).
STUCK_BATCHES = 64

_PR_SET_PDEATHSIG = 1


def child_instance(instance: str, platform: str) -> str:
    """The child's instance id: ``<instance>/<platform>`` (at most 48 characters,
    so its claim tokens fit ``claimed_by``)."""
    return f"{instance[:47 - len(platform)]}/{platform}"


class DispatchProcess:
    """The parent's side: starts the child, pipes it the rows ``inbox`` writes
    and answers ``retry_after`` from what the child publishes. ``factory`` is
    ``"module:function"``, a function ``(bot) -> Inbox`` (workers not started)
    that the child calls on its own Bot. Attaching makes ``inbox`` write its
    rows as held by the child (its ``queue.instance``) and hand them here."""

    def __init__(self, bot: Bot, inbox: Inbox, *, factory: str) -> None:
        self.settings = bot.settings
        self.factory = factory
        self.instance = child_instance(bot.instance_id, inbox.platform)
        self.platform = inbox.platform
        inbox.queue.instance = self.instance
        inbox.remote = self
        self._ctx = mp.get_context("spawn")
        self._retry = self._ctx.Value("d", 0.0, lock=False)
        self._ready = self._ctx.Event()
        self._out: queue.SimpleQueue[list[InboxItem] | None] = queue.SimpleQueue()
        self._conn: Connection | None = None
        self._proc: Any = None
        self._stop = threading.Event()
        self._monitor = threading.Thread(target=self._run, name=f"{self.platform}-dispatch-proc",
                                         daemon=True)
        self._sender = threading.Thread(target=self._send_loop,
                                        name=f"{self.platform}-dispatch-pipe", daemon=True)

    # -- the inbox's side (remote protocol of bot.inbox) ---------------------------------
    def send(self, items: list[InboxItem]) -> None:
        """Pipe ``items`` (committed, held by the child's id) to the child."""
        if items:
            self._out.put(items)

    def retry_after(self) -> int | None:
        """Seconds a sender should wait (the child's backlog is past its limit,
        no child is ready, or more than ``STUCK_BATCHES`` writes wait for the
        pipe), else None."""
        if not self._ready.is_set() or self._out.qsize() > STUCK_BATCHES:
            return 1  # no child, or one that stopped reading its pipe
        wait = self._retry.value
        return math.ceil(wait) if wait > 0 else None

    # -- lifecycle ---------------------------------------------------------------------
    def start(self, *, wait: float = 60.0) -> DispatchProcess:
        """Start the child (and restart it whenever it dies) and wait up to
        ``wait`` seconds for it to be ready. Raises RuntimeError if it is not."""
        self._sender.start()
        self._monitor.start()
        deadline = time.monotonic() + wait
        while not self._ready.wait(0.1):
            proc = self._proc
            if proc is not None and proc.exitcode is not None:
                self._stop.set()
                raise RuntimeError(f"the {self.platform} dispatch process exited with "
                                   f"{proc.exitcode} before it was ready (its log is above)")
            if time.monotonic() > deadline:
                self.close(wait=1)
                raise RuntimeError(f"the {self.platform} dispatch process was not ready in "
                                   f"{wait:.0f}s")
        return self

    def _spawn(self) -> None:
        recv, send = self._ctx.Pipe(duplex=False)
        settings = self.settings.model_copy(update={"queue": self.settings.queue.model_copy(
            update={"instance_id": self.instance})})
        proc = self._ctx.Process(
            target=child_main, name=f"convene-{self.platform}-dispatch", daemon=True,
            args=(portable(settings), self.factory, recv, self._retry, self._ready, os.getpid(),
                  logging.getLogger().level))
        proc.start()
        recv.close()  # the child's end
        self._conn, self._proc = send, proc
        log.info("%s dispatch process started (pid %d, instance %s)", self.platform, proc.pid,
                 self.instance)

    def _run(self) -> None:
        # The child is spawned from this thread, which lives as long as the
        # process: PR_SET_PDEATHSIG fires when the spawning *thread* ends.
        delay = RESPAWN_SECONDS
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                self._spawn()
            except Exception:
                log.exception("the %s dispatch process could not be started", self.platform)
                if self._stop.wait(delay):
                    return
                delay = min(30.0, delay * 2)
                continue
            self._proc.join()
            self._ready.clear()
            self._retry.value = 0.0
            if self._stop.is_set():
                return
            log.error("the %s dispatch process (pid %s) exited with %s; starting another",
                      self.platform, self._proc.pid, self._proc.exitcode)
            if time.monotonic() - started > 60:
                delay = RESPAWN_SECONDS
            if self._stop.wait(delay):
                return
            delay = min(30.0, delay * 2)

    def _send_loop(self) -> None:
        while True:
            items = self._out.get()
            conn = self._conn
            if items is None:
                if conn is not None:
                    try:
                        conn.send(None)
                    except OSError:
                        pass
                return
            if conn is None or not self._ready.is_set():
                continue  # the next child takes them back (see the module's docstring)
            rows = [(i.id, i.kind, i.payload, i.token, i.attempts) for i in items]
            try:
                for at in range(0, len(rows), PIPE_BATCH):
                    conn.send(rows[at:at + PIPE_BATCH])
            except OSError as exc:
                log.warning("the %s dispatch process is gone (%s): %d row(s) left for the "
                            "next one", self.platform, exc, len(rows))

    def close(self, *, wait: float = STOP_SECONDS) -> None:
        """Stop the child once it has worked what it holds (at most ``wait``
        seconds, then it is killed)."""
        self._stop.set()
        self._out.put(None)
        self._sender.join(5)
        proc = self._proc
        if proc is not None:
            proc.join(wait)
            if proc.is_alive():
                log.error("the %s dispatch process did not stop in %.0fs: killed",
                          self.platform, wait)
                proc.kill()
                proc.join(5)
        self._monitor.join(5)


# -- the child ---------------------------------------------------------------------------
def _die_with_parent(parent: int) -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the watch below does it
        pass
    if os.getppid() != parent:  # the parent died before the signal was set
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def portable(settings: Settings) -> dict[str, Any]:
    """``settings`` as plain data a spawned process can unpickle (a class made
    by :func:`bot.settings.load_settings` cannot be): the fields and every
    plugin's section; :meth:`Settings.model_validate` makes them again, reading
    neither the environment nor a file."""
    from bot.settings import plugin_sections

    data = settings.model_dump()
    for name, model in plugin_sections().items():
        data[name] = settings.section(name, model)
    return data


def _resolve(factory: str) -> Callable[[Bot], Inbox]:
    module, _, name = factory.partition(":")
    fn: Callable[[Bot], Inbox] = getattr(importlib.import_module(module), name)
    return fn


def child_main(data: dict[str, Any], factory: str, conn: Connection, retry: Any,
               ready: Any, parent: int, log_level: int) -> None:
    """The child's body: build the Bot, take back what this id held, work
    what is piped until the parent sends None (or the pipe closes)."""
    _die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops it (Ctrl-C hits both)
    logging.basicConfig(level=log_level,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from bot.compose import build_app
    from bot.heartbeat import Heartbeat
    from bot.inbox_item import InboxItem
    from bot.serve import release_own_rows
    from bot.settings import Settings

    settings = Settings.model_validate(data)
    bot = build_app(settings)
    inbox = _resolve(factory)(bot)
    heartbeat = Heartbeat(bot.session_factory, bot.instance_id,
                          interval=settings.queue.heartbeat_seconds)
    heartbeat.start()
    outbox = bot.new_worker()
    outbox.start()
    stop = threading.Event()

    def publish() -> None:
        while not stop.wait(PUBLISH_SECONDS):
            try:
                retry.value = float(inbox.retry_after() or 0)
            except Exception:
                log.exception("publishing the %s backlog", inbox.platform)

    threading.Thread(target=publish, name="backlog-publish", daemon=True).start()
    ready.set()
    # After "ready": what the parent wrote before is taken back here (and the
    # outbox rows a killed child held), what it writes from now on comes
    # through the pipe.
    release_own_rows(bot)
    inbox.start()
    try:
        while True:
            rows = conn.recv()
            if rows is None:
                break
            inbox.enqueue([InboxItem(*row) for row in rows])
    except EOFError:
        log.warning("%s dispatch: the parent's pipe closed", inbox.platform)
    finally:
        stop.set()
        inbox.close(wait=True)
        outbox.stop()
        heartbeat.stop()
        bot.engine.dispose()
