"""Every user-facing msgid in the code has a French and a Spanish translation,
and translations keep their placeholders."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir

from bot.i18n import _catalog, translator
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
