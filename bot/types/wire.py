"""Wire form of messages, for outbox payloads: :func:`to_data` makes JSON-ready
dicts tagged with the class name (``_t``), bytes as ``_b64``, datetimes as
``_dt``; :func:`from_data` and :func:`message_from_data` read them back."""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Mapping
from datetime import datetime as _datetime
from typing import Any

from bot.types.message import (
    Actions,
    Attachment,
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
    Section,
    Select,
    SmallPrint,
)
from bot.types.spans import Code, Emphasis, Link, Mention, Strong, Time

_TYPES: dict[str, type[Any]] = {
    cls.__name__: cls
    for cls in (
        Header, Field, Section, Preformatted, Button, Option, Select, LinkButton, Actions,
        SmallPrint, Image, Divider, FormField, Form, Message, Attachment, Strong, Emphasis, Code,
        Link, Mention, Time, CalendarEvent,
    )
}
#: The small-print block's name before it was renamed (rows queued before).
_TYPES["Context"] = SmallPrint


def to_data(value: Any) -> Any:
    """A JSON-ready form of a Message (or any of its parts), tagged with ``_t``."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {"_t": type(value).__name__}
        for f in dataclasses.fields(value):
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
