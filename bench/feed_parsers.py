"""feedparser-rs and fastfeedparser against feedparser on every fixture feed.

For each parser: the time to read every file of ../shared/fixtures/feeds
(median of ROUNDS rounds, alternated), and faithfulness: of feedparser's
entries (run with the pipeline's options), how many the parser gives with the
same id, link, title, text and date, after the pipeline's own normalisation
(markup stripped by ``plain_text``, dates as aware UTC). "convene" is what
the pipeline uses (digests/parse/readers.py: feedparser-rs, feedparser when a
cheap check fails). Target: the adopted reader is faithful on every entry.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
FIXTURES = ROOT.parent / "shared" / "fixtures" / "feeds"
ROUNDS = 15
FIELDS = ("id", "link", "title", "text", "date")

from digests.parse.normalise import SUMMARY_CHARS, plain_text  # noqa: E402
from digests.parse.readers import RawEntry, read_feed, read_with_feedparser  # noqa: E402

Row = tuple[str, str, str, str, datetime | None]


def _norm(e: RawEntry) -> Row:
    return (e.id, e.link, plain_text(e.title, limit=300),
            plain_text(e.summary or e.content, limit=SUMMARY_CHARS, paragraphs=True), e.when)


def _rs(body: bytes) -> list[Row]:
    import feedparser_rs

    from digests.parse.readers import _raw

    d = feedparser_rs.parse(body, sanitize_html=False, resolve_relative_uris=False)
    return [_norm(_raw(e)) for e in d.entries]


def _fast_date(raw: Any) -> datetime | None:
    for key in ("published", "updated", "created"):
        text = raw.get(key)
        if text:
            try:
                return datetime.fromisoformat(str(text)).astimezone(UTC)
            except ValueError:
                continue
    return None


def _fastfeedparser(body: bytes) -> list[Row]:
    import fastfeedparser

    d = fastfeedparser.parse(body)
    out = []
    for e in d.entries:
        content = e.get("content") or []
        raw = RawEntry(id=str(e.get("id") or ""), link=str(e.get("link") or ""),
                       title=str(e.get("title") or ""),
                       summary=str(e.get("summary") or e.get("description") or ""),
                       content=str(content[0].get("value", "")) if content else "",
                       when=_fast_date(e))
        out.append(_norm(raw))
    return out


PARSERS: dict[str, Callable[[bytes], list[Row]]] = {
    "feedparser": lambda b: [_norm(e) for e in read_with_feedparser(b).entries],
    "feedparser-rs": _rs,
    "fastfeedparser": _fastfeedparser,
    "convene": lambda b: [_norm(e) for e in read_feed(b).entries],
}


def _safe(fn: Callable[[bytes], list[Row]], body: bytes) -> list[Row] | str:
    try:
        return fn(body)
    except Exception as exc:  # noqa: BLE001 - a parser that fails is a figure, not a crash
        return f"{type(exc).__name__}: {str(exc)[:80]}"


def main() -> int:
    files = sorted(FIXTURES.iterdir())
    bodies = [f.read_bytes() for f in files]
    ref = [PARSERS["feedparser"](b) for b in bodies]
    total = sum(map(len, ref))
    times: dict[str, list[float]] = {name: [] for name in PARSERS}
    for _ in range(ROUNDS):
        for name, fn in PARSERS.items():  # alternated, so load hits each alike
            t = time.perf_counter()
            for b in bodies:
                _safe(fn, b)
            times[name].append(time.perf_counter() - t)
    print(f"{len(files)} fixture feeds, {total} entries (feedparser, the pipeline's options); "
          f"time: median of {ROUNDS} rounds")
    base = statistics.median(times["feedparser"])
    for name, fn in PARSERS.items():
        same = dict.fromkeys(FIELDS, 0)
        whole = 0
        notes = []
        for f, b, want in zip(files, bodies, ref, strict=True):
            got = _safe(fn, b)
            if isinstance(got, str):
                notes.append(f"{f.name}: failed ({got})")
                continue
            if len(got) != len(want):
                notes.append(f"{f.name}: {len(got)} entries, feedparser {len(want)}")
            feed_ok = 0
            for g, w in zip(got, want, strict=False):
                for k, field in enumerate(FIELDS):
                    same[field] += g[k] == w[k]
                whole += g == w
                feed_ok += g == w
            if feed_ok < len(want) and len(got) == len(want):
                bad = [FIELDS[k] for k in range(5)
                       if any(g[k] != w[k] for g, w in zip(got, want, strict=False))]
                notes.append(f"{f.name}: {len(want) - feed_ok} entries differ ({', '.join(bad)})")
        t = statistics.median(times[name])
        fields = ", ".join(f"{k} {v}/{total}" for k, v in same.items())
        print(f"\n{name}: {t * 1000:.1f} ms ({t / base:.2f}x feedparser); "
              f"entries identical on all five: {whole}/{total}")
        print(f"  {fields}")
        for n in notes:
            print(f"  - {n}")
    conv = sum(1 for b, w in zip(bodies, ref, strict=True) if PARSERS["convene"](b) == w)
    rs_read = sum(1 for b in bodies if read_feed(b).parser == "feedparser-rs")
    print(f"\nconvene: {rs_read}/{len(files)} feeds read by feedparser-rs, the rest by feedparser; "
          f"feeds identical to feedparser's: {conv}/{len(files)} (target: all: "
          f"{'MET' if conv == len(files) else 'NOT MET'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
