"""Rank and select: relevance, recency and source weight, with diversity.

``score`` is in [0, 1]: 0.45 x relevance (1 - exp(-r/8), r the taxonomy
score of :mod:`digests.classify`) + 0.3 x coverage (1 - 0.5^(sources - 1):
a story three sources carry gets 0.75 of it) + 0.1 x recency (exp(-age/7
days)) + 0.15 x source weight (the best source's weight, capped at 3, over 3).
Only relevant stories are scored above 0.
Selection is greedy: each pick is the best score after a diversity penalty
(x0.6 per item already chosen in the same topic, x0.8 per item beyond an even
share in the same language). Pinned items come first; excluded ones never.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Protocol, TypeVar

TOPIC_PENALTY = 0.6
LANGUAGE_PENALTY = 0.8


def score(*, relevance: float, published_at: datetime, now: datetime,
          weights: Iterable[float], sources: int = 1) -> float:
    """The item's score in [0, 1]. ``published_at`` and ``now``: aware
    datetimes; ``sources``: how many distinct sources carry the story."""
    ws = list(weights) or [1.0]
    rel = 1.0 - math.exp(-relevance / 8.0)
    age_days = max((now - published_at).total_seconds(), 0.0) / 86400.0
    rec = math.exp(-age_days / 7.0)
    w = min(max(ws), 3.0) / 3.0
    cov = 1.0 - 0.5 ** max(sources - 1, 0)
    return round(0.45 * rel + 0.3 * cov + 0.1 * rec + 0.15 * w, 6)


class Rankable(Protocol):
    """What :func:`select` needs of an item."""

    @property
    def topic(self) -> str: ...
    @property
    def language(self) -> str: ...
    @property
    def score(self) -> float: ...
    @property
    def pinned(self) -> bool: ...
    @property
    def excluded(self) -> bool: ...
    @property
    def canonical_url(self) -> str: ...


R = TypeVar("R", bound=Rankable)


def select(items: Sequence[R], *, limit: int, carried: frozenset[str] = frozenset(),
           eligible_only: bool = True) -> list[R]:
    """Up to ``limit`` items in reading order: pinned first, then by diversified
    score. Never an excluded item or one whose URL is in ``carried`` (items of
    earlier digests); with ``eligible_only``, an unpinned item needs a score
    above 0 (a relevant story; manual inclusions are pinned)."""
    pool = [i for i in items if not i.excluded and i.canonical_url not in carried]
    chosen = [i for i in pool if i.pinned]
    rest = [i for i in pool if not i.pinned and (i.score > 0 or not eligible_only)]
    langs = Counter(i.language for i in rest)
    share = max(1, math.ceil(limit / max(len(langs), 1)))
    topics: Counter[str] = Counter(i.topic for i in chosen)
    in_lang: Counter[str] = Counter(i.language for i in chosen)
    rest.sort(key=lambda i: -i.score)
    while rest and len(chosen) < limit:
        best_idx, best_val = 0, -1.0
        for idx, item in enumerate(rest):
            if item.score <= best_val:
                break  # sorted by score: no later item can beat the best penalised one
            val = item.score * TOPIC_PENALTY ** topics[item.topic]
            val *= LANGUAGE_PENALTY ** max(0, in_lang[item.language] - share + 1)
            if val > best_val:
                best_idx, best_val = idx, val
        item = rest.pop(best_idx)
        chosen.append(item)
        topics[item.topic] += 1
        in_lang[item.language] += 1
    return chosen
