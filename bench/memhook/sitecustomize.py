"""Loaded by a ``convene serve`` that bench/soak.py starts with ``--trace``
(this folder first on its PYTHONPATH): the memory hook of bench/memtrace.py,
only when ``CONVENE_BENCH_MEMTRACE`` names a folder. Never on a real server."""

import os

if os.environ.get("CONVENE_BENCH_MEMTRACE"):
    from bench.memtrace import install

    install(os.environ["CONVENE_BENCH_MEMTRACE"])
