"""A tick's run, at least once and at most once.

A firing claims its tick in ``job_runs`` (unique ``(job, scheduled_for)``)
before the work, with an owner (this replica's instance id) and a lease
(``[jobs] run_lease_seconds``, on the wall clock) that a thread renews while
the work runs. The run is finished (``finished_at``) when the work returned or
raised: a finished tick is never run again. A claim whose owner died (its
lease lapsed, or its ``queue_instances`` heartbeat went stale) is taken over by
the next firing of the same tick, or by :func:`retry_unfinished`, which the
lease holder's scheduler calls every few seconds; the work runs again. Every
job's work is idempotent through its own unique keys (a week's review, a
reminder's key, a nudge's week, a round closed by a conditional update), so
running it again after a partial run completes it without doubling anything.
After ``[jobs] max_attempts`` claims a tick is given up (finished, with an error).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, or_, select, update

from storage.engine import dialect_insert
from storage.models import JobRun, QueueInstance

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from bot.app import Bot

log = logging.getLogger(__name__)


def wall_now() -> datetime:
    """The wall clock (aware UTC). Leases are measured on it even where jobs
    see a simulated or frozen time (:data:`storage.base.CLOCK`)."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Claim:
    """This replica's claim of one tick: the ``job_runs`` row and which claim
    of it this is (1 for the first, more for a take-over)."""

    run_id: int
    attempt: int


def _lapsed(bot: Bot, now: datetime) -> Any:
    """Unfinished, and its lease run out (or never set) or its owner silent."""
    stale = select(QueueInstance.id).where(
        QueueInstance.heartbeat_at < now - timedelta(seconds=bot.settings.queue.stale_seconds))
    return and_(JobRun.finished_at.is_(None),
                or_(JobRun.lease_until.is_(None), JobRun.lease_until < now,
                    JobRun.instance.in_(stale.scalar_subquery())))


def claim_tick(bot: Bot, job: str, scheduled_for: datetime) -> Claim | None:
    """Claim the tick ``(job, scheduled_for)`` (aware UTC) for this replica: a
    new ``job_runs`` row, or the take-over of an unfinished one whose claim
    lapsed. None when it is finished or another live replica holds it."""
    now = wall_now()
    lease = now + timedelta(seconds=bot.settings.jobs.run_lease_seconds)
    with bot.session_factory() as session, session.begin():
        ins = dialect_insert(session.get_bind().dialect.name)(JobRun).values(
            job=job, scheduled_for=scheduled_for, instance=bot.instance_id,
            started_at=now, lease_until=lease, attempts=1).on_conflict_do_nothing(
            index_elements=["job", "scheduled_for"]).returning(JobRun.id)
        row = session.execute(ins).first()
        if row is not None:
            return Claim(int(row[0]), 1)
        # One conditional UPDATE: two replicas taking over the same row cannot
        # both match (the second sees the first's fresh lease).
        took = session.execute(
            update(JobRun).where(JobRun.job == job, JobRun.scheduled_for == scheduled_for,
                                 _lapsed(bot, now))
            .values(instance=bot.instance_id, started_at=now, lease_until=lease,
                    attempts=JobRun.attempts + 1)
            .returning(JobRun.id, JobRun.attempts)
            .execution_options(synchronize_session=False)).first()
    if took is None:
        return None
    claim = Claim(int(took[0]), int(took[1]))
    log.warning("job %s (%s): took over an unfinished run (claim %d)", job,
                scheduled_for.isoformat(), claim.attempt)
    return claim


def _renew(bot: Bot, claim: Claim) -> bool:
    """Push the lease on; False when the claim is no longer ours."""
    lease = wall_now() + timedelta(seconds=bot.settings.jobs.run_lease_seconds)
    with bot.session_factory() as session, session.begin():
        res = session.execute(update(JobRun).where(
            JobRun.id == claim.run_id, JobRun.attempts == claim.attempt,
            JobRun.finished_at.is_(None)).values(lease_until=lease)
            .execution_options(synchronize_session=False))
    return bool(getattr(res, "rowcount", 0))


def _finish(bot: Bot, claim: Claim, error: str | None) -> None:
    with bot.session_factory() as session, session.begin():
        session.execute(update(JobRun).where(
            JobRun.id == claim.run_id, JobRun.attempts == claim.attempt)
            .values(finished_at=wall_now(), error=error)
            .execution_options(synchronize_session=False))


class _Renewer:
    """Renews a claim's lease every third of it until stopped."""

    def __init__(self, bot: Bot, claim: Claim) -> None:
        self.bot, self.claim = bot, claim
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="job-lease", daemon=True)

    def _loop(self) -> None:
        every = self.bot.settings.jobs.run_lease_seconds / 3
        while not self._stop.wait(every):
            try:
                if not _renew(self.bot, self.claim):
                    return
            except Exception as exc:  # noqa: BLE001 - the next renewal retries
                log.warning("renewing the lease of job run %d: %s", self.claim.run_id, exc)

    def __enter__(self) -> _Renewer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)


def run_claimed(bot: Bot, job: str, scheduled_for: datetime, claim: Claim,
                work: Callable[[], object]) -> bool:
    """Run ``work`` under ``claim`` (its lease renewed meanwhile) and finish
    the run, recording the error if it raised. A claim past ``[jobs]
    max_attempts`` is finished as given up, without running. Returns whether
    ``work`` ran without raising."""
    if claim.attempt > bot.settings.jobs.max_attempts:
        log.error("job %s (%s): given up after %d claims", job, scheduled_for.isoformat(),
                  claim.attempt - 1)
        _finish(bot, claim, f"given up after {claim.attempt - 1} claims")
        return False
    error: str | None = None
    with _Renewer(bot, claim):
        try:
            work()
        except Exception as exc:
            log.exception("job %s (%s) failed", job, scheduled_for.isoformat())
            error = f"{type(exc).__name__}: {exc}"[:2000]
    _finish(bot, claim, error)
    return error is None


def unfinished(bot: Bot, jobs: Iterable[str], *, since: datetime) -> list[tuple[str, datetime]]:
    """The ticks of ``jobs`` scheduled after ``since`` whose claim lapsed
    unfinished, oldest first: ``(job, scheduled_for)`` pairs."""
    names = list(jobs)
    if not names:
        return []
    with bot.session_factory() as session:
        rows = session.execute(
            select(JobRun.job, JobRun.scheduled_for)
            .where(JobRun.job.in_(names), JobRun.scheduled_for > since,
                   _lapsed(bot, wall_now()))
            .order_by(JobRun.scheduled_for, JobRun.id)).all()
    return [(str(j), at) for j, at in rows]


__all__ = ["Claim", "claim_tick", "run_claimed", "unfinished", "wall_now"]
