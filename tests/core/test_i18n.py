"""Every user-facing msgid in the code has a French and a Spanish translation,
and translations keep their placeholders."""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir

from bot.i18n import _catalog, _fill, _fill_slowly, translator
from tests.conftest import ROOT

KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)}
METHODS = [("**.py", "python"), ("**/templates/**.html", "jinja2"),
           ("**/templates/**.txt", "jinja2"), ("**/templates/**.j2", "jinja2")]


def _msgids() -> dict[str, str]:
    found: dict[str, str] = {}
    for folder in ("bot", "adapters", "digests"):
        path = ROOT / folder
        if not path.is_dir():
            continue
        for filename, lineno, message, _comments, _ctx in extract_from_dir(
                str(path), METHODS, keywords=KEYWORDS, options_map={
                    "**/templates/**": {"extensions": "jinja2.ext.i18n"}}):
            msgid = message if isinstance(message, str) else message[0]
            if msgid:
                found.setdefault(msgid, f"{folder}/{filename}:{lineno}")
    return found


def test_every_msgid_has_french_and_spanish() -> None:
    msgids = _msgids()
    assert len(msgids) > 20
    for lang in ("fr", "es"):
        cat = _catalog(lang)
        missing = [f"{where}: {m!r}" for m, where in msgids.items() if m not in cat]
        assert not missing, f"{lang} catalog lacks {len(missing)}:\n" + "\n".join(missing[:40])


def test_translations_keep_their_placeholders() -> None:
    pat = re.compile(r"\{[a-z_]+[^}]*\}")
    for lang in ("fr", "es"):
        for msgid, text in _catalog(lang).items():
            texts = text if isinstance(text, tuple) else (text,)
            for t in texts:
                assert set(pat.findall(t)) <= set(pat.findall(msgid)) | {"{n}"}, (lang, msgid)


def test_fallbacks() -> None:
    assert translator("fr-CA").language == "fr"
    assert translator("de").language == "en"
    assert translator("es").ngettext("{n} person in the roster", "{n} people in the roster",
                                     3) == "3 personas en el directorio"


def test_locale_files_exist() -> None:
    assert (Path(ROOT) / "bot" / "locale" / "fr" / "core.po").exists()


def test_french_typography() -> None:
    """French puts a narrow no-break space (U+202F) before ; : ! ? and inside
    guillemets; a plain space there lets a line break before the colon."""
    bad = []
    for msgid, text in _catalog("fr").items():
        for t in text if isinstance(text, tuple) else (text,):
            if re.search(r"[ \u00a0][;:!?»]|«[ \u00a0]", t):
                bad.append(f"{msgid!r}: {t!r}")
    assert not bad, f"{len(bad)} French translations with a plain space:\n" + "\n".join(bad[:20])


def _names(text: str) -> list[str]:
    """The top-level placeholder names of ``text`` (their root before ``.``/``[``)."""
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError:
        return []
    return [re.split(r"[.\[]", name)[0] for _lit, name, _spec, _conv in parts if name]


def _outcome(fill: Callable[[str, dict[str, object], str], str], text: str,
             params: dict[str, object], lang: str,
             caplog: pytest.LogCaptureFixture) -> tuple[object, list[str]]:
    """What ``fill`` returns (or raises) and the warnings it logs."""
    caplog.clear()
    try:
        got: object = fill(text, dict(params), lang)
    except Exception as exc:  # noqa: BLE001 - compared by the caller
        got = (type(exc), str(exc))
    return got, [r.getMessage() for r in caplog.records]


def test_fill_gives_what_the_formatter_gave_for_every_catalog_message(
        caplog: pytest.LogCaptureFixture) -> None:
    """``_fill`` (str.format_map on a template parsed once) against the
    string.Formatter it replaced (``_fill_slowly``): the same text and the same
    warnings for every msgid of the code and every French and Spanish
    translation, in every language's quotes, with string, number and missing
    parameters."""
    texts = set(_msgids())
    for lang in ("fr", "es"):
        for msgid, text in _catalog(lang).items():
            texts.add(msgid.split("\x04")[-1])
            texts.update(text if isinstance(text, tuple) else (text,))
    texts.update(["{a!r:>9}|{a}", "{{a}} {a!s} {a!a}", "{a.real!r}", "{0}", "{}", "{a:{b}}",
                  "{a!x}", "}{", "{a", "{a[0]!r} {a[0]}", "{ a }"])
    with_fields = [t for t in texts if "{" in t]
    assert len(with_fields) > 100
    samples: list[Callable[[str], object]] = [
        lambda n: f"«{n}» {{x}} “y” 'z'", lambda n: len(n) * 111, lambda n: 4.5]
    compared = 0
    for text in sorted(with_fields):
        names = _names(text)
        param_sets = [{n: make(n) for n in names} for make in samples]
        param_sets.append({n: "v" for n in names[1:]} | {"extra": "e"})  # first one missing
        for params in param_sets:
            for lang in ("en", "fr", "es", "de"):
                new = _outcome(_fill, text, params, lang, caplog)
                old = _outcome(_fill_slowly, text, params, lang, caplog)
                assert new == old, (text, params, lang)
                compared += 1
    assert compared > 1000
