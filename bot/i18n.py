"""gettext through Babel: English first, French and Spanish catalogs.

Catalogs are PO files under ``bot/locale/<lang>/<domain>.po``; every domain
of a language is loaded and merged, so each capability keeps its own file.
An adapter keeps its catalogs in its own package (``<package>/locale/<lang>/``
next to the module its ``convene.plugins`` entry point names); they are
merged in too. PO files are read with Babel at start-up (no compiled .mo
files to forget).
"""

from __future__ import annotations

import gettext as _gettext
import logging
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache, lru_cache
from importlib.metadata import entry_points
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po
from babel.support import Format

from bot.formatting import Day, Moment, number

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
            if msg.context:  # gettext's own key for a message with a context
                key = f"{msg.context}\x04{key}"
            if isinstance(msg.string, tuple | list):
                if all(msg.string):
                    out[key] = tuple(msg.string)
            elif msg.string:
                out[key] = msg.string
    return out


@cache
def _plural(lang: str) -> Callable[[int], int]:
    """The catalog's plural rule (its ``Plural-Forms`` header, CLDR's rule for
    the language when the header has none): ``n`` -> index of the form."""
    folder = LOCALE_DIR / lang
    for po in sorted(folder.glob("*.po")) if folder.is_dir() else []:
        with po.open("rb") as fh:
            cat = read_po(fh, locale=lang)
        return _gettext.c2py(cat.plural_expr)
    return _gettext.c2py("(n != 1)")


def normalise_language(lang: str | None) -> str:
    """``fr-CA`` -> ``fr``; anything unsupported -> ``en``."""
    base = (lang or "en").replace("_", "-").split("-")[0].lower()
    return base if base in SUPPORTED else "en"


@dataclass(frozen=True)
class Translator:
    """Translations for one language.

    ``gettext(msgid, **params)`` translates then fills ``{name}`` placeholders;
    ``ngettext(singular, plural, n, **params)`` picks the plural form by the
    catalog's plural rule (``1 article``, ``0 article`` in French, ``0 articles``
    in English) and shows ``{n}`` as a number of the language (``1 500``);
    ``pgettext(context, msgid, **params)`` tells apart words whose translation
    depends on what they describe (gender: a proposal is *ouverte*, a sprint
    *ouvert*). Float and Decimal parameters are shown as numbers of the language
    (``4,5``), :class:`bot.formatting.Moment` and ``Day`` parameters as its dates;
    integers are left alone (they are often ids a person types back).
    """

    language: str
    catalog: dict[str, str | tuple[str, ...]] = field(repr=False, default_factory=dict)

    def gettext(self, msgid: str, /, **params: Any) -> str:
        """Translate ``msgid`` and fill its placeholders."""
        found = self.catalog.get(msgid)
        text = found if isinstance(found, str) else msgid
        return _fill(text, self._numbers(params), self.language)

    def pgettext(self, context: str, msgid: str, /, **params: Any) -> str:
        """Translate ``msgid`` as used in ``context`` (``msgctxt`` in the PO file),
        falling back to the translation without context, then to ``msgid``."""
        found = self.catalog.get(f"{context}\x04{msgid}")
        if isinstance(found, str):
            return _fill(found, self._numbers(params), self.language)
        return self.gettext(msgid, **params)

    def _numbers(self, params: dict[str, Any]) -> dict[str, Any]:
        return {k: _shown(v, self.language) for k, v in params.items()}

    def ngettext(self, singular: str, plural: str, n: int, /, **params: Any) -> str:
        """Translate a message with a count ``n`` (also available as ``{n}``)."""
        params.setdefault("n", number(n, language=self.language))
        found = self.catalog.get(singular)
        if isinstance(found, tuple):
            text = found[min(_plural(self.language)(n), len(found) - 1)]
        else:
            text = singular if n == 1 else plural
        return _fill(text, self._numbers(params), self.language)

    __call__ = gettext

    @property
    def format(self) -> Format:
        """Babel number/date formatting in this language."""
        return Format(self.language)


def _shown(value: Any, language: str) -> Any:
    if isinstance(value, float | Decimal):
        return number(value, language=language)
    if isinstance(value, Moment | Day):
        return value.text(language)
    return value


#: How each language quotes what a person typed (``{word!r}`` in a msgid).
QUOTES = {"en": ("“", "”"), "fr": ("«\u202f", "\u202f»"), "es": ("«", "»")}


class _Quoting(string.Formatter):
    """``str.format`` whose ``!r`` quotes a value the way the reader's language
    does (``«\u202fbloquer\u202f»``) instead of Python's repr (``'bloquer'``)."""

    def __init__(self, language: str) -> None:
        self.quotes = QUOTES.get(language, QUOTES["en"])

    def convert_field(self, value: Any, conversion: str | None) -> Any:
        if conversion == "r":
            return f"{self.quotes[0]}{value}{self.quotes[1]}"
        return super().convert_field(value, conversion)


def _fill(text: str, params: dict[str, Any], language: str = "en") -> str:
    """``text`` with its ``{name}`` placeholders filled from ``params`` as
    :class:`_Quoting` would (``!r`` quoted in ``language``); ``text`` itself,
    with a warning, when they do not match. The template is parsed once
    (:func:`_template`) and filled by ``str.format_map`` in C: the
    pure-Python :class:`string.Formatter` cost more than the rest of a chat
    reply. Templates it cannot spell so go through :func:`_fill_slowly`."""
    if not params:
        return text
    plan = _template(text)
    if plan is None:
        return _fill_slowly(text, params, language)
    template, quoted = plan
    if quoted:
        left, right = QUOTES.get(language, QUOTES["en"])
        params = dict(params)
        for name in quoted:
            if name in params:
                params[name + _QUOTED] = f"{left}{params[name]}{right}"
    try:
        return template.format_map(params)
    except (KeyError, IndexError, ValueError):
        log.warning("translation placeholders do not match for %r", text)
        return text


def _fill_slowly(text: str, params: dict[str, Any], language: str) -> str:
    """:func:`_fill` through :class:`_Quoting` (any template ``str.format`` takes)."""
    if not params:
        return text
    try:
        return _Quoting(language).format(text, **params)
    except (KeyError, IndexError, ValueError):
        log.warning("translation placeholders do not match for %r", text)
        return text


#: Appended to a placeholder's name where ``!r`` quotes it (never in a keyword):
#: its value there is the quoted text (what :meth:`_Quoting.convert_field` gives).
_QUOTED = "\x1fq"


@lru_cache(maxsize=4096)
def _template(text: str) -> tuple[str, frozenset[str]] | None:
    """``text`` for ``str.format_map`` (each ``{name!r}`` turned into the
    key of its quoted text, the format spec kept) and the names quoted; None when the slow
    path must fill it: a template that does not parse, a nested format spec,
    or ``!r`` on anything but a plain name."""
    out: list[str] = []
    quoted: set[str] = set()
    try:
        parts = list(_FORMATTER.parse(text))
    except ValueError:
        return None
    for literal, name, spec, conversion in parts:
        out.append(literal.replace("{", "{{").replace("}", "}}"))
        if name is None:
            continue
        if spec and "{" in spec:
            return None
        if conversion == "r":
            if not name.isidentifier():
                return None
            quoted.add(name)
            name, conversion = name + _QUOTED, None
        out.append("{" + name + (f"!{conversion}" if conversion else "")
                   + (f":{spec}" if spec else "") + "}")
    return "".join(out), frozenset(quoted)


_FORMATTER = string.Formatter()


def negotiate(accept_language: str) -> str | None:
    """The supported language a browser's ``Accept-Language`` header prefers
    (``fr-CH,fr;q=0.9,en;q=0.8`` -> ``fr``), or None (RFC 9110 section 12.5.4)."""
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if tag and q > 0:
            ranked.append((-q, i, tag))
    for _q, _i, tag in sorted(ranked):
        lang = normalise_language(tag)
        if lang == tag.split("-")[0].lower():
            return lang
    return None


def translator(language: str | None) -> Translator:
    """The translator for ``language`` (unsupported languages fall back to English)."""
    lang = normalise_language(language)
    return Translator(lang, _catalog(lang) if lang != "en" else {})
