"""Values that cross the core/adapter line: events in, messages out.

Frozen, slotted dataclasses, never raw payload dicts. Adapters turn a platform
payload into one of the events below and render a :class:`Message` back into
their own format (Block Kit, Discord components, an email, numbered choices).
"""

from __future__ import annotations

import base64
import dataclasses
import re as _re
from collections.abc import Callable, Mapping
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


@dataclass(frozen=True, slots=True)
class InboundEmail:
    """An email that arrived for Convene (a reply to a ballot, a calendar
    client's iTIP REPLY), as the email adapter read it, with no domain meaning.

    ``actor.user_id`` is the From address (lower-case), which is *claimed*, not
    proven: ``authentication_results`` holds the receiving server's
    ``Authentication-Results`` header values (RFC 8601) for the capability to
    judge. ``event_id`` is the Message-ID. ``in_reply_to`` and ``references``
    are the Message-IDs it answers (RFC 5322 section 3.6.4), angle brackets
    kept. ``text`` is the decoded text/plain body (or HTML turned to text);
    ``parts`` the other MIME parts (``text/calendar`` for an iTIP REPLY).

    Routing: the dispatcher finds a ``reply`` route by *tag*: the local part of
    a referenced Message-ID up to its first ``.`` (a ballot minted as
    ``<poll.12.2.abc@host>`` is claimed by the route ``reply:poll``); a message
    with a ``text/calendar`` part goes to the route ``reply:calendar``.
    """

    actor: Actor
    where: Conversation
    event_id: str
    subject: str
    text: str
    in_reply_to: str = ""
    references: tuple[str, ...] = ()
    authentication_results: tuple[str, ...] = ()
    parts: tuple[Attachment, ...] = ()

    def tags(self) -> tuple[str, ...]:
        """The tags of the Message-IDs this answers, nearest first (see class doc)."""
        ids = [self.in_reply_to, *reversed(self.references)]
        out: list[str] = []
        for mid in ids:
            local = mid.strip().strip("<>").split("@", 1)[0]
            tag = local.split(".", 1)[0].lower()
            if tag and "." in local and tag not in out:
                out.append(tag)
        return tuple(out)


@dataclass(frozen=True, slots=True)
class Attendance:
    """A person marked themselves interested (``attending=True``) or no longer
    interested in a platform's native calendar event (a Discord scheduled
    event) that Convene published from a :class:`CalendarEvent` with ``uid``.

    Routed to the ``attendance`` route named by the uid's tag (the part before
    the first ``-`` or ``.``: ``workshop-12-1@host`` -> ``attendance:workshop``).
    """

    uid: str
    attending: bool
    actor: Actor
    where: Conversation
    event_id: str

    def tag(self) -> str:
        """The uid's tag (see class doc)."""
        return _re.split(r"[-.@]", self.uid, maxsplit=1)[0].lower()


Event = Command | ButtonPress | FormSubmission | InboundEmail | Attendance


# --- outbound -----------------------------------------------------------------


# Inline spans: rich text without any platform's markup. A plain ``str`` span is
# literal text (each adapter escapes it for its own syntax); the others say what
# they are, and each adapter renders them its way (Slack mrkdwn, Discord
# Markdown, HTML in email, plain text on a terminal).


@dataclass(frozen=True, slots=True)
class Strong:
    """Bold text."""

    text: str


@dataclass(frozen=True, slots=True)
class Emphasis:
    """Italic text."""

    text: str


@dataclass(frozen=True, slots=True)
class Code:
    """Inline code (an id, a command to type)."""

    text: str


@dataclass(frozen=True, slots=True)
class Link:
    """A hyperlink: ``url`` must be http(s) or mailto (adapters drop others and
    show ``text``); ``text`` defaults to the URL."""

    url: str
    text: str = ""


@dataclass(frozen=True, slots=True)
class Mention:
    """A roster person: ``person_id`` (storage ``people.id``) and ``name`` shown
    where the platform cannot resolve the person to one of its users."""

    person_id: int
    name: str


@dataclass(frozen=True, slots=True)
class Time:
    """A moment each adapter shows in its reader's local time (Slack
    ``<!date^...>``, Discord ``<t:...>``); ``epoch`` in seconds (UTC);
    ``fallback`` is written by the core in the recipient's zone, with the zone named."""

    epoch: int
    fallback: str


Span = Strong | Emphasis | Code | Link | Mention | Time
#: Rich text: a plain string (literal), or a tuple of strings and spans.
Inline = str | tuple["str | Span", ...]


_SAFE_URL = _re.compile(r"^(https?://[^\s<>\"]+|mailto:[^\s<>\"]+)$", _re.IGNORECASE)


def is_safe_url(url: str) -> bool:
    """Whether ``url`` may be shown as a link: http(s) or mailto, no spaces,
    angle brackets or quotes (never ``javascript:`` or ``data:``)."""
    return bool(_SAFE_URL.match(url.strip())) and len(url) <= 3000


def inline(text: Inline) -> tuple[str | Span, ...]:
    """``text`` as a tuple of pieces (a plain string becomes a one-piece tuple)."""
    return (text,) if isinstance(text, str) else text


def inline_plain(text: Inline) -> str:
    """``text`` as plain text: links as ``text (url)``, mentions as ``@name``,
    times as their fallback (time tokens in strings too)."""
    out: list[str] = []
    for piece in inline(text):
        if isinstance(piece, str):
            out.append(plain_times(piece))
        elif isinstance(piece, Link):
            if not is_safe_url(piece.url):
                out.append(piece.text)
            elif piece.text and piece.text != piece.url:
                out.append(f"{piece.text} ({piece.url})")
            else:
                out.append(piece.url)
        elif isinstance(piece, Mention):
            out.append(f"@{piece.name}")
        elif isinstance(piece, Time):
            out.append(piece.fallback)
        else:
            out.append(piece.text)
    return "".join(out)


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
class Context:
    """Small print under a section (sources, times, who voted)."""

    text: Inline


@dataclass(frozen=True, slots=True)
class Image:
    """A picture (a tally chart, an availability grid).

    ``png``: the picture as PNG bytes (each adapter shows it its way: a Slack
    file upload, an inline CID image in email, the alt text on a terminal);
    ``url``: an http(s) address instead. ``alt`` must say what it shows.
    """

    url: str
    alt: str
    png: bytes = b""


@dataclass(frozen=True, slots=True)
class Divider:
    """A horizontal rule."""


Block = Header | Section | Preformatted | Actions | Context | Image | Divider


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
    ``initial`` is the default an empty answer takes. ``check``, when set,
    reads one answer with the same parser the one-line command uses and
    returns "" when it is good, else the reason in the reader's language: an
    adapter that asks field by field asks again at once. It is not
    serialised (an adapter that rebuilds a form from data checks on submit,
    through :meth:`bot.app.Bot.check_form`).
    """

    name: str
    label: str
    kind: Literal["text", "textarea", "select", "datetime", "number"] = "text"
    required: bool = True
    options: tuple[Option, ...] = ()
    initial: str = ""
    hint: str = ""
    max_length: int = 3000
    check: Callable[[str], str] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Form:
    """A form to fill in; submitting it sends ``FormSubmission(form_id=...)``."""

    form_id: str
    title: str
    submit_label: str
    fields: tuple[FormField, ...]
    context: str = ""
    #: The same on one line (``sprint propose TITLE | AIM | ...``), shown where
    #: a form cannot be asked (piped input).
    one_line: str = ""


#: The mood of a message, mapped by each adapter to its own colour.
Accent = Literal["info", "success", "warning", "danger"]


@dataclass(frozen=True, slots=True)
class Message:
    """A platform-neutral message.

    ``text`` is the plain-text fallback (notifications, email subject lines,
    screen readers) and must stand alone. ``blocks`` is the rich layout.
    ``form``, when set, asks the adapter to open the form (a modal).
    ``accent`` colours the message where the platform can (Slack attachment
    colour, Discord embed colour, an email's side bar); ``attachments`` are
    files sent with it (an invitation's .ics).
    """

    text: str
    blocks: tuple[Block, ...] = ()
    form: Form | None = None
    accent: Accent | None = None
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True, slots=True)
class CalendarEvent:
    """A meeting that a platform can show natively (a Discord Guild Scheduled
    Event), published through the outbox with :func:`bot.outbox.enqueue_calendar`.

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
        Header, Field, Section, Preformatted, Button, Option, Select, LinkButton, Actions,
        Context, Image, Divider, FormField, Form, Message, Attachment, Strong, Emphasis, Code,
        Link, Mention, Time, CalendarEvent,
    )
}


def to_data(value: Any) -> Any:
    """A JSON-ready form of a Message (or any of its parts), tagged with ``_t``."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {"_t": type(value).__name__}
        for f in dataclasses.fields(value):
            if not callable(getattr(value, f.name)):  # a FormField's check stays behind
                out[f.name] = to_data(getattr(value, f.name))
        return out
    if isinstance(value, tuple | list):
        return [to_data(v) for v in value]
    if isinstance(value, bytes):
        return {"_b64": base64.b64encode(value).decode("ascii")}
    if isinstance(value, _datetime):
        return {"_dt": value.isoformat()}
    return value


def from_data(data: Any) -> Any:
    """The inverse of :func:`to_data`. Raises ValueError on an unknown tag."""
    if isinstance(data, Mapping) and "_dt" in data:
        return _datetime.fromisoformat(str(data["_dt"]))
    if isinstance(data, Mapping) and "_b64" in data:
        return base64.b64decode(str(data["_b64"]))
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
    "MULTI_SEPARATOR",
    "TIME_TOKEN_RE",
    "Accent",
    "Actions",
    "Actor",
    "Attachment",
    "Attendance",
    "Audience",
    "Block",
    "Button",
    "ButtonPress",
    "CalendarEvent",
    "Code",
    "Command",
    "Context",
    "Conversation",
    "Divider",
    "Emphasis",
    "Event",
    "Field",
    "Form",
    "FormField",
    "FormSubmission",
    "Header",
    "Image",
    "InboundEmail",
    "Inline",
    "Link",
    "LinkButton",
    "Mention",
    "Message",
    "Option",
    "Platform",
    "Preformatted",
    "Reply",
    "Section",
    "Select",
    "Span",
    "Strong",
    "Time",
    "field",
    "from_data",
    "inline",
    "inline_plain",
    "is_safe_url",
    "message_from_data",
    "plain_times",
    "time_token",
    "to_data",
]
