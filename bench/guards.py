"""Benchmark: what issue 22's guards cost and what they refuse.

1. Outbound: N feed fetches from a loopback server through the guarded client
   (``digests/outbound.py``: a lookup and an address check per connection)
   against a plain ``httpx.AsyncClient``, same concurrency; ms per fetch.
2. Inbound: a 64 MB urlencoded POST (an invalid token first) to the
   availability page, declared (Content-Length) and streamed (chunked): the
   time until the 413 arrives and how many bytes had been sent by then.

Run: ``.venv/bin/python bench/guards.py [--fetches N]``. Prints its figures.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import build_app  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.web import create_web_app  # noqa: E402
from digests.outbound import FetchPolicy, guarded_client  # noqa: E402
from storage.engine import make_engine  # noqa: E402
from storage.migrate import upgrade_engine  # noqa: E402

BODY = b'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title></channel></rss>'


def _feed_server() -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(BODY)))
            self.end_headers()
            self.wfile.write(BODY)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


async def _fetch_all(client: object, url: str, n: int) -> float:
    sem = asyncio.Semaphore(8)

    async def one(i: int) -> None:
        async with sem:
            # A new host name per fetch would need DNS; a new connection per
            # fetch (Connection: close) makes every fetch go through the check.
            r = await client.get(f"{url}?{i}", headers={"Connection": "close"})  # type: ignore[attr-defined]
            assert r.status_code == 200

    start = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    return (time.perf_counter() - start) * 1000 / n


async def outbound(n: int) -> None:
    import httpx

    httpd = _feed_server()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/feed.xml"
    policy = FetchPolicy(allow_hosts=("127.0.0.1",))
    for _round in range(2):  # the first round warms up both
        async with guarded_client(policy) as guarded:
            g = await _fetch_all(guarded, url, n)
        async with httpx.AsyncClient(trust_env=False) as plain:
            p = await _fetch_all(plain, url, n)
    print(f"outbound: {n} fetches, 8 at a time, a new connection each: guarded "
          f"{g:.2f} ms/fetch, plain httpx {p:.2f} ms/fetch ({g - p:+.2f} ms)")
    async with guarded_client(FetchPolicy()) as strict:
        start = time.perf_counter()
        try:
            await strict.get(url)
        except httpx.ConnectError as exc:
            print(f"outbound: loopback without the allow-list refused in "
                  f"{(time.perf_counter() - start) * 1000:.2f} ms ({exc})")
    httpd.shutdown()


def _post(port: int, path: str, head: str, chunks: Iterator[bytes]) -> tuple[float, int, str]:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        start = time.perf_counter()
        sock.sendall(head.encode())
        sock.settimeout(0.001)
        sent = 0
        for chunk in chunks:
            try:
                sock.sendall(chunk)
                sent += len(chunk)
                if sock.recv(1, socket.MSG_PEEK):
                    break
            except (TimeoutError, BlockingIOError):
                continue
            except OSError:
                break
        sock.settimeout(30)
        status = sock.recv(4096).decode("latin-1").split("\r\n", 1)[0]
        return (time.perf_counter() - start) * 1000, sent, status


def inbound() -> None:
    import uvicorn

    folder = Path(tempfile.mkdtemp())
    url = f"sqlite:///{folder / 'b.db'}"
    engine = make_engine(url)
    upgrade_engine(engine)
    engine.dispose()
    bot = build_app(Settings(database_url=url,
                             secret_key="bench-secret-key-not-for-production-use",
                             mail={"outbox_dir": folder / "outbox"}))  # type: ignore[arg-type]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_web_app(bot), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.02)
    size = 64 << 20
    piece = b"slot-1=yes&" * 6000

    def body() -> Iterator[bytes]:
        yield b"t=not-a-valid-token&form=availability&"
        for _ in range(size // len(piece)):
            yield piece

    def chunked() -> Iterator[bytes]:
        for part in body():
            yield f"{len(part):x}\r\n".encode() + part + b"\r\n"

    base = ("POST /workshops/1/availability HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\nOrigin: http://127.0.0.1\r\n")
    for name, head, chunks in (
            ("declared", base + f"Content-Length: {size}\r\n\r\n", body()),
            ("streamed", base + "Transfer-Encoding: chunked\r\n\r\n", chunked())):
        ms, sent, status = _post(port, "/workshops/1/availability", head, chunks)
        print(f"inbound: 64 MB POST {name}: {status!r} after {ms:.1f} ms, "
              f"{sent / 1024:.0f} KiB of {size >> 20} MiB sent")
    server.should_exit = True
    bot.engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--fetches", type=int, default=400)
    args = parser.parse_args()
    asyncio.run(outbound(args.fetches))
    inbound()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
