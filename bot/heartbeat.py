"""This process's heartbeat in ``queue_instances`` (see :mod:`bot.queue`):
rows owned by an instance whose heartbeat is stale are claimable at once."""

from __future__ import annotations

import logging
import threading

from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from storage.base import utcnow
from storage.engine import dialect_insert
from storage.models import QueueInstance

log = logging.getLogger(__name__)


class Heartbeat:
    """This process's row in ``queue_instances``, refreshed every ``interval``
    seconds by a thread; ``stop()`` removes it. Rows owned by an instance whose
    heartbeat is older than a queue's ``stale`` are claimable at once."""

    def __init__(self, session_factory: sessionmaker[Session], instance: str, *,
                 interval: float = 2.0) -> None:
        self.session_factory = session_factory
        self.instance = instance
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def beat(self) -> None:
        """Write the heartbeat now (an upsert)."""
        now = utcnow()
        with self.session_factory() as session, session.begin():
            ins = dialect_insert(session.get_bind().dialect.name)(QueueInstance)
            session.execute(ins.values(id=self.instance, started_at=now, heartbeat_at=now)
                            .on_conflict_do_update(index_elements=["id"],
                                                   set_={"heartbeat_at": now}))

    def start(self) -> None:
        """Beat once now, then in a daemon thread."""
        self.beat()
        self._thread = threading.Thread(target=self._loop, name="queue-heartbeat", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.beat()
            except Exception as exc:  # noqa: BLE001 - the next beat retries
                log.warning("queue heartbeat failed: %s", exc)

    def stop(self) -> None:
        """Stop beating and remove the row (our rows are free at once)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        try:
            with self.session_factory() as session, session.begin():
                session.execute(delete(QueueInstance).where(QueueInstance.id == self.instance))
        except Exception as exc:  # noqa: BLE001 - a stale row frees them anyway
            log.warning("could not remove heartbeat of %s: %s", self.instance, exc)
