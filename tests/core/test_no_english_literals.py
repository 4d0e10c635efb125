"""No English literal reaches a person outside the catalogs (issue 11).

Every text given to a Message or one of its blocks in the core is a gettext
call, a variable, or a template whose literal parts hold no words; and a
French person going through the poll routes on the console meets no English
msgid left untranslated."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from pathlib import Path

from adapters.console import ConsoleSession
from bot.app import Bot
from bot.i18n import _catalog
from tests.conftest import MEMBER, MEMBER_FR, ROOT, SECRETARIAT
from tests.core.test_i18n import _msgids
from tests.polls.helpers import new_poll

#: Constructors of bot.types and the positions and keywords of the text a person reads.
SHOWN: dict[str, tuple[tuple[int, ...], frozenset[str]]] = {
    "Message": ((0,), frozenset({"text"})),
    "Section": ((0,), frozenset({"text"})),
    "Header": ((0,), frozenset({"text"})),
    "SmallPrint": ((0,), frozenset({"text"})),
    "Button": ((0,), frozenset({"label"})),
    "LinkButton": ((0,), frozenset({"label"})),
    "Field": ((0, 1), frozenset({"label", "value"})),
    "Option": ((0,), frozenset({"label"})),
    "Select": ((1,), frozenset({"placeholder"})),
    "Image": ((1,), frozenset({"alt"})),
    "FormField": ((1,), frozenset({"label", "hint"})),
    "Form": ((1, 2), frozenset({"title", "submit_label"})),
}
#: Files that build no Message (typer options, pydantic fields share the names).
SKIP = {"types.py", "settings.py", "cli.py"}
WORD = re.compile(r"[A-Za-z]{2,}")


def _literal_words(node: ast.expr) -> str:
    """The words in ``node`` written as literal text (not through gettext)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value if WORD.search(node.value) else ""
    if isinstance(node, ast.JoinedStr):
        parts = "".join(v.value for v in node.values
                        if isinstance(v, ast.Constant) and isinstance(v.value, str))
        return parts if WORD.search(parts) else ""
    if isinstance(node, ast.BinOp):
        return _literal_words(node.left) or _literal_words(node.right)
    return ""


def _shown_args(tree: ast.AST) -> Iterator[tuple[int, ast.expr]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in SHOWN:
            positions, keywords = SHOWN[node.func.id]
            for i, a in enumerate(node.args):
                if i in positions:
                    yield node.lineno, a
            for k in node.keywords:
                if k.arg in keywords:
                    yield node.lineno, k.value


def test_every_shown_text_in_the_core_goes_through_gettext() -> None:
    found: list[str] = []
    for path in sorted((ROOT / "bot").rglob("*.py")):
        if path.name in SKIP:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for lineno, arg in _shown_args(tree):
            words = _literal_words(arg)
            if words:
                found.append(f"{path.relative_to(ROOT)}:{lineno}: {words!r}")
    assert not found, "English literals shown to people:\n" + "\n".join(found)


def _english_only(text: str, english: set[str]) -> list[str]:
    return sorted(m for m in english if m in text)


def test_a_french_person_meets_no_english_msgid(bot: Bot,
                                                chat: Callable[[str], ConsoleSession]) -> None:
    fr = _catalog("fr")
    # msgids whose French is different and long enough to be recognised in output
    english = {m for m in _msgids() if "{" not in m and len(m) > 12 and fr.get(m) != m}
    pid = new_poll(bot, SECRETARIAT)
    claire = ConsoleSession(dispatch=bot.dispatch, email=MEMBER_FR, language="fr")
    chat(MEMBER).feed(f"vote {pid} block Not before the trials end")
    shown = []
    for line in ("help", "whoami", f"poll show {pid}", "9", "poll list", "decisions",
                 f"vote {pid} disagree", "", "Trop tôt", f"poll comment {pid} D'accord",
                 f"vote {pid} nonsense"):
        shown.append(claire.feed(line))
    text = "\n".join(shown)
    assert "Proposition n°" in text
    assert not _english_only(text, english), _english_only(text, english)
    assert "Choisissez un nombre de 1 à 4." in text and "est obligatoire" in text
    assert "Choose a number" not in text and "is required" not in text


def test_shown_module_list_is_real() -> None:
    assert Path(ROOT / "bot" / "polls" / "render.py").exists()
