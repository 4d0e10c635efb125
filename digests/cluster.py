"""Cluster entries into stories: the same story from several sources is one item.

Two entries are the same story when they share a canonical URL, or when their
titles-plus-summaries are near-identical (Jaccard similarity of word
3-shingles at least ``threshold``). Candidates come from MinHash LSH
(datasketch), so the work is near-linear in the number of entries; each
candidate pair is confirmed with the exact Jaccard before merging.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from datasketch import MinHash, MinHashLSH

from digests.classify import fold
from digests.parse.normalise import Entry

_WORD = re.compile(r"\w+")
NUM_PERM = 64


@dataclass(slots=True)
class Story:
    """One item: ``entries`` (at least one; the first is the representative:
    the earliest-published entry with the longest summary)."""

    entries: list[Entry] = field(default_factory=list)

    @property
    def lead(self) -> Entry:
        """The entry whose title and summary represent the story."""
        return self.entries[0]

    @property
    def canonical_url(self) -> str:
        """The lead entry's canonical URL (the story's key)."""
        return self.lead.canonical_url


def shingles(text: str, k: int = 3) -> set[str]:
    """Word ``k``-shingles of accent- and case-folded ``text`` (the words
    themselves when there are fewer than ``k``)."""
    words = _WORD.findall(fold(text))
    if len(words) < k:
        return set(words)
    return {" ".join(words[i:i + k]) for i in range(len(words) - k + 1)}


class _Union:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def cluster(entries: Sequence[Entry], *, threshold: float = 0.8) -> list[Story]:
    """Group ``entries`` into stories (order: first appearance). Entries with
    fewer than 4 shingles are merged by URL only: short texts make unsafe twins."""
    uf = _Union(len(entries))
    by_url: dict[str, int] = {}
    for i, e in enumerate(entries):
        j = by_url.setdefault(e.canonical_url, i)
        if j != i:
            uf.union(j, i)
    sets = [shingles(f"{e.title} {e.summary}") for e in entries]
    usable = [i for i, s in enumerate(sets) if len(s) >= 4]
    hashes = MinHash.bulk([[s.encode() for s in sets[i]] for i in usable], num_perm=NUM_PERM)
    lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
    for i, mh in zip(usable, hashes, strict=True):
        for j in lsh.query(mh):
            if uf.find(int(j)) == uf.find(i):
                continue
            a, b = sets[i], sets[int(j)]
            if len(a & b) >= threshold * len(a | b):
                uf.union(int(j), i)
        lsh.insert(i, mh, check_duplication=False)
    groups: dict[int, list[int]] = {}
    for i in range(len(entries)):
        groups.setdefault(uf.find(i), []).append(i)
    stories = []
    for members in groups.values():
        chosen = sorted(members, key=lambda i: (entries[i].published_at, -len(entries[i].summary)))
        stories.append(Story([entries[i] for i in chosen]))
    return stories
