"""RSS feeds written from the labelled evaluation set (tests/digests/eval), dated
inside a chosen week: a realistic week of soil-carbon news mixed with
off-topic items, for the build, chat and delivery tests."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

EVAL = Path(__file__).parent / "eval" / "items.jsonl"
SOURCES = ("agri-news", "carbon-pulse", "terre-et-sols", "campo-hoy")


def rows() -> list[dict[str, object]]:
    """Every labelled item."""
    return [json.loads(line) for line in EVAL.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def write_week(folder: Path, *, start: datetime, end: datetime,
               only: list[str] | None = None) -> list[str]:
    """Write one RSS file per source under ``folder``, items spread evenly
    over ``[start, end)`` (aware datetimes); ``only``: the ids to use (default
    all). Items of one story go to different sources. Returns the file names."""
    items = [r for r in rows() if only is None or r["id"] in only]
    per: dict[str, list[str]] = {s: [] for s in SOURCES}
    step = (end - start) / (len(items) + 1)
    for n, r in enumerate(items):
        src = SOURCES[n % len(SOURCES)]
        when = start + step * (n + 1)
        per[src].append(
            f"<item><title>{escape(str(r['title']))}</title>"
            f"<link>https://{src}.example/{r['id']}</link><guid>{src}-{r['id']}</guid>"
            f"<pubDate>{format_datetime(when)}</pubDate>"
            f"<description>{escape(str(r['summary']))}</description></item>")
    names = []
    for src, entries in per.items():
        if not entries:
            continue
        name = f"{src}.xml"
        (folder / name).write_text(
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>{src}</title><link>https://{src}.example/</link>"
            + "".join(entries) + "</channel></rss>", encoding="utf-8")
        names.append(name)
    return names


def week_bounds(week: str, now: datetime) -> tuple[datetime, datetime]:
    """The part of ``week`` (Europe/Paris, the default zone) up to ``now``."""
    from digests.archive import week_start

    start = week_start(week, "Europe/Paris")
    end = min(start + timedelta(days=7), now)
    return start, max(end, start + timedelta(minutes=1))
