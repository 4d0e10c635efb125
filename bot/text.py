"""Text that people type, checked at the core: control characters and limits.

A title or another single-line field refuses control characters (C0 and C1,
ANSI escapes included, and line breaks); a long text keeps newlines and tabs
and loses the rest. A text cut to a limit says so.
"""

from __future__ import annotations

import re

from bot.errors import N_, FieldError

#: C0 and C1 control characters and DEL, except tab and newline.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
#: ANSI/VT100 escape sequences (CSI ... final byte, OSC ... BEL/ST, two-byte ESC x).
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]"
                   r"|\x9b[0-?]*[ -/]*[@-~]")
_ANY_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

#: The note added to a text cut at a limit (a gettext msgid).
CUT_NOTE = N_("… (cut at {limit} characters)")


def strip_controls(text: str) -> str:
    """``text`` without ANSI escape sequences and C0/C1 control characters;
    newlines and tabs are kept (``\\r\\n`` becomes ``\\n``)."""
    text = _ANSI.sub("", text.replace("\r\n", "\n"))
    return _CONTROLS.sub("", text)


def single_line(value: str, *, field: str) -> str:
    """``value`` stripped, for a title or another one-line field. Raises
    FieldError naming ``field`` (a form field's name and a gettext msgid) when
    it holds a control character or a line break."""
    value = value.strip()
    if _ANY_CONTROL.search(value):
        raise FieldError(field, N_("The {field} must be one line of text, without control "
                              "characters or line breaks."), field=(field,))
    return value


def multi_line(value: str) -> str:
    """A longer text (a proposal, a reason): control characters other than
    newline and tab removed, stripped."""
    return strip_controls(value).strip()


def cut(text: str, limit: int, note: str) -> str:
    """``text`` if it fits in ``limit`` characters, else its first ``limit``
    characters followed by ``note`` (the translated :data:`CUT_NOTE`)."""
    if len(text) <= limit:
        return text
    return text[:limit].rstrip() + " " + note
