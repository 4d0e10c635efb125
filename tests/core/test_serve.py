"""`convene serve` on its embedded defaults: answers /healthz, stops cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.smtp_helpers import free_port


def _start(tmp_path: Path, port: int) -> subprocess.Popen[str]:
    env = dict(os.environ, CONVENE_HTTP__PORT=str(port))
    for key in list(env):
        if key.startswith("CONVENE_") and key != "CONVENE_HTTP__PORT":
            env.pop(key)
    return subprocess.Popen([sys.executable, "-c", "from bot.cli import main; main()", "serve"],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def _wait_healthy(url: str, proc: subprocess.Popen[str]) -> httpx.Response:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"serve exited early:\n{proc.stdout.read() if proc.stdout else ''}")
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            time.sleep(0.2)
    pytest.fail("serve did not answer /healthz within 60 s")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_answers_healthz_on_defaults_and_stops_cleanly(tmp_path: Path, sig: int) -> None:
    port = free_port()
    proc = _start(tmp_path, port)
    try:
        r = _wait_healthy(f"http://127.0.0.1:{port}/healthz", proc)
        assert r.status_code == 200 and r.json()["status"] == "ok"  # liveness: no database
        ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5)
        assert ready.status_code == 200
        assert {k: ready.json()[k] for k in ("status", "database", "migrations", "leader")} \
            == {"status": "ok", "database": "ok", "migrations": "head", "leader": True}
        assert (tmp_path / "convene.db").exists(), "the embedded SQLite default was not used"
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out
    assert "stopped" in out and "Traceback" not in out
