"""``convene serve``: the main job.

One process: the HTTP app (uvicorn), the APScheduler scheduler, the outbox
worker and every configured adapter. SIGINT and SIGTERM stop it cleanly: the
HTTP server drains, then adapters, scheduler and outbox stop in turn.

Several replicas may run on one PostgreSQL database. Each has an instance id
(``[queue] instance_id``, default host:port) and a heartbeat: at start it takes
back what its previous run still held (a kill -9 leaves rows claimed), and the
others take over the rows of a replica whose heartbeat went stale. Periodic
jobs fire only on the scheduler lease holder (bot/jobs.py).
"""

from __future__ import annotations

import gc
import logging
import signal
import socket
from pathlib import Path

import uvicorn
from sqlalchemy import func, select, text

from bot import topics
from bot.app import Bot
from bot.compose import build_app
from bot.plugins import Stopper, load_plugins
from bot.roster import import_roster_file
from bot.settings import EXAMPLES, Settings
from bot.web import create_web_app
from storage.checkpoint import WalCheckpointer
from storage.migrate import upgrade
from storage.models import Person

log = logging.getLogger(__name__)

#: Advisory lock key held while seeding the roster ("Seed").
SEED_LOCK = 0x53656564


def seed_roster(bot: Bot, *, config_path: Path | None) -> int:
    """Import the configured roster if the database has nobody yet.

    ``roster_file`` is looked up relative to the working directory, then to the
    configuration file's folder; with the example configuration and no
    ``roster_file``, ``examples/roster.csv`` is used. Returns rows imported.
    """
    with bot.session_factory() as session:
        if session.scalar(select(func.count(Person.id))):
            return 0
    path = bot.settings.roster_file
    if path is not None and not path.is_absolute() and not path.exists() and config_path:
        path = config_path.parent / path
    if path is None and config_path is not None and config_path.parent == EXAMPLES:
        path = EXAMPLES / "roster.csv"
    if path is None or not path.exists():
        return 0
    with bot.session_factory() as session, session.begin():
        if session.get_bind().dialect.name == "postgresql":
            # Replicas starting together: one imports, the others then find people.
            session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SEED_LOCK})
            if session.scalar(select(func.count(Person.id))):
                return 0
        report = import_roster_file(session=session, path=path,
                                    alliance_name=bot.settings.alliance_name)
    log.info("imported roster %s: %d rows", path, report.rows)
    return report.rows


def _note_signal(signum: int, _frame: object) -> None:
    log.info("received %s; shutting down", signal.Signals(signum).name)


def stable_instance_id(settings: Settings) -> str:
    """``[queue] instance_id``, else ``<host>:<port>``: the same after a restart,
    so the new process frees at once what the dead one held."""
    return settings.queue.instance_id or f"{socket.gethostname()}:{settings.http.port}"[:48]


def release_own_rows(bot: Bot) -> int:
    """Rows of the queues claimed by an earlier run of this instance go back to
    pending (the earlier run is gone: this one holds its host and port)."""
    from datetime import timedelta

    from bot.queue import LeasedQueue

    n = 0
    with bot.session_factory() as session, session.begin():
        for table in bot.registry.queue_tables.values():
            n += LeasedQueue(table, instance=bot.instance_id,
                             lease=timedelta(0)).release_owner(session)
    if n:
        log.info("took back %d queue row(s) held by this instance's previous run", n)
    return n


def settle_heap() -> int:
    """Collect once, then move every object alive now (modules, the app, the
    adapters: about a million of them) to the garbage collector's permanent
    generation, so later full collections scan only what was made since.
    Without it a full collection under a burst of chat requests stops every
    thread for 150-350 ms (a benchmark saw it as the acknowledgements' p99).
    Returns how many objects were frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def serve(settings: Settings, *, config_path: Path | None) -> None:
    """Run until SIGINT/SIGTERM."""
    settings.signing_key()  # an empty or short key stops start-up with the fix
    upgrade(settings.database_url)
    settings = settings.model_copy(update={"queue": settings.queue.model_copy(
        update={"instance_id": stable_instance_id(settings)})})
    bot = build_app(settings)
    bot.main_job = True
    seed_roster(bot, config_path=config_path)
    from bot.heartbeat import Heartbeat
    from bot.jobs import start_scheduler

    release_own_rows(bot)
    heartbeat = Heartbeat(bot.session_factory, bot.instance_id,
                          interval=settings.queue.heartbeat_seconds)
    heartbeat.start()
    checkpointer = WalCheckpointer(bot.engine).start()  # SQLite: no commit pays a checkpoint
    bot.leadership.start()
    worker = bot.new_worker()
    worker.start()
    scheduler = start_scheduler(bot)
    stoppers: list[Stopper] = []
    extra_routes = []
    for plugin in load_plugins():
        extra_routes += plugin.web_routes(bot)
        stop = plugin.start(bot)
        if stop is not None:
            stoppers.append(stop)
    web = create_web_app(bot, extra_routes)
    topics.warm()  # before the freeze: the taxonomy is kept for the process's life
    log.debug("froze %d objects out of the collector's way", settle_heap())
    config = uvicorn.Config(web, host=settings.http.host, port=settings.http.port,
                            log_level=settings.log_level.lower(), lifespan="off")
    server = uvicorn.Server(config)
    log.info("Convene serving on %s", settings.http.public_url())
    # uvicorn re-raises the signal it caught once it has drained; these handlers
    # take that re-raise, so the clean-up below runs and the exit status is 0.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _note_signal)
    try:
        server.run()
    finally:
        log.info("stopping")
        for stop in reversed(stoppers):
            try:
                stop()
            except Exception:
                log.exception("an adapter did not stop cleanly")
        scheduler.shutdown(wait=False)
        bot.leadership.stop()
        worker.stop()
        heartbeat.stop()
        checkpointer.stop()
        bot.engine.dispose()
        log.info("stopped")
