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

``--real [FOLDER]`` (default ``tests/digests/real``): the real-article set of
issue 21 (``articles.jsonl``: id, week, published, lang, title, url,
publisher, summary, on_scope, topic, story; ``weeks.jsonl``: week, top10 story
ids, most important first). Each week is built as Convene builds it: one RSS
feed per publisher (title, link, pubDate, description, a ``<source>``
element; the publisher's items of that week and the week before, as a real
feed carries them), parsed, clustered, classified, ranked and selected (ten
items), then compared with the labels: precision (selected items on scope
and of that week), top-story recall (of each week's ten, how many are in the
review), lead first (weeks whose first story is item 1), wrong merges
(candidates joining two labelled stories), split stories (labelled stories
of two items or more, in the review as two or more items), topic accuracy
(selected items on scope filed under their labelled topic); then the same
figures per week, and every miss named with its title and why
(bench/real_report.py); ``--show`` adds each week's review.
``--held-out`` / ``--tuned`` with ``--real``: only the weeks of the
labeller whose items nobody writing rules has read (``source_set`` g6), or
only the others; ``--set NAME``: only one labeller's weeks (e.g. g5, the
held-out part before g6).
``--code DIR``: import the pipeline from another checkout (e.g. today's
main, for the "before" figures).
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from email.utils import format_datetime
from itertools import combinations
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
if "--code" in sys.argv:  # the pipeline of another checkout (before/after figures)
    sys.path.insert(0, str(Path(sys.argv[sys.argv.index("--code") + 1]).resolve()))
else:
    sys.path.insert(0, str(ROOT))
EVAL = ROOT / "tests" / "digests" / "eval" / "items.jsonl"
REAL = ROOT / "tests" / "digests" / "real"

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


# -- the real-article set (issue 21) ---------------------------------------------------

@dataclass(frozen=True, slots=True)
class WeekResult:
    """One week's review against its labels: ``review`` the selected items
    as lists of article ids (reading order), ``top10`` the labelled stories."""

    week: str
    review: tuple[tuple[str, ...], ...]
    pool: tuple[tuple[str, ...], ...]
    top10: tuple[str, ...]
    topics: tuple[str, ...]
    merged: tuple[str, ...] = ()  # per pool item: why its write-ups are one ("" if one)


@dataclass(frozen=True, slots=True)
class RealFigures:
    """The issue's figures on the real set (shares in [0, 1]; counts)."""

    weeks: int
    led: int
    articles: int
    selected: int
    precision: float
    top_found: int
    top_total: int
    lead_first: int
    wrong_merges: int
    split: int
    multi: int
    topic_right: int
    topic_total: int
    misses: tuple[str, ...]

    @property
    def top_recall(self) -> float:
        """Share of the labelled top stories that are in the reviews."""
        return self.top_found / max(self.top_total, 1)

    @property
    def split_share(self) -> float:
        """Share of multi-item stories in a review shown as two items or more."""
        return self.split / max(self.multi, 1)

    @property
    def topic_accuracy(self) -> float:
        """Share of selected on-scope items filed under their labelled topic."""
        return self.topic_right / max(self.topic_total, 1)


HELD_OUT = "g6"  # the labeller whose weeks were never looked at while tuning


def load_real(folder: Path, part: str | None = None) -> tuple[
        list[dict[str, Any]], list[dict[str, Any]]]:
    """The articles and the weeks' top stories of the real set in ``folder``;
    ``part`` "held-out" keeps the held-out labeller's weeks only, "tuned"
    the others (rows without ``source_set`` count as tuned), "set:NAME" one
    labeller's (``source_set`` NAME)."""
    rows, weeks = load([folder / "articles.jsonl"]), load([folder / "weeks.jsonl"])
    if part:
        if part.startswith("set:"):
            rows = [r for r in rows if r.get("source_set") == part[4:]]
        else:
            held = part == "held-out"
            rows = [r for r in rows if (r.get("source_set") == HELD_OUT) == held]
        kept = {r["week"] for r in rows}
        weeks = [w for w in weeks if w["week"] in kept]
    return rows, weeks


def _week_bounds(week: str) -> tuple[datetime, datetime]:
    year, num = week.split("-W")
    start = datetime.combine(date.fromisocalendar(int(year), int(num), 1), time(0), UTC)
    return start, start + timedelta(days=7)


def _when(row: dict[str, Any]) -> datetime:
    day = date.fromisoformat(row["published"][:10])
    # mid-morning UTC, spread by id so that a day's items are not simultaneous
    return datetime.combine(day, time(8), UTC) + timedelta(minutes=sum(map(ord, row["id"])) % 480)


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text.lower()).strip("-")[:60] or "x"


def rss(publisher: str, rows: list[dict[str, Any]]) -> bytes:
    """An RSS 2.0 feed of ``rows`` as ``publisher`` would serve it."""
    items = "".join(
        f"<item><title>{escape(r['title'])}</title><link>{escape(r['url'])}</link>"
        f"<guid>{escape(r['url'])}</guid><pubDate>{format_datetime(_when(r))}</pubDate>"
        f"<description>{escape(r['summary'])}</description>"
        f"<source url=\"{escape(r['url'])}\">{escape(publisher)}</source></item>"
        for r in rows)
    return (f"<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\"><channel>"
            f"<title>News feed {escape(_slug(publisher))}</title>"
            f"<link>https://feeds.example/{_slug(publisher)}</link>{items}"
            f"</channel></rss>").encode()


def week_feeds(rows: list[dict[str, Any]], week: str) -> list[tuple[str, bytes]]:
    """(feed URL, RSS body) per publisher: its items of ``week`` and the week
    before (``before:<week>``: its items of the eight weeks before that one,
    as the archive keeps earlier reviews' candidates)."""
    earlier = week.startswith("before:")
    start, end = _week_bounds(week.removeprefix("before:"))
    lo, hi = (start - timedelta(days=56), start) if earlier else (start - timedelta(days=7), end)
    per: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        if lo <= _when(r) < hi:
            per.setdefault(r["publisher"], []).append(r)
    return [(f"https://feeds.example/{_slug(pub)}/{_slug(week)}.xml", rss(pub, mine))
            for pub, mine in sorted(per.items())]


def _review(pool: list[Any], topic_order: list[str], limit: int = 10) -> list[Any]:
    import digests.rank as rank

    if hasattr(rank, "review"):  # the editor's review: top stories first, then by topic
        return list(rank.review(pool, limit=limit, topic_order=topic_order))
    chosen = rank.select(pool, limit=limit)  # before issue 21: grouped by topic
    order = {t: i for i, t in enumerate(topic_order)}
    return [c for _, c in sorted(enumerate(chosen), key=lambda p: (
        order.get(p[1].topic, len(order)), p[0]))]


def build_week(rows: list[dict[str, Any]], week: str, clf: Classifier) -> tuple[
        list[Any], list[Any]]:
    """Build ``week`` from its feeds as Convene does: (review in reading
    order, every candidate)."""
    from digests.fetch import FetchResult
    from digests.pipeline import gather
    from digests.sources import FeedSource

    start, end = _week_bounds(week)
    results = [FetchResult(source=FeedSource(url), status="ok", fetched_at=end, body=body)
               for url, body in week_feeds(rows, week)]
    gathered = gather(results)
    # what the archive holds of earlier weeks' reviews (their candidates)
    seen = [e for url, body in week_feeds(rows, "before:" + week)
            for e in gather([FetchResult(source=FeedSource(url), status="ok", fetched_at=start,
                                         body=body)]).entries]
    try:
        pool = candidates(gathered.entries, classifier=clf, now=end, window=(start, end),
                          seen=seen)
    except TypeError:  # before issue 21: no memory of earlier reviews
        pool = candidates(gathered.entries, classifier=clf, now=end, window=(start, end))
    return _review(pool, [t.key for t in clf.taxonomy.topics]), pool


def evaluate_real(rows: list[dict[str, Any]], weeks: list[dict[str, Any]]) -> tuple[
        RealFigures, list[WeekResult]]:
    """Build every labelled week of the real set; the figures and each week's result."""
    from digests.parse.normalise import canonical_url

    clf = Classifier(load_taxonomy())
    by_url = {canonical_url(r["url"]): r for r in rows}
    results = []
    for w in weeks:
        review, pool = build_week(rows, w["week"], clf)

        def ids(c: Any) -> tuple[str, ...]:
            return tuple(dict.fromkeys(by_url[e.canonical_url]["id"] for e in c.story.entries
                                       if e.canonical_url in by_url))

        results.append(WeekResult(week=w["week"], review=tuple(ids(c) for c in review),
                                  pool=tuple(ids(c) for c in pool if c.relevant),
                                  top10=tuple(w["top10"]),
                                  topics=tuple(c.topic for c in review),
                                  merged=tuple(getattr(c, "merged", "") for c in pool
                                               if c.relevant)))
    return real_figures(rows, results), results


def real_figures(rows: list[dict[str, Any]], results: list[WeekResult]) -> RealFigures:
    """The figures of ``results`` against the labels of ``rows``."""
    art = {r["id"]: r for r in rows}
    misses: list[str] = []
    selected = good = top_found = top_total = lead = merges = split = multi = 0
    t_right = t_total = 0
    for w in results:
        def stories(item: tuple[str, ...]) -> set[str]:
            return {art[i]["story"] for i in item if art[i].get("story")}

        for n, item in enumerate(w.review, 1):
            head = art[item[0]] if item else None
            selected += 1
            if head and head["on_scope"] and head["week"] == w.week:
                good += 1
            else:
                misses.append(f"{w.week} OFF-SCOPE/OTHER-WEEK item {n}: "
                              f"{head['id'] + ' ' + head['title'] if head else '?'}")
            if head and head["on_scope"]:
                t_total += 1
                if w.topics[n - 1] == head["topic"]:
                    t_right += 1
                else:
                    misses.append(f"{w.week} TOPIC item {n} {head['id']}: "
                                  f"{w.topics[n - 1] or '-'} (want {head['topic']})")
        shown = [stories(item) for item in w.review]
        for k, sid in enumerate(w.top10):
            top_total += 1
            if any(sid in s for s in shown):
                top_found += 1
            else:
                misses.append(f"{w.week} TOP {k + 1} missing: {sid}")
        if w.top10 and shown and w.top10[0] in shown[0]:
            lead += 1
        elif w.top10:
            first = next((n for n, s in enumerate(shown, 1) if w.top10[0] in s), None)
            misses.append(f"{w.week} LEAD {w.top10[0]} is item {first or '-'}")
        for item in w.pool:
            if len(stories(item)) > 1:
                merges += 1
                misses.append(f"{w.week} WRONG MERGE {', '.join(item)} "
                              f"({', '.join(sorted(stories(item)))})")
        sizes: dict[str, int] = {}
        for r in rows:
            if r["week"] == w.week and r.get("story"):
                sizes[r["story"]] = sizes.get(r["story"], 0) + 1
        for sid, size in sizes.items():
            count = sum(1 for s in shown if sid in s)
            if size > 1 and count:
                multi += 1
                if count > 1:
                    split += 1
                    misses.append(f"{w.week} SPLIT {sid} shown as {count} items")
    return RealFigures(weeks=len(results), led=sum(1 for w in results if w.top10),
                       articles=len(rows), selected=selected,
                       precision=good / max(selected, 1), top_found=top_found,
                       top_total=top_total, lead_first=lead, wrong_merges=merges,
                       split=split, multi=multi, topic_right=t_right, topic_total=t_total,
                       misses=tuple(misses))


def _report() -> Any:
    """bench/real_report.py (loaded by path: also under ``--code``)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("real_report",
                                                  Path(__file__).with_name("real_report.py"))
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def print_real(folder: Path, *, show: bool, part: str | None = None) -> int:
    """Print the real set's figures, per week too, and every miss named
    (title and why); with ``show``, each week's review as well; ``part``:
    see :func:`load_real`."""
    rows, weeks = load_real(folder, part)
    if part and part.startswith("set:"):
        print(f"part: {part[4:]} only")
    elif part:
        print(f"part: {part} ({HELD_OUT} {'only' if part == 'held-out' else 'left out'})")
    f, results = evaluate_real(rows, weeks)
    langs = Counter(r["lang"] for r in rows)
    per_lang = ", ".join(f"{k} {v}" for k, v in sorted(langs.items()))
    print(f"real set: {f.articles} articles ({per_lang}), {f.weeks} weeks; "
          f"{f.selected} items selected")

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    print(f"precision:        {f.precision:.3f} (target >= 0.95: {verdict(f.precision >= 0.95)})")
    print(f"top-story recall: {f.top_recall:.3f} ({f.top_found}/{f.top_total}; target >= 0.8: "
          f"{verdict(f.top_recall >= 0.8)})")
    print(f"lead first:       {f.lead_first} of {f.led} weeks with a labelled lead (target "
          f">= 3 of 4: {verdict(f.lead_first >= 0.75 * f.led)})")
    print(f"wrong merges:     {f.wrong_merges} (target 0: {verdict(f.wrong_merges == 0)})")
    print(f"split stories:    {f.split}/{f.multi} = {f.split_share:.1%} (target <= 5%: "
          f"{verdict(f.split_share <= 0.05)})")
    print(f"topic accuracy:   {f.topic_accuracy:.3f} ({f.topic_right}/{f.topic_total}; "
          f"target >= 0.9: {verdict(f.topic_accuracy >= 0.9)})")
    _report().print_details(rows, results, Classifier(load_taxonomy()), real_figures,
                            show=show)
    return 0


def topic_table(rows: list[dict[str, Any]]) -> tuple[
        dict[str, list[int]], Counter[tuple[str, str]]]:
    """Topic accuracy over every on-scope labelled item of the real set,
    each classified alone (relevant or not): per language [right, total]
    (``all`` for every language) and the confusion counts (labelled, chosen)."""
    clf = Classifier(load_taxonomy())
    per: dict[str, list[int]] = {}
    confusion: Counter[tuple[str, str]] = Counter()
    for r in rows:
        if not r["on_scope"]:
            continue
        got = clf.classify(r["title"], r["summary"], language=r["lang"], explain=True).topic
        for key in (r["lang"], "all"):
            slot = per.setdefault(key, [0, 0])
            slot[0] += got == r["topic"]
            slot[1] += 1
        confusion[(r["topic"], got or "-")] += 1
    return per, confusion


def print_topics(folder: Path, *, show: bool) -> int:
    """Print topic accuracy over every on-scope item of the real set in
    ``folder`` (``--topics DIR``), per language, and the confusion table."""
    rows = load([folder / "articles.jsonl"])
    per, confusion = topic_table(rows)
    for key in ["all", *sorted(k for k in per if k != "all")]:
        right, total = per[key]
        print(f"topic accuracy {key:>3}: {right / max(total, 1):.3f} ({right}/{total})")
    labels = sorted({a for a, _ in confusion} | {b for _, b in confusion})
    short = {k: k.replace("soil_", "s_").replace("carbon_", "c_")[:10] for k in labels}
    print("\nlabelled \\ chosen " + " ".join(f"{short[k]:>10}" for k in labels))
    for a in labels:
        if any(confusion[(a, b)] for b in labels):
            print(f"{a:<18} " + " ".join(f"{confusion[(a, b)] or '.':>10}" for b in labels))
    if show:
        clf = Classifier(load_taxonomy())
        for r in rows:
            if not r["on_scope"]:
                continue
            got = clf.classify(r["title"], r["summary"], language=r["lang"], explain=True)
            if got.topic != r["topic"]:
                print(f"  {r['id']} {r['lang']} {got.topic or '-'} (want {r['topic']}): "
                      f"{r['title'][:90]}")
    return 0


def main(argv: list[str]) -> int:
    show = "--show" in argv
    if "--code" in argv:
        at = argv.index("--code")
        argv = argv[:at] + argv[at + 2:]
    if "--topics" in argv:
        folder = [Path(a) for a in argv if not a.startswith("--")]
        return print_topics(folder[0] if folder else REAL, show=show)
    if "--real" in argv:
        part = "held-out" if "--held-out" in argv else "tuned" if "--tuned" in argv else None
        if "--set" in argv:
            at = argv.index("--set")
            part, argv = f"set:{argv[at + 1]}", argv[:at] + argv[at + 2:]
        folder = [Path(a) for a in argv if not a.startswith("--")]
        return print_real(folder[0] if folder else REAL, show=show, part=part)
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
