"""Print the tables of tests/digests/real/README.md from the set's own files.

The README's counts (per week, per topic, per kind, per labeller, and the
stories reported by two publishers or more) are made by this script, so that
they always say what ``articles.jsonl`` and ``weeks.jsonl`` hold.

Run: ``.venv/bin/python bench/real_tables.py [FOLDER] > tables.md`` (FOLDER:
tests/digests/real by default). Prints Markdown on stdout.
"""

from __future__ import annotations

import json
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

REAL = Path(__file__).resolve().parent.parent / "tests" / "digests" / "real"


def _load(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def _table(head: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def tables(folder: Path) -> str:
    """The README's tables, Markdown, one section each."""
    rows, weeks = _load(folder / "articles.jsonl"), _load(folder / "weeks.jsonl")
    ranked = {w["week"]: len(w["top10"]) for w in weeks}
    by_week: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_week[r["week"]].append(r)
    langs = Counter(r["lang"] for r in rows)
    on = sum(1 for r in rows if r["on_scope"])
    out = [f"**{len(rows)} real published articles** ("
           + ", ".join(f"{k} {langs[k]}" for k in ("en", "fr", "es"))
           + f") in {len(by_week)} ISO weeks, {len(ranked)} of them with a ranked top ten; "
           f"{on} on scope, {len(rows) - on} near-misses or off scope."]
    sets = Counter(r.get("source_set", "existing") for r in rows)
    out += ["## Per labeller", _table(["source_set", "articles", "on scope", "weeks"], [
        [s, n, sum(1 for r in rows if r.get("source_set", "existing") == s and r["on_scope"]),
         len({r["week"] for r in rows if r.get("source_set", "existing") == s})]
        for s, n in sorted(sets.items())])]
    out += ["## Counts per week", _table(
        ["week", "articles", "on scope", "en", "fr", "es", "stories", "ranked"],
        [[w, len(items), sum(1 for r in items if r["on_scope"]),
          *(sum(1 for r in items if r["lang"] == lg) for lg in ("en", "fr", "es")),
          len({r["story"] for r in items}), ranked.get(w, 0)]
         for w, items in sorted(by_week.items())])]
    topics = Counter(r["topic"] for r in rows if r["on_scope"])
    out += ["## On-scope items per topic", _table(["topic", "items"], topics.most_common())]
    out += ["## Kinds", _table(["kind", "items"], Counter(r["kind"] for r in rows).most_common())]
    stories: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        stories[r["story"]].append(r)
    multi = sorted(((s, items) for s, items in stories.items()
                    if len({r["publisher"] for r in items}) >= 2),
                   key=lambda kv: (-len(kv[1]), kv[0]))
    out += [f"## Stories reported by two publishers or more ({len(multi)})", _table(
        ["story", "items", "publishers", "languages", "weeks", "on scope"],
        [[s, len(items), len({r["publisher"] for r in items}),
          ",".join(sorted({r["lang"] for r in items})),
          ",".join(sorted({r["week"] for r in items})), items[0]["on_scope"]]
         for s, items in multi])]
    return "\n\n".join(out) + "\n"


if __name__ == "__main__":
    sys.stdout.write(tables(Path(sys.argv[1]) if len(sys.argv) > 1 else REAL))
