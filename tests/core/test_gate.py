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
