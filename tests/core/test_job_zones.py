"""Every time has a zone: with the host in a far zone (``TZ=Pacific/Auckland``,
``TZ=America/Los_Angeles``), the scheduler fires every job at its documented
instant: the weekly review on Monday 08:00 Europe/Paris, the sprint nudge on
Monday 09:00 UTC, the interval jobs on their UTC ticks. A child process with
``TZ`` set runs the real APScheduler (its next fire times) and the simulated
scheduler through a day (the ticks it ran, from ``job_runs``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: Sunday 12:00 UTC to Monday 12:00 UTC, in winter (Paris is UTC+1, Auckland UTC+13).
SIM_START = datetime(2027, 1, 3, 12, 0, tzinfo=UTC)
SIM_HOURS = 24


def child() -> None:  # pragma: no cover - runs in the subprocess
    """Print the real scheduler's next fire times and the simulated day's ticks."""
    import time as _time

    from sqlalchemy import select

    from bot.compose import build_app
    from bot.jobs import Scheduler, SimulatedScheduler
    from bot.settings import Settings
    from storage.migrate import upgrade
    from storage.models import JobRun

    settings = Settings()  # type: ignore[call-arg]
    upgrade(settings.database_url)
    bot = build_app(settings)
    bot.leadership.check()
    real = Scheduler(bot)
    real.start()
    nexts = {j.id: j.next_run_time.astimezone(UTC).isoformat()
             for j in real.scheduler.get_jobs() if j.id != "jobs.retry"}
    real.shutdown()
    epoch = Path(os.environ["EPOCH_FILE"])
    sim = SimulatedScheduler(bot, start=SIM_START, speed=SIM_HOURS * 3600 / 3.0,
                             epoch_file=epoch)
    epoch.write_text(repr(_time.time()))
    sim.start()
    last = SIM_START + timedelta(hours=SIM_HOURS)
    deadline = _time.monotonic() + 60
    while _time.monotonic() < deadline:  # the jobs run in order and may lag the clock
        with bot.session_factory() as s:
            done = {j for (j,) in s.execute(select(JobRun.job).where(
                JobRun.scheduled_for >= last, JobRun.finished_at.is_not(None)))}
        if len(done) >= 4:
            break
        _time.sleep(0.1)
    sim.shutdown(wait=True)
    with bot.session_factory() as s:
        runs = [(j, at.astimezone(UTC).isoformat()) for j, at in
                s.execute(select(JobRun.job, JobRun.scheduled_for))]
    print(json.dumps({"next": nexts, "runs": runs, "host_offset": _time.strftime("%z")}))


@pytest.mark.parametrize("zone", ["Pacific/Auckland", "America/Los_Angeles"])
def test_every_job_fires_at_its_documented_instant_whatever_the_host_zone(
        tmp_path: Path, zone: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONVENE_")}
    env.update({"TZ": zone, "EPOCH_FILE": str(tmp_path / "epoch"),
                "CONVENE_DATABASE_URL": f"sqlite:///{tmp_path / 'zones.db'}",
                "CONVENE_SECRET_KEY": "zone-test-secret-" + "k" * 32,
                "CONVENE_MAIL__OUTBOX_DIR": str(tmp_path / "eml"),
                "CONVENE_POLLS__TICK_SECONDS": "3600", "CONVENE_SPRINTS__TICK_SECONDS": "3600",
                "CONVENE_WORKSHOPS__TICK_SECONDS": "3600"})
    before = datetime.now(UTC)
    out = subprocess.run([sys.executable, "-c",
                          "from tests.core.test_job_zones import child; child()"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    data = json.loads(out.stdout.strip().splitlines()[-1])
    host = datetime.now(ZoneInfo(zone)).strftime("%z")
    assert data["host_offset"] == host  # the child really ran in the far zone

    def next_weekly(weekday: int, hour: int, tz: str) -> datetime:
        local = before.astimezone(ZoneInfo(tz))
        day = local.date() + timedelta(days=(weekday - local.weekday()) % 7)
        at = datetime(day.year, day.month, day.day, hour, tzinfo=ZoneInfo(tz))
        if at <= before:
            at += timedelta(days=7)
            at = datetime(at.year, at.month, at.day, hour, tzinfo=ZoneInfo(tz))
        return at.astimezone(UTC)

    nexts = {k: datetime.fromisoformat(v) for k, v in data["next"].items()}
    assert nexts["digest.weekly"] == next_weekly(0, 8, "Europe/Paris")
    assert nexts["sprints.nudge"] == next_weekly(0, 9, "UTC")
    for job in ("polls.tick", "sprints.tick", "workshops.tick", "workshops.agenda"):
        assert nexts[job].minute == nexts[job].second == 0, (job, nexts[job])  # UTC hours

    runs: dict[str, list[datetime]] = {}
    for job, at in data["runs"]:
        runs.setdefault(job, []).append(datetime.fromisoformat(at))
    monday = datetime(2027, 1, 4, tzinfo=UTC)
    assert runs["digest.weekly"] == [monday + timedelta(hours=7)]  # 08:00 in Paris (UTC+1)
    assert runs["sprints.nudge"] == [monday + timedelta(hours=9)]  # 09:00 UTC, documented
    hourly = {SIM_START + timedelta(hours=h) for h in range(1, SIM_HOURS + 1)}
    for job in ("polls.tick", "sprints.tick", "workshops.tick", "workshops.agenda"):
        # every hour of the day, on the hour (UTC), each once
        assert hourly <= set(runs[job]) and len(set(runs[job])) == len(runs[job]), job
        assert all(at.minute == at.second == 0 for at in runs[job]), job
