"""Periodic jobs that run once, whoever runs them.

Jobs are defined in code (:class:`~bot.registry.JobSpec`, registered by a
capability's ``install`` through :meth:`bot.registry.Registry.job`). Every
replica runs APScheduler 3 with the in-memory job store (its FAQ forbids
sharing a persistent store between processes), but a firing does work only on
the replica that holds the scheduler lease (:class:`bot.lease.Leadership`: a
PostgreSQL session advisory lock on a dedicated connection; on SQLite the one
process always holds it). A firing first
inserts a ``job_runs`` row keyed ``(job, scheduled_for)`` with ``ON CONFLICT
DO NOTHING`` and runs only if it inserted it, so two holders overlapping during
a fail-over run a tick once. What is due (a round's close, a reminder) is a
domain row with a due time that the job claims; nothing is pickled.

``bot.leadership.is_leader()`` and ``bot.leadership.on_change(callback)`` are
for plugins whose connection must be one per bot (a chat platform's
socket or gateway): open it on gain, close it on loss.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import update

from bot.registry import JobSpec
from storage.base import utcnow
from storage.engine import dialect_insert
from storage.models import JobRun

if TYPE_CHECKING:
    from bot.app import Bot

log = logging.getLogger(__name__)

#: Interval jobs count their ticks from here on every replica, so two replicas
#: agree on each tick's ``scheduled_for``.
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def claim_run(bot: Bot, job: str, scheduled_for: datetime) -> int | None:
    """Insert the ``job_runs`` row of this firing; its id, or None when another
    replica (or an earlier firing) has it."""
    with bot.session_factory() as session, session.begin():
        ins = dialect_insert(session.get_bind().dialect.name)(JobRun).values(
            job=job, scheduled_for=scheduled_for, instance=bot.instance_id,
            started_at=utcnow()).on_conflict_do_nothing(
            index_elements=["job", "scheduled_for"]).returning(JobRun.id)
        row = session.execute(ins).first()
    return int(row[0]) if row else None


def fire(bot: Bot, spec: JobSpec, scheduled_for: datetime) -> bool:
    """Run ``spec`` for the tick ``scheduled_for`` (aware UTC) if this replica
    holds the lease and no one ran that tick. Returns whether it ran."""
    if not bot.leadership.is_leader():
        return False
    run_id = claim_run(bot, spec.id, scheduled_for)
    if run_id is None:
        return False
    error: str | None = None
    try:
        spec.func(bot, **spec.kwargs)
    except Exception as exc:
        log.exception("job %s (%s) failed", spec.id, scheduled_for.isoformat())
        error = f"{type(exc).__name__}: {exc}"[:2000]
    with bot.session_factory() as session, session.begin():
        session.execute(update(JobRun).where(JobRun.id == run_id)
                        .values(finished_at=utcnow(), error=error))
    bot.metrics.job_ran(spec.id, ok=error is None)
    return True


def _tick_of(trigger: Any, now: datetime) -> datetime:
    """The scheduled time of the firing happening ``now``: the first fire time
    at or after ``now`` less a margin (half the interval, at most 30 s)."""
    margin = timedelta(seconds=30)
    if isinstance(trigger, IntervalTrigger):
        margin = min(margin, trigger.interval / 2)
    when = trigger.get_next_fire_time(None, now - margin)
    return (when or now).astimezone(UTC).replace(microsecond=0)


TRIGGERS: dict[str, type[BaseTrigger]] = {"interval": IntervalTrigger, "cron": CronTrigger,
                                          "date": DateTrigger}


def make_trigger(spec: JobSpec) -> BaseTrigger:
    """The APScheduler trigger of ``spec`` (interval ticks counted from
    :data:`EPOCH` unless ``start_date`` is given). Raises KeyError on an
    unknown trigger name."""
    args = dict(spec.trigger_args)
    if spec.trigger == "interval":
        args.setdefault("start_date", EPOCH)
        args.setdefault("timezone", UTC)
    return TRIGGERS[spec.trigger](**args)


def last_tick(trigger: Any, now: datetime, *, grace: timedelta) -> datetime | None:
    """The latest scheduled time of ``trigger`` in ``(now - grace, now]``, or None."""
    when = trigger.get_next_fire_time(None, now - grace)
    last = None
    while when is not None and when <= now:
        last = when
        when = trigger.get_next_fire_time(when, when + timedelta(microseconds=1))
    return last.astimezone(UTC).replace(microsecond=0) if last is not None else None


def catch_up(bot: Bot, triggers: list[tuple[JobSpec, Any]], now: datetime, *,
             grace: timedelta) -> int:
    """On gaining the lease: run each job's latest tick of the last ``grace``
    that nobody ran (its holder died before it, and this replica's own
    firing was skipped as a follower). A tick the old holder ran has its
    ``job_runs`` row and is not run again. Returns how many ran."""
    n = 0
    for spec, trigger in triggers:
        tick = last_tick(trigger, now, grace=grace)
        if tick is not None and fire(bot, spec, tick):
            log.info("job %s: ran the missed tick %s after taking the lease", spec.id,
                     tick.isoformat())
            n += 1
    return n


class Scheduler:
    """APScheduler 3 (in-memory) firing ``bot.registry.jobs`` through :func:`fire`; on
    gaining the lease, it first runs the ticks missed since the holder died
    (:func:`catch_up`)."""

    grace = timedelta(hours=1)

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self.triggers: list[tuple[JobSpec, Any]] = []
        self.scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(4)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
            timezone="UTC",
        )

    def _run(self, spec: JobSpec, trigger: Any) -> None:
        fire(self.bot, spec, _tick_of(trigger, datetime.now(UTC)))

    def _gained(self, leader: bool) -> None:
        if leader:
            self.scheduler.add_job(partial(catch_up, self.bot, self.triggers,
                                           datetime.now(UTC), grace=self.grace))

    def start(self) -> None:
        """Add every job of ``bot.registry.jobs`` and start firing."""
        self.triggers = [(spec, make_trigger(spec)) for spec in self.bot.registry.jobs]
        for spec, trigger in self.triggers:
            self.scheduler.add_job(partial(self._run, spec, trigger), trigger, id=spec.id,
                                   replace_existing=True)
        self.scheduler.start()
        self.bot.leadership.on_change(self._gained)
        log.info("scheduler started with %d job(s)", len(self.bot.registry.jobs))

    def shutdown(self, *, wait: bool = False) -> None:
        """Stop firing."""
        self.scheduler.shutdown(wait=wait)


#: Test-only: ``"<start ISO 8601>,<speed>,<file>"`` runs the jobs on a
#: simulated clock: it shows ``start`` until ``file`` holds a wall-clock epoch
#: (seconds), then runs ``speed`` times faster from that moment, so replicas
#: given the same value agree on the time. Leases, heartbeats and the outbox
#: keep the wall clock.
SIMULATED_CLOCK_ENV = "CONVENE_SIMULATED_CLOCK"


class SimulatedScheduler:
    """The jobs of ``bot.registry.jobs`` fired in order on a fast clock (tests of a week
    in seconds): the same :func:`fire` and :func:`catch_up` as
    :class:`Scheduler`, with :data:`storage.base.CLOCK` set in its thread so
    jobs see the simulated time."""

    def __init__(self, bot: Bot, *, start: datetime, speed: float, epoch_file: Path) -> None:
        self.bot = bot
        self.start_at = start
        self.speed = speed
        self.epoch_file = epoch_file
        self._epoch: float | None = None
        self._next_look = 0.0
        self._pinned: datetime | None = None
        self.triggers = [(spec, make_trigger(spec)) for spec in bot.registry.jobs]
        self._gain = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="sim-scheduler", daemon=True)

    def now(self) -> datetime:
        """The simulated time (aware UTC)."""
        if self._epoch is None:
            if time.monotonic() < self._next_look:
                return self.start_at
            self._next_look = time.monotonic() + 0.05
            try:
                self._epoch = float(self.epoch_file.read_text())
            except (OSError, ValueError):
                return self.start_at
        elapsed = max(0.0, time.time() - self._epoch)
        return self.start_at + timedelta(seconds=elapsed * self.speed)

    def _gained(self, leader: bool) -> None:
        if leader:
            self._gain.set()

    def _fire(self, spec: JobSpec, due: datetime) -> None:
        # The job sees the time of its tick, as if it ran on time: at this speed
        # a 10 ms job would otherwise run five simulated minutes late.
        self._pinned = due
        try:
            fire(self.bot, spec, due.astimezone(UTC).replace(microsecond=0))
        finally:
            self._pinned = None

    def _replay(self, nexts: dict[str, datetime | None]) -> None:
        """On gaining the lease: every tick since the job's last recorded run, in
        order. A real fail-over gap (seconds) is far shorter than a tick, which
        :func:`catch_up` covers; here it lasts simulated hours, and replaying
        models the short real gap rather than the compressed one."""
        from sqlalchemy import func, select

        now = self.now()
        for spec, trigger in self.triggers:
            with self.bot.session_factory() as session:
                last = session.scalar(select(func.max(JobRun.scheduled_for))
                                      .where(JobRun.job == spec.id))
            tick = (trigger.get_next_fire_time(last, last + timedelta(microseconds=1))
                    if last is not None
                    else trigger.get_next_fire_time(None, now - Scheduler.grace))
            while tick is not None and tick <= now:
                self._fire(spec, tick)
                tick = trigger.get_next_fire_time(tick, tick + timedelta(microseconds=1))
            nexts[spec.id] = tick

    def _clock(self) -> datetime:
        return self._pinned or self.now()

    def _loop(self) -> None:
        from storage.base import CLOCK

        CLOCK.set(self._clock)
        now = self.now()
        nexts = {spec.id: trigger.get_next_fire_time(None, now)
                 for spec, trigger in self.triggers}
        while not self._stop.wait(0.01):
            if self._gain.is_set():
                self._gain.clear()
                self._replay(nexts)
            for spec, trigger in self.triggers:
                due = nexts[spec.id]
                if due is None or due > self.now():
                    continue
                self._fire(spec, due)
                nexts[spec.id] = trigger.get_next_fire_time(due, due + timedelta(microseconds=1))

    def start(self) -> None:
        self._thread.start()
        self.bot.leadership.on_change(self._gained)
        log.warning("jobs run on a simulated clock, %.0fx (%s; tests only)", self.speed,
                    SIMULATED_CLOCK_ENV)

    def shutdown(self, *, wait: bool = False) -> None:
        self._stop.set()
        if wait:
            self._thread.join(5)


def start_scheduler(bot: Bot) -> Scheduler | SimulatedScheduler:
    """Start the lease (if not yet) and the scheduler for ``bot.registry.jobs`` (the
    simulated one when :data:`SIMULATED_CLOCK_ENV` is set)."""
    import os

    if not bot.leadership.started:
        bot.leadership.start()
    simulated = os.environ.get(SIMULATED_CLOCK_ENV, "")
    scheduler: Scheduler | SimulatedScheduler
    if simulated:
        start, speed, path = simulated.split(",", 2)
        scheduler = SimulatedScheduler(bot, start=datetime.fromisoformat(start),
                                       speed=float(speed), epoch_file=Path(path))
    else:
        scheduler = Scheduler(bot)
    scheduler.start()
    return scheduler
