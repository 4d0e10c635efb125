"""Prometheus metrics of one Bot (prometheus-client), served at ``/metrics``.

A registry per Bot (no process-wide default registry: tests run several Bots).
Counters are kept in memory (jobs run); queue figures are read from the
database at scrape time (rows by status, the oldest pending row's age), so
every replica reports the shared queues the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.queue import QueueTable
from storage.base import utcnow
from storage.models import JobRun

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class _QueueCollector(Collector):
    def __init__(self, session_factory: sessionmaker[Session],
                 queues: Callable[[], Iterable[QueueTable]]) -> None:
        self.session_factory = session_factory
        self.queues = queues

    def collect(self) -> Iterator[GaugeMetricFamily]:
        depth = GaugeMetricFamily("convene_queue_rows", "Queue rows by queue and status",
                                  labels=["queue", "status"])
        oldest = GaugeMetricFamily("convene_queue_oldest_pending_seconds",
                                   "Age of the oldest pending row", labels=["queue"])
        last = GaugeMetricFamily("convene_job_last_success_timestamp_seconds",
                                 "When each job last finished without error",
                                 labels=["job"])
        try:
            now = utcnow()
            with self.session_factory() as session:
                for table in self.queues():
                    model, name = table.model, table.model.__tablename__
                    for status, n in session.execute(
                            select(model.status, func.count()).group_by(model.status)):
                        depth.add_metric([name, str(status)], float(n))
                    first = session.scalar(select(func.min(model.created_at))
                                           .where(model.status == "pending"))
                    oldest.add_metric([name], (now - first).total_seconds() if first else 0.0)
                for job, at in session.execute(
                        select(JobRun.job, func.max(JobRun.finished_at))
                        .where(JobRun.error.is_(None)).group_by(JobRun.job)):
                    if at is not None:
                        last.add_metric([str(job)], at.timestamp())
        except Exception as exc:  # noqa: BLE001 - a scrape must not fail on the database
            log.warning("metrics: database unreachable: %s", exc)
            return
        yield depth
        yield oldest
        yield last


class Metrics:
    """The Bot's registry. ``job_ran(job, ok=)`` counts a job run;
    ``render()`` is the text exposition format. ``queues()`` gives the leased
    queue tables reported at scrape time (labelled by table name)."""

    def __init__(self, session_factory: sessionmaker[Session] | None = None,
                 leader: Callable[[], bool] | None = None,
                 queues: Callable[[], Iterable[QueueTable]] = tuple) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.jobs = Counter("convene_job_runs", "Job runs by job and result",
                            ["job", "result"], registry=self.registry)
        self.leader = Gauge("convene_scheduler_leader",
                            "1 on the replica holding the scheduler lease",
                            registry=self.registry)
        if leader is not None:
            self.leader.set_function(lambda: 1.0 if leader() else 0.0)
        if session_factory is not None:
            self.registry.register(_QueueCollector(session_factory, queues))

    def job_ran(self, job: str, *, ok: bool) -> None:
        self.jobs.labels(job=job, result="ok" if ok else "error").inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)


def parse(text: str) -> dict[str, Any]:
    """``{sample name + labels: value}`` of an exposition (tests, diagnostics)."""
    from prometheus_client.parser import text_string_to_metric_families

    out: dict[str, Any] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(s.labels.items()))
            out[f"{s.name}{{{labels}}}"] = s.value
    return out
