"""The language identifier of the press review: narrowed to the languages it
needs, small in memory, and deciding as py3langid's full model does."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from digests.parse import language
from digests.parse.language import (
    GUARD_LANGUAGES,
    LANGUAGE_CHARS,
    LANGUAGES,
    detect_language,
    detect_languages,
    language_model,
    model_cache_path,
    release_language_model,
)
from digests.parse.normalise import parse_feed

T0 = datetime(2026, 11, 20, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]


def _full_model_label(ident: object, text: str) -> str:
    if len(text) < 12:
        return "other"
    lang = ident.classify(text[:LANGUAGE_CHARS])[0]  # type: ignore[attr-defined]
    return str(lang) if lang in LANGUAGES else "other"


def test_model_keeps_only_the_needed_languages_and_is_small() -> None:
    model = language_model()
    assert model is not None
    assert set(model.classes) == set(LANGUAGES + GUARD_LANGUAGES)
    assert model.table.shape[1] == len(model.classes) < 142 // 3
    # py3langid's own identifier holds ~104 MB once loaded (28 MB float16
    # table, 39 MB uint32 automaton, two lists of 104k Python ints).
    assert model.nbytes < 35_000_000
    assert language_model() is model  # loaded once


def test_narrowed_model_decides_as_the_full_model(shared_fixtures: Path) -> None:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    texts = ["", "short", "ÉCONOMIE DU CARBONE DES SOLS", "12345 67890 !!! ???",
             "Hola, ¿cómo están los suelos agrícolas de la región este año?",
             "Les crédits carbone des sols rémunèrent les agriculteurs français",
             "Die Bodenkohlenstoffzertifikate werden von Landwirten in Bayern verkauft",
             "Os créditos de carbono do solo pagam aos agricultores brasileiros"]
    for f in sorted((shared_fixtures / "feeds").iterdir()):
        texts += [f"{e.title}. {e.summary}" for e in
                  parse_feed(f.read_bytes(), feed_url=f.name, fetched_at=T0).entries]
    full = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=False)
    expected = [_full_model_label(full, t) for t in texts]
    assert detect_languages(texts) == expected
    assert [detect_language(t) for t in texts[:8]] == expected[:8]
    assert {"en", "fr", "es", "other"} <= set(expected)


def test_fallback_identifier_is_narrowed_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(language, "language_model", lambda: None)
    texts = ["Les crédits carbone des sols rémunèrent les agriculteurs français",
             "Die Bodenkohlenstoffzertifikate werden von Landwirten in Bayern verkauft"]
    assert detect_languages(texts) == ["fr", "other"]
    assert len(language._identifier().nb_classes) == len(LANGUAGES + GUARD_LANGUAGES)


def test_press_review_build_path_imports_no_charting_or_learning() -> None:
    code = textwrap.dedent("""
        import sys
        from bot.digest import service  # the build's own module, as the CLI loads it
        from digests.parse.language import detect_languages
        detect_languages(["Les crédits carbone des sols", "Soil carbon credits pay"])
        heavy = sorted(m for m in ("matplotlib", "sklearn", "scipy", "feedparser")
                       if m in sys.modules)
        print(",".join(heavy))
    """)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == ""


def test_model_is_cached_on_disk_and_released_after_a_build(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Made once from py3langid's LZMA file into the cache file; loaded again
    from it after a release, with the same arrays; a partial cache file is
    made again, not trusted; a build (Gatherer.result) releases the model."""
    import numpy as np

    from digests.fetch import FetchResult
    from digests.pipeline import Gatherer
    from digests.sources import FeedSource

    monkeypatch.setenv("CONVENE_CACHE_DIR", str(tmp_path))
    release_language_model()
    made = language_model()
    assert made is not None
    path = model_cache_path()
    assert path.parent == tmp_path and path.stat().st_size > 10_000_000
    release_language_model()
    again = language_model()
    assert again is not None and again is not made
    assert again.classes == made.classes
    for name in ("nextmove", "nexthigh", "rowbase", "output", "table", "prior"):
        assert np.array_equal(getattr(again, name), getattr(made, name)), name
    assert detect_language("Les crédits carbone des sols rémunèrent les agriculteurs") == "fr"

    release_language_model()
    path.write_bytes(path.read_bytes()[:1000])  # a crash half-way through a write
    assert language_model() is not None
    assert path.stat().st_size > 10_000_000

    body = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item>'
            b"<title>Soil carbon credits pay farmers in Kansas this spring</title>"
            b"<link>https://a.example/1</link></item></channel></rss>")
    got = Gatherer().result([FetchResult(FeedSource("https://a.example/feed"), "ok", T0,
                                         body=body)])
    assert got.entries[0].language == "en"
    assert language_model.cache_info().currsize == 0  # released: not held between builds
