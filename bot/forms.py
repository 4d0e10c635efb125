"""Form fields that check each answer when it is given.

A capability builds its form's fields with :func:`checked`, giving each the
parser its one-line command uses; an adapter that asks field by field calls
``FormField.check`` on each answer and asks again with the reason.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.errors import DomainError, render_error
from bot.i18n import Translator


def checked(tr: Translator, read: Callable[[str], object]) -> Callable[[str], str]:
    """A ``FormField.check``: runs ``read`` (the one-line command's parser) on
    an answer; returns "" when it reads, else the DomainError's message in
    ``tr``'s language. Any other exception propagates (a bug, not an answer)."""
    def check(value: str) -> str:
        try:
            read(value)
        except DomainError as exc:
            return render_error(tr, exc)
        return ""
    return check
