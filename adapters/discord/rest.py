"""discord.py's HTTPClient (rate limits, retries) for synchronous callers.

The outbox worker is a thread; discord.py is asyncio. :class:`Rest` runs one
event loop in a daemon thread with one logged-in ``discord.http.HTTPClient``
and lets threads call ``request(method, path, ...)`` on it. Any replica can
deliver this way, whether or not it holds the gateway connection.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Coroutine, Sequence
from typing import Any, TypeVar

import discord
from discord.http import HTTPClient, Route

log = logging.getLogger(__name__)
T = TypeVar("T")


def set_api_url(url: str) -> None:
    """Point discord.py's REST base (``Route.BASE``, process-wide) at ``url``;
    empty leaves Discord's."""
    if url:
        Route.BASE = url.rstrip("/")


def multipart(body: dict[str, Any], files: Sequence[tuple[str, bytes, str]]
              ) -> list[dict[str, Any]]:
    """The ``form`` of a multipart message request: ``payload_json`` then ``files[n]``."""
    form: list[dict[str, Any]] = [{"name": "payload_json", "value": json.dumps(
        body, separators=(",", ":"), ensure_ascii=False), "content_type": "application/json"}]
    for i, (name, data, mime) in enumerate(files):
        form.append({"name": f"files[{i}]", "value": data, "filename": name,
                     "content_type": mime.split(";")[0].strip() or "application/octet-stream"})
    return form


class Rest:
    """A logged-in HTTPClient on its own loop thread. Thread-safe."""

    def __init__(self, token: str, *, timeout: float = 60.0) -> None:
        self.token = token
        self.timeout = timeout
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="discord-rest",
                                        daemon=True)
        self._thread.start()
        self._lock = threading.Lock()
        self._http: HTTPClient | None = None

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the loop thread and wait for it."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(self.timeout)

    def http(self) -> HTTPClient:
        """The HTTPClient, logged in on first use (``GET /users/@me``)."""
        with self._lock:
            if self._http is None:
                async def login() -> HTTPClient:
                    http = HTTPClient(self.loop)
                    await http.static_login(self.token)
                    return http

                self._http = self.run(login())
            return self._http

    def _call(self, method: str, path: str, *, json_body: Any,
              files: Sequence[tuple[str, bytes, str]], params: dict[str, Any]
              ) -> Coroutine[Any, Any, Any]:
        http = self.http()
        route = Route(method, path, **params)
        if files:
            return http.request(route, form=multipart(json_body or {}, files))
        if json_body is not None:
            return http.request(route, json=json_body)
        return http.request(route)

    def request(self, method: str, path: str, *, json_body: Any = None,
                files: Sequence[tuple[str, bytes, str]] = (), **params: Any) -> Any:
        """``method path`` (``/channels/{channel_id}/messages``, with ``params``
        filling it in) with a JSON body or, with ``files``, multipart. Returns
        the decoded response; raises ``discord.HTTPException`` subclasses."""
        return self.run(self._call(method, path, json_body=json_body, files=files,
                                   params=params))

    async def arequest(self, method: str, path: str, *, json_body: Any = None,
                       files: Sequence[tuple[str, bytes, str]] = (), **params: Any) -> Any:
        """:meth:`request` for a coroutine on another event loop: it waits
        without blocking that loop (the first call logs in, in a thread)."""
        if self._http is None:
            await asyncio.get_running_loop().run_in_executor(None, self.http)
        coro = self._call(method, path, json_body=json_body, files=files, params=params)
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self.loop))

    def close(self) -> None:
        """Close the session and stop the loop thread."""
        if self._http is not None:
            try:
                self.run(self._http.close())
            except Exception:
                log.debug("closing the Discord REST session failed", exc_info=True)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        if not self.loop.is_running():
            self.loop.close()


def is_unknown(exc: BaseException, *codes: int) -> bool:
    """Whether ``exc`` is Discord's "unknown ..." (404 with one of ``codes``)."""
    return isinstance(exc, discord.NotFound) and (not codes or exc.code in codes)
