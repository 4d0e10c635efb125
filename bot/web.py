"""The small HTTP app: health, plus the routes capabilities and adapters add
(vote links, calendar feeds, Slack events)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from storage.engine import read_only

if TYPE_CHECKING:
    from bot.app import Bot

log = logging.getLogger(__name__)


def create_web_app(bot: Bot, extra_routes: list[Any] | None = None) -> Starlette:
    """A Starlette app with ``/healthz`` and every route in ``bot.web_routes``
    and ``extra_routes``."""

    def healthz(_request: Request) -> JSONResponse:
        # A plain function: Starlette runs it in its thread pool, so the database
        # round trip never blocks the event loop that acknowledges Slack.
        try:
            with read_only(bot.engine).connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception:
            log.exception("health check: database unreachable")
            return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok"})

    routes: list[Any] = [Route("/healthz", healthz, methods=["GET"])]
    routes += list(bot.web_routes) + list(extra_routes or [])
    app = Starlette(routes=routes)
    app.state.bot = bot
    return app
