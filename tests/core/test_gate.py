"""bot/gate.py: the inbox's writer goes first, but never keeps dispatches out."""

from __future__ import annotations

import threading
import time

from bot.gate import Gate


def test_a_writer_goes_before_waiting_workers_and_a_worker_after_each_writer() -> None:
    gate = Gate(enabled=True)
    order: list[str] = []
    worker_done = threading.Event()

    def worker() -> None:
        with gate.worker():
            order.append("worker")
        worker_done.set()

    def writer(name: str) -> None:
        with gate.writer():
            order.append(name)
            time.sleep(0.05)

    with gate.writer():  # a writer's turn, with a worker and another writer waiting
        w = threading.Thread(target=worker)
        w.start()
        time.sleep(0.05)
        second = threading.Thread(target=writer, args=("writer 2",))
        second.start()
        time.sleep(0.05)
        order.append("writer 1")
    # the worker waited one writer's turn: it goes before the second writer
    w.join(5)
    second.join(5)
    assert order == ["writer 1", "worker", "writer 2"]

    order.clear()
    with gate.worker():  # a worker's turn: a waiting writer goes before a waiting worker
        t1 = threading.Thread(target=writer, args=("writer",))
        t1.start()
        time.sleep(0.05)
        t2 = threading.Thread(target=worker)
        t2.start()
        time.sleep(0.05)
        order.append("first worker")
    t1.join(5)
    t2.join(5)
    assert order == ["first worker", "writer", "worker"]


def test_a_writer_always_wanting_in_does_not_starve_workers() -> None:
    gate = Gate(enabled=True)
    stop = threading.Event()
    served = threading.Event()

    def writers() -> None:
        while not stop.is_set():
            with gate.writer():
                time.sleep(0.002)

    threads = [threading.Thread(target=writers) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        def worker() -> None:
            with gate.worker():
                served.set()

        threading.Thread(target=worker).start()
        assert served.wait(5)
    finally:
        stop.set()
        for t in threads:
            t.join(5)


def test_disabled_it_is_no_lock() -> None:
    gate = Gate(enabled=False)
    with gate.writer(), gate.worker(), gate.writer():
        pass


def _waiting(gate: Gate, tickets: int) -> None:
    """Until ``tickets`` workers have taken a ticket."""
    deadline = time.monotonic() + 5
    while gate._next_ticket - gate._serving < tickets:
        assert time.monotonic() < deadline
        time.sleep(0.005)


def test_after_a_writer_the_waiting_workers_go_in_order_up_to_a_run() -> None:
    """One dispatch per writer's turn held the dispatch rate to the writer's
    commit rate; a run of the workers then waiting, first come first served,
    each going once (no thread overtaken by luck)."""
    gate = Gate(enabled=True, run=3)
    order: list[str] = []
    threads: list[threading.Thread] = []

    def worker(name: str) -> None:
        with gate.worker():
            order.append(name)

    def writer(name: str) -> None:
        with gate.writer():
            order.append(name)

    with gate.writer():
        for i in range(4):
            t = threading.Thread(target=worker, args=(f"w{i}",))
            t.start()
            threads.append(t)
            _waiting(gate, i + 1)
        late = threading.Thread(target=writer, args=("writer 2",))
        late.start()
        threads.append(late)
        while not gate._writers:
            time.sleep(0.005)
        order.append("writer 1")
    for t in threads:
        t.join(5)
    # a run of three workers, in the order they came, then the waiting writer
    assert order == ["writer 1", "w0", "w1", "w2", "writer 2", "w3"]


def test_a_turn_through_the_gate_is_urgent_in_the_writers_queue() -> None:
    from storage import engine

    gate = Gate(enabled=True)
    assert engine._urgent.get() is False
    with gate.worker():
        assert engine._urgent.get() is True
    with gate.writer():
        assert engine._urgent.get() is True
    assert engine._urgent.get() is False
    with Gate(enabled=False).worker():  # PostgreSQL: nothing to put first
        assert engine._urgent.get() is False
