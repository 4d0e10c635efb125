"""A fake Slack Web API on loopback: a real HTTP server that answers the
methods Convene calls and records every call, in the way slack-bolt's own
tests use a mock server. Also serves ``/hooks/...`` as response_urls."""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

BOT_USER = "UCONVENEBOT"
TEAM = "T01ND2P8N91"


@dataclass
class Call:
    """One request: ``method`` is the API method (``chat.update``) or ``hook``."""

    method: str
    path: str
    args: dict[str, Any]
    token: str


@dataclass
class FakeSlack:
    """Start with :meth:`start`; ``users`` maps user id -> profile email;
    ``fail`` maps a method to the error it answers once; ``rate_limit`` maps a
    method to ``(times, retry_after seconds)``: that many calls are answered
    HTTP 429 with ``Retry-After`` (as Slack's tier limits do). Files uploaded
    through files.getUploadURLExternal + the upload URL +
    files.completeUploadExternal land in ``files`` (id -> bytes, title, channel)."""

    users: dict[str, str] = field(default_factory=dict)
    fail: dict[str, str] = field(default_factory=dict)
    rate_limit: dict[str, tuple[int, int]] = field(default_factory=dict)
    limited: list[Call] = field(default_factory=list)
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    messages: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _ts: Any = field(default_factory=lambda: itertools.count(1))
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return self.url + "/api/"

    def hook_url(self, name: str) -> str:
        return f"{self.url}/hooks/{name}"

    def start(self, port: int = 0) -> FakeSlack:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes: with Nagle's algorithm the
            # second waits for the client's delayed ACK (40 ms on Linux), which
            # real Slack does not cost.
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                # Call counts by method, for a benchmark running in another process.
                with fake.lock:
                    counts: dict[str, int] = {}
                    for c in fake.calls:
                        counts[c.method] = counts.get(c.method, 0) + 1
                self._send(200, json.dumps(counts).encode(), "application/json")

            def do_POST(self) -> None:
                data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path.startswith("/upload/"):
                    file_id = self.path.removeprefix("/upload/")
                    with fake.lock:
                        fake.files.setdefault(file_id, {})["data"] = data
                    fake._record(Call("upload", self.path, {"length": len(data)}, ""))
                    self._send(200, f"OK - {len(data)}".encode(), "text/plain")
                    return
                raw = data.decode()
                if "json" in (self.headers.get("Content-Type") or ""):
                    args = json.loads(raw or "{}")
                else:
                    args = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
                for key in ("blocks", "view", "files"):
                    if isinstance(args.get(key), str):
                        args[key] = json.loads(args[key])
                token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
                if self.path.startswith("/hooks/"):
                    fake._record(Call("hook", self.path, args, token))
                    self._send(200, b"ok", "text/plain")
                    return
                method = self.path.removeprefix("/api/")
                wait = fake._limited(method)
                if wait is not None:
                    with fake.lock:
                        fake.limited.append(Call(method, self.path, args, token))
                    self.send_response(429)
                    self.send_header("Retry-After", str(wait))
                    self.send_header("Content-Type", "application/json")
                    body429 = b'{"ok": false, "error": "ratelimited"}'
                    self.send_header("Content-Length", str(len(body429)))
                    self.end_headers()
                    self.wfile.write(body429)
                    return
                body = fake._answer(method, args)
                fake._record(Call(method, self.path, args, token))
                self._send(200, json.dumps(body).encode(), "application/json")

            def _send(self, status: int, body: bytes, ctype: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def _record(self, call: Call) -> None:
        with self.lock:
            self.calls.append(call)

    def _limited(self, method: str) -> int | None:
        with self.lock:
            times, wait = self.rate_limit.get(method, (0, 0))
            if times <= 0:
                return None
            self.rate_limit[method] = (times - 1, wait)
            return wait

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            error = self.fail.pop(method, None)
        if error:
            return {"ok": False, "error": error}
        if method == "auth.test":
            return {"ok": True, "user_id": BOT_USER, "bot_id": "BCONVENE", "team_id": TEAM,
                    "team": "Alliance", "user": "convene", "url": "https://x.slack.com/"}
        if method == "users.info":
            user = str(args.get("user"))
            if user not in self.users:
                return {"ok": False, "error": "user_not_found"}
            return {"ok": True, "user": {"id": user, "is_bot": False,
                                         "profile": {"email": self.users[user]}}}
        if method == "users.list":
            ids = sorted(self.users)
            start = int(args.get("cursor") or 0)
            end = start + int(args.get("limit") or 200)
            members = [{"id": u, "is_bot": False, "deleted": False,
                        "profile": {"email": self.users[u]}} for u in ids[start:end]]
            return {"ok": True, "members": members,
                    "response_metadata": {"next_cursor": str(end) if end < len(ids) else ""}}
        if method == "chat.postMessage":
            ts = f"{int(time.time())}.{next(self._ts):06d}"
            with self.lock:
                self.messages[(str(args["channel"]), ts)] = args
            return {"ok": True, "channel": args["channel"], "ts": ts, "message": {"ts": ts}}
        if method == "chat.update":
            key = (str(args["channel"]), str(args["ts"]))
            with self.lock:
                if key not in self.messages:
                    return {"ok": False, "error": "message_not_found"}
                self.messages[key] = args
            return {"ok": True, "channel": args["channel"], "ts": args["ts"]}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": f"{int(time.time())}.{next(self._ts):06d}"}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ts):06d}"
            with self.lock:
                self.files[file_id] = {"filename": args.get("filename"),
                                       "length": int(args.get("length") or 0)}
            return {"ok": True, "file_id": file_id, "upload_url": f"{self.url}/upload/{file_id}"}
        if method == "files.completeUploadExternal":
            out = []
            with self.lock:
                for f in args.get("files") or []:
                    entry = self.files.get(str(f["id"]))
                    if entry is None or "data" not in entry:
                        return {"ok": False, "error": "file_not_found"}
                    entry.update(title=f.get("title"), channel=args.get("channel_id"),
                                 thread_ts=args.get("thread_ts"))
                    out.append({"id": f["id"], "title": f.get("title")})
            return {"ok": True, "files": out}
        if method in ("views.open", "views.publish"):
            return {"ok": True, "view": {"id": f"V{next(self._ts)}", **args.get("view", {})}}
        return {"ok": False, "error": "unknown_method"}

    def of(self, method: str) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 15.0) -> list[Call]:
        """The calls of ``method`` once there are ``count``; AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.of(method)
            if len(found) >= count:
                return found
            time.sleep(0.02)
        raise AssertionError(f"waited {timeout}s for {count} {method} call(s); calls: "
                             f"{[c.method for c in self.calls]}")
