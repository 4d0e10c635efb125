"""Roster import benchmark: 5,000 rows on SQLite and PostgreSQL.

Targets (issue 2): an import under 10 s on each database; a re-import of the
same file under 5 s that changes nothing. Prints rows per second.
"""

from __future__ import annotations

import csv
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


from bench.common import PG, drop_postgres, scratch_postgres
from bot.roster import import_roster_file
from storage.engine import make_engine, make_session_factory
from storage.migrate import upgrade_engine

ROWS = 5000
ZONES = ["Europe/Paris", "America/Bogota", "Africa/Nairobi", "Asia/Kolkata", "UTC"]
ROLES = ["member", "observer", "member", "member;chair", "secretariat"]


def make_csv(path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["email", "name", "organisation", "role", "group", "language", "timezone"])
        people = ROWS // 2
        for i in range(people):
            for g, group in enumerate(("Alliance", f"Working Group {i % 12}")):
                w.writerow([f"person{i}@org{i % 300}.example", f"Person {i}", f"Org {i % 300}",
                            ROLES[(i + g) % len(ROLES)] if g else "member", group,
                            ("en", "fr", "es")[i % 3], ZONES[i % len(ZONES)]])


def run(url: str, path: Path, label: str) -> bool:
    engine = make_engine(url)
    upgrade_engine(engine)
    factory = make_session_factory(engine)
    t0 = time.perf_counter()
    with factory() as s, s.begin():
        first = import_roster_file(session=s, path=path, alliance_name="Alliance")
    t1 = time.perf_counter()
    with factory() as s, s.begin():
        second = import_roster_file(session=s, path=path, alliance_name="Alliance")
    t2 = time.perf_counter()
    engine.dispose()
    imp, re = t1 - t0, t2 - t1
    ok = imp < 10 and re < 5 and not second.changed and first.people_created == ROWS // 2
    print(f"{label:10} import {ROWS} rows: {imp:6.2f} s ({ROWS / imp:8.0f} rows/s, target < 10 s)"
          f" | re-import: {re:5.2f} s ({ROWS / re:8.0f} rows/s, target < 5 s), "
          f"changed={second.changed} | {'OK' if ok else 'MISSED'}")
    return ok


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "roster.csv"
        make_csv(path)
        ok = run(f"sqlite:///{tmp}/bench.db", path, "SQLite")
        try:
            url, name = scratch_postgres()
        except Exception as exc:  # noqa: BLE001
            print(f"PostgreSQL  skipped: not reachable at {PG} ({exc.__class__.__name__})")
            return 0 if ok else 1
        try:
            ok = run(url, path, "PostgreSQL") and ok
        finally:
            drop_postgres(name)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
