"""Press-review quality: relevance, topics and stories on a labelled set.

Reads ``tests/digests/eval/items.jsonl`` (or the JSON Lines files given as
arguments: ``id, lang, title, summary, in_scope, topic, story``) and prints

- relevance: precision and recall of "in scope" (true positives over
  predicted, over expected), per language too;
- topic accuracy: of the expected in-scope items, the share filed under the
  expected topic (an item wrongly left out counts as wrong);
- stories: pairs of items sharing a ``story`` id that the pipeline groups
  into one item (same language, and across languages), and false merges.

Targets (issue 10): precision >= 0.95, recall >= 0.9, topic accuracy >= 0.9,
every same-language rewrite clustered. ``--show`` lists every mistake.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import combinations
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
EVAL = ROOT / "tests" / "digests" / "eval" / "items.jsonl"

from digests.classify import Classifier  # noqa: E402
from digests.parse.normalise import Entry  # noqa: E402
from digests.pipeline import candidates  # noqa: E402
from digests.taxonomy import load_taxonomy  # noqa: E402

WEEK_START = datetime(2026, 11, 16, tzinfo=UTC)  # Monday of 2026-W47


@dataclass(frozen=True, slots=True)
class Figures:
    """The measured figures (shares in [0, 1]; pair counts)."""

    items: int
    precision: float
    recall: float
    topic_accuracy: float
    same_found: int
    same_pairs: int
    cross_found: int
    cross_pairs: int
    false_merges: int
    mistakes: tuple[str, ...]


def load(paths: list[Path]) -> list[dict[str, Any]]:
    """Every item of the JSON Lines files at ``paths``."""
    rows: list[dict[str, Any]] = []
    for p in paths:
        rows.extend(json.loads(line) for line in p.read_text(encoding="utf-8").splitlines()
                    if line.strip())
    return rows


def _classify(clf: Classifier, row: dict[str, Any]) -> tuple[bool, str]:
    try:
        c = clf.classify(row["title"], row["summary"], language=row["lang"])  # type: ignore[call-arg]
    except TypeError:  # an older classifier: no language, eligible when it has a topic
        c = clf.classify(row["title"], row["summary"])
    return bool(getattr(c, "relevant", bool(c.topic))), c.topic


def evaluate(rows: list[dict[str, Any]]) -> Figures:
    """Classify and cluster ``rows`` with the default taxonomy; the figures."""
    clf = Classifier(load_taxonomy())
    tp = fp = fn = right = 0
    mistakes: list[str] = []
    for row in rows:
        got, topic = _classify(clf, row)
        want = bool(row["in_scope"])
        tp += got and want
        fp += got and not want
        fn += want and not got
        if got != want:
            mistakes.append(f"{'FP' if got else 'FN'} {row['id']}: {row['title']}")
        if want:
            if got and topic == row["topic"]:
                right += 1
            elif got:
                mistakes.append(f"TOPIC {row['id']}: {topic or '-'} (want {row['topic']}): "
                                f"{row['title']}")
    expected = [r for r in rows if r["in_scope"]]

    entries = [Entry(canonical_url=f"https://{r['id']}.example/a", link=f"https://{r['id']}"
                     f".example/a", title=r["title"], summary=r["summary"],
                     published_at=WEEK_START + timedelta(hours=3 + n % 90),
                     language=r["lang"], feed_url=f"https://{r['id']}.example/feed",
                     feed_title=r["id"]) for n, r in enumerate(rows)]
    pool = candidates(entries, classifier=clf, now=WEEK_START + timedelta(days=7))
    story_of: dict[str, int] = {}
    for k, c in enumerate(pool):
        for e in c.story.entries:
            story_of[e.feed_title] = k
    by_id = {r["id"]: r for r in rows}
    same = [0, 0]
    cross = [0, 0]
    false_merges = 0
    for a, b in combinations([r["id"] for r in rows], 2):
        ra, rb = by_id[a], by_id[b]
        together = a in story_of and story_of.get(a) == story_of.get(b)
        if ra["story"] and ra["story"] == rb["story"]:
            slot = same if ra["lang"] == rb["lang"] else cross
            slot[1] += 1
            slot[0] += together
            if not together:
                mistakes.append(f"MISSED {'same' if slot is same else 'cross'}-language "
                                f"pair {a} / {b}")
        elif together:
            false_merges += 1
            mistakes.append(f"FALSE MERGE {a} / {b}")
    return Figures(items=len(rows), precision=tp / max(tp + fp, 1),
                   recall=tp / max(tp + fn, 1), topic_accuracy=right / max(len(expected), 1),
                   same_found=same[0], same_pairs=same[1], cross_found=cross[0],
                   cross_pairs=cross[1], false_merges=false_merges, mistakes=tuple(mistakes))


def main(argv: list[str]) -> int:
    show = "--show" in argv
    paths = [Path(a) for a in argv if not a.startswith("--")] or [EVAL]
    rows = load(paths)
    f = evaluate(rows)
    langs = Counter(r["lang"] for r in rows)
    print(f"items: {f.items} ({', '.join(f'{k} {v}' for k, v in sorted(langs.items()))}); "
          f"in scope: {sum(1 for r in rows if r['in_scope'])}")
    print(f"relevance precision: {f.precision:.3f} (target >= 0.95: "
          f"{'met' if f.precision >= 0.95 else 'NOT met'})")
    print(f"relevance recall:    {f.recall:.3f} (target >= 0.90: "
          f"{'met' if f.recall >= 0.9 else 'NOT met'})")
    print(f"topic accuracy:      {f.topic_accuracy:.3f} (target >= 0.90: "
          f"{'met' if f.topic_accuracy >= 0.9 else 'NOT met'})")
    print(f"same-language story pairs clustered: {f.same_found}/{f.same_pairs} (target: all: "
          f"{'met' if f.same_found == f.same_pairs else 'NOT met'})")
    print(f"cross-language story pairs clustered: {f.cross_found}/{f.cross_pairs}; "
          f"false merges: {f.false_merges}")
    if show:
        for m in f.mistakes:
            print("  " + m)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
