"""2,000 outbox rows drained by two ``convene serve`` replicas on one
PostgreSQL database, one SIGKILLed mid-send: every row reaches the loopback
SMTP server exactly once and ends ``sent``.

The kill lands while the replica waits for the server's answer to a message
(the sink kills it on that message and refuses it), i.e. after earlier messages
of the same batch were accepted. The window that no queue can close, a kill
between the server's 250 and the commit that records it, is not provoked; a
message sent twice from there carries the same Message-ID."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from storage.engine import make_engine, make_session_factory
from storage.models import OutboxMessage
from tests.conftest import need
from tests.replica_helpers import (
    CountingSink,
    Replica,
    drop_database,
    enqueue_load,
    scratch_database,
    sent_count,
)

ROWS = 2000


def test_two_replicas_drain_2000_rows_exactly_once_across_a_sigkill(tmp_path: Path) -> None:
    try:
        admin_url, url = scratch_database("convene_outbox")
    except Exception as exc:  # noqa: BLE001
        need(False, f"PostgreSQL not reachable: {exc}")
        return
    replicas: dict[str, Replica] = {}
    sink = CountingSink(kill_at=("a@replicas.example", 300, lambda: replicas["a"].proc.kill()))
    sink.start()
    engine = make_engine(url)
    try:
        for name in ("a", "b"):
            replicas[name] = Replica(name, db_url=url, cwd=tmp_path, smtp_port=sink.port)
        for r in replicas.values():
            r.ready()
        sf = make_session_factory(engine)
        enqueue_load(sf, ROWS)
        deadline = time.monotonic() + 120  # a loaded 2-core machine drains ~40/s
        sent = 0
        while time.monotonic() < deadline:
            sent = sent_count(sf)
            if sent == ROWS:
                break
            time.sleep(0.2)
        time.sleep(0.5)  # anything sent twice would arrive by now
        assert replicas["a"].proc.poll() == -9, "replica a was not killed mid-way"
        assert sent == ROWS, replicas["b"].output()[-3000:]
        assert sink.by_sender["a@replicas.example"] >= 299
        assert sink.by_sender["b@replicas.example"] > 0
        expected = {f"<load-{i}@replicas.example>" for i in range(ROWS)}
        assert set(sink.by_id) == expected, "a row was lost"
        doubled = {mid: n for mid, n in sink.by_id.items() if n > 1}
        assert not doubled, f"{len(doubled)} row(s) delivered twice"
        with sf() as session:
            owners = dict(session.execute(select(OutboxMessage.owner, func.count())
                                          .group_by(OutboxMessage.owner)).all())
        assert set(owners) <= {"a", "b"}
    finally:
        for r in replicas.values():
            r.stop()
        sink.stop()
        engine.dispose()
        drop_database(admin_url, url)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(pytest.main([__file__, "-q"]))
