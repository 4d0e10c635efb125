"""Parse a feed body (feedparser-rs or feedparser) and normalise its entries.

Normalised entry: canonical URL (tracking parameters stripped, Google Alerts
redirects resolved to their target), plain text title and summary (feed HTML
goes through nh3 first, so scripts and styles lose their content too), an
aware UTC published time (missing: the fetch time) and a language (en, fr,
es or other, detected by py3langid's model narrowed to en, fr, es and the
``GUARD_LANGUAGES``, loaded once: :func:`language_model`).
"""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from functools import cache
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import nh3

from digests.parse.readers import RawEntry, read_feed

LANGUAGES = ("en", "fr", "es")
SUMMARY_CHARS = 600
LANGUAGE_CHARS = 300  # title and the start of the summary: enough for en/fr/es
LANGUAGE_BATCH = 512  # texts walked through the automaton together
SCORE_TEXTS = 32  # texts scored together (a block of ~12k features x 38 classes: ~2 MB)

_TRACKING = re.compile(
    r"^(utm_\w+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|igshid|ref_src|_hsenc|_hsmi|"
    r"ncid|cmpid|ocid|sr_share|__twitter_impression|wt\.mc_id|at_medium|at_campaign)$", re.I)
_SPACE = re.compile(r"\s+")
_BLOCK = re.compile(r"<\s*(?:br|/?p|/?div|/?li|/?ul|/?ol|/?h[1-6]|/?blockquote|/?tr|/?table|"
                    r"/?section|/?article|hr)\b[^>]*>", re.I)
_BREAKS = re.compile(r"\s*\n\s*\n\s*")
_REDIRECTORS = {("www.google.com", "/url"), ("google.com", "/url"), ("news.google.com", "/url")}


@dataclass(slots=True)
class Entry:
    """One normalised feed entry. ``published_at``: aware datetime, UTC."""

    canonical_url: str
    link: str
    title: str
    summary: str
    published_at: datetime
    language: str
    feed_url: str
    feed_title: str
    weight: float = 1.0
    #: False when the feed gave no date: ``published_at`` is when it was first seen.
    dated: bool = True

    def to_data(self) -> dict[str, Any]:
        """JSON-ready dict (the time as ISO 8601)."""
        d = asdict(self)
        d["published_at"] = self.published_at.isoformat()
        return d

    @classmethod
    def from_data(cls, d: dict[str, Any]) -> Entry:
        """The inverse of :meth:`to_data`."""
        known = {f: d[f] for f in cls.__dataclass_fields__ if f in d}
        return cls(**{**known, "published_at": datetime.fromisoformat(d["published_at"])})


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A parsed body: ``bozo`` is feedparser's flag, ``bozo_reason`` its
    exception as text (a bozo feed that still yields entries is used);
    ``declared``: the feed's own language code (two letters, may be empty)."""

    title: str
    entries: list[Entry]
    bozo: bool
    bozo_reason: str | None
    declared: str = ""
    #: Which parser read it (feedparser-rs, or feedparser as the fallback).
    parser: str = "feedparser"


def canonical_url(url: str) -> str:
    """Resolve a Google redirect to its target, lower-case scheme and host, drop
    the fragment, default ports and tracking parameters (utm_*, fbclid...)."""
    url = html.unescape(url.strip())
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if (host, parts.path) in _REDIRECTORS:
        q = dict(parse_qsl(parts.query))
        target = q.get("url") or q.get("q")
        if target and target.startswith(("http://", "https://")):
            return canonical_url(target)
    if not parts.scheme or not host:
        return url
    netloc = host
    if parts.port and not ((parts.scheme == "http" and parts.port == 80)
                           or (parts.scheme == "https" and parts.port == 443)):
        netloc = f"{host}:{parts.port}"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                       if not _TRACKING.match(k)]) if parts.query else ""
    path = parts.path or "/"
    return urlunsplit((parts.scheme.lower(), netloc, path, query, ""))


def plain_text(markup: str, *, limit: int | None = None, paragraphs: bool = False) -> str:
    """Feed HTML as plain text: every tag removed by nh3 (script and style
    content dropped), entities decoded, whitespace collapsed; block elements
    (p, br, div, li, headings) separate words, and with ``paragraphs`` they
    stay paragraph breaks (``"\n\n"``); cut at ``limit`` characters on a
    word boundary with an ellipsis."""
    if not markup:
        return ""
    if "<" in markup or "&" in markup:
        markup = _BLOCK.sub("\n\n", markup)
        markup = html.unescape(nh3.clean(markup, tags=set()))
    if paragraphs:
        parts = (_SPACE.sub(" ", p).strip() for p in _BREAKS.split(markup))
        text = "\n\n".join(p for p in parts if p)
    else:
        text = _SPACE.sub(" ", markup).strip()
    if limit is not None and len(text) > limit:
        text = text[:limit].rsplit(" ", 1)[0].rstrip(",;:.") + "…"
    return text


#: The model's columns kept besides ``LANGUAGES``: the languages a feed of
#: the alliance's press review meets, and those py3langid most often takes
#: for en, fr or es. Text in them stays "other" (a text in a language not
#: kept goes to the closest kept one). 38 of the model's 142 columns: 7 MB of
#: its float16 table instead of 28 MB.
GUARD_LANGUAGES = ("de", "pt", "it", "nl", "ca", "gl", "oc", "an", "ext", "la", "ro", "da",
                   "sv", "no", "nn", "pl", "cs", "tl", "pcm", "bcl", "gd", "cy", "ga", "eu",
                   "lb", "fy", "ru", "ar", "zh", "ja", "ko", "hi", "tr", "id", "zxx")
#: Bytes of the model's file read at once while narrowing it.
_READ_BYTES = 1 << 16


@dataclass(frozen=True, slots=True)
class LanguageModel:
    """py3langid's bundled model, narrowed to ``LANGUAGES`` + ``GUARD_LANGUAGES``.

    ``nextmove``: uint16, the low 16 bits of the byte automaton's distinct
    256-byte rows (next state per byte), ``nexthigh``: the 17th bit of each,
    packed 8 to a byte (states fit in 17 bits: 20 MB instead of py3langid's
    39 MB of uint32); ``rowbase``: int64 per state, its row's offset in
    ``nextmove``; ``output``: int32 per state, the feature it completes or -1;
    ``table``: float16 (features x kept classes), log P(feature | class);
    ``prior``: float32 per kept class; ``classes``: their ISO 639 codes.
    """

    nextmove: Any
    nexthigh: Any
    rowbase: Any
    output: Any
    table: Any
    prior: Any
    classes: tuple[str, ...]

    @property
    def nbytes(self) -> int:
        """Bytes held by the arrays (the model's resident size, give or take)."""
        return int(sum(a.nbytes for a in (self.nextmove, self.nexthigh, self.rowbase,
                                           self.output, self.table, self.prior)))

    def step(self, states: Any, column: Any) -> Any:
        """The next state (int64 array) of each of ``states`` on the bytes ``column``."""
        import numpy as np

        at = self.rowbase[states] + column
        high = (self.nexthigh[at >> 3] >> (at & 7).astype(np.uint8)) & 1
        return self.nextmove[at].astype(np.int64) | high.astype(np.int64) << 16


def _npy_chunks(member: Any) -> Any:
    """(shape, dtype, chunks) of the ``.npy`` array read from file ``member``:
    chunks of whole rows (of its first axis), about ``_READ_BYTES`` each, so
    that the whole array is never resident at once."""
    import numpy as np

    fmt = np.lib.format
    version = fmt.read_magic(member)
    header = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
    shape, fortran, dtype = header(member)
    if fortran or not shape:
        raise ValueError("unexpected array layout")
    width = int(np.prod(shape[1:], dtype=np.int64))
    step = max(8, _READ_BYTES // (width * dtype.itemsize) // 8 * 8)

    def chunks() -> Any:
        for lo in range(0, shape[0], step):
            n = min(step, shape[0] - lo)
            yield lo, np.frombuffer(member.read(n * width * dtype.itemsize),
                                    dtype=dtype).reshape((n, *shape[1:]))
    return shape, dtype, chunks()


def _kept_columns(member: Any, cols: list[int]) -> Any:
    """Columns ``cols`` of the 2-D ``.npy`` array in file ``member``."""
    import numpy as np

    shape, dtype, chunks = _npy_chunks(member)
    out = np.empty((shape[0], len(cols)), dtype=dtype)
    for lo, chunk in chunks:
        out[lo:lo + len(chunk)] = chunk[:, cols]
    return out


def _split_states(member: Any) -> tuple[Any, Any]:
    """The automaton's rows in file ``member`` (one next state per byte, each
    < 2**17) as (low 16 bits: uint16, 17th bit packed 8 to a byte)."""
    import numpy as np

    shape, dtype, chunks = _npy_chunks(member)
    size = int(np.prod(shape, dtype=np.int64))
    if dtype.kind != "u" or size % 8:
        raise ValueError("unexpected automaton layout")
    low = np.empty(size, dtype=np.uint16)
    high = np.empty(size // 8, dtype=np.uint8)
    at = 0
    for _lo, chunk in chunks:
        flat = chunk.ravel()
        if flat.size and int(flat.max()) >= 1 << 17:
            raise ValueError("automaton too large for 17 bits")
        low[at:at + flat.size] = flat & 0xFFFF
        high[at // 8:(at + flat.size) // 8] = np.packbits(
            (flat >> 16).astype(np.uint8), bitorder="little")
        at += flat.size
    return low, high


@cache
def language_model() -> LanguageModel | None:
    """The narrowed model, loaded once per process from py3langid's own file
    (its npz inside LZMA, decompressed to a temporary file as py3langid does);
    None when this py3langid ships another layout (then
    :func:`detect_language` uses py3langid's identifier, narrowed by its
    ``set_languages``)."""
    import lzma
    import shutil
    import tempfile

    import numpy as np
    from py3langid.langid import MODEL_DIR, MODEL_FILE

    kept = set(LANGUAGES + GUARD_LANGUAGES)
    with tempfile.TemporaryFile(suffix=".npz") as tmp:
        with lzma.open(MODEL_DIR / MODEL_FILE) as src:
            shutil.copyfileobj(src, tmp, length=_READ_BYTES)
        tmp.seek(0)
        with np.load(tmp, allow_pickle=False) as data:
            if not {"ptc", "pc", "classes", "nextmove", "nextmove_row", "out_feat"} <= set(
                    data.files):
                return None
            classes = [str(c) for c in data["classes"].tolist()]
            cols = [i for i, c in enumerate(classes) if c in kept]
            with data.zip.open("ptc.npy") as member:
                table = _kept_columns(member, cols)
            with data.zip.open("nextmove.npy") as member:
                low, high = _split_states(member)
            return LanguageModel(
                nextmove=low, nexthigh=high,
                rowbase=data["nextmove_row"].astype(np.int64) << 8,
                output=data["out_feat"].astype(np.int32, copy=False),
                table=table, prior=data["pc"][cols].astype(np.float32),
                classes=tuple(classes[i] for i in cols))


@cache
def _identifier() -> Any:
    """py3langid's own identifier narrowed to the same languages (used only
    when :func:`language_model` cannot read this py3langid's model)."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=False)
    ident.set_languages([c for c in LANGUAGES + GUARD_LANGUAGES if c in ident.labels])
    return ident


def detect_language(text: str) -> str:
    """``en``, ``fr``, ``es`` or ``other`` for ``text`` (py3langid's model
    and decision among ``LANGUAGES`` + ``GUARD_LANGUAGES``, offline; only the
    first ``LANGUAGE_CHARS`` characters are read)."""
    return detect_languages([text])[0]


def _langid_bytes(text: str) -> bytes:
    """The bytes py3langid reads for ``text`` (its own preparation)."""
    if text.isupper():
        text = text.lower()
    return unicodedata.normalize("NFC", text).encode("utf8", errors="surrogatepass")


def detect_languages(texts: Sequence[str]) -> list[str]:
    """:func:`detect_language` of every text: py3langid's decision (naive
    Bayes over the features its byte automaton finds), with the automaton
    walked for many texts at once by numpy (one step per byte position, not
    one Python step per byte)."""
    out = ["other"] * len(texts)
    todo = [i for i, t in enumerate(texts) if len(t) >= 12]
    model = language_model() if todo else None
    if model is None:
        for i in todo:
            lang = _identifier().classify(texts[i][:LANGUAGE_CHARS])[0]
            out[i] = lang if lang in LANGUAGES else "other"
        return out
    for lo in range(0, len(todo), LANGUAGE_BATCH):
        chunk = todo[lo:lo + LANGUAGE_BATCH]
        for i, lang in zip(chunk, _detect_batch(model, [texts[i] for i in chunk]), strict=True):
            out[i] = lang if lang in LANGUAGES else "other"
    return out


def _detect_batch(model: LanguageModel, texts: list[str]) -> list[str]:
    import numpy as np

    output, table, prior, classes = model.output, model.table, model.prior, model.classes
    data = [_langid_bytes(t[:LANGUAGE_CHARS]) for t in texts]
    order = sorted(range(len(data)), key=lambda k: -len(data[k]))  # longest first
    lens = np.array([len(data[k]) for k in order], dtype=np.int64)
    width = int(lens[0])
    grid = np.zeros((len(order), width), dtype=np.uint8)
    grid[np.arange(width) < lens[:, None]] = np.frombuffer(
        b"".join(data[k] for k in order), dtype=np.uint8)
    columns = np.ascontiguousarray(grid.T)  # byte position x text
    active = np.searchsorted(-lens, -np.arange(width), side="left")  # texts longer than pos
    state = np.zeros(len(order), dtype=np.int64)
    rows, feats = [], []
    for pos in range(width):
        n = int(active[pos])
        now = model.step(state[:n], columns[pos, :n])
        state[:n] = now
        found = output[now]
        hit = np.flatnonzero(found >= 0)
        rows.append(hit)
        feats.append(found[hit])
    # Count each (text, feature), then score = log1p(counts) . table + prior.
    nfeat = len(table)
    keys, counts = np.unique(np.concatenate(rows) * nfeat + np.concatenate(feats),
                             return_counts=True)
    row, feat = keys // nfeat, keys % nfeat
    starts = np.flatnonzero(np.concatenate(([True], row[1:] != row[:-1])))
    logc = np.log1p(counts.astype(np.float32))
    bounds = np.append(starts, len(feat))
    best = np.empty(len(starts), dtype=np.intp)
    for lo in range(0, len(starts), SCORE_TEXTS):  # a (features x classes) block each
        hi = min(lo + SCORE_TEXTS, len(starts))
        a, b = bounds[lo], bounds[hi]
        part = table[feat[a:b]] * logc[a:b, None]
        best[lo:hi] = (np.add.reduceat(part, starts[lo:hi] - a) + prior).argmax(axis=1)
    out = ["other"] * len(order)  # no feature: py3langid's floor, its first class (af)
    for k, b in zip(row[starts].tolist(), best.tolist(), strict=True):
        out[order[k]] = str(classes[b])
    return out


def settle_languages(pending: Sequence[tuple[Entry, str]]) -> None:
    """Set the language of each entry of ``pending`` (entry, the feed's
    declared language) from its title and summary, ``LANGUAGE_BATCH`` at a
    time (only one batch's texts exist at once)."""
    for lo in range(0, len(pending), LANGUAGE_BATCH):
        batch = pending[lo:lo + LANGUAGE_BATCH]
        found = detect_languages([f"{e.title}. {e.summary}" for e, _ in batch])
        for (e, declared), lang in zip(batch, found, strict=True):
            if (lang == "other" and declared in LANGUAGES
                    and len(e.title) + len(e.summary) < 160):
                lang = declared  # too little text to overrule the feed's own declaration
            e.language = lang


def _summary_markup(raw: RawEntry) -> str:
    return raw.summary or raw.content


def parse_feed(body: bytes, *, feed_url: str, fetched_at: datetime, weight: float = 1.0,
               language: str | None = None, feed_title: str = "",
               detect: bool = True, fast: bool = True) -> ParsedFeed:
    """Parse ``body`` (the raw bytes: :func:`digests.parse.readers.read_feed`,
    feedparser-rs where it is faithful, else feedparser, which sniffs the
    encoding from the XML declaration and the bytes, so a wrong declaration
    is caught; ``fast=False``: feedparser always) and normalise each entry.
    ``fetched_at`` (aware UTC) stands in for a missing date; ``language``
    (en/fr/es) overrides detection. With ``detect=False`` the entries to
    detect keep ``language == ""`` for the caller to pass to
    :func:`settle_languages` with ``ParsedFeed.declared`` (one batch for
    many feeds)."""
    d = read_feed(body, fast=fast)
    title = feed_title or plain_text(d.title) or feed_url
    declared = d.language.lower()[:2]
    entries: list[Entry] = []
    for raw in d.entries:
        link = raw.link or raw.id
        name = plain_text(raw.title, limit=300)
        summary = plain_text(_summary_markup(raw), limit=SUMMARY_CHARS, paragraphs=True)
        if not name and not summary:
            continue
        if not name:
            name = summary[:80].rsplit(" ", 1)[0] + "…"
        if link:
            canon = canonical_url(link)
        else:
            canon = "urn:sha1:" + hashlib.sha1(  # noqa: S324 - an id, not security
                f"{feed_url}\n{name}".encode()).hexdigest()
        when = raw.when
        entries.append(Entry(canonical_url=canon[:1000], link=(link or canon)[:1000],
                             title=name, summary=summary,
                             published_at=when or fetched_at, language=language or "",
                             feed_url=feed_url, feed_title=title[:300], weight=weight,
                             dated=when is not None))
    if detect and not language:
        settle_languages([(e, declared) for e in entries])
    return ParsedFeed(title=title, entries=entries, bozo=d.bozo, bozo_reason=d.bozo_reason,
                      declared=declared, parser=d.parser)
