"""Rank and select as an editor does: what makes a story big, then diversity.

``score`` is in [0, 1], a weighted sum of what makes a story big:

- 0.24 x relevance (1 - exp(-r/8), r the taxonomy score of :mod:`digests.classify`);
- 0.20 x independent publishers (1 - 0.5^(n - 1), n the distinct sites that
  wrote the story up: copies of one feed or one wire text count once);
- 0.14 x authority (the strongest rule-setting body named: registries,
  standards bodies, governments, the alliance's peers; taxonomy
  ``[editor.authorities]``, weight over 3);
- 0.14 x consequence (the strongest consequence word of the title:
  suspends, approves, launches, invests, bans, publishes...; weight over 3);
- 0.06 x an amount (money, tonnes, hectares) in the title or lead;
- 0.12 x centrality (how much of the scope's own phrases the item carries:
  1 - exp(-scope/6));
- 0.05 x recency (exp(-age/7 days)) and 0.05 x source weight (over 3);

x ``STALE`` (0.5) for a years-old event re-reported (an old year in the
title, none recent), and x ``FOLLOW_UP`` (0.75) for a story first reported
before the week: still news when the week's coverage is wide (a standard
many publishers explain), not when one outlet returns to it.
Only relevant stories are scored above 0.

Selection is greedy on the score less a small penalty per item already
chosen in the same topic (``TOPIC_STEP``) and beyond an even share in one
language (``LANGUAGE_STEP``): diversity decides only between stories of
comparable weight, so one of the week's biggest stories is never dropped to
fill a topic. The review opens with the ``TOP`` biggest stories, the lead
first, then the rest by topic (:func:`reading_order`). Pinned items come
first in the selection; excluded ones never.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Protocol, TypeVar

TOPIC_STEP = 0.04
LANGUAGE_STEP = 0.015
STALE = 0.5
FOLLOW_UP = 0.75
TOP = 3

_YEAR = re.compile(r"(?<!\d)(19[5-9]\d|20\d\d)(?!\d)")
_AMOUNT = re.compile(
    r"(?:[$€£]\s?\d|\d(?:[\d.,\s]*\d)?\s?(?:%|(?:mil\s+)?(?:million|millions|millones|"
    r"milliard|milliards|billion|bn|m|mn|k|t|mt|tonnes?|toneladas?|ha|hectares?|"
    r"hect[aá]reas?|acres?|dollars?|d[oó]lares|euros?|usd|eur)\b))", re.IGNORECASE)


def has_amount(text: str) -> bool:
    """True when ``text`` gives an amount: money, tonnes, hectares, a share."""
    return _AMOUNT.search(text) is not None


def stale_title(title: str, *, year: int) -> bool:
    """True when ``title`` dates its event years before ``year`` (an old
    year named, no recent one): a years-old event re-reported is not news."""
    years = [int(y) for y in _YEAR.findall(title)]
    return bool(years) and max(years) <= year - 2


def score(*, relevance: float, published_at: datetime, now: datetime,
          weights: Iterable[float], sources: int = 1, authority: float = 0.0,
          consequence: float = 0.0, amount: bool = False, scope: float = 0.0,
          novel: bool = True, old: bool = False) -> float:
    """The item's score in [0, 1] (see the module docstring).
    ``published_at`` and ``now``: aware datetimes; ``sources``: how many
    independent publishers carry the story; ``authority``, ``consequence``:
    taxonomy weights (0 to 3); ``scope``: the item's scope score; ``novel``:
    False for a story first reported before the week; ``old``: True for
    a years-old event re-reported."""
    ws = list(weights) or [1.0]
    rel = 1.0 - math.exp(-relevance / 8.0)
    age_days = max((now - published_at).total_seconds(), 0.0) / 86400.0
    rec = math.exp(-age_days / 7.0)
    w = min(max(ws), 3.0) / 3.0
    cov = 1.0 - 0.5 ** max(sources - 1, 0)
    central = 1.0 - math.exp(-max(scope, 0.0) / 6.0)
    total = (0.24 * rel + 0.20 * cov + 0.14 * min(authority, 3.0) / 3.0
             + 0.14 * min(consequence, 3.0) / 3.0 + 0.06 * amount + 0.12 * central
             + 0.05 * rec + 0.05 * w)
    return round(total * (1.0 if novel else FOLLOW_UP) * (STALE if old else 1.0), 6)


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


def _own_score(item: Rankable) -> float:
    return item.score


def select(items: Sequence[R], *, limit: int, carried: frozenset[str] = frozenset(),
           eligible_only: bool = True, key: Callable[[R], float] = _own_score) -> list[R]:
    """Up to ``limit`` items, pinned first, then by score (``key``: the
    score to rank by, e.g. moved by :mod:`digests.learn`) less the diversity
    penalties (in that order of choice). Never an excluded item or one whose
    URL is in ``carried`` (items of earlier digests); with ``eligible_only``,
    an unpinned item needs a score above 0 (a relevant story; manual
    inclusions are pinned)."""
    pool = [i for i in items if not i.excluded and i.canonical_url not in carried]
    chosen = [i for i in pool if i.pinned]
    rest = [i for i in pool if not i.pinned and (key(i) > 0 or not eligible_only)]
    langs = Counter(i.language for i in rest)
    share = max(1, math.ceil(limit / max(len(langs), 1)))
    topics: Counter[str] = Counter(i.topic for i in chosen)
    in_lang: Counter[str] = Counter(i.language for i in chosen)
    rest.sort(key=lambda i: -key(i))
    while rest and len(chosen) < limit:
        best_idx, best_val = 0, -math.inf
        for idx, item in enumerate(rest):
            if key(item) <= best_val:
                break  # sorted by score: no later item can beat the best penalised one
            val = key(item) - TOPIC_STEP * topics[item.topic]
            val -= LANGUAGE_STEP * max(0, in_lang[item.language] - share + 1)
            if val > best_val:
                best_idx, best_val = idx, val
        item = rest.pop(best_idx)
        chosen.append(item)
        topics[item.topic] += 1
        in_lang[item.language] += 1
    return chosen


def reading_order(chosen: Sequence[R], *, topic_order: Sequence[str] = (),
                  top: int = TOP, key: Callable[[R], float] = _own_score) -> list[R]:
    """``chosen`` in the order a reader meets them: the ``top`` biggest
    stories (by ``key``, the lead first), then the rest grouped by topic as
    ``topic_order`` lists them (others last), biggest first in each."""
    by_score = sorted(chosen, key=lambda i: -key(i))
    head = [i for i in by_score[:top] if key(i) > 0]
    taken = {id(i) for i in head}
    rank = {t: k for k, t in enumerate(topic_order)}
    tail = sorted((i for i in chosen if id(i) not in taken),
                  key=lambda i: (rank.get(i.topic, len(rank)), -key(i)))
    return head + tail


def review(items: Sequence[R], *, limit: int, topic_order: Sequence[str] = (),
           carried: frozenset[str] = frozenset(),
           key: Callable[[R], float] = _own_score) -> list[R]:
    """:func:`select` then :func:`reading_order`: the week's review as shown."""
    return reading_order(select(items, limit=limit, carried=carried, key=key),
                         topic_order=topic_order, key=key)
