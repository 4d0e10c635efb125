"""Jobs that run once, whoever runs them: two Bots on one database, only the
lease holder fires; a tick is one job_runs row; when the holder's connection
dies the other takes the lease within its check window."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import func, select, text

from bot.app import Bot
from bot.jobs import Scheduler, fire
from bot.metrics import parse
from bot.registry import JobSpec
from bot.web import create_web_app
from storage.models import JobRun


def _runs(bot: Bot) -> list[tuple[str, datetime]]:
    with bot.session_factory() as s:
        # The test's own jobs (t.*): the capabilities' jobs may run too (a new
        # holder runs their missed tick when it takes the lease).
        return [(j, at) for j, at in s.execute(select(JobRun.job, JobRun.scheduled_for)
                                               .where(JobRun.job.like("t.%"))
                                               .order_by(JobRun.scheduled_for))]


def test_a_tick_runs_once_even_if_fired_on_two_replicas(bot: Bot) -> None:
    ran: list[int] = []
    spec = JobSpec(id="t.once", func=lambda b: ran.append(1), trigger="interval",
                   trigger_args={"seconds": 60})
    bot.leadership.check()
    assert bot.leadership.is_leader()
    tick = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
    try:
        assert fire(bot, spec, tick) and not fire(bot, spec, tick)
        assert ran == [1] and _runs(bot) == [("t.once", tick)]
        text_out = create_web_app(bot).state.bot.metrics.render().decode()
        assert parse(text_out)["convene_job_runs_total{job=t.once,result=ok}"] == 1.0
    finally:
        bot.leadership.stop()


def test_only_the_lease_holder_fires_and_the_lease_passes_on_when_it_dies(
        make_bot: Callable[..., Bot], db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        # SQLite is the embedded, one-process default: that process holds the lease.
        solo = make_bot(db_url, roster=None)
        assert solo.leadership.check() and solo.leadership.is_leader()
        return
    calls: list[str] = []
    lock = threading.Lock()

    def job(b: Bot) -> None:
        with lock:
            calls.append(b.instance_id)

    bots = [make_bot(db_url, roster=None, jobs={"lease_check_seconds": 0.3},
                     queue={"instance_id": name}) for name in ("a", "b")]
    schedulers = []
    for b in bots:
        b.registry.job("t.every", job, trigger="interval", seconds=1)
        b.leadership.start()
        sch = Scheduler(b)
        sch.start()
        schedulers.append(sch)
    try:
        leaders = [b for b in bots if b.leadership.is_leader()]
        assert len(leaders) == 1
        leader, other = leaders[0], next(b for b in bots if b is not leaders[0])
        time.sleep(3.2)
        with lock:  # a tick may be claimed (its row written) and wait here to append
            assert calls and set(calls) == {leader.instance_id}
            runs = _runs(leader)
            assert len(runs) == len(set(runs)) and len(calls) <= len(runs) <= len(calls) + 1
        # The holder dies: its lease connection is gone (as when its process is killed).
        with other.engine.connect() as conn:
            conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
                "AND objid = :k AND pid <> pg_backend_pid() AND database = "
                "(SELECT oid FROM pg_database WHERE datname = current_database())"),
                {"k": leader.settings.jobs.lock_key})
        started = time.monotonic()
        while not other.leadership.is_leader():
            assert time.monotonic() - started < 3, "the lease did not pass on"
            time.sleep(0.05)
        leader.leadership.check()  # the old holder notices it lost the lease
        assert not leader.leadership.is_leader()
        time.sleep(2.2)
        # Stop firing before counting: a tick fired between the count and
        # len(calls) would show one call more than rows (CI once saw 6 == 7).
        while schedulers:
            schedulers.pop().shutdown(wait=True)
        with lock:
            assert other.instance_id in calls
        with leader.session_factory() as s:
            own = JobRun.job.like("t.%")
            n = s.scalar(select(func.count()).select_from(JobRun).where(own))
            distinct = s.scalar(select(func.count(func.distinct(JobRun.scheduled_for)))
                                .where(own))
        assert n == distinct == len(calls)
    finally:
        for sch in schedulers:
            sch.shutdown()
        for b in bots:
            b.leadership.stop()
