"""The clustering's definition, computed the slow way for tests to compare with."""

from __future__ import annotations

from digests.cluster import shingles
from digests.parse.normalise import Entry


def all_pairs_stories(entries: list[Entry]) -> list[list[int]]:
    """The stories of the definition: same canonical URL, or Jaccard of
    shingles >= 0.8 (both with at least 4), closed transitively."""
    sets = [shingles(f"{e.title} {e.summary}") for e in entries]
    parent = list(range(len(entries)))

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for i in range(len(entries)):
        for j in range(i):
            a, b = sets[i], sets[j]
            if (entries[i].canonical_url == entries[j].canonical_url
                    or (min(len(a), len(b)) >= 4 and len(a & b) >= 0.8 * len(a | b))):
                parent[root(i)] = root(j)
    groups: dict[int, list[int]] = {}
    for i in range(len(entries)):
        groups.setdefault(root(i), []).append(i)
    return sorted(groups.values())
