"""A Starlette app served by uvicorn on loopback, in a thread, for HTTP tests."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import uvicorn

from tests.smtp_helpers import free_port


class Loopback:
    """``app`` under uvicorn on 127.0.0.1 (a free port); ``base`` is its URL and
    ``http`` a client. ``stop()`` ends both."""

    def __init__(self, app: Any) -> None:
        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port,
                                                    log_level="warning", lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        self.base = f"http://127.0.0.1:{self.port}"
        self.http = httpx.Client(timeout=10)

    def stop(self) -> None:
        self.http.close()
        self.server.should_exit = True
        self.thread.join(10)
