"""What grows inside a benchmarked server: tracemalloc snapshots, glibc's heap
figures and the collector's objects per type, dumped on SIGUSR1.

A bench (bench/soak.py ``--trace``) starts ``convene serve`` with
:func:`server_env`: ``bench/memhook`` first on its PYTHONPATH, whose
``sitecustomize`` calls :func:`install` when ``CONVENE_BENCH_MEMTRACE`` names a
folder. No production module knows of it. The first SIGUSR1 starts tracing
(tracing from the start would slow start-up past the bench's patience); each
SIGUSR1 writes
``snap-<n>.pickle`` (a ``tracemalloc.Snapshot``) and ``stats-<n>.json``
(RSS, traced bytes, ``mallinfo2``, threads, objects per type made since the
start-up freeze). :func:`report` diffs two dumps: the lines that grew most
(by allocation site, ``frames`` deep) and the types whose count grew.

The figures are for finding, not for timing: tracing slows the server.
"""

from __future__ import annotations

import ctypes
import gc
import json
import os
import pickle
import re
import signal
import threading
import tracemalloc
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HOOK = Path(__file__).resolve().parent / "memhook"


def server_env(folder: Path, *, frames: int = 12, tree: Path = ROOT) -> dict[str, str]:
    """Environment for a ``convene serve`` of ``tree`` to be traced into ``folder``
    (``frames``: tracemalloc's frames a trace; 0: heap figures only)."""
    folder.mkdir(parents=True, exist_ok=True)
    return {"PYTHONPATH": f"{HOOK}{os.pathsep}{tree}{os.pathsep}{ROOT}",
            "CONVENE_BENCH_MEMTRACE": str(folder),
            "CONVENE_BENCH_MEMTRACE_FRAMES": str(frames)}


class _MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]


def heap_figures() -> dict[str, float]:
    """glibc's ``mallinfo2()`` in MB: ``arena`` (sbrk and arena heaps), ``mmapped``,
    ``in_use``, ``free`` (held, not in use), plus RSS and threads from /proc."""
    out: dict[str, float] = {}
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(("VmRSS:", "RssAnon:", "RssFile:")):
                out[line.split(":")[0]] = int(line.split()[1]) / 1024
            elif line.startswith("Threads:"):
                out["threads"] = int(line.split()[1])
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallinfo2.restype = _MallInfo2
        mi = libc.mallinfo2()
        mb = 1024 * 1024
        out.update(arena=mi.arena / mb, mmapped=mi.hblkhd / mb, in_use=mi.uordblks / mb,
                   free=mi.fordblks / mb)
    except (OSError, AttributeError):
        pass
    try:  # the library _sqlite3 loaded: the same handle, so the process's own figures
        lib = ctypes.CDLL("libsqlite3.so.0")
        lib.sqlite3_memory_used.restype = ctypes.c_int64
        out["sqlite"] = lib.sqlite3_memory_used() / 2**20
        cur, high = ctypes.c_int64(), ctypes.c_int64()
        lib.sqlite3_status64(2, ctypes.byref(cur), ctypes.byref(high), 0)  # PAGECACHE_OVERFLOW
        out["sqlite_pages"] = cur.value / 2**20
    except (OSError, AttributeError):
        pass
    fds = Path("/proc/self/fd")
    links = [os.readlink(fds / f) for f in os.listdir(fds) if (fds / f).is_symlink()]
    out["db_files"] = sum(x.endswith(".db") for x in links)
    out["sockets"] = sum(x.startswith("socket:") for x in links)
    return out


def install(folder: str) -> None:
    """Start tracing; dump on each SIGUSR1 (see the module's docstring)."""
    frames = int(os.environ.get("CONVENE_BENCH_MEMTRACE_FRAMES", "12"))
    out = Path(folder)
    count = [0]
    lock = threading.Lock()

    def dump(_signum: int, _frame: Any) -> None:
        with lock:
            count[0] += 1
            n = count[0]
            if frames and not tracemalloc.is_tracing():
                tracemalloc.start(frames)
            if frames:
                with (out / f"snap-{n}.pickle").open("wb") as fh:
                    pickle.dump(tracemalloc.take_snapshot(), fh,
                                protocol=pickle.HIGHEST_PROTOCOL)
            objs = gc.get_objects()
            types = Counter(type(o).__qualname__ for o in objs)
            columns = Counter(f"{getattr(getattr(o, 'table', None), 'name', None)}."
                              f"{getattr(o, 'name', '?')}" for o in objs
                              if type(o).__name__ in ("Column", "AnnotatedColumn"))
            del objs
            traced, peak = tracemalloc.get_traced_memory()
            stats = {"traced_mb": traced / 2**20, "peak_mb": peak / 2**20,
                     **heap_figures(), "objects": dict(types.most_common(60)),
                     "columns": dict(columns.most_common(200)),
                     **{f"pool_{k}": v for k, v in pool.items()}}
            shapes = Counter(re.sub(r"(\?|%\(\w+\)s|\$\d+)(, *(\?|%\(\w+\)s|\$\d+))+",
                                    "?…", re.sub(r"\d+", "N", q)) for q in list(sqls))
            stats["sql_distinct"] = len(sqls)
            stats["sql_shapes"] = {k[:300]: v for k, v in shapes.most_common(10)}
            (out / f"stats-{n}.json").write_text(json.dumps(stats))
            (out / f"done-{n}").touch()

    pool: Counter[str] = Counter()
    from sqlalchemy import event
    from sqlalchemy.pool import Pool

    for name in ("connect", "close", "checkout"):
        event.listen(Pool, name, lambda *_a, _n=name: pool.update((_n,)))
    from sqlalchemy.engine import Engine

    sqls: set[str] = set()

    def seen(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        sqls.add(statement)

    event.listen(Engine, "before_cursor_execute", seen)
    signal.signal(signal.SIGUSR1, dump)


def report(folder: Path, first: int, last: int, *, top: int = 15) -> list[str]:
    """Lines: what grew between dump ``first`` and dump ``last``."""
    a = json.loads((folder / f"stats-{first}.json").read_text())
    b = json.loads((folder / f"stats-{last}.json").read_text())
    lines = ["  " + ", ".join(f"{k} {a.get(k, 0):.1f} -> {b.get(k, 0):.1f}" for k in (
        "VmRSS", "RssAnon", "traced_mb", "arena", "mmapped", "in_use", "free", "sqlite",
        "sqlite_pages", "threads", "db_files", "sockets", "pool_connect", "pool_close",
        "pool_checkout", "sql_distinct")
        if k in b)]
    grew = Counter(b["objects"])
    grew.subtract(a["objects"])
    lines.append("  objects per type (+count): " + ", ".join(
        f"{k} {v:+d}" for k, v in grew.most_common(12) if v > 0))
    cols = Counter(b.get("columns", {}))
    cols.subtract(a.get("columns", {}))
    lines.append("  columns made since the freeze, by table.name (+count): " + ", ".join(
        f"{k} {v:+d}" for k, v in cols.most_common(12) if v > 0))
    if not (folder / f"snap-{last}.pickle").exists():
        return lines
    old = pickle.loads((folder / f"snap-{first}.pickle").read_bytes())
    new = pickle.loads((folder / f"snap-{last}.pickle").read_bytes())
    noise = [tracemalloc.Filter(False, tracemalloc.__file__),
             tracemalloc.Filter(False, "<frozen importlib._bootstrap>")]
    diff = new.filter_traces(noise).compare_to(old.filter_traces(noise), "traceback")
    for st in sorted(diff, key=lambda d: -d.size_diff)[:top]:
        if st.size_diff <= 0:
            break
        here = [f"{Path(f.filename).name}:{f.lineno}" for f in st.traceback][-6:]
        lines.append(f"  {st.size_diff / 1024:+9.1f} KiB {st.count_diff:+7d} blocks  "
                     + " <- ".join(reversed(here)))
    return lines
