"""Engine and session factories. Nothing is created at import time."""

from __future__ import annotations

import logging
import select
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

DEFAULT_URL = "sqlite:///./convene.db"

#: PostgreSQL connections are replaced after this long (seconds), before any
#: idle timeout between here and the server is likely to cut them.
POOL_RECYCLE_SECONDS = 1800

#: SQLite connections kept open, and opened beyond them at a peak (a file
#: handle and a page cache each, no server process: cheap).
SQLITE_POOL_SIZE = 16
SQLITE_POOL_OVERFLOW = 64

#: PostgreSQL connections kept open, and opened beyond them at a peak (50 at most).
PG_POOL_SIZE = 24
PG_POOL_OVERFLOW = 26

#: Seconds a new PostgreSQL connection may take (libpq ``connect_timeout``).
PG_CONNECT_TIMEOUT_SECONDS = 10


def normalise_url(url: str) -> str:
    """Map ``postgresql://`` and ``postgres://`` to the psycopg 3 driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _wal(cur: Any) -> None:
    """Put the file in WAL mode (it stays: later connections find it so).
    Switching takes a lock that SQLite's busy handler does not wait for: a
    second connection opening a new file meanwhile (a checkpointer's) failed
    at once with "database is locked" (CI, once). It is tried again for up to
    a second."""
    if str(cur.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
        return
    for attempt in range(50):
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == 49:
                raise
            time.sleep(0.02)

def make_engine(url: str = DEFAULT_URL, *, serialise_writers: bool = True,
                check_on_checkout: bool = True, **kwargs: Any) -> Engine:
    """Create an engine for ``url`` (SQLite file or PostgreSQL).

    SQLite gets WAL, foreign keys and a busy timeout so that several processes
    (``convene serve`` and a CLI command) can share the file, and (with
    ``serialise_writers``) one in-process queue for writers.
    """
    url = normalise_url(url)
    if url.startswith("sqlite"):
        path = make_url(url).database or ""
        on_disk = path not in ("", ":memory:") and not path.startswith("file::memory:")
        if on_disk:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {"timeout": 30})
        if on_disk and "poolclass" not in kwargs:
            # More than the pages served at once ([http] max_in_flight) plus the
            # inbox's writer and workers, the outbox and the jobs: with
            # SQLAlchemy's 5 + 10, 32 pages at once took every connection (holding them
            # while they waited for the writers' queue) and a dispatch, holding
            # the inbox's gate, waited for one: presses confirmed 10-50 s late.
            kwargs.setdefault("pool_size", SQLITE_POOL_SIZE)
            kwargs.setdefault("max_overflow", SQLITE_POOL_OVERFLOW)
            # Last in, first out: the few connections a steady load needs are the
            # ones reused, and only they fill a page cache and a statement cache
            # (up to 128 statements of tens of KB); in FIFO order every pooled
            # connection took its turn and each slowly filled its own.
            kwargs.setdefault("pool_use_lifo", True)
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            # pysqlite's own transaction handling emits BEGIN only before DML, so a
            # SAVEPOINT could start (and its RELEASE commit) a transaction of its own.
            # Take transaction control here instead (SQLAlchemy's documented recipe).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            _wal(cur)
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        if serialise_writers:
            _serialise_writers(engine)
        else:  # the old behaviour, kept for bench/sqlite_burst.py's baseline
            event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
        return engine
    # No ping on every checkout (a round trip per unit of work): connections are
    # recycled after POOL_RECYCLE_SECONDS, and a unit of work that finds its
    # connection dropped before writing anything is run again
    # (bot.app.Bot.dispatch); SQLAlchemy then invalidates the pool's older ones.
    kwargs.setdefault("pool_recycle", POOL_RECYCLE_SECONDS)
    # A server that does not answer (a hung server, a proxy with nothing behind
    # it) fails a connection attempt after this long instead of hanging.
    kwargs.setdefault("connect_args", {"connect_timeout": PG_CONNECT_TIMEOUT_SECONDS})
    # More kept than a steady load holds at once (8 pages, 8 chat workers, the
    # inbox's writer, the outbox, heartbeat, lease and jobs: about 20): with 10,
    # a soak at 200 requests in flight opened and closed 40 overflow connections
    # a minute (a server process forked for each). The ceiling is unchanged.
    # (Not LIFO, as SQLite's: after an outage the most recent connection, dead,
    # came back first again and again, and a press was refused once it was over.)
    kwargs.setdefault("pool_size", PG_POOL_SIZE)
    kwargs.setdefault("max_overflow", PG_POOL_OVERFLOW)
    engine = create_engine(url, **kwargs)
    if check_on_checkout:
        event.listen(engine, "checkout", _drop_closed_on_checkout)
    return engine


def _drop_closed_on_checkout(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
    """An idle connection has nothing to read unless the server said something
    unasked: a backend that was terminated, or a server that shut down, sends
    its FATAL message and closes the socket, which then polls readable. Such a
    connection is replaced before anything is sent on it (the pool retries the
    checkout), at the cost of one ``poll()`` instead of a ``SELECT 1`` round
    trip. A connection cut without a word (a network partition) is not seen
    here: the unit of work then fails and ``Bot.dispatch`` runs it again."""
    try:
        fd = dbapi_conn.fileno()
    except Exception:  # noqa: BLE001 - closed already: let the pool replace it
        raise exc.DisconnectionError("connection closed") from None
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLERR | select.POLLHUP)
    if poller.poll(0):
        raise exc.DisconnectionError("the server closed this connection while it was idle")


#: How long a writer of this process waits for another's transaction (as busy_timeout).
WRITER_WAIT_SECONDS = 30

#: Execution option of a unit of work that only reads (see :func:`read_only`).
READ_ONLY = "convene_read_only"


def read_only(engine: Engine) -> Engine:
    """``engine`` for units of work that only read: on SQLite they start a
    deferred transaction and never take the write lock (nor the in-process
    writers' lock); on PostgreSQL nothing changes. A write in such a unit of
    work may fail with "database is locked": do not write through it."""
    return engine.execution_options(**{READ_ONLY: True})


#: Urgent writers (see :func:`urgent_writes`) served in a row while another
#: writer waits, before that one gets a turn.
URGENT_RUN = 8

_urgent: ContextVar[bool] = ContextVar("convene_urgent_writes", default=False)


@contextmanager
def urgent_writes() -> Iterator[None]:
    """Units of work begun in this block (this thread) go ahead of other
    writers of this process in SQLite's writers' queue: the chat inbox's
    commits and dispatches, whose acknowledgements and confirmations a person
    waits on, no longer queue behind every page's write (at 50 requests in
    flight a dispatch waited behind 30 vote POSTs, twice per press). Others
    still get one turn after ``URGENT_RUN`` urgent ones. No effect on PostgreSQL."""
    token = _urgent.set(True)
    try:
        yield
    finally:
        _urgent.reset(token)


class FifoLock:
    """A lock granted in the order it was asked for (a ticket lock), urgent
    requests first: an urgent request goes before any waiting ordinary one,
    except that after ``urgent_run`` urgent grants in a row with an ordinary
    request waiting, that one goes next. Any thread may release it.
    ``acquire(timeout=...)`` returns False when not granted in time."""

    def __init__(self, urgent_run: int = URGENT_RUN) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._held = False
        self._next_ticket = 0
        self._urgent: deque[int] = deque()
        self._ordinary: deque[int] = deque()
        self._urgent_run = urgent_run
        self._run = 0  # urgent grants in a row while an ordinary request waited

    def _head(self) -> int | None:
        if self._urgent and (not self._ordinary or self._run < self._urgent_run):
            return self._urgent[0]
        if self._ordinary:
            return self._ordinary[0]
        return None

    def acquire(self, timeout: float | None = None, *, urgent: bool = False) -> bool:
        with self._cond:
            ticket = self._next_ticket
            self._next_ticket += 1
            line = self._urgent if urgent else self._ordinary
            line.append(ticket)
            granted = self._cond.wait_for(
                lambda: not self._held and self._head() == ticket, timeout)
            if not granted:
                line.remove(ticket)
                self._cond.notify_all()  # the next in line may be the head now
                return False
            line.popleft()
            self._held = True
            if not urgent or not self._ordinary:
                self._run = 0
            else:
                self._run += 1
            return True

    def release(self) -> None:
        with self._cond:
            self._held = False
            self._cond.notify_all()


def _serialise_writers(engine: Engine) -> None:
    """SQLite allows one writer at a time. Left to itself each waiting writer
    sleeps in SQLite's busy handler (1, 2, 5, ... 100 ms steps), so a burst of
    8 threads has a p99 near a second. Writers of this process queue instead on
    one lock taken before ``BEGIN IMMEDIATE`` and released when the transaction
    has committed or rolled back; other processes still wait on busy_timeout.
    IMMEDIATE takes the write lock up front, so two processes writing the same
    file queue instead of failing on lock upgrade. Read-only units of work
    (:func:`read_only`) start a deferred transaction and take neither lock."""
    # A first-come first-served lock, not owned by a thread: a transaction may end
    # on another thread than the one that began it (a connection rolled back when
    # the pool collects it), and a plain Lock lets a busy thread overtake waiters
    # again and again (p99 of an 8-thread burst near a second).
    lock = FifoLock()
    holders: set[int] = set()  # id() of the DBAPI connections holding the lock

    def _raw(connection: Any) -> int:
        # SQLAlchemy hands the dialect either the raw DBAPI connection or the
        # pool's proxy for it; both name the same lock holder.
        return id(getattr(connection, "dbapi_connection", connection))

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        if conn.get_execution_options().get(READ_ONLY):
            conn.exec_driver_sql("BEGIN")
            return
        key = _raw(conn.connection)
        if key not in holders:
            if not lock.acquire(timeout=WRITER_WAIT_SECONDS, urgent=_urgent.get()):
                raise TimeoutError(f"SQLite writers' lock not free after "
                                   f"{WRITER_WAIT_SECONDS} s: another unit of work is stuck")
            holders.add(key)
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            _release(conn.connection)
            raise

    def _release(connection: Any) -> None:
        key = _raw(connection)
        if key in holders:
            holders.discard(key)
            lock.release()

    @event.listens_for(engine, "invalidate")
    def _invalidated(dbapi: Any, _record: Any, _exc: Any) -> None:
        _release(dbapi)  # a dropped connection ends its transaction without a rollback

    @event.listens_for(engine, "close")
    def _closed(dbapi: Any, _record: Any) -> None:
        _release(dbapi)

    dialect = engine.dialect
    do_commit, do_rollback = dialect.do_commit, dialect.do_rollback

    def commit(connection: Any) -> None:
        try:
            do_commit(connection)
        finally:
            _release(connection)

    def rollback(connection: Any) -> None:
        try:
            do_rollback(connection)
        finally:
            _release(connection)

    # The dialect instance belongs to this engine alone: wrapping its methods
    # releases the lock after the COMMIT has returned, not before.
    dialect.do_commit = commit  # type: ignore[method-assign,assignment]
    dialect.do_rollback = rollback  # type: ignore[method-assign,assignment]


def dialect_insert(dialect_name: str) -> Any:
    """The ``insert()`` of ``dialect_name`` (PostgreSQL or SQLite): the one with
    ``on_conflict_do_nothing`` / ``on_conflict_do_update``, which both share."""
    if dialect_name == "postgresql":
        return postgresql.insert
    if dialect_name == "sqlite":
        return sqlite.insert
    raise ValueError(f"no ON CONFLICT insert for the {dialect_name!r} dialect")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory; callers open one session per unit of work.

    ``session.info`` memos (e.g. a person's roles) are dropped at the end of
    every transaction, so they never outlive the unit of work that made them.
    """
    factory = sessionmaker(bind=engine, expire_on_commit=False)

    @event.listens_for(factory, "after_transaction_end")
    def _forget(session: Session, transaction: Any) -> None:
        if transaction.parent is None:
            session.info.clear()

    return factory
