"""Jobs at least once and at most once: a tick's claim has an owner and a
lease; a claim whose owner died (lease lapsed, or heartbeat stale) is taken
over and its work run; a finished tick is never run again; a live claim is
left alone; a tick claimed too often is given up."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update

from bot.app import Bot
from bot.job_runs import claim_tick, run_claimed, wall_now
from bot.jobs import JobSpec, fire, retry_unfinished
from storage.models import JobRun, QueueInstance

TICK = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)


def _two(make_bot: Callable[..., Bot], db_url: str, **jobs: object) -> tuple[Bot, Bot]:
    dead = make_bot(db_url, roster=None, queue={"instance_id": "dead"},
                    jobs={"run_lease_seconds": 0.5, **jobs})
    live = make_bot(db_url, roster=None, queue={"instance_id": "live"},
                    jobs={"run_lease_seconds": 0.5, **jobs})
    live.leadership.check()
    return dead, live


def _row(bot: Bot, job: str) -> JobRun:
    with bot.session_factory() as s:
        return s.scalars(select(JobRun).where(JobRun.job == job)).one()


def test_a_claim_whose_owner_died_is_taken_over_and_run_once(
        make_bot: Callable[..., Bot], db_url: str) -> None:
    dead, live = _two(make_bot, db_url)
    ran: list[datetime] = []
    spec = JobSpec(id="t.lease", func=lambda b, tick: ran.append(tick), trigger="interval",
                   trigger_args={"seconds": 60}, tick_arg="tick")
    try:
        # The holder claimed the tick, then was killed before its work finished.
        assert claim_tick(dead, spec.id, TICK) is not None
        assert not fire(live, spec, TICK), "a live lease is not taken over"
        assert ran == []
        time.sleep(0.6)  # its lease lapses: nobody renews it
        assert fire(live, spec, TICK)
        assert ran == [TICK]  # the work gets the tick's time, not the hour it runs in
        row = _row(live, spec.id)
        assert row.instance == "live" and row.attempts == 2 and row.finished_at is not None
        assert row.error is None
        time.sleep(0.6)
        assert not fire(live, spec, TICK), "a finished tick never runs again"
        assert retry_unfinished(live, [spec], since=TICK - timedelta(days=1)) == 0
        assert ran == [TICK]
    finally:
        live.leadership.stop()


def test_the_holder_retries_lapsed_runs_and_a_stale_owner_is_not_waited_for(
        make_bot: Callable[..., Bot], db_url: str) -> None:
    dead, live = _two(make_bot, db_url, run_lease_seconds=600)
    ran: list[str] = []
    a = JobSpec(id="t.a", func=lambda b: ran.append("a"), trigger="interval",
                trigger_args={"seconds": 60})
    b = JobSpec(id="t.b", func=lambda b: ran.append("b"), trigger="interval",
                trigger_args={"seconds": 60})
    try:
        assert claim_tick(dead, a.id, TICK) and claim_tick(dead, b.id, TICK)
        # Leases of ten minutes, the owner alive: nothing to retry.
        with live.session_factory() as s, s.begin():
            s.add(QueueInstance(id="dead", started_at=wall_now(), heartbeat_at=wall_now()))
        assert retry_unfinished(live, [a, b], since=TICK - timedelta(days=1)) == 0
        # The owner's heartbeat goes stale (killed): its claims are taken over at once.
        with live.session_factory() as s, s.begin():
            s.execute(update(QueueInstance).where(QueueInstance.id == "dead").values(
                heartbeat_at=wall_now() - timedelta(minutes=5)))
        assert retry_unfinished(live, [a, b], since=TICK - timedelta(days=1)) == 2
        assert sorted(ran) == ["a", "b"]
        assert retry_unfinished(live, [a, b], since=TICK - timedelta(days=1)) == 0
        # Ticks older than the window are left alone.
        assert claim_tick(dead, a.id, TICK - timedelta(days=30)) is not None
        with live.session_factory() as s, s.begin():
            s.execute(update(JobRun).values(lease_until=wall_now() - timedelta(seconds=1))
                      .where(JobRun.finished_at.is_(None)))
        assert retry_unfinished(live, [a, b], since=TICK - timedelta(days=1)) == 0
    finally:
        live.leadership.stop()


def test_a_tick_that_keeps_dying_is_given_up(make_bot: Callable[..., Bot],
                                             db_url: str) -> None:
    dead, live = _two(make_bot, db_url, max_attempts=2)
    ran: list[int] = []
    spec = JobSpec(id="t.doomed", func=lambda b: ran.append(1), trigger="interval",
                   trigger_args={"seconds": 60})
    try:
        assert claim_tick(dead, spec.id, TICK) is not None
        time.sleep(0.6)
        assert claim_tick(dead, spec.id, TICK) is not None  # claim 2 dies too
        time.sleep(0.6)
        assert fire(live, spec, TICK)  # claim 3 of at most 2: recorded as given up
        assert ran == []
        row = _row(live, spec.id)
        assert row.finished_at is not None and "given up" in (row.error or "")
    finally:
        live.leadership.stop()


def test_a_long_run_keeps_its_lease(make_bot: Callable[..., Bot], db_url: str) -> None:
    owner, other = _two(make_bot, db_url)
    other_ran: list[int] = []
    spec_other = JobSpec(id="t.long", func=lambda b: other_ran.append(1), trigger="interval",
                         trigger_args={"seconds": 60})

    def slow(b: Bot) -> None:
        time.sleep(1.2)  # longer than the lease: renewed meanwhile
        assert not fire(other, spec_other, TICK)

    spec = JobSpec(id="t.long", func=slow, trigger="interval", trigger_args={"seconds": 60})
    try:
        claim = claim_tick(owner, spec.id, TICK)
        assert claim is not None
        assert run_claimed(owner, spec.id, TICK, claim, lambda: slow(owner))
        row = _row(owner, spec.id)
        assert row.error is None and row.attempts == 1 and other_ran == []
    finally:
        other.leadership.stop()


def test_every_job_is_taken_over_when_its_owner_died(make_bot: Callable[..., Bot],
                                                     db_url: str) -> None:
    """Each real job (polls tick, review, agenda, reminders, nudge, sprints tick):
    a claim left unfinished by a dead owner is run by the holder, once; the
    work run twice (a partial run, then the take-over) doubles nothing."""
    from storage.models import OutboxMessage

    dead, live = _two(make_bot, db_url)
    jobs = {s.id: s for s in live.registry.jobs}
    assert set(jobs) >= {"polls.tick", "digest.weekly", "workshops.agenda", "workshops.tick",
                         "sprints.nudge", "sprints.tick"}
    try:
        for spec in jobs.values():
            assert claim_tick(dead, spec.id, TICK) is not None
        time.sleep(0.6)
        assert retry_unfinished(live, list(jobs.values()), since=TICK - timedelta(days=1)) \
            == len(jobs)
        with live.session_factory() as s:
            rows = s.scalars(select(JobRun).where(JobRun.scheduled_for == TICK)).all()
            outbox = s.scalar(select(func.count()).select_from(OutboxMessage))
        assert {r.job: (r.instance, r.attempts, r.error) for r in rows} == {
            j: ("live", 2, None) for j in jobs}
        # The same work again (as a second take-over would run it): nothing doubles.
        for spec in jobs.values():
            kwargs = {spec.tick_arg: TICK} if spec.tick_arg else {}
            spec.func(live, **kwargs)
        with live.session_factory() as s:
            assert s.scalar(select(func.count()).select_from(OutboxMessage)) == outbox
    finally:
        live.leadership.stop()
