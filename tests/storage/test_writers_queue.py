"""storage/engine.py's writers' queue on SQLite: first come first served, the
chat inbox's units of work (urgent) before the pages' writes, which still get
a turn after a run of urgent ones."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from sqlalchemy import text

from storage.engine import FifoLock, make_engine, urgent_writes


def _queued(lock: FifoLock, n: int) -> None:
    deadline = time.monotonic() + 5
    while len(lock._urgent) + len(lock._ordinary) < n:
        assert time.monotonic() < deadline
        time.sleep(0.005)


def _take(lock: FifoLock, name: str, order: list[str], *, urgent: bool) -> threading.Thread:
    def run() -> None:
        assert lock.acquire(5, urgent=urgent)
        order.append(name)
        lock.release()

    t = threading.Thread(target=run)
    t.start()
    return t


def test_urgent_requests_go_first_and_ordinary_ones_after_a_run() -> None:
    lock = FifoLock(urgent_run=2)
    order: list[str] = []
    assert lock.acquire()
    threads = []
    for i, (name, urgent) in enumerate([("page 1", False), ("page 2", False),
                                        ("chat 1", True), ("chat 2", True),
                                        ("chat 3", True)]):
        threads.append(_take(lock, name, order, urgent=urgent))
        _queued(lock, i + 1)
    lock.release()
    for t in threads:
        t.join(5)
    # two urgent ones in a row, then the oldest page, then the rest in turn
    assert order == ["chat 1", "chat 2", "page 1", "chat 3", "page 2"]


def test_a_request_that_times_out_leaves_the_line() -> None:
    lock = FifoLock()
    assert lock.acquire()
    assert lock.acquire(0.05, urgent=True) is False
    order: list[str] = []
    t = _take(lock, "page", order, urgent=False)
    _queued(lock, 1)
    lock.release()
    t.join(5)
    assert order == ["page"] and not lock._urgent and not lock._ordinary


def test_an_urgent_unit_of_work_overtakes_waiting_writers(tmp_path: Path) -> None:
    """Through a real SQLite engine: a page's transaction holds the writers'
    queue, another waits; the inbox's unit of work begun after it goes first."""
    engine = make_engine(f"sqlite:///{tmp_path / 'q.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (who TEXT)"))
    order: list[str] = []

    def write(name: str, urgent: bool) -> None:
        def unit() -> None:
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO t VALUES (:w)"), {"w": name})
                order.append(name)
        if urgent:
            with urgent_writes():
                unit()
        else:
            unit()

    holder = engine.connect()
    holder.begin()  # the writers' queue is held
    page = threading.Thread(target=write, args=("page", False))
    page.start()
    time.sleep(0.1)
    chat = threading.Thread(target=write, args=("chat", True))
    chat.start()
    time.sleep(0.1)
    holder.commit()
    holder.close()
    page.join(5)
    chat.join(5)
    engine.dispose()
    assert order == ["chat", "page"]
