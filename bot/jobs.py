"""APScheduler 3 wiring: a BackgroundScheduler on an SQLAlchemy job store.

Jobs have explicit ids, ``replace_existing=True`` and arguments that are ids,
never ORM objects. A job's function is module-level (so the persistent job
store can name it); it finds the running :class:`~bot.app.Bot` through
:func:`running_bot` by the app id passed as its first argument. What must
happen once (a week's digest, a round's close) is made idempotent in the
database by the capability itself.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler

if TYPE_CHECKING:
    from bot.app import Bot

log = logging.getLogger(__name__)

# One process may hold several Bots in tests; jobs name theirs by app id.
_RUNNING: dict[str, Bot] = {}


@dataclass(frozen=True)
class JobSpec:
    """A job a capability wants: ``func`` is ``"module:function"``; ``trigger`` an
    APScheduler trigger name (``cron``, ``interval``, ``date``) with ``trigger_args``."""

    id: str
    func: str
    trigger: str
    trigger_args: dict[str, Any] = field(default_factory=dict)
    kwargs: dict[str, Any] = field(default_factory=dict)


def running_bot(app_id: str) -> Bot:
    """The Bot that started the scheduler. Raises LookupError when none is running."""
    try:
        return _RUNNING[app_id]
    except KeyError:
        raise LookupError(f"no running Convene app {app_id!r}") from None


def register_running(bot: Bot) -> None:
    """Make ``bot`` findable by jobs (also used by one-off runs and tests)."""
    _RUNNING[bot.app_id] = bot


def start_scheduler(bot: Bot, *, persistent: bool = True) -> BackgroundScheduler:
    """Start the scheduler with every job in ``bot.jobs``.

    ``persistent`` keeps jobs in the database table ``apscheduler_jobs`` so a
    restart resumes one-off jobs (a round's close) that were scheduled before.
    """
    register_running(bot)
    stores: dict[str, Any] = {}
    if persistent:
        stores["default"] = SQLAlchemyJobStore(engine=bot.engine, tablename="apscheduler_jobs")
    scheduler = BackgroundScheduler(
        jobstores=stores,
        executors={"default": ThreadPoolExecutor(4)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
        timezone="UTC",
    )
    for spec in bot.jobs:
        scheduler.add_job(spec.func, spec.trigger, id=spec.id, replace_existing=True,
                          args=[bot.app_id], kwargs=spec.kwargs, **spec.trigger_args)
    scheduler.start()
    log.info("scheduler started with %d job(s)", len(bot.jobs))
    return scheduler


def schedule_once(scheduler: BackgroundScheduler, bot: Bot, *, job_id: str, func: str,
                  run_at: Any, **kwargs: Any) -> None:
    """Add (or move) a one-off job at ``run_at`` (aware datetime)."""
    scheduler.add_job(func, "date", id=job_id, replace_existing=True, run_date=run_at,
                      args=[bot.app_id], kwargs=kwargs)
