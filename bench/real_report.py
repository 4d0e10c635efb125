"""The real-article set's report (issue 21): per-week figures and every miss
named, with its title and why, for ``bench/digest_quality.py --real``.

A miss is one of: an item selected that is off scope or of another week
(why it read as in scope: its phrases and scope score), a labelled top story
missing from the review (why, per article: not in scope and by how much, a
near-miss rule, merged into another item, or ranked below the ten), the lead
not first (what came first), a wrong merge (the items and the merge's
reason), a story split (its items) and a topic miss (the topic chosen and the
labelled one, with their scores).
"""

from __future__ import annotations

from typing import Any

from digests.classify import Classifier
from digests.editor import near_miss


def _short(text: str, n: int = 80) -> str:
    return text if len(text) <= n else text[:n - 1] + "…"


def why_out(row: dict[str, Any], clf: Classifier) -> str:
    """Why the article ``row`` (a labelled article) is not relevant, or ''
    when it is."""
    k = clf.classify(row["title"], row["summary"], language=row["lang"], explain=True)
    rule = clf.taxonomy.relevance
    if not k.relevant:
        if k.scope < rule.min_scope:
            return f"not in scope: scope {k.scope:g} < {rule.min_scope:g}"
        if k.relevance < rule.threshold:
            return f"not in scope: relevance {k.relevance:g} < {rule.threshold:g}"
        if k.title_scope < rule.min_title and k.scope < rule.min_lead:
            return (f"scope only in the body: title {k.title_scope:g} < {rule.min_title:g} "
                    f"and scope {k.scope:g} < {rule.min_lead:g}")
        return "no land words (anchors) in the title or the lead's first sentence"
    reason = near_miss(row["title"], title_scope=k.title_scope, summary=row["summary"])
    return f"near miss: {reason}" if reason else ""


def _why_in(row: dict[str, Any], clf: Classifier) -> str:
    k = clf.classify(row["title"], row["summary"], language=row["lang"], explain=True)
    said = ", ".join(f"«{m}»" for m in k.matched[:4]) or "-"
    return f"read as in scope by {said} (scope {k.scope:g}, title {k.title_scope:g})"


def _topic_why(row: dict[str, Any], clf: Classifier, got: str) -> str:
    k = clf.classify(row["title"], row["summary"], language=row["lang"], explain=True)
    scores = k.topic_scores
    return (f"filed under {got or '-'} ({scores.get(got, 0):g}), labelled {row['topic']} "
            f"({scores.get(row['topic'], 0):g})")


def named_misses(rows: list[dict[str, Any]], week: Any, clf: Classifier) -> list[str]:
    """Every miss of one week's result ``week`` (a ``WeekResult``), named
    with its title and why."""
    art = {r["id"]: r for r in rows}
    out: list[str] = []

    def stories(item: tuple[str, ...]) -> set[str]:
        return {art[i]["story"] for i in item if art[i].get("story")}

    for n, item in enumerate(week.review, 1):
        head = art[item[0]]
        if not head["on_scope"]:
            out.append(f"OFF-SCOPE item {n} {head['id']} «{_short(head['title'])}»: "
                       f"labelled off scope; {_why_in(head, clf)}")
        elif head["week"] != week.week:
            out.append(f"OTHER-WEEK item {n} {head['id']} «{_short(head['title'])}»: "
                       f"labelled for {head['week']}")
        elif week.topics[n - 1] != head["topic"]:
            out.append(f"TOPIC item {n} {head['id']} «{_short(head['title'])}»: "
                       f"{_topic_why(head, clf, week.topics[n - 1])}")
    shown = [stories(item) for item in week.review]
    pooled = {i: k for k, item in enumerate(week.pool) for i in item}
    for k, sid in enumerate(week.top10, 1):
        if any(sid in s for s in shown):
            continue
        mine = [r for r in rows if r["story"] == sid and r["week"] == week.week]
        whys = []
        for r in mine:
            why = why_out(r, clf)
            if not why and r["id"] in pooled:
                item = week.pool[pooled[r["id"]]]
                other = stories(item) - {sid}
                why = (f"merged with {', '.join(sorted(other))}" if other
                       else "in scope, ranked below the review's ten")
            whys.append(f"{r['id']}: {why or 'in scope, not a candidate'}")
        title = _short(mine[0]["title"]) if mine else "(no article of this week)"
        out.append(f"TOP {k} missing {sid} «{title}»: " + ("; ".join(whys) or "-"))
    if week.top10 and not (shown and week.top10[0] in shown[0]):
        at = next((n for n, s in enumerate(shown, 1) if week.top10[0] in s), None)
        first = art[week.review[0][0]]["title"] if week.review else "-"
        out.append(f"LEAD {week.top10[0]} is item {at or '-'}; item 1 is «{_short(first)}»")
    for item, why in zip(week.pool, week.merged, strict=True):
        if len(stories(item)) > 1:
            titles = "; ".join(f"{i} «{_short(art[i]['title'], 50)}»" for i in item)
            out.append(f"WRONG MERGE {titles} ({', '.join(sorted(stories(item)))}): {why}")
    for sid in sorted({s for item in shown for s in item}):
        at = [n for n, s in enumerate(shown, 1) if sid in s]
        if len(at) > 1:
            titles = "; ".join(f"item {n} «{_short(art[week.review[n - 1][0]]['title'], 50)}»"
                               for n in at)
            out.append(f"SPLIT {sid}: {titles}")
    return out


def week_line(f: Any) -> str:
    """One week's figures (``f``: the ``RealFigures`` of that week alone)."""
    lead = "-" if not f.led else ("yes" if f.lead_first else "no")
    precision = f"{f.precision:.2f}" if f.selected else "-"
    return (f"{f.selected:2} selected, precision {precision}, top {f.top_found}/"
            f"{f.top_total}, lead first {lead}, merges {f.wrong_merges}, split {f.split}/"
            f"{f.multi}, topic {f.topic_right}/{f.topic_total}")


def print_details(rows: list[dict[str, Any]], results: list[Any], clf: Classifier,
                  figures: Any, *, show: bool) -> None:
    """Print each week's figures (``figures``: ``real_figures`` of
    bench/digest_quality.py), every miss named, and with ``show`` each
    week's review in reading order."""
    art = {r["id"]: r for r in rows}
    print("\nper week:")
    for w in results:
        print(f"  {w.week}: {week_line(figures(rows, [w]))}")
    print("\nmisses, named:")
    for w in results:
        for m in named_misses(rows, w, clf):
            print(f"  {w.week} {m}")
    if show:
        for w in results:
            print(f"\n{w.week} (labelled lead: {w.top10[0] if w.top10 else '-'})")
            for n, item in enumerate(w.review, 1):
                head = art[item[0]]
                print(f"  {n:2}. [{w.topics[n - 1]}] {head['story']} {'+'.join(item)}: "
                      f"{head['title'][:70]}")
