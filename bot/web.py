"""The small HTTP app: health, readiness and metrics, plus the routes
capabilities and adapters add (vote links, calendar feeds, chat platforms' endpoints).

``/healthz``: the process answers (liveness, no database). ``/readyz``: the
database answers and its schema is at the newest migration (503 otherwise),
with whether this replica holds the scheduler lease. ``/metrics``: Prometheus
text format (bot/metrics.py). ``/static/convene.css``: the link pages' one
stylesheet (bot/pages.py; no inline style or script: the Content-Security-Policy
allows none).

One middleware (:class:`Guard`) sits in front of every route: each response
carries :data:`SECURITY_HEADERS` (CSP with ``frame-ancestors 'none'``,
``X-Frame-Options``, ``nosniff``, ``Referrer-Policy``), and a POST's body
over its route's limit (``[http] max_body_bytes`` for pages, a
:class:`OwnBodyRoute`'s own for the chat platforms' endpoints) gets 413 from
its ``Content-Length`` or while it streams, before any parsing. Pages read
forms with :func:`read_form` (fields counted and sized) and check the origin
of every POST with :func:`same_origin`."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

from sqlalchemy import select, text
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.datastructures import FormData, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.pages import static_routes
from bot.shed import ConcurrencyLimit
from storage.engine import read_only
from storage.models import Person, ProcessedEvent

if TYPE_CHECKING:
    from collections.abc import Sequence

    from bot.app import Bot

log = logging.getLogger(__name__)

#: On every response of the HTTP app (pages, calendar feeds, health). No
#: script at all, styles only from this site (``/static/convene.css``), forms
#: posting only here, never framed. ``same-origin``, not ``no-referrer``: under
#: no-referrer a browser sends ``Origin: null`` with a page's own form post,
#: which :func:`same_origin` must refuse; a token-bearing URL still never
#: leaves as a Referer to another site.
SECURITY_HEADERS: Final = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
#: Form limits for link pages (:func:`read_form`): no file, few short fields.
FORM_FIELDS: Final = 500
FORM_PART_BYTES: Final = 8192


class OwnBodyRoute(Route):
    """A POST route whose endpoint reads and bounds its own body (a chat
    platform's endpoint, checked against its signature): the guard lets bodies up to
    ``max_body`` bytes through to it instead of the pages' limit."""

    def __init__(self, path: str, endpoint: Any, *, max_body: int,
                 methods: list[str] | None = None) -> None:
        super().__init__(path, endpoint, methods=methods)
        self.max_body = max_body


class Guard:
    """ASGI middleware: :data:`SECURITY_HEADERS` on every response; 413 for a
    POST/PUT/PATCH body over its route's limit (declared, or counted while it
    streams: the endpoint's read stops there), 400 for a Content-Length that
    is not ASCII digits."""

    def __init__(self, app: ASGIApp, *, max_body: int,
                 own: Sequence[OwnBodyRoute] = ()) -> None:
        self.app, self.max_body, self.own = app, max_body, tuple(own)

    def limit(self, scope: Scope) -> int:
        """The body limit of the route ``scope`` goes to (bytes)."""
        for route in self.own:
            if route.matches(scope)[0] == Match.FULL:
                return route.max_body
        return self.max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_guarded(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for key, value in SECURITY_HEADERS.items():
                    headers[key] = value
            await send(message)

        if scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send_guarded)
            return
        limit = self.limit(scope)
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if declared is not None:
            if not (declared.isascii() and declared.isdigit() and len(declared) <= 18):
                await PlainTextResponse("bad Content-Length", 400)(scope, receive, send_guarded)
                return
            if int(declared) > limit:
                await PlainTextResponse("request body too large", 413)(
                    scope, receive, send_guarded)
                return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    # Starlette's exception middleware answers it: the rest of the
                    # body is never read.
                    raise HTTPException(413, "request body too large")
            return message

        await self.app(scope, counted, send_guarded)


async def read_form(request: Request) -> FormData:
    """A page's form body, bounded: no file, at most :data:`FORM_FIELDS`
    fields of :data:`FORM_PART_BYTES` each (Starlette answers 400 beyond);
    the body as a whole is bounded by :class:`Guard`."""
    return await request.form(max_files=0, max_fields=FORM_FIELDS,
                              max_part_size=FORM_PART_BYTES)


def same_origin(request: Request, public_url: str) -> bool:
    """The one Origin rule of every page's POST: its ``Origin`` (else, when
    absent or ``null``, the ``Referer``'s origin) is this request's origin or
    ``public_url``'s. A POST carrying neither is refused."""
    claimed = request.headers.get("origin") or ""
    if not claimed or claimed == "null":
        ref = urlsplit(request.headers.get("referer") or "")
        claimed = f"{ref.scheme}://{ref.netloc}" if ref.scheme and ref.netloc else ""
    if not claimed:
        return False
    mine = {f"{request.url.scheme}://{request.url.netloc}"}
    pub = urlsplit(public_url)
    mine.add(f"{pub.scheme}://{pub.netloc}")
    return claimed.rstrip("/") in mine

#: A link token in a request line: a ``t=`` query value (every capability's
#: signed links, ``;``-separated too), a vote-page path segment, or whatever
#: follows a calendar feed's ``/feed/`` up to the query: with or without
#: ``.ics``, percent-encoded, with more segments (a mistyped feed URL is still
#: a token; it reaches the log as a 404).
_TOKEN = re.compile(r"([?&;]t=)[^&;\s\"]+|(/vote/)[^/?\s\"]+"
                    r"|(/feed/)(?:[^?#\s\"]*?)(\.ics)?(?=[?#\s\"]|$)", re.IGNORECASE)


def _blank(match: re.Match[str]) -> str:
    if match.group(3) is not None and match.end(3) == match.end():
        return match.group(0)  # "/feed/" and nothing after it
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
    its own (read-only: on SQLite no write lock)."""
    with Session(read_only(bot.session_factory.kw["bind"])) as session:
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
    own = [r for r in routes if isinstance(r, OwnBodyRoute)]
    http = bot.settings.http
    # Health, metrics and the adapters' endpoints (which shed by their own backlog) never wait.
    exempt = ("/healthz", "/readyz", "/metrics",
              *(str(getattr(r, "path", "")) for r in extra_routes or ()),
              *(str(getattr(r, "path", "")) for r in own))
    app = Starlette(routes=routes, middleware=[
        Middleware(ConcurrencyLimit, limit=http.max_in_flight, queued=http.max_queued,
                   wait_seconds=http.queue_seconds, exempt=exempt,
                   language=bot.settings.default_language),
        Middleware(Guard, max_body=http.max_body_bytes, own=own)])
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
