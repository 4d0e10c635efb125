"""Loopback servers for the press-review tests: the fixture feeds over HTTP
(ETag / Last-Modified / 304 / gzip) and an SMTP server (aiosmtpd)."""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.smtp_helpers import free_port


@dataclass
class FeedServer:
    """Serves ``folder`` on loopback; ``hits`` counts status codes per path."""

    folder: Path
    port: int = 0
    hits: dict[str, list[int]] = field(default_factory=dict)
    gzipped: list[str] = field(default_factory=list)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"


#: The allow-list that lets the feed servers these tests start on loopback through
#: the guarded client (``[outbound] allow_hosts``): loopback is refused without it.
LOOPBACK = {"allow_hosts": ["127.0.0.1"]}
LOOPBACK_TOML = '[outbound]\nallow_hosts = ["127.0.0.1"]\n'


def _handler(server: FeedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            name = self.path.lstrip("/")
            path = server.folder / name
            if "/" in name or not path.is_file():
                server.hits.setdefault(name, []).append(404)
                self.send_error(404)
                return
            body = path.read_bytes()
            etag = '"' + hashlib.sha1(body).hexdigest() + '"'
            modified = formatdate(path.stat().st_mtime, usegmt=True)
            if (self.headers.get("If-None-Match") == etag
                    or self.headers.get("If-Modified-Since") == modified):
                server.hits.setdefault(name, []).append(304)
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            server.hits.setdefault(name, []).append(200)
            self.send_response(200)
            # No charset: the bytes and their XML declaration must speak for themselves.
            self.send_header("Content-Type", "application/xml")
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", modified)
            if "gzip" in self.headers.get("Accept-Encoding", ""):
                body = gzip.compress(body)
                self.send_header("Content-Encoding", "gzip")
                server.gzipped.append(name)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@pytest.fixture
def feed_server(shared_fixtures: Path) -> Iterator[FeedServer]:
    """The fixture feeds served on 127.0.0.1 by a real HTTP server."""
    fs = FeedServer(shared_fixtures / "feeds")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fs))
    fs.port = httpd.server_address[1]
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield fs
    httpd.shutdown()
    httpd.server_close()



@pytest.fixture
def week_server(tmp_path: Path) -> Iterator[FeedServer]:
    """A loopback HTTP server over ``tmp_path/week-feeds`` (empty: tests write
    feeds there with :func:`tests.digests.weekfeeds.write_week`)."""
    folder = tmp_path / "week-feeds"
    folder.mkdir()
    fs = FeedServer(folder)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fs))
    fs.port = httpd.server_address[1]
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield fs
    httpd.shutdown()
    httpd.server_close()


@dataclass
class SmtpSink:
    """An aiosmtpd server on loopback collecting messages."""

    port: int
    messages: list[Message] = field(default_factory=list)
    controller: object | None = None

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        sink = self

        class Handler:
            async def handle_DATA(self, server: object, session: object,
                                  envelope: object) -> str:
                sink.messages.append(message_from_bytes(envelope.content))  # type: ignore[attr-defined]
                return "250 OK"

        ctl = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        ctl.start()
        self.controller = ctl

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()  # type: ignore[attr-defined]
            self.controller = None

    def by_recipient(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for m in self.messages:
            out[str(m["To"])] = out.get(str(m["To"]), 0) + 1
        return out


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    """A (not yet started) SMTP sink on a free loopback port."""
    try:
        import aiosmtpd  # noqa: F401
    except ImportError:
        from tests.conftest import need

        need(False, "aiosmtpd is not installed")
    sink = SmtpSink(free_port())
    yield sink
    sink.stop()


@pytest.fixture(scope="session")
def quality_bench() -> Any:
    """bench/digest_quality.py as a module (the labelled sets' loaders and
    figures), loaded once."""
    root = Path(__file__).resolve().parents[2]
    spec = importlib.util.spec_from_file_location("digest_quality",
                                                  root / "bench" / "digest_quality.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod
