"""Values that cross the core/adapter line: events in, messages out.

Frozen, slotted dataclasses, never raw payload dicts. Adapters turn a platform
payload into one of the events (:mod:`bot.types.events`) and render a
:class:`Message` (:mod:`bot.types.message`, its inline text in
:mod:`bot.types.spans`) back into their own format (rich blocks, embeds, an
email, numbered choices); the outbox stores messages in their wire form
(:mod:`bot.types.wire`). This package re-exports every name, so
``from bot.types import Message`` is the public way in.
"""

from __future__ import annotations

from dataclasses import field

from bot.types.events import (
    Actor,
    Attendance,
    ButtonPress,
    Command,
    Conversation,
    Event,
    FormSubmission,
    InboundEmail,
    Platform,
)
from bot.types.message import (
    MULTI_SEPARATOR,
    Accent,
    Actions,
    Attachment,
    Audience,
    Block,
    Button,
    CalendarEvent,
    Divider,
    Field,
    Form,
    FormField,
    Header,
    Image,
    LinkButton,
    Message,
    Option,
    Preformatted,
    Reply,
    Section,
    Select,
    SmallPrint,
)
from bot.types.spans import (
    TIME_TOKEN_RE,
    Code,
    Emphasis,
    Inline,
    Link,
    Mention,
    Span,
    Strong,
    Time,
    inline,
    inline_plain,
    is_safe_url,
    plain_times,
    time_token,
)
from bot.types.wire import (
    from_data,
    message_from_data,
    to_data,
)

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
    "SmallPrint",
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
