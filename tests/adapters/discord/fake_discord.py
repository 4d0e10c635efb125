"""A fake Discord REST API on loopback (aiohttp), for discord.py's real HTTPClient.

It implements what Convene calls: login (``/users/@me``,
``/oauth2/applications/@me``), command sync (bulk overwrite), interaction
callbacks (with the 3-second window: a callback after ``window`` seconds, or a
second one, is refused as Discord does, 10062 / 40060), followup webhooks,
channel messages (POST/PATCH, JSON or multipart), DM channels and Guild
Scheduled Events (POST/PATCH/DELETE). Everything received is recorded in
``calls`` for the tests to read.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

APP_ID = "1016612301262041098"
BOT_ID = "1016612301262041098"
GUILD = "808638139785936919"
CHANNEL = "1016614538398937098"


def _json(data: Any, status: int = 200) -> web.Response:
    # discord.py decodes only an exact "application/json" content type.
    return web.Response(body=json.dumps(data).encode(), status=status,
                        headers={"Content-Type": "application/json"})


@dataclass
class Call:
    method: str
    path: str
    body: Any
    files: list[tuple[str, bytes]] = field(default_factory=list)
    at: float = 0.0


class FakeDiscord:
    """Start with ``start()``; ``base`` is the URL for ``Route.BASE``."""

    def __init__(self, *, window: float = 3.0) -> None:
        self.window = window
        self.calls: list[Call] = []
        self.messages: dict[str, dict[str, Any]] = {}
        self.events: dict[str, dict[str, Any]] = {}
        self.interactions: dict[str, float] = {}  # id -> created (monotonic)
        self.answered: set[str] = set()
        self.callback_delay = 0.0
        self._ids = itertools.count(1_200_000_000_000_000_000)
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    def new_id(self) -> str:
        return str(next(self._ids))

    def interaction_created(self, interaction_id: str) -> None:
        """Note when Discord 'sent' an interaction (the 3 s window starts)."""
        self.interactions[interaction_id] = time.monotonic()

    # -- server ------------------------------------------------------------------------
    def start(self) -> FakeDiscord:
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        async def shutdown() -> None:
            await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        app = web.Application()
        app.router.add_route("*", "/api/v10/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        self.loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        self.loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._ready.set()
        self.loop.run_forever()

    async def _read(self, request: web.Request) -> tuple[Any, list[tuple[str, bytes]]]:
        ctype = request.headers.get("Content-Type", "")
        if ctype.startswith("multipart/"):
            body: Any = None
            files: list[tuple[str, bytes]] = []
            reader = await request.multipart()
            async for part in reader:  # type: ignore[union-attr]
                data = await part.read()  # type: ignore[union-attr]
                if part.name == "payload_json":
                    body = json.loads(data)
                else:
                    files.append((part.filename or "", bytes(data)))
            return body, files
        raw = await request.read()
        return (json.loads(raw) if raw else None), []

    def _message(self, channel: str, body: dict[str, Any], files: list[Any]) -> dict[str, Any]:
        mid = self.new_id()
        msg = {"id": mid, "channel_id": channel, "type": 0, "content": body.get("content", ""),
               "embeds": body.get("embeds", []), "components": body.get("components", []),
               "attachments": [{"id": self.new_id(), "filename": n, "size": len(d),
                                "url": f"https://cdn.example/{n}",
                                "proxy_url": f"https://media.example/{n}"} for n, d in files],
               "author": {"id": BOT_ID, "username": "Convene", "discriminator": "0",
                          "avatar": None, "bot": True},
               "timestamp": "2026-12-01T10:00:00+00:00", "edited_timestamp": None,
               "tts": False, "mention_everyone": False, "mentions": [], "mention_roles": [],
               "pinned": False, "flags": body.get("flags", 0)}
        self.messages[mid] = msg
        return msg

    async def _handle(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"]
        body, files = await self._read(request)
        self.calls.append(Call(request.method, path, body, files, time.monotonic()))
        parts = path.strip("/").split("/")
        m = request.method
        if path == "/users/@me":
            return _json({"id": BOT_ID, "username": "Convene", "discriminator": "0",
                                      "avatar": None, "bot": True})
        if path == "/oauth2/applications/@me":
            return _json({
                "id": APP_ID, "name": "Convene", "description": "", "icon": None,
                "bot_public": False, "bot_require_code_grant": False, "verify_key": "00",
                "flags": 0, "owner": {"id": "1", "username": "owner", "discriminator": "0",
                                      "avatar": None}})
        if parts[0] == "applications" and parts[-1] == "commands" and m == "PUT":
            return _json([{**c, "id": self.new_id(), "application_id": APP_ID,
                                       "version": "1"} for c in body])
        if parts[0] == "interactions" and parts[-1] == "callback":
            iid = parts[1]
            if self.callback_delay:
                await asyncio.sleep(self.callback_delay)
            created = self.interactions.get(iid)
            if created is None or time.monotonic() - created > self.window:
                return _json({"message": "Unknown interaction", "code": 10062},
                                         status=404)
            if iid in self.answered:
                return _json({"message": "Interaction has already been "
                                          "acknowledged.", "code": 40060}, status=400)
            self.answered.add(iid)
            return _json({"interaction": {"id": iid, "type": body["type"]}})
        if parts[0] == "webhooks" and m == "POST":
            return _json(self._message("followup", body, files))
        if parts[0] == "channels" and parts[-1] == "messages" and m == "POST":
            return _json(self._message(parts[1], body, files))
        if parts[0] == "channels" and parts[-2] == "messages" and m == "PATCH":
            msg = self.messages.get(parts[-1])
            if msg is None:
                return _json({"message": "Unknown Message", "code": 10008},
                                         status=404)
            msg.update({k: v for k, v in body.items() if k in ("content", "embeds",
                                                                "components")})
            msg["edited_timestamp"] = "2026-12-01T10:01:00+00:00"
            return _json(msg)
        if path == "/users/@me/channels" and m == "POST":
            return _json({"id": "9" + body["recipient_id"][1:], "type": 1})
        if parts[0] == "guilds" and parts[-1] == "scheduled-events" and m == "POST":
            eid = self.new_id()
            self.events[eid] = {**body, "id": eid, "guild_id": parts[1], "status": 1}
            return _json(self.events[eid])
        if parts[0] == "guilds" and parts[-2] == "scheduled-events":
            ev = self.events.get(parts[-1])
            if ev is None:
                return _json({"message": "Unknown Guild Scheduled Event",
                                          "code": 10070}, status=404)
            if m == "DELETE":
                del self.events[parts[-1]]
                return web.Response(status=204)
            ev.update(body)
            return _json(ev)
        return _json({"message": f"not faked: {m} {path}", "code": 0}, status=404)

    # -- reading -----------------------------------------------------------------------
    def find(self, method: str, prefix: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and c.path.startswith(prefix)]
