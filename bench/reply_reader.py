"""Reply-reader figures on the labelled set tests/polls/eval/replies.txt.

Prints the stance accuracy, the reason accuracy (on replies whose stance was
read right), and, separately, the dangerous misreads: a block or disagree read
as agree or abstain, or a stance read where the reply must be answered
"we could not read a stance". Target: 0 dangerous misreads (a test enforces it).
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.polls.replies import read_reply
from tests.polls.eval import load, score


def _read(text: str) -> tuple[str | None, str]:
    r = read_reply(text)
    return r.stance, r.reason


def main() -> int:
    cases = load()
    start = time.perf_counter()
    s = score(_read, cases)
    took = time.perf_counter() - start
    labels = Counter(c.label for c in cases)
    print(f"replies: {s.total} ({', '.join(f'{k} {v}' for k, v in sorted(labels.items()))})")
    print(f"stance accuracy: {s.stance_right}/{s.total} = {s.accuracy:.1%}")
    print(f"reason exact (stance read right): {s.reason_right}/{s.readable}")
    print(f"dangerous misreads: {len(s.dangerous)} (target 0)")
    print(f"time: {took * 1000 / max(s.total, 1):.2f} ms per reply")
    for case, got, reason in s.wrong:
        print(f"  line {case.line}: expected {case.label}, read {got or 'unreadable'}"
              f" {reason!r}")
    return 1 if s.dangerous else 0


if __name__ == "__main__":
    raise SystemExit(main())
