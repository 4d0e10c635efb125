"""Outbound: the platform-neutral :class:`Message` and its blocks, forms,
attachments, native calendar events and the :class:`Reply` of a dispatch."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime as _datetime
from typing import Literal

from bot.types.spans import Inline


@dataclass(frozen=True, slots=True)
class Header:
    """A heading line (plain text)."""

    text: str


@dataclass(frozen=True, slots=True)
class Field:
    """A label/value pair shown in a compact grid."""

    label: str
    value: Inline


@dataclass(frozen=True, slots=True)
class Section:
    """A paragraph: ``text`` is a plain string (literal; it may hold time tokens)
    or a tuple of strings and spans. No platform markup in either."""

    text: Inline
    fields: tuple[Field, ...] = ()


@dataclass(frozen=True, slots=True)
class Preformatted:
    """A block of monospaced text shown as is (a text bar chart, a table)."""

    text: str


@dataclass(frozen=True, slots=True)
class Button:
    """A button; pressing it sends ``ButtonPress(action_id, value)``.

    ``disabled`` buttons are shown but cannot be pressed (adapters that cannot
    disable a button leave it out of the choices)."""

    label: str
    action_id: str
    value: str
    style: Literal["default", "primary", "danger"] = "default"
    disabled: bool = False


@dataclass(frozen=True, slots=True)
class Option:
    """One choice of a :class:`Select`."""

    label: str
    value: str


#: Separator of the chosen values in a multi-select's ``ButtonPress.value``.
MULTI_SEPARATOR = "\n"


@dataclass(frozen=True, slots=True)
class Select:
    """A menu; choosing sends ``ButtonPress(action_id, value=option.value)``.

    With ``multi`` the person may choose several (up to ``max_selected``);
    the value is the chosen option values joined by :data:`MULTI_SEPARATOR`.
    """

    action_id: str
    placeholder: str
    options: tuple[Option, ...]
    multi: bool = False
    max_selected: int = 0
    initial: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LinkButton:
    """A button that opens ``url`` (nothing is sent back to the core)."""

    label: str
    url: str


@dataclass(frozen=True, slots=True)
class Actions:
    """A row of interactive elements."""

    elements: tuple[Button | Select | LinkButton, ...]


@dataclass(frozen=True, slots=True)
class SmallPrint:
    """Small print under a section (sources, times, who voted)."""

    text: Inline


@dataclass(frozen=True, slots=True)
class Image:
    """A picture (a tally chart, an availability grid).

    ``png``: the picture as PNG bytes (each adapter shows it its way: a chat
    file upload, an inline CID image in email, the alt text on a terminal);
    ``url``: an http(s) address instead. ``alt`` must say what it shows.
    """

    url: str
    alt: str
    png: bytes = b""


@dataclass(frozen=True, slots=True)
class Divider:
    """A horizontal rule."""


Block = Header | Section | Preformatted | Actions | SmallPrint | Image | Divider


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file sent with a message (an invitation's ``invite.ics``, a CSV export).

    ``mime_type`` e.g. ``text/calendar; method=REQUEST``; ``data``: the bytes.
    """

    filename: str
    mime_type: str
    data: bytes
    description: str = ""


@dataclass(frozen=True, slots=True)
class FormField:
    """One input of a :class:`Form`.

    ``kind``: ``text`` (one line), ``textarea``, ``select`` (``options``),
    ``datetime`` (ISO 8601 with offset or in the reader's zone), ``number``.
    """

    name: str
    label: str
    kind: Literal["text", "textarea", "select", "datetime", "number"] = "text"
    required: bool = True
    options: tuple[Option, ...] = ()
    initial: str = ""
    hint: str = ""
    max_length: int = 3000


@dataclass(frozen=True, slots=True)
class Form:
    """A form to fill in; submitting it sends ``FormSubmission(form_id=...)``."""

    form_id: str
    title: str
    submit_label: str
    fields: tuple[FormField, ...]
    context: str = ""


#: The mood of a message, mapped by each adapter to its own colour.
Accent = Literal["info", "success", "warning", "danger"]


@dataclass(frozen=True, slots=True)
class Message:
    """A platform-neutral message.

    ``text`` is the plain-text fallback (notifications, email subject lines,
    screen readers) and must stand alone. ``blocks`` is the rich layout.
    ``form``, when set, asks the adapter to open the form (a modal).
    ``accent`` colours the message where the platform can (an attachment's
    or an embed's colour, an email's side bar); ``attachments`` are
    files sent with it (an invitation's .ics).
    """

    text: str
    blocks: tuple[Block, ...] = ()
    form: Form | None = None
    accent: Accent | None = None
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True, slots=True)
class CalendarEvent:
    """A meeting that a platform can show natively (a chat server's
    scheduled event), published through the outbox with :func:`bot.outbox.enqueue_calendar`.

    ``uid``: stable across updates (the iCalendar UID, RFC 5545 section
    3.8.4.7); ``starts_at``/``ends_at``: aware datetimes, UTC; ``sequence``
    rises with each change (section 3.8.7.4); ``cancelled`` removes it;
    ``url``: where to join or read more (http(s)).
    """

    uid: str
    title: str
    starts_at: _datetime
    ends_at: _datetime
    description: str = ""
    url: str = ""
    location: str = ""
    sequence: int = 0
    cancelled: bool = False


Audience = Literal["actor", "conversation"]


@dataclass(frozen=True, slots=True)
class Reply:
    """A message back from ``Bot.dispatch``.

    ``audience="actor"`` is private to the person who acted (an ephemeral
    message, a DM, a terminal line); ``"conversation"`` is visible in the
    conversation the event came from.
    """

    message: Message
    audience: Audience = "actor"
