"""Values that cross the core/adapter line: events in, messages out.

Frozen, slotted dataclasses, never raw payload dicts. Adapters turn a platform
payload into one of the events below and render a :class:`Message` back into
their own format (Block Kit, Discord components, an email, numbered choices).
"""

from __future__ import annotations

import dataclasses
import re as _re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime as _datetime
from typing import Any, Literal

Platform = Literal["slack", "discord", "email", "console", "web", "cli", "job"]


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acted: stable ids only, never a display name.

    For ``console``, ``email`` and ``web`` the ``user_id`` is the person's email
    address (lower-case) and ``workspace_id`` is ``""``.
    """

    platform: Platform
    workspace_id: str
    user_id: str


@dataclass(frozen=True, slots=True)
class Conversation:
    """Where an event happened and where public replies go."""

    platform: Platform
    workspace_id: str
    channel_id: str
    thread_id: str | None = None
    is_direct: bool = False


@dataclass(frozen=True, slots=True)
class Command:
    """A typed command: ``/convene vote 12 block too costly``, a mention, a line.

    ``name`` is the first word lower-cased (``vote``), ``args`` the rest verbatim.
    ``event_id`` is the platform's id for the delivery: retries must not act twice.
    """

    name: str
    args: str
    actor: Actor
    where: Conversation
    event_id: str


@dataclass(frozen=True, slots=True)
class ButtonPress:
    """A button or a select choice: ``action_id`` names the route, ``value`` is
    untrusted input that the route re-checks."""

    action_id: str
    value: str
    actor: Actor
    where: Conversation
    event_id: str
    message_ref: str | None = None


@dataclass(frozen=True, slots=True)
class FormSubmission:
    """A submitted form (a Slack modal, a Discord modal, a terminal prompt).

    ``form_id`` names the route; ``values`` maps field name to the text given
    (empty string when left blank); ``context`` is the form's opaque context.
    """

    form_id: str
    values: tuple[tuple[str, str], ...]
    actor: Actor
    where: Conversation
    event_id: str
    context: str = ""

    def get(self, name: str, default: str = "") -> str:
        """The submitted value of field ``name``, stripped."""
        for k, v in self.values:
            if k == name:
                return v.strip()
        return default


Event = Command | ButtonPress | FormSubmission


# --- outbound -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Header:
    """A heading line."""

    text: str


@dataclass(frozen=True, slots=True)
class Field:
    """A label/value pair shown in a compact grid."""

    label: str
    value: str


@dataclass(frozen=True, slots=True)
class Section:
    """A paragraph of light Markdown (``*bold*``, ``_italic_``, links as
    ``<url|label>`` are not used: use :class:`LinkButton` or ``links``)."""

    text: str
    fields: tuple[Field, ...] = ()


@dataclass(frozen=True, slots=True)
class Button:
    """A button; pressing it sends ``ButtonPress(action_id, value)``."""

    label: str
    action_id: str
    value: str
    style: Literal["default", "primary", "danger"] = "default"


@dataclass(frozen=True, slots=True)
class Option:
    """One choice of a :class:`Select`."""

    label: str
    value: str


@dataclass(frozen=True, slots=True)
class Select:
    """A menu; choosing sends ``ButtonPress(action_id, value=option.value)``."""

    action_id: str
    placeholder: str
    options: tuple[Option, ...]


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
class Context:
    """Small print under a section (sources, times, who voted)."""

    text: str


@dataclass(frozen=True, slots=True)
class Image:
    """A picture (a tally chart, an availability grid): ``url`` is http(s) or data:."""

    url: str
    alt: str


@dataclass(frozen=True, slots=True)
class Divider:
    """A horizontal rule."""


Block = Header | Section | Actions | Context | Image | Divider


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


@dataclass(frozen=True, slots=True)
class Message:
    """A platform-neutral message.

    ``text`` is the plain-text fallback (notifications, email subject lines,
    screen readers) and must stand alone. ``blocks`` is the rich layout.
    ``form``, when set, asks the adapter to open the form (a modal).
    """

    text: str
    blocks: tuple[Block, ...] = ()
    form: Form | None = None


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


# --- times in text ----------------------------------------------------------------

#: ``[[time:EPOCH|fallback]]`` inside message text: a moment each adapter shows in
#: its reader's local time (Slack ``<!date^...>``, Discord ``<t:...>``); adapters
#: that cannot localise show the fallback, which the core writes in the
#: recipient's zone.
TIME_TOKEN_RE = _re.compile(r"\[\[time:(?P<epoch>-?\d+)\|(?P<fallback>[^\]]*)\]\]")


def time_token(moment: _datetime, fallback: str) -> str:
    """Embed ``moment`` (aware datetime) in text. Raises ValueError if naive."""
    if moment.tzinfo is None:
        raise ValueError("time_token needs an aware datetime")
    return f"[[time:{int(moment.timestamp())}|{fallback.replace(']', ')')}]]"


def plain_times(text: str) -> str:
    """Replace every time token in ``text`` by its fallback."""
    return TIME_TOKEN_RE.sub(lambda m: m.group("fallback"), text)


# --- (de)serialisation, for outbox payloads --------------------------------------

_TYPES: dict[str, type[Any]] = {
    cls.__name__: cls
    for cls in (
        Header, Field, Section, Button, Option, Select, LinkButton, Actions, Context,
        Image, Divider, FormField, Form, Message,
    )
}


def to_data(value: Any) -> Any:
    """A JSON-ready form of a Message (or any of its parts), tagged with ``_t``."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {"_t": type(value).__name__}
        for f in dataclasses.fields(value):
            out[f.name] = to_data(getattr(value, f.name))
        return out
    if isinstance(value, tuple | list):
        return [to_data(v) for v in value]
    return value


def from_data(data: Any) -> Any:
    """The inverse of :func:`to_data`. Raises ValueError on an unknown tag."""
    if isinstance(data, Mapping) and "_t" in data:
        cls = _TYPES.get(str(data["_t"]))
        if cls is None:
            raise ValueError(f"unknown message part {data['_t']!r}")
        kwargs = {k: from_data(v) for k, v in data.items() if k != "_t"}
        return cls(**kwargs)
    if isinstance(data, list):
        return tuple(from_data(v) for v in data)
    return data


def message_from_data(data: Mapping[str, Any]) -> Message:
    """Rebuild a :class:`Message` from :func:`to_data` output."""
    msg = from_data(data)
    if not isinstance(msg, Message):
        raise ValueError("payload is not a Message")
    return msg


__all__ = [
    "TIME_TOKEN_RE",
    "Actions",
    "Actor",
    "Audience",
    "Block",
    "Button",
    "ButtonPress",
    "Command",
    "Context",
    "Conversation",
    "Divider",
    "Event",
    "Field",
    "Form",
    "FormField",
    "FormSubmission",
    "Header",
    "Image",
    "LinkButton",
    "Message",
    "Option",
    "Platform",
    "Reply",
    "Section",
    "Select",
    "field",
    "from_data",
    "message_from_data",
    "plain_times",
    "time_token",
    "to_data",
]
