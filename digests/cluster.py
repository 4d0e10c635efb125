"""Cluster entries into stories: the same story from several sources is one item.

Two entries are the same story when they share a canonical URL, or when their
titles-plus-summaries are near-identical (Jaccard similarity of word
3-shingles at least ``threshold``). Candidates come from MinHash LSH, so the
work is near-linear in the number of entries; a candidate is confirmed with
the exact Jaccard (over 64-bit shingle hashes) before merging, against a
story's representative first, so it stays linear in the number of copies of
a story too. Entries of identical text are hashed once and joined without a
test: only distinct texts reach MinHash, LSH and the exact test.

The MinHash is computed for all entries at once with numpy: words are hashed
with CRC-32 (deterministic across runs), shingles are mixed into 64-bit
values (the same bits whatever the block: texts of two blocks compare),
de-duplicated per entry by one sort, and each of the ``NUM_PERM``
multiply-shift permutations is one vectorised pass with a segmented minimum.
LSH uses ``BANDS`` bands of ``ROWS`` rows: a pair at Jaccard 0.8 becomes a
candidate with probability 1 - (1 - 0.8**4)**16 > 0.9997 (0.5: 0.64; 0.2: 0.03).
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from zlib import crc32

from digests.classify import fold
from digests.dates import dates
from digests.parse.normalise import Entry
from digests.related import (  # the second stage; its names stay importable from here
    Evidence,
    Profile,
    UnionFind,
    compare,
    letter_grams,
    names,
    numbers,
    related_groups,
)

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    U64 = npt.NDArray[np.uint64]
    U32 = npt.NDArray[np.uint32]
    Ints = npt.NDArray[np.intp]

_WORD = re.compile(r"\w+")
NUM_PERM = 64
BANDS, ROWS = 16, 4
SHINGLE = 3
MIN_SHINGLES = 4
_SEED = 20261123
BLOCK = 4096
IDBITS = BLOCK.bit_length()  # bits of a shingle hash that name its text in a block


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


def shingles(text: str, k: int = SHINGLE) -> set[str]:
    """Word ``k``-shingles of accent- and case-folded ``text`` (the words
    themselves when there are fewer than ``k``)."""
    words = _WORD.findall(fold(text))
    if len(words) < k:
        return set(words)
    return {" ".join(words[i:i + k]) for i in range(len(words) - k + 1)}


def _mix(x: U64) -> U64:
    """MurmurHash3's 64-bit finaliser, in place on a uint64 array (wraps)."""
    x ^= x >> 33
    x *= 0xFF51AFD7ED558CCD
    x ^= x >> 33
    x *= 0xC4CEB9FE1A85EC53
    x ^= x >> 33
    return x


@dataclass(slots=True)
class _Shingled:
    """Per-entry sorted, distinct shingle hashes (entry ``i`` owns
    ``values[starts[i]:starts[i] + sizes[i]]``) and the MinHash signatures of
    the usable entries (one row each, in order)."""

    values: U64
    starts: list[int]
    sizes: list[int]
    usable: list[int]
    signatures: U32


def _block_hashes(texts: Sequence[str]) -> tuple[U64, Ints]:
    """Sorted distinct shingle hashes of a block of texts (at most ``BLOCK``),
    and their counts. A hash keeps its top ``64 - IDBITS`` bits whatever the
    block's size, so that texts of different blocks compare."""
    import numpy as np

    n = len(texts)
    words = array("I")
    counts = array("q")
    for text in texts:
        found = _WORD.findall(fold(text))
        counts.append(len(found))
        words.extend(map(crc32, map(str.encode, found)))
    w = np.frombuffer(words, dtype=np.uint32).astype(np.uint64)
    owner = np.repeat(np.arange(n, dtype=np.uint64), np.frombuffer(counts, dtype=np.int64))
    # An entry of fewer than 3 words has fewer than 3 shingles: never usable.
    keep = owner[:1 - SHINGLE] == owner[SHINGLE - 1:]
    first = (w[:-2] << 32 | w[1:-1])[keep]
    shingle = _mix(first ^ _mix(w[2:][keep] + 0x9E3779B97F4A7C15))
    key = owner[:-2][keep] << (64 - IDBITS) | shingle >> IDBITS
    key.sort()
    if len(key):
        key = key[np.concatenate(([True], key[1:] != key[:-1]))]
    sizes = np.bincount((key >> (64 - IDBITS)).astype(np.intp), minlength=n)
    return key & ((1 << (64 - IDBITS)) - 1), sizes


def _block_signatures(values: U64, sizes: Ints, usable: Ints) -> U64:
    """MinHash rows (one per entry of ``usable``, NUM_PERM columns, values <
    2**32) of one block (``values`` and ``sizes`` as made by ``_block_hashes``)."""
    import numpy as np

    rng = np.random.default_rng(_SEED)
    mul = rng.integers(1, 2**63, size=NUM_PERM, dtype=np.uint64) | 1
    add = rng.integers(0, 2**63, size=NUM_PERM, dtype=np.uint64)
    vals = values[np.repeat(sizes >= MIN_SHINGLES, sizes)]
    seg = np.concatenate(([0], np.cumsum(sizes[usable])[:-1]))
    sig = np.empty((len(seg), NUM_PERM), dtype=np.uint64)
    buf = np.empty_like(vals)
    for p in range(NUM_PERM):
        np.multiply(vals, mul[p], out=buf)
        buf += add[p]
        buf >>= 32
        sig[:, p] = np.minimum.reduceat(buf, seg)
    return sig


def _shingle(entries: Sequence[Entry], distinct: Sequence[int],
             twin: Sequence[int]) -> _Shingled:
    """Hash and sign the texts (title and summary) of the entries at
    ``distinct`` (ascending indices of ``entries``) in blocks of ``BLOCK``
    (cache-sized arrays: the time stays linear in the number of texts, and
    only one block's texts exist at once); entry ``i`` has the same text as
    entry ``twin[i]`` (one of ``distinct``) and shares its hashes.
    ``usable`` lists only distinct texts. Signatures are uint32 (every
    MinHash value is below 2**32): half the memory of uint64."""
    import numpy as np

    values, sizes, sigs = [], [], []
    usable: list[int] = []
    for lo in range(0, len(distinct), BLOCK):
        vals, size = _block_hashes([_text(entries[i]) for i in distinct[lo:lo + BLOCK]])
        ok = np.flatnonzero(size >= MIN_SHINGLES)
        values.append(vals)
        sizes.extend(size.tolist())
        usable.extend(distinct[k] for k in (ok + lo).tolist())
        if len(ok):
            sigs.append(_block_signatures(vals, size, ok).astype(np.uint32))
    counts = np.array(sizes, dtype=np.int64)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1])).tolist() if sizes else []
    at = dict(zip(distinct, range(len(distinct)), strict=True))
    signatures = np.concatenate(sigs) if sigs else np.zeros((0, NUM_PERM), dtype=np.uint32)
    return _Shingled(np.concatenate(values) if values else np.zeros(0, dtype=np.uint64),
                     [starts[at[j]] for j in twin], [sizes[at[j]] for j in twin], usable,
                     signatures)


def _text(e: Entry) -> str:
    """The text an entry is compared on: its title and summary."""
    return f"{e.title} {e.summary}"


def _band_keys(sig: U32, band: int) -> U64:
    """One 64-bit key per row of ``sig`` for its rows of ``band``."""
    import numpy as np

    c = sig[:, band * ROWS:(band + 1) * ROWS].astype(np.uint64)
    return _mix(c[:, 0] << np.uint64(32) | c[:, 1]) ^ _mix(c[:, 2] << np.uint64(32) | c[:, 3])


def _roots(uf: UnionFind, rows: Ints) -> Ints:
    """The union-find root of each entry of ``rows``, by vectorised pointer jumping."""
    import numpy as np

    parent = np.asarray(uf.parent, dtype=np.intp)
    while True:
        up = parent[parent]
        if np.array_equal(up, parent):
            return parent[rows]
        parent = up


def _live_buckets(keys: U64, roots: Ints) -> list[list[int]]:
    """The buckets (rows sharing a key) holding two stories or more so far,
    each as the roots of its stories (ascending). A bucket whose rows are one
    story already costs nothing: most of them, once copies of a story merged."""
    import numpy as np

    order = np.lexsort((roots, keys))
    k, r = keys[order], roots[order]
    new_bucket = np.concatenate(([True], k[1:] != k[:-1]))
    new_story = new_bucket | np.concatenate(([True], r[1:] != r[:-1]))
    bucket = np.cumsum(new_bucket) - 1
    stories = np.bincount(bucket, weights=new_story)
    live = np.flatnonzero(new_story & (stories[bucket] >= 2))
    out: list[list[int]] = []
    for root, fresh in zip(r[live].tolist(), new_bucket[live].tolist(), strict=True):
        if fresh:
            out.append([])
        out[-1].append(root)
    return out


class _Pairs:
    """The exact test of two entries (Jaccard of their shingle hashes at least
    ``threshold``), and of two stories (some pair of their entries passes)."""

    def __init__(self, sh: _Shingled, threshold: float) -> None:
        self.sh = sh
        self.threshold = threshold
        self.sets: dict[int, frozenset[int]] = {}

    def _set(self, i: int) -> frozenset[int]:
        found = self.sets.get(i)
        if found is None:
            found = self.sets[i] = frozenset(self._own(i).tolist())
        return found

    def _own(self, i: int) -> U64:
        lo = self.sh.starts[i]
        return self.sh.values[lo:lo + self.sh.sizes[i]]

    def matches(self, a: list[int], b: list[int]) -> bool:
        """True when an entry of ``a`` and one of ``b`` pass the test
        (representatives first: the pair that usually decides)."""
        t, sizes, sets = self.threshold, self.sh.sizes, self.sets
        for y in b:
            sy = sizes[y]
            low = t * sy
            ys = sets.get(y) or self._set(y)
            for x in a:
                sx = sizes[x]
                if sx >= low and sy >= t * sx:  # else Jaccard <= min/max < threshold
                    common = len(ys & (sets.get(x) or self._set(x)))
                    if common >= t * (sx + sy - common):
                        return True
        return False


def cluster(entries: Sequence[Entry], *, threshold: float = 0.8) -> list[Story]:
    """Group ``entries`` into stories (order: first appearance). Entries with
    fewer than 4 distinct shingles are merged by URL only: short texts make
    unsafe twins. Entries of identical text (title and summary) are hashed
    once and joined at once (Jaccard 1); only distinct texts go through
    MinHash, LSH and the exact test, so exact copies of a story cost a
    dictionary look-up each."""
    uf = UnionFind(len(entries))
    by_url: dict[str, int] = {}
    for i, e in enumerate(entries):
        j = by_url.setdefault(e.canonical_url, i)
        if j != i:
            uf.union(j, i)
    if entries:
        # keyed by (title, summary): the entries' own strings, no copy of each text
        first: dict[tuple[str, str], int] = {}
        twin = [first.setdefault((e.title, e.summary), i) for i, e in enumerate(entries)]
        del first
        sh = _shingle(entries, [i for i, j in enumerate(twin) if i == j], twin)
        for i, j in enumerate(twin):
            if j != i and sh.sizes[j] >= MIN_SHINGLES:
                uf.union(j, i)
        _merge_near_duplicates(sh, uf, threshold)
    groups: dict[int, list[int]] = {}
    for i in range(len(entries)):
        groups.setdefault(uf.find(i), []).append(i)
    stories = []
    for members in groups.values():
        chosen = sorted(members, key=lambda i: (entries[i].published_at, -len(entries[i].summary)))
        stories.append(Story([entries[i] for i in chosen]))
    return stories


def _merge_near_duplicates(sh: _Shingled, uf: UnionFind, threshold: float) -> None:
    """Join two stories when they share a band's bucket and some pair of
    their (distinct-text) entries passes the exact test. The pair tried
    first is the two representatives (earliest entries), so copies of one
    story cost one test each, and nothing in the bands after they merged;
    two stories found apart are not tried again until one of them grows."""
    import numpy as np

    if len(sh.usable) < 2:
        return
    rows = np.asarray(sh.usable, dtype=np.intp)
    pairs = _Pairs(sh, threshold)
    # root -> its usable entries, representative first (roots change by unions)
    story: dict[int, list[int]] = {}
    for i in sh.usable:
        story.setdefault(uf.find(i), []).append(i)
    apart: set[tuple[int, int, int, int]] = set()
    for band in range(BANDS):
        for bucket in _live_buckets(_band_keys(sh.signatures, band), _roots(uf, rows)):
            seen: list[int] = []
            for root in bucket:
                mine = uf.find(root)  # this band's unions may have joined it already
                if mine in seen:
                    continue
                rest = []
                for other in seen:
                    a, b = story[other], story[mine]
                    state = (other, len(a), mine, len(b))
                    if state in apart:
                        rest.append(other)
                    elif pairs.matches(a, b):
                        uf.union(other, mine)
                        del story[other], story[mine]
                        mine = uf.find(mine)
                        story[mine] = a + b if a[0] < b[0] else b + a
                    else:
                        apart.add(state)
                        rest.append(other)
                seen = [*rest, mine]


__all__ = ["Evidence", "Profile", "Story", "cluster", "compare", "dates", "letter_grams",
           "names", "numbers", "related_groups", "shingles"]
