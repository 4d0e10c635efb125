"""Work whose runner dies is taken over: four ``convene serve`` replicas on one
PostgreSQL database, a simulated Monday (``CONVENE_SIMULATED_CLOCK``) with the
review on its defaults (Monday 08:00 Europe/Paris), an SMTP sink counting each
Message-ID. The lease holder is killed (SIGKILL) three times in the middle of
a job's work:

1. the weekly build, while it fetches the feeds (the feed server kills the
   replica whose request it holds): the review of the week that ended still
   goes out, once, sent by a survivor that took the unfinished run over;
2. a reminder wave, blocked (a table lock the test holds) while writing its
   emails: every reminder still goes out once;
3. a polls tick, blocked while closing a round: the round closes once and its
   announcement goes out once.

Each time the run's ``job_runs`` row shows the take-over: claimed twice,
finished by the survivor."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, func, select, text

from adapters.console import ConsoleSession
from bot.app import Bot
from digests.archive import iso_week
from storage.models import AuditEntry, Digest, JobRun, Proposal, WorkshopReminder
from tests.clock import freeze
from tests.conftest import MEMBER_FR, SECRETARIAT, need
from tests.digests.weekfeeds import week_bounds, write_week
from tests.replica_helpers import CountingSink, Replica, drop_database, scratch_database

SPEED = 600.0  # one simulated hour in six seconds


def _last_weeks_monday() -> datetime:
    """Monday 00:00 UTC of last week. The simulated day is in the past: what its
    jobs queue is due at once for the outbox, which keeps the wall clock."""
    d = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return d - timedelta(days=d.weekday() + 7)


class Feeds:
    """The week's feeds on loopback; the first request of a build calls
    ``on_first()`` (which kills the replica making it) before answering."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.on_first: Callable[[], None] | None = None
        self.requests = 0
        self.lock = threading.Lock()
        feeds = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                with feeds.lock:
                    feeds.requests += 1
                    hook, feeds.on_first = feeds.on_first, None
                if hook is not None:
                    hook()
                path = feeds.folder / self.path.lstrip("/")
                if not path.is_file():
                    self.send_response(404)
                    self.end_headers()
                    return
                body = path.read_bytes()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/rss+xml")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the replica that asked is dead

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _holder(replicas: dict[str, Replica]) -> str:
    for name, r in replicas.items():
        if r.proc.poll() is None:
            try:
                if r.leader():
                    return name
            except Exception:  # noqa: BLE001 - starting or dying
                continue
    raise AssertionError("no replica holds the lease")


def _wait(what: str, cond: Callable[[], bool], timeout: float = 30.0,
          why: Callable[[], object] = lambda: "") -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"{what}: {why()}"
        time.sleep(0.05)


def _state(admin: Any) -> object:
    with admin.connect() as conn:
        runs = conn.execute(text(
            "SELECT job, scheduled_for, instance, attempts, finished_at IS NOT NULL "
            "FROM job_runs ORDER BY id DESC LIMIT 8")).all()
        waits = conn.execute(text(
            "SELECT l.relation::regclass::text, l.mode, l.granted, left(a.query, 80) "
            "FROM pg_locks AS l JOIN pg_stat_activity AS a ON a.pid = l.pid "
            "WHERE l.relation IS NOT NULL AND NOT l.granted")).all()
    return runs, waits


@contextmanager
def _outbox_locked(admin: Any) -> Iterator[Any]:
    """Hold a lock on the outbox that blocks every write to it (reads go on)."""
    with admin.connect() as conn:
        conn.execute(text("LOCK TABLE outbox IN SHARE ROW EXCLUSIVE MODE"))
        try:
            yield conn
        finally:
            conn.rollback()


def _blocked_in(admin: Any, job: str, tick: datetime, holder: str) -> datetime | None:
    """The tick (at or after ``tick``) of ``job`` the holder claimed and whose
    work waits on our lock to write into the outbox (not a delivery worker's
    claim, an UPDATE); None while there is none."""
    with admin.connect() as conn:
        claimed = conn.execute(text(
            "SELECT max(scheduled_for) FROM job_runs WHERE job = :j AND scheduled_for >= :t "
            "AND instance = :i AND finished_at IS NULL"), {"j": job, "t": tick, "i": holder}
        ).scalar()
        waiting = conn.execute(text(
            "SELECT count(*) FROM pg_locks AS l JOIN pg_stat_activity AS a ON a.pid = l.pid "
            "WHERE NOT l.granted AND l.relation = CAST('outbox' AS regclass) "
            "AND a.query NOT ILIKE 'UPDATE outbox%'")).scalar()
    return claimed if claimed is not None and waiting else None


def _run(bot: Bot, job: str, tick: datetime) -> tuple[str, int, bool, str | None]:
    with bot.session_factory() as s:
        row = s.scalars(select(JobRun).where(JobRun.job == job, JobRun.scheduled_for == tick)
                        ).one()
        return row.instance, row.attempts, row.finished_at is not None, row.error


def _quarter(at: datetime) -> datetime:
    """The next quarter hour strictly after ``at`` (the 900 s ticks)."""
    base = at.replace(minute=at.minute - at.minute % 15, second=0, microsecond=0)
    return base + timedelta(minutes=15)


def test_the_holder_killed_mid_work_three_times(tmp_path: Path,
                                                make_bot: Callable[..., Bot]) -> None:
    try:
        admin_url, url = scratch_database("convene_takeover")
    except Exception as exc:  # noqa: BLE001
        need(False, f"PostgreSQL not reachable: {exc}")
        return
    monday = _last_weeks_monday()
    paris = datetime.combine(monday.date(), datetime.min.time(), ZoneInfo("Europe/Paris"))
    review_tick = (paris + timedelta(hours=8)).astimezone(UTC)  # the default schedule
    start = review_tick - timedelta(minutes=10)
    ended = iso_week(monday - timedelta(days=1), "Europe/Paris")  # the week that ended
    folder = tmp_path / "feeds"
    folder.mkdir()
    w_start, w_end = week_bounds(ended, review_tick)
    names = write_week(folder, start=w_start, end=w_end)
    feeds = Feeds(folder)
    sink = CountingSink()
    sink.start()
    bot = make_bot(url)
    admin = create_engine(url)
    sec = ConsoleSession(dispatch=bot.dispatch, email=SECRETARIAT)
    epoch_file = tmp_path / "epoch"
    env = {"CONVENE_SIMULATED_CLOCK": f"{start.isoformat()},{SPEED},{epoch_file}",
           "CONVENE_POLLS__TICK_SECONDS": "900", "CONVENE_WORKSHOPS__TICK_SECONDS": "900",
           "CONVENE_SPRINTS__TICK_SECONDS": "3600", "CONVENE_JOBS__RUN_LEASE_SECONDS": "3",
           # No poll reminders and no agenda by itself: the polls tick writes to the
           # outbox only to close, the workshops tick only to remind.
           "CONVENE_POLLS__REMINDER_HOURS": "[]", "CONVENE_WORKSHOPS__AGENDA_DAYS": "0",
           "CONVENE_DIGEST__FEEDS": json.dumps(
               [f"http://127.0.0.1:{feeds.port}/{n}" for n in names]),
           # the feed server is on loopback: let the guarded client reach it
           "CONVENE_OUTBOUND__ALLOW_HOSTS": '["127.0.0.1"]'}
    replicas = {n: Replica(n, db_url=url, cwd=tmp_path / "run", smtp_port=sink.port,
                           extra_env=env) for n in ("a", "b", "c", "d")}
    killed: list[str] = []

    def kill_holder() -> None:
        name = _holder(replicas)
        replicas[name].kill()
        killed.append(name)

    try:
        for r in replicas.values():
            r.ready(timeout=90)
        epoch = time.time() + 0.3
        epoch_file.write_text(repr(epoch))

        def sim_now() -> datetime:
            return start + timedelta(seconds=max(0.0, time.time() - epoch) * SPEED)

        def kill_when_blocked(job: str, tick: datetime) -> datetime:
            """Hold the outbox until the holder's run of ``job`` at ``tick`` waits
            on it mid-work, then kill the holder and let go. First every email
            queued so far is delivered: a kill mid-delivery would test the
            outbox's fencing, not the job's take-over."""
            _wait("the outbox did not drain", lambda: _undelivered(bot) == 0, 60,
                  why=lambda: _outbox(bot))
            with _outbox_locked(admin):
                holder = _holder(replicas)
                _wait(f"{job} did not start",
                      lambda: _blocked_in(admin, job, tick, holder) is not None,
                      60, why=lambda: (holder, tick, sim_now(), _state(admin)))
                blocked = _blocked_in(admin, job, tick, holder)
                assert blocked is not None
                kill_holder()
            return blocked

        # 1. The weekly build: the holder is killed while it fetches the feeds.
        feeds.on_first = kill_holder
        _wait("the review was not sent", lambda: _status(bot, ended) == "sent", 60)
        assert len(killed) == 1

        # 2. A reminder wave: a workshop confirmed now, starting in three hours. The
        # day-before reminders go at once; the hour-before wave is killed mid-write.
        confirmed = sim_now()
        ws_start = _quarter(confirmed + timedelta(hours=3))
        wave = ws_start - timedelta(hours=1)
        freeze(confirmed)
        out = sec.feed("workshop series new Takeover | UTC | 10:00 | 60")
        sid = out.split("#", 1)[1].split()[0]
        wid = sec.feed(f"workshop open {sid} {monday.year}-Q{(monday.month - 1) // 3 + 1}"
                       ).split("#", 1)[1].split()[0]
        assert "added" in sec.feed(f"workshop slot add {wid} {ws_start:%Y-%m-%d %H:%M}")
        assert "invitations" in sec.feed(f"workshop confirm {wid}")
        freeze(None)
        _wait("the day-before reminders were not sent", lambda: _pending(bot, 1440) == 0, 60)
        hour_before = _pending(bot, 60)
        assert hour_before > 3
        wave = kill_when_blocked("workshops.tick", wave)
        _wait("the wave was not sent", lambda: _pending(bot, 60) == 0, 60)

        # 3. A polls tick: a proposal closing in half an hour; the tick that closes
        # it is killed mid-write.
        close = _quarter(sim_now() + timedelta(minutes=30))
        freeze(sim_now())
        out = sec.feed(f"poll new Takeover | Text. | {close.isoformat()}")
        assert "is open for stances" in out, out
        ConsoleSession(dispatch=bot.dispatch, email=MEMBER_FR).feed("vote 1 agree")
        freeze(None)
        close = kill_when_blocked("polls.tick", close)
        _wait("the round did not close", lambda: _closes(bot) == 1, 60)

        with bot.session_factory() as s:
            weeks = {d.week: d.status for d in s.scalars(select(Digest))}
            reminder_ids = {f"<workshop.{wid}.reminder.{rid}@" for rid in s.scalars(
                select(WorkshopReminder.id).where(WorkshopReminder.status == "sent"))}
            state = s.scalars(select(Proposal.state)).one()
        closes = _closes(bot)

        def delivered() -> tuple[dict[str, int], dict[str, int]]:
            with sink.lock:
                ids = dict(sink.by_id)
            return ({m: n for m, n in ids.items() if m.startswith(f"<digest-{ended}-")},
                    {m: n for m, n in ids.items() if any(m.startswith(r) for r in reminder_ids)})

        _wait("the review and the reminders were not all delivered",
              lambda: len(delivered()[0]) == 2 and len(delivered()[1]) == len(reminder_ids),
              30, why=lambda: (delivered(), _outbox(bot)))
        digests, sent = delivered()
        ticks = (("digest.weekly", review_tick), ("workshops.tick", wave),
                 ("polls.tick", close))
        # A survivor takes each unfinished run over once its owner is seen dead.
        _wait("a killed run was not taken over",
              lambda: all(_run(bot, job, tick)[2] for job, tick in ticks), 30,
              why=lambda: [_run(bot, job, tick) for job, tick in ticks])
        runs = {job: _run(bot, job, tick) for job, tick in ticks}
    finally:
        for r in replicas.values():
            r.stop()
        sink.stop()
        feeds.stop()
        admin.dispose()
        drop_database(admin_url, url)

    assert len(killed) == 3 and len(set(killed)) == 3, killed
    # The review of the week that ended, sent once to each secretariat address.
    assert weeks == {ended: "sent"}, weeks
    assert len(digests) == 2 and set(digests.values()) == {1}, digests
    # Every reminder once (the wave's and the day-before ones).
    assert len(sent) == len(reminder_ids) >= 2 * hour_before and set(sent.values()) == {1}, sent
    # The round closed once (its emails are queued under unique keys with the close).
    assert state != "open" and closes == 1
    # Each killed run was taken over and finished by a survivor.
    for n, (job, (instance, attempts, finished, error)) in enumerate(runs.items()):
        assert finished and error is None and attempts >= 2, (job, runs[job])
        assert instance not in killed[: n + 1], (job, instance, killed)


def _status(bot: Bot, week: str) -> str | None:
    with bot.session_factory() as s:
        return s.scalar(select(Digest.status).where(Digest.week == week))


def _pending(bot: Bot, minutes: int) -> int:
    with bot.session_factory() as s:
        return int(s.scalar(select(func.count()).select_from(WorkshopReminder).where(
            WorkshopReminder.status == "pending",
            WorkshopReminder.kind == f"before:{minutes}")) or 0)


def _closes(bot: Bot) -> int:
    with bot.session_factory() as s:
        return int(s.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "poll.close")) or 0)


def _outbox(bot: Bot) -> object:
    from storage.models import OutboxMessage

    with bot.session_factory() as s:
        return s.execute(select(OutboxMessage.status, OutboxMessage.owner,
                                func.count()).group_by(OutboxMessage.status,
                                                       OutboxMessage.owner)).all()


def _undelivered(bot: Bot) -> int:
    from storage.models import OutboxMessage

    with bot.session_factory() as s:
        return int(s.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.kind == "email",
            OutboxMessage.status.in_(("pending", "sending")))) or 0)
