"""Load shedding of the HTTP pages (issue 24): past the concurrency limit and
its bounded queue a page is refused at once with 503 + Retry-After, in the
reader's language, instead of queueing for tens of seconds; health is never held."""

from __future__ import annotations

import asyncio

import httpx
from starlette.types import Receive, Scope, Send

from bot.app import Bot
from bot.shed import ConcurrencyLimit
from bot.web import create_web_app


def _held(gate: asyncio.Event) -> ConcurrencyLimit:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] != "/healthz":
            await gate.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    return ConcurrencyLimit(app, limit=1, queued=1, wait_seconds=30.0, exempt=("/healthz",),
                            language="fr")


def test_past_the_limit_and_its_queue_a_page_is_refused_at_once() -> None:
    async def run() -> None:
        gate = asyncio.Event()
        shed = _held(gate)
        transport = httpx.ASGITransport(app=shed)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            running = asyncio.create_task(client.get("/vote"))
            queued = asyncio.create_task(client.get("/vote"))
            while shed._waiting < 1:
                await asyncio.sleep(0.01)
            refused = await client.get("/vote")
            assert refused.status_code == 503 and refused.headers["retry-after"] == "30"
            assert "Réessayez dans quelques secondes" in refused.text
            assert (await client.get("/healthz")).status_code == 200  # never held
            gate.set()
            assert [(await t).status_code for t in (running, queued)] == [200, 200]
            assert shed.refused == 1

    asyncio.run(run())


def test_a_request_that_waits_past_its_time_is_refused() -> None:
    async def run() -> None:
        gate = asyncio.Event()
        shed = _held(gate)
        shed.wait_seconds = 0.05
        transport = httpx.ASGITransport(app=shed)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            running = asyncio.create_task(client.get("/vote"))
            await asyncio.sleep(0.01)
            waited = await client.get("/vote")
            assert waited.status_code == 503 and waited.headers["retry-after"] == "1"
            gate.set()
            assert (await running).status_code == 200

    asyncio.run(run())


def test_the_web_app_sheds_its_pages_and_not_its_health(bot: Bot) -> None:
    app = create_web_app(bot)
    [mw] = [m for m in app.user_middleware if m.cls is ConcurrencyLimit]
    assert mw.kwargs["limit"] == bot.settings.http.max_in_flight
    assert "/healthz" in mw.kwargs["exempt"]
