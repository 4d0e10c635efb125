"""Core forms as Discord modals, in pages of five.

A modal holds at most 5 inputs (action rows of one text input, or labels of
one select) and must be an interaction's first response, so a form the core
returns after the deferral waits in :class:`PagedForms` behind an "open"
button. A form of more than 5 fields is shown as consecutive modals of 5
(``Title (1/2)``, ``Title (2/2)``): after each page the person gets a
"Continue" button for the next, the values of the pages already filled wait
in the stash, and the core receives one :class:`FormSubmission` with every
field once the last page is submitted. No field is ever left out.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from adapters.discord.ids import form_id
from adapters.discord.limits import (
    CUSTOM_ID,
    MODAL_COMPONENTS,
    MODAL_TITLE,
    OPTION_LABEL,
    OPTION_VALUE,
    SELECT_OPTIONS,
    TEXT_INPUT_LABEL,
    TEXT_INPUT_PLACEHOLDER,
    TEXT_INPUT_VALUE,
)
from adapters.discord.markdown import plain
from bot.types import Form, FormField

Body = dict[str, Any]
Values = tuple[tuple[str, str], ...]


def pages(form: Form) -> list[tuple[FormField, ...]]:
    """The form's fields in modal pages of at most 5, in their order (at least one page)."""
    fields = form.fields
    return [fields[i:i + MODAL_COMPONENTS]
            for i in range(0, len(fields), MODAL_COMPONENTS)] or [()]


@dataclass(frozen=True, slots=True)
class Pending:
    """A stashed form: ``page`` is the next page to open (0-based), ``values``
    the (field, value) pairs of the pages before it, ``at`` monotonic seconds."""

    form: Form
    at: float
    page: int = 0
    values: Values = ()

    @property
    def pages(self) -> int:
        """How many modal pages the form takes."""
        return len(pages(self.form))


class PagedForms:
    """Forms filled page by page in modals, waiting behind an "open" button (token ->
    :class:`Pending`: the form and the pages answered so far), in
    memory, bounded and expiring (``ttl`` seconds from the last page): a button
    pressed after a restart says the form expired."""

    def __init__(self, *, size: int = 2000, ttl: float = 3600.0) -> None:
        self.size, self.ttl = size, ttl
        self._items: OrderedDict[str, Pending] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, form: Form, *, page: int = 0, values: Values = ()) -> str:
        """Stash ``form`` at ``page`` (default its first) with the ``values`` of
        the pages before it; returns its token (16 URL-safe characters)."""
        token = secrets.token_urlsafe(12)
        with self._lock:
            self._items[token] = Pending(form, time.monotonic(), page, values)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return token

    def get(self, token: str) -> Pending | None:
        """The pending form, or None when unknown or expired."""
        with self._lock:
            item = self._items.get(token)
        if item is None or time.monotonic() - item.at > self.ttl:
            return None
        return item

    def advance(self, token: str, *, page: int, values: Values) -> Pending | None:
        """Record the values of ``page`` and move to the next one. Returns the
        updated form, or None when unknown, expired, or when ``page`` is not the
        page it waits for (a page submitted twice: only the first counts)."""
        with self._lock:
            item = self._items.get(token)
            if item is None or time.monotonic() - item.at > self.ttl or item.page != page:
                return None
            names = {f.name for f in pages(item.form)[page]}
            kept = tuple((k, v) for k, v in values if k in names)
            item = Pending(item.form, time.monotonic(), page + 1, item.values + kept)
            self._items[token] = item
            return item

    def drop(self, token: str) -> None:
        """Forget a form once it is submitted whole."""
        with self._lock:
            self._items.pop(token, None)


def _select(f: FormField) -> Body:
    options = [{"label": plain(o.label, OPTION_LABEL) or o.value, "value": o.value,
                **({"default": True} if o.value == f.initial else {})}
               for o in f.options[:SELECT_OPTIONS] if len(o.value) <= OPTION_VALUE]
    label: Body = {"type": 18, "label": plain(f.label, TEXT_INPUT_LABEL) or "…",
                   "component": {"type": 3, "custom_id": f.name[:CUSTOM_ID],
                                 "options": options, "required": f.required,
                                 "min_values": 1 if f.required else 0, "max_values": 1}}
    if f.hint:
        label["description"] = plain(f.hint, TEXT_INPUT_PLACEHOLDER)
    return label


def _text_input(f: FormField) -> Body:
    max_length = max(1, min(f.max_length, TEXT_INPUT_VALUE))
    text_input: Body = {"type": 4, "custom_id": f.name[:CUSTOM_ID],
                        "label": plain(f.label, TEXT_INPUT_LABEL) or "…",
                        "style": 2 if f.kind == "textarea" else 1,
                        "required": f.required, "max_length": max_length}
    if f.initial:
        text_input["value"] = f.initial[:max_length]
    if f.hint:
        text_input["placeholder"] = plain(f.hint, TEXT_INPUT_PLACEHOLDER)
    return {"type": 1, "components": [text_input]}


def render_modal(form: Form, *, page: int = 0, custom_id: str | None = None) -> Body:
    """The modal (interaction response type 9) for ``page`` of ``form``: text
    fields as text inputs in action rows, ``select`` fields as string selects
    in labels; a form of several pages has ``(page/pages)`` after its title.
    ``custom_id`` defaults to ``cvf:<form_id>:<context>`` for a one-page form.
    Raises ValueError when that passes 100 characters, or for a form of several
    pages without ``custom_id`` (the caller stashes the form: ``cvk:<token>``),
    or for a page the form does not have."""
    all_pages = pages(form)
    if not 0 <= page < len(all_pages):
        raise ValueError(f"form {form.form_id} has no page {page + 1}")
    if custom_id is None and len(all_pages) > 1:
        raise ValueError(f"form {form.form_id} takes {len(all_pages)} modals: stash it")
    cid = custom_id or form_id(form.form_id, form.context)
    if cid is None or len(cid) > CUSTOM_ID:
        raise ValueError(f"form {form.form_id} context too long for a modal custom_id")
    title = plain(form.title, MODAL_TITLE)
    if len(all_pages) > 1:
        suffix = f" ({page + 1}/{len(all_pages)})"
        title = plain(form.title, MODAL_TITLE - len(suffix)) + suffix
    components = [_select(f) if f.kind == "select" and f.options else _text_input(f)
                  for f in all_pages[page]]
    return {"title": title.strip() or "…", "custom_id": cid, "components": components}
