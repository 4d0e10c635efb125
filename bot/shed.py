"""Load shedding for the HTTP pages: a concurrency limit with a bounded queue.

Under a burst the pages (vote links, calendar feeds, forms) used to queue
without bound: at 200 requests in flight a vote page took seconds, at 1,000
its p99 was 29 s and nothing was ever refused. :class:`ConcurrencyLimit` lets
``limit`` requests run at once, lets ``queued`` more wait up to
``wait_seconds`` for a turn, and answers any other at once with 503 and a
``Retry-After`` (seconds): a browser or client tries again shortly instead of
waiting tens of seconds. Paths under an ``exempt`` prefix (health, metrics,
a chat platform's endpoint, which sheds load by its own backlog) are never held.
"""

from __future__ import annotations

import asyncio
import math

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.errors import N_
from bot.i18n import translator

BUSY = N_("Convene is busy right now. Please try again in a few seconds.")


class ConcurrencyLimit:
    """ASGI middleware: at most ``limit`` requests at once, ``queued`` waiting
    (each at most ``wait_seconds``), the rest refused with 503 + Retry-After,
    the body in ``language``. ``refused`` counts the refusals."""

    def __init__(self, app: ASGIApp, *, limit: int, queued: int, wait_seconds: float,
                 exempt: tuple[str, ...], language: str) -> None:
        self.app = app
        self.limit = limit
        self.queued = queued
        self.wait_seconds = wait_seconds
        self.exempt = exempt
        self.language = language
        self.refused = 0

        self._waiting = 0
        self._turn: asyncio.Semaphore | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or str(scope.get("path", "")).startswith(self.exempt):
            await self.app(scope, receive, send)
            return
        if self._turn is None:
            self._turn = asyncio.Semaphore(self.limit)
        turn = self._turn
        if turn.locked():
            if self._waiting >= self.queued:
                await self._refuse(scope, receive, send)
                return
            self._waiting += 1
            try:
                await asyncio.wait_for(turn.acquire(), self.wait_seconds)
            except TimeoutError:
                await self._refuse(scope, receive, send)
                return
            finally:
                self._waiting -= 1
        else:
            await turn.acquire()
        try:
            await self.app(scope, receive, send)
        finally:
            turn.release()

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.refused += 1
        wait = max(1, math.ceil(self.wait_seconds))
        body = translator(self.language).gettext(BUSY)
        await PlainTextResponse(body, status_code=503,
                                headers={"Retry-After": str(wait)})(scope, receive, send)
