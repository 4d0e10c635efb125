"""Two ``convene serve`` replicas on one PostgreSQL database through a
simulated week (``CONVENE_SIMULATED_CLOCK``: the jobs' clock runs a week in
about 20 s; leases, heartbeats and the outbox keep the wall clock). Seven
rounds close through the week, with their reminders; the weekly review runs on
its defaults (Monday 08:00 Europe/Paris) and builds the week that ended. The
lease holder is SIGKILLed on Thursday 00:00 (wall clock of the simulation); a
tick due in the gap before the other replica takes the lease is run by that one
(``catch_up`` / the simulated replay), once.

Shown: every round closed exactly once (one ``poll.close`` audit entry each),
its reminders queued once per person and offset, the digest run once for its
tick, each job tick run at most once, and the lease passed on within a few
of the (0.5 s) lease checks."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from adapters.console import ConsoleSession
from bot.app import Bot
from digests.archive import iso_week
from storage.models import AuditEntry, Digest, JobRun, OutboxMessage, Proposal
from tests.conftest import MEMBER, need
from tests.replica_helpers import Replica, drop_database, scratch_database

WEEK_REAL = 20.0  # seconds of wall clock for the simulated week
SPEED = 7 * 86400 / WEEK_REAL


def _next_monday() -> datetime:
    d = (datetime.now(UTC) + timedelta(days=1)).replace(hour=0, minute=0, second=0,
                                                        microsecond=0)
    return d + timedelta(days=(7 - d.weekday()) % 7)


def test_a_week_on_two_replicas_with_the_holder_killed(tmp_path: Path,
                                                       make_bot: Callable[..., Bot]) -> None:
    try:
        admin_url, url = scratch_database("convene_week")
    except Exception as exc:  # noqa: BLE001
        need(False, f"PostgreSQL not reachable: {exc}")
        return
    start = _next_monday()
    epoch_file = tmp_path / "epoch"
    bot = make_bot(url)
    chat = ConsoleSession(dispatch=bot.dispatch, email=MEMBER)
    closes = [start + timedelta(days=k, hours=12) for k in range(7)]
    for k, when in enumerate(closes):
        out = chat.feed(f"poll new Proposal {k} | Text of proposal {k}. | {when.isoformat()}")
        assert "is open for stances" in out, out
    env = {"CONVENE_SIMULATED_CLOCK": f"{start.isoformat()},{SPEED},{epoch_file}",
           "CONVENE_POLLS__TICK_SECONDS": "3600", "CONVENE_SPRINTS__TICK_SECONDS": "21600",
           "CONVENE_WORKSHOPS__TICK_SECONDS": "21600"}
    replicas = {n: Replica(n, db_url=url, cwd=tmp_path, extra_env=env) for n in ("a", "b")}
    try:
        for r in replicas.values():
            r.ready()
        epoch = time.time() + 0.5
        epoch_file.write_text(repr(epoch))
        kill_at = epoch + 3 / 7 * WEEK_REAL  # Thursday 00:00
        while time.time() < kill_at:
            time.sleep(0.02)
        holder = next(n for n, r in replicas.items() if r.leader())
        other = next(n for n in replicas if n != holder)
        replicas[holder].kill()
        killed = time.monotonic()
        while not replicas[other].leader():
            assert time.monotonic() - killed < 10, "the lease did not pass on"
            time.sleep(0.02)
        handover = time.monotonic() - killed
        # The week is over when the survivor ran Sunday 23:00's polls tick (its
        # jobs run in order, each at its tick's time, so they may lag the clock).
        last = start + timedelta(days=6, hours=23)
        deadline = time.monotonic() + WEEK_REAL + 25
        with bot.session_factory() as s:
            while s.scalar(select(func.count()).select_from(JobRun).where(
                    JobRun.job == "polls.tick", JobRun.scheduled_for >= last,
                    JobRun.finished_at.is_not(None))) == 0:
                assert time.monotonic() < deadline, "the week did not finish"
                time.sleep(0.2)
                s.rollback()
        assert replicas[other].proc.poll() is None, replicas[other].output()[-3000:]
        with bot.session_factory() as s:
            pids = list(s.scalars(select(Proposal.id).order_by(Proposal.id)))
            states = dict(s.execute(select(Proposal.id, Proposal.state)).all())
            closes_audited = Counter(s.scalars(select(AuditEntry.subject_id).where(
                AuditEntry.action == "poll.close")))
            runs = s.execute(select(JobRun.job, JobRun.scheduled_for, JobRun.instance,
                                    JobRun.error)).all()
            reminders = list(s.scalars(select(OutboxMessage.key).where(
                OutboxMessage.key.like("poll:%:remind%"))))
            weeks = list(s.scalars(select(Digest.week)))
    finally:
        for r in replicas.values():
            r.stop()
        drop_database(admin_url, url)

    assert len(pids) == 7
    assert all(states[p] != "open" for p in pids), states
    assert {int(k): n for k, n in closes_audited.items()} == dict.fromkeys(pids, 1), \
        "a round closed twice or not at all"
    # Reminders: per round the 24 h and 2 h offsets, each person once (the key).
    per_round: dict[int, Counter[str]] = {}
    for key in reminders:
        parts = key.split(":")
        per_round.setdefault(int(parts[1]), Counter())[parts[4]] += 1
    assert set(per_round) == set(pids), per_round
    people = {n for c in per_round.values() for n in c.values()}
    assert len(people) == 1, f"reminders differ between rounds: {per_round}"
    assert all("remind2" in c for c in per_round.values()), per_round
    # Jobs: each tick at most once (the key); the review's, on its default
    # schedule (Monday 08:00 in Paris), once, building the week that ended.
    ticks = Counter((job, when) for job, when, _, _ in runs)
    assert max(ticks.values()) == 1
    week_end = (start + timedelta(days=7)).replace(tzinfo=None)
    digest = [(w.replace(tzinfo=None), inst) for job, w, inst, _ in runs
              if job == "digest.weekly" and w.replace(tzinfo=None) < week_end]
    paris = datetime.combine(start.date(), datetime.min.time(), ZoneInfo("Europe/Paris"))
    monday_8 = (paris + timedelta(hours=8)).astimezone(UTC).replace(tzinfo=None)
    assert [w for w, _ in digest] == [monday_8], digest
    assert digest[0][1] in {"a", "b"}
    # (the simulation runs on past the week: later Mondays review their own weeks)
    assert min(weeks) == iso_week(start - timedelta(days=1), "Europe/Paris"), weeks
    polls_ticks = sorted(w for job, w, _, _ in runs if job == "polls.tick")
    assert len(polls_ticks) >= 7 * 24 - 12, f"{len(polls_ticks)} hourly ticks of 168"
    assert {i for _, _, i, _ in runs} == {"a", "b"}
    assert all(err is None for _, _, _, err in runs if _ != "digest.weekly"), runs
    print(f"lease handed over in {handover:.2f} s; {len(polls_ticks)} of 168 polls ticks "
          f"ran; {len(reminders)} reminders; digest run by {digest[0][1]} (killed: {holder})")


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(pytest.main([__file__, "-q", "-s"]))
