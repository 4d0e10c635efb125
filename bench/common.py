"""Scaffolding the benchmarks share: scratch databases, seeded people and
rosters, free ports, percentiles and verdicts. Not a benchmark itself (make
bench runs it as one: it prints what it would use and returns)."""

from __future__ import annotations

import multiprocessing
import os
import socket
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, text

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from storage.engine import make_engine, make_session_factory  # noqa: E402
from storage.migrate import upgrade_engine  # noqa: E402
from storage.models import EmailAddress, Group, Membership, Person, Role  # noqa: E402

if TYPE_CHECKING:
    from bot.app import Bot

#: The PostgreSQL server scratch databases are made on (its ``test`` database
#: is only the way in).
PG = os.environ.get("CONVENE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
#: The seeded secretariat's address.
SEC = "secretariat@bench.example"
EXAMPLE_ROSTER = ROOT / "examples" / "roster.csv"


def say(*args: object) -> None:
    """Print and flush (figures appear as they are measured)."""
    print(*args, flush=True)


def pct(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values``: the nearest rank on n - 1."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def verdict(ok: bool) -> str:
    return "MET" if ok else "NOT MET"


def free_port() -> int:
    """A TCP port free on loopback now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _admin(statement: str) -> None:
    """Run ``statement`` on the PostgreSQL server, outside a transaction."""
    admin = create_engine(PG.replace("postgresql://", "postgresql+psycopg://", 1),
                          isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            c.execute(text(statement))
    finally:
        admin.dispose()


def scratch_postgres() -> tuple[str, str]:
    """A new empty PostgreSQL database: (its URL, its name). Raises what the
    driver raises when the server is not reachable."""
    name = f"convene_bench_{uuid.uuid4().hex[:8]}"
    _admin(f'CREATE DATABASE "{name}"')
    base = PG.replace("postgresql://", "postgresql+psycopg://", 1).rsplit("/", 1)[0]
    return f"{base}/{name}", name


def drop_postgres(name: str) -> None:
    """Drop a database made by :func:`scratch_postgres` (nothing when ``name`` is empty)."""
    if name:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def scratch_database(kind: str, *, prefix: str = "convene-bench-") -> tuple[str, str]:
    """A new empty database of ``kind`` (``sqlite``: a file in a new temporary
    folder; ``postgresql``): (URL, PostgreSQL name or "")."""
    if kind == "sqlite":
        return f"sqlite:///{tempfile.mkdtemp(prefix=prefix)}/convene.db", ""
    return scratch_postgres()


def seed_voters(engine: Engine, voters: int, *, languages: tuple[str, ...] = ("en",)) -> None:
    """Upgrade ``engine``'s schema, then add the alliance, its secretariat
    (:data:`SEC`) and ``voters`` members (``v0000@bench.example``...; their
    languages in turn from ``languages``)."""
    upgrade_engine(engine)
    with make_session_factory(engine)() as s, s.begin():
        alliance = Group(name="Alliance", is_alliance=True)
        sec = Person(name="Secretariat", language="en", timezone="UTC", interests=[])
        sec.emails.append(EmailAddress(address=SEC))
        s.add_all([alliance, sec, Membership(person=sec, group=alliance, role=Role.SECRETARIAT)])
        for i in range(voters):
            p = Person(name=f"Voter {i:04d}", language=languages[i % len(languages)],
                       timezone="UTC", interests=[])
            p.emails.append(EmailAddress(address=f"v{i:04d}@bench.example"))
            s.add_all([p, Membership(person=p, group=alliance, role=Role.MEMBER)])


def seed_voters_at(url: str, voters: int, *, languages: tuple[str, ...] = ("en",)) -> None:
    """:func:`seed_voters` on the database at ``url`` (its engine disposed after)."""
    engine = make_engine(url)
    try:
        seed_voters(engine, voters, languages=languages)
    finally:
        engine.dispose()


def _spin() -> None:  # pragma: no cover - runs in a child process
    x = 0
    while True:
        x = (x * 31 + 7) % 1_000_003


class BackgroundLoad:
    """``n`` busy processes (pure-Python spin loops, one core each when
    scheduled) beside a bench, started on ``with`` and killed on exit: the
    "other work on the machine" case. ``n`` = 0 starts none."""

    def __init__(self, n: int) -> None:
        self.n = n
        self._procs: list[multiprocessing.Process] = []

    def __enter__(self) -> BackgroundLoad:
        for _ in range(self.n):
            p = multiprocessing.Process(target=_spin, daemon=True)
            p.start()
            self._procs.append(p)
        if self.n:
            time.sleep(1.0)  # let the scheduler see them before anything is timed
        return self

    def __exit__(self, *exc: object) -> None:
        for p in self._procs:
            p.kill()
        for p in self._procs:
            p.join(timeout=5)
        self._procs.clear()


def loadavg() -> str:
    """The 1-minute load average and the core count, printed with every figure
    (the machine is shared: a figure without its load cannot be compared)."""
    return f"load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"


def import_example_roster(bot: Bot, path: Path = EXAMPLE_ROSTER) -> int:
    """Import ``path`` (examples/roster.csv) into ``bot``'s database. Returns rows."""
    from bot.roster import import_roster_file

    with bot.session_factory() as s, s.begin():
        return import_roster_file(session=s, path=path, alliance_name="Alliance").rows


if __name__ == "__main__":
    say(f"bench/common.py: shared scaffolding (PostgreSQL at {PG}; roster {EXAMPLE_ROSTER})")
