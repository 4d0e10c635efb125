"""A PostgreSQL server that accepts the TCP connection and never answers
(a hung server, a proxy with nothing behind it) fails the connection after
``PG_CONNECT_TIMEOUT_SECONDS``, not after the operating system's minutes."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from storage import engine as engine_module


@pytest.fixture()
def silent_server() -> Iterator[int]:
    """A loopback port that accepts connections and never says a word."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                held.append(conn)
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


def test_a_silent_server_fails_the_connection_in_time(silent_server: int,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_module, "PG_CONNECT_TIMEOUT_SECONDS", 2)
    eng = engine_module.make_engine(f"postgresql://u@127.0.0.1:{silent_server}/db")
    started = time.monotonic()
    with pytest.raises(OperationalError), eng.connect() as conn:
        conn.execute(text("SELECT 1"))
    took = time.monotonic() - started
    eng.dispose()
    # libpq may try the address twice (with and without SSL): at most 2 x the timeout
    assert took < 6, f"took {took:.1f} s"
