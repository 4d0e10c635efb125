"""gettext through Babel: English first, French and Spanish catalogs.

Catalogs are PO files under ``bot/locale/<lang>/<domain>.po``; every domain
of a language is loaded and merged, so each capability keeps its own file.
An adapter keeps its catalogs in its own package (``<package>/locale/<lang>/``
next to the module its ``convene.plugins`` entry point names); they are
merged in too. PO files are read with Babel at start-up (no compiled .mo
files to forget).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import entry_points
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po
from babel.support import Format

log = logging.getLogger(__name__)

LOCALE_DIR = Path(__file__).parent / "locale"
SUPPORTED = ("en", "fr", "es")


def locale_dirs() -> list[Path]:
    """The core's locale folder, then each installed plugin package's
    ``locale`` folder (found without importing the plugin's module)."""
    found = [LOCALE_DIR]
    for ep in sorted(entry_points(group="convene.plugins"), key=lambda e: e.name):
        package = ep.module.rpartition(".")[0] or ep.module
        try:
            spec = find_spec(package)
        except (ImportError, ValueError):
            continue
        for where in (spec.submodule_search_locations or []) if spec else []:
            folder = Path(where) / "locale"
            if folder.is_dir() and folder not in found:
                found.append(folder)
    return found


@cache
def _catalog(lang: str) -> dict[str, str | tuple[str, ...]]:
    out: dict[str, str | tuple[str, ...]] = {}
    files = [po for folder in locale_dirs() for po in sorted((folder / lang).glob("*.po"))]
    for po in files:
        with po.open("rb") as fh:
            cat = read_po(fh, locale=lang)
        for msg in cat:
            if not msg.id or msg.fuzzy:
                continue
            key = msg.id if isinstance(msg.id, str) else msg.id[0]
            if isinstance(msg.string, tuple | list):
                if all(msg.string):
                    out[key] = tuple(msg.string)
            elif msg.string:
                out[key] = msg.string
    return out


def normalise_language(lang: str | None) -> str:
    """``fr-CA`` -> ``fr``; anything unsupported -> ``en``."""
    base = (lang or "en").replace("_", "-").split("-")[0].lower()
    return base if base in SUPPORTED else "en"


@dataclass(frozen=True)
class Translator:
    """Translations for one language.

    ``gettext(msgid, **params)`` translates then fills ``{name}`` placeholders;
    ``ngettext(singular, plural, n, **params)`` picks the plural form.
    """

    language: str
    catalog: dict[str, str | tuple[str, ...]] = field(repr=False, default_factory=dict)

    def gettext(self, msgid: str, /, **params: Any) -> str:
        """Translate ``msgid`` and fill its placeholders."""
        found = self.catalog.get(msgid)
        text = found if isinstance(found, str) else msgid
        return _fill(text, params)

    def ngettext(self, singular: str, plural: str, n: int, /, **params: Any) -> str:
        """Translate a message with a count ``n`` (also available as ``{n}``)."""
        params.setdefault("n", n)
        found = self.catalog.get(singular)
        if isinstance(found, tuple):
            idx = 0 if n == 1 else 1
            if self.language == "fr":
                idx = 0 if n in (0, 1) else 1
            text = found[min(idx, len(found) - 1)]
        else:
            text = singular if n == 1 else plural
        return _fill(text, params)

    __call__ = gettext

    @property
    def format(self) -> Format:
        """Babel number/date formatting in this language."""
        return Format(self.language)


def _fill(text: str, params: dict[str, Any]) -> str:
    if not params:
        return text
    try:
        return text.format(**params)
    except (KeyError, IndexError, ValueError):
        log.warning("translation placeholders do not match for %r", text)
        return text


def translator(language: str | None) -> Translator:
    """The translator for ``language`` (unsupported languages fall back to English)."""
    lang = normalise_language(language)
    return Translator(lang, _catalog(lang) if lang != "en" else {})
