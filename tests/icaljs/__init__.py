"""The four calendar readers the suite checks every .ics against: icalendar,
recurring-ical-events, vobject, and ical.js (Thunderbird's parser, run by
Debian's nodejs; the npm package is installed into tests/.node, outside git,
by .ci/run or on first use).

:func:`read_four` gives each reader's (UID, start, end) in UTC for each
calendar; :func:`check_calendars` asserts they all match what was written.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import icalendar
import recurring_ical_events
import vobject

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "read.cjs"
NODE_DIR = HERE.parent / ".node"
PACKAGE = NODE_DIR / "node_modules" / "ical.js"
VERSION = "2.2.1"  # the ical.js of the issue (Thunderbird 128+)

Instants = list[tuple[str, datetime, datetime]]
_install_lock = threading.Lock()


def icaljs() -> tuple[Path | None, str]:
    """The ical.js package directory (installing it with npm if missing), or
    None and why not."""
    node = shutil.which("node") or shutil.which("nodejs")
    if node is None:
        return None, "node is not installed (apt-get install nodejs npm)"
    with _install_lock:
        if not (PACKAGE / "package.json").is_file():
            npm = shutil.which("npm")
            if npm is None:
                return None, "npm is not installed (apt-get install npm) to fetch ical.js"
            NODE_DIR.mkdir(exist_ok=True)
            done = subprocess.run(
                [npm, "install", "--no-save", "--no-audit", "--no-fund", "--prefix",
                 str(NODE_DIR), f"ical.js@{VERSION}"],
                capture_output=True, text=True, timeout=300, check=False)
            if done.returncode != 0 or not (PACKAGE / "package.json").is_file():
                return None, f"npm could not install ical.js: {done.stderr.strip()[-300:]}"
    return PACKAGE, ""


def _utc(value: object) -> datetime:
    assert isinstance(value, datetime) and value.tzinfo is not None, value
    return value.astimezone(UTC)


def read_four(calendars: Sequence[bytes], package: Path) -> list[dict[str, Instants]]:
    """For each calendar, reader name -> sorted (UID, DTSTART, DTEND) in UTC."""
    node = shutil.which("node") or shutil.which("nodejs")
    assert node is not None
    ran = subprocess.run([node, str(SCRIPT), str(package)],
                         input=json.dumps([c.decode("utf-8") for c in calendars]),
                         capture_output=True, text=True, timeout=120, check=True)
    by_icaljs = json.loads(ran.stdout)
    out: list[dict[str, Instants]] = []
    for data, js in zip(calendars, by_icaljs, strict=True):
        # vobject keeps the first VTIMEZONE it met per TZID for the whole
        # process; a client reads each file afresh, so forget them first.
        tzids = vars(vobject.icalendar)["__tzidMap"]
        tzids.clear()
        vobject.icalendar.registerTzid("UTC", vobject.icalendar.utc)
        cal = icalendar.Calendar.from_ical(data)
        got: dict[str, Instants] = {
            "icalendar": sorted((str(e["uid"]), _utc(e["dtstart"].dt), _utc(e["dtend"].dt))
                                for e in cal.walk("VEVENT")),
            "recurring-ical-events": sorted(
                (str(e["uid"]), _utc(e["dtstart"].dt), _utc(e["dtend"].dt))
                for e in recurring_ical_events.of(cal).between(
                    datetime(1990, 1, 1, tzinfo=UTC), datetime(2200, 1, 1, tzinfo=UTC))),
            "vobject": sorted((str(e.uid.value), _utc(e.dtstart.value), _utc(e.dtend.value))
                              for e in vobject.readOne(data.decode("utf-8")).vevent_list),
            "ical.js": sorted((str(u), datetime.fromtimestamp(s, UTC),
                               datetime.fromtimestamp(e, UTC)) for u, s, e in js),
        }
        out.append(got)
    return out


def check_calendars(written: Sequence[tuple[Instants, bytes]], package: Path) -> None:
    """Every reader finds in each calendar exactly the (UID, start, end)
    instants it was written with. Raises AssertionError naming the reader."""
    unique = list({data: expected for expected, data in written}.items())
    read = read_four([data for data, _ in unique], package)
    for (data, expected), got in zip(unique, read, strict=True):
        for reader, instants in got.items():
            assert instants == sorted(expected), (
                f"{reader} reads {instants} where {sorted(expected)} was written:\n"
                + data.decode()[:3000])
