"""The small HTTP app: health, readiness and metrics, plus the routes
capabilities and adapters add (vote links, calendar feeds, chat platforms' endpoints).

``/healthz``: the process answers (liveness, no database). ``/readyz``: the
database answers and its schema is at the newest migration (503 otherwise),
with whether this replica holds the scheduler lease. ``/metrics``: Prometheus
text format (bot/metrics.py)."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import select, text
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.pages import static_routes
from bot.shed import ConcurrencyLimit
from storage.engine import read_only
from storage.models import Person, ProcessedEvent

if TYPE_CHECKING:
    from bot.app import Bot

log = logging.getLogger(__name__)

#: A link token in a request line: a ``t=`` query value (every capability's
#: signed links), a vote-page path segment, or a calendar feed's file name.
_TOKEN = re.compile(r"([?&]t=)[^&\s\"]+|(/vote/)[^/?\s\"]+|(/workshops/feed/)[^/?\s\"]+(\.ics)")


def _blank(match: re.Match[str]) -> str:
    return (match.group(1) or match.group(2) or match.group(3)) + REDACTED + \
        (match.group(4) or "")


#: What stands where a token was.
REDACTED = "REDACTED"


class RedactTokens(logging.Filter):
    """Replaces link tokens in log records (the arguments uvicorn's access log
    formats, and the message itself) by :data:`REDACTED`, so a signed link
    never reaches a log file."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_TOKEN.sub(_blank, a) if isinstance(a, str) else a
                                for a in record.args)
        if isinstance(record.msg, str):
            record.msg = _TOKEN.sub(_blank, record.msg)
        return True


#: The one filter: installing it again adds nothing (``Logger.addFilter`` dedupes).
REDACT = RedactTokens()


def redact_access_log() -> None:
    """Keep link tokens out of the HTTP access log (``uvicorn.access``); every
    capability with signed links calls this when it installs its pages."""
    logging.getLogger("uvicorn.access").addFilter(REDACT)


#: The platform a signed link's use is recorded under (``processed_events``).
LINK_PLATFORM: Final = "web"


def link_used(bot: Bot, event_id: str) -> bool:
    """Whether the link whose use is the event ``event_id`` (a digest of its
    token, see bot.tokens.digest) was already acted on, in a unit of work of
    its own."""
    with bot.session_factory() as session:
        return session.scalar(select(ProcessedEvent.id).where(
            ProcessedEvent.platform == LINK_PLATFORM,
            ProcessedEvent.event_id == event_id)) is not None


def create_web_app(bot: Bot, extra_routes: list[Any] | None = None) -> Starlette:
    """A Starlette app with ``/healthz``, the routes registered with
    :meth:`bot.registry.Registry.web_routes` and ``extra_routes``."""

    async def healthz(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "instance": bot.instance_id})

    def readyz(_request: Request) -> JSONResponse:
        # A plain function: Starlette runs it in its thread pool, so the database
        # round trip never blocks the event loop that acknowledges chat requests.
        from storage.migrate import at_head

        leader = bot.leadership.is_leader()
        try:
            with read_only(bot.engine).connect() as conn:
                conn.execute(text("SELECT 1"))
            head = at_head(bot.engine)
        except Exception as exc:  # noqa: BLE001 - reported, not raised
            log.warning("readiness: database unreachable: %s", type(exc).__name__)
            return JSONResponse({"status": "error", "database": "unreachable",
                                 "leader": leader}, status_code=503)
        body = {"status": "ok" if head else "error", "database": "ok",
                "migrations": "head" if head else "behind", "leader": leader,
                "instance": bot.instance_id}
        return JSONResponse(body, status_code=200 if head else 503)

    def metrics(_request: Request) -> Response:
        from bot.metrics import CONTENT_TYPE

        return Response(bot.metrics.render(), media_type=CONTENT_TYPE)

    routes: list[Any] = [Route("/healthz", healthz, methods=["GET"]),
                         Route("/readyz", readyz, methods=["GET"]),
                         Route("/metrics", metrics, methods=["GET"])]
    routes += static_routes() + bot.registry.make_web_routes(bot) + list(extra_routes or [])
    http = bot.settings.http
    # Health, metrics and the adapters' endpoints (which shed by their own backlog) never wait.
    exempt = ("/healthz", "/readyz", "/metrics",
              *(str(getattr(r, "path", "")) for r in extra_routes or ()))
    app = Starlette(routes=routes, middleware=[Middleware(
        ConcurrencyLimit, limit=http.max_in_flight, queued=http.max_queued,
        wait_seconds=http.queue_seconds, exempt=exempt,
        language=bot.settings.default_language)])
    app.state.bot = bot
    return app


def language_of(bot: Bot, person_id: int | None) -> str:
    """The language of person ``person_id`` for a link page (the default when
    unknown, e.g. a link whose signature failed: ``LinkRefused.person_id`` None)."""
    if person_id is not None:
        with bot.session_factory() as session:
            person = session.get(Person, person_id)
            if person is not None:
                return person.language
    return bot.settings.default_language
