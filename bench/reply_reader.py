"""Reply-reader figures on the labelled sets.

The independent set (tests/polls/replies_eval/, 244 replies in en/fr/es
written without reading the reader): per language and per expected stance,
how many were read right, refused (the voter is asked again) and read wrong,
on the plain-text bodies and on the HTML-only versions (through the email
adapter's HTML-to-text). Then the older set written with the reader
(tests/polls/eval/). Target: no block or disagree read as anything else, and
no stance read where the person must be asked.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.email.inbound import html_text
from bot.polls.replies import read_reply
from tests.polls import eval as older
from tests.polls.replies_eval import Scores, Tally, load, score


def _read(text: str) -> tuple[str | None, str]:
    r = read_reply(text)
    return r.stance, r.reason


def _line(name: str, t: Tally) -> str:
    pct = 100 * t.right / t.total if t.total else 0.0
    return (f"  {name:<9} {t.total:>4}  right {t.right:>4} ({pct:5.1f}%)  refused {t.refused:>3}"
            f"  wrong {t.wrong:>3}" + (f"  {' '.join(t.wrong_ids)}" if t.wrong_ids else ""))


def _print(title: str, s: Scores) -> None:
    print(title)
    for lang in sorted(s.by_lang):
        print(_line(lang, s.by_lang[lang]))
    for label in ("agree", "abstain", "disagree", "block", "ask"):
        if label in s.by_label:
            print(_line(label, s.by_label[label]))
    print(_line("all", s.overall))
    if s.reason_expected:
        print(f"  a reason kept where one was written: {s.reason_found}/{s.reason_expected}")


def main() -> int:
    rows = load()
    start = time.perf_counter()
    plain = score(_read, rows)
    took = time.perf_counter() - start
    _print(f"independent set, plain text ({len(rows)} replies):", plain)
    html = score(_read, rows, html=html_text)
    _print(f"independent set, HTML-only versions ({html.overall.total} replies):", html)
    print(f"time: {took * 1000 / max(len(rows), 1):.2f} ms per reply")
    old = older.score(_read, older.load())
    milder = [c.line for c, got in old.dangerous if c.label in older.HARD]
    print(f"older set (written with the reader, {old.total} replies, labels from the "
          f"never-guess rules): {old.stance_right} as labelled; block or disagree read "
          f"milder: {len(milder)}")
    hard_wrong = sum(s.by_label[k].wrong for s in (plain, html) for k in ("block", "disagree")
                     if k in s.by_label)
    return 1 if hard_wrong or milder else 0


if __name__ == "__main__":
    raise SystemExit(main())
