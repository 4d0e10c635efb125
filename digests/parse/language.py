"""Language identification for the press review: en, fr, es or other.

py3langid's bundled model (naive Bayes over the features its byte automaton
finds), narrowed to ``LANGUAGES`` + ``GUARD_LANGUAGES`` and walked for many
texts at once with numpy. The narrowed model is made once from py3langid's
LZMA file and kept, uncompressed, in a cache file (:func:`model_cache_path`),
so that loading it again is a plain read: a build drops it once every entry
has its language (:func:`release_language_model`) and the next build, or a
single title's detection, loads it back in milliseconds.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

LANGUAGES = ("en", "fr", "es")
LANGUAGE_CHARS = 300  # title and the start of the summary: enough for en/fr/es
LANGUAGE_BATCH = 512  # texts walked through the automaton together
SCORE_TEXTS = 32  # texts scored together (a block of ~12k features x 38 classes: ~2 MB)


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


#: The arrays of :class:`LanguageModel` as stored in the cache file.
_ARRAYS = ("nextmove", "nexthigh", "rowbase", "output", "table", "prior")


def model_cache_path() -> Path:
    """Where the narrowed model is kept: ``$CONVENE_CACHE_DIR`` (else
    ``$XDG_CACHE_HOME/convene``, else ``~/.cache/convene``), one file per
    py3langid version and set of kept languages (about 30 MB, uncompressed)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        made_from = version("py3langid")
    except PackageNotFoundError:  # pragma: no cover - installed with Convene
        made_from = "unknown"
    base = os.environ.get("CONVENE_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "convene")
    kept = _languages_key(LANGUAGES + GUARD_LANGUAGES)
    return Path(base) / f"language-model-py3langid-{made_from}-{kept:08x}.npz"


def _languages_key(codes: Sequence[str]) -> int:
    """A stable 32-bit number naming a set of language codes (CRC-32)."""
    from zlib import crc32

    return crc32(",".join(sorted(codes)).encode())


@cache
def language_model() -> LanguageModel | None:
    """The narrowed model, loaded once (until :func:`release_language_model`):
    from the cache file when it is there and whole, else made from
    py3langid's own file (its npz inside LZMA, decompressed to a temporary
    file as py3langid does) and written to the cache file (atomically; a
    cache that cannot be written is only a slower next load). None when this
    py3langid ships another layout (then :func:`detect_language` uses
    py3langid's identifier, narrowed by its ``set_languages``)."""
    import zipfile

    import numpy as np

    path = model_cache_path()
    try:
        with path.open("rb") as fh, np.load(fh, allow_pickle=False) as data:
            return LanguageModel(**{k: data[k] for k in _ARRAYS},
                                 classes=tuple(str(c) for c in data["classes"].tolist()))
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        pass  # absent, partial or from another layout: made again below
    model = _narrowed_model()
    if model is not None:
        _write_cache(path, model)
    return model


def _write_cache(path: Path, model: LanguageModel) -> None:
    import numpy as np

    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tmp.open("wb") as fh:
            np.savez(fh, classes=np.array(model.classes),
                     **{k: getattr(model, k) for k in _ARRAYS})
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)


def _narrowed_model() -> LanguageModel | None:
    """The model made from py3langid's own file (see :func:`language_model`)."""
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


def release_language_model() -> None:
    """Drop the loaded model (about 28 MB of arrays) until the next
    detection needs it. A press-review build calls it once every entry of
    the week has its language, so clustering and ranking run without it
    and a long-running server does not hold it between weekly builds; the
    next detection loads it again from the cache file (milliseconds)."""
    language_model.cache_clear()


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


__all__ = ["GUARD_LANGUAGES", "LANGUAGES", "LANGUAGE_BATCH", "LANGUAGE_CHARS", "LanguageModel",
           "detect_language", "detect_languages", "language_model", "model_cache_path",
           "release_language_model"]
