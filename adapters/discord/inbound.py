"""Discord interaction and gateway payloads -> core events.

Shapes (https://discord.com/developers/docs/interactions/receiving-and-responding):

- type 2, APPLICATION_COMMAND (chat input) -> :class:`Command`. Under
  ``/convene`` the subcommand is the command's name and its options, in their
  declared order, its arguments (``/convene vote poll:12 stance:block
  reason:too costly`` -> ``vote 12 block too costly``); ``/convene do
  text:...`` is typed text. Another command's name is the name itself.
- type 3, MESSAGE_COMPONENT -> :class:`ButtonPress` from a ``cv:``/``cvs:``
  custom id (see :mod:`adapters.discord.ids`); a select's values are joined
  with ``MULTI_SEPARATOR``. Other custom ids (not ours) give None.
- type 5, MODAL_SUBMIT -> :class:`FormSubmission`; text inputs in action rows
  and selects in labels (type 18) are both read.
- GUILD_SCHEDULED_EVENT_USER_ADD / REMOVE -> :class:`Attendance`, given the
  uid of the calendar event Convene published as that scheduled event.

``event_id`` is the interaction id (a snowflake, unique), so a redelivery
(a resumed gateway session, two processes on one token) acts once. The
conversation's workspace is the guild (``""`` in a direct message); the
actor's is always ``""`` (see :func:`actor_of`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from adapters.discord.ids import BUTTON, FORM, SELECT, strip_suffix
from bot.types import (
    MULTI_SEPARATOR,
    Actor,
    Attendance,
    ButtonPress,
    Command,
    Conversation,
    Event,
    FormSubmission,
)

Payload = Mapping[str, Any]

#: The top-level application command.
ROOT = "convene"
#: Declared option order per subcommand (options arrive in any order).
OPTION_ORDER: dict[str, tuple[str, ...]] = {"link": ("email",), "do": ("text",)}
#: The options of a subcommand built from the router (adapters/discord/commands.py).
GENERIC_ORDER = ("action", "id", "text")
#: Subcommands whose single ``text`` option is a whole typed command.
TYPED = frozenset({"do"})


def user_id(payload: Payload) -> str:
    """The acting user's id: ``member.user.id`` in a guild, ``user.id`` in a DM."""
    member = payload.get("member")
    if isinstance(member, Mapping) and isinstance(member.get("user"), Mapping):
        return str(member["user"]["id"])
    user = payload.get("user")
    return str(user["id"]) if isinstance(user, Mapping) else ""


def actor_of(payload: Payload) -> Actor:
    """The :class:`Actor` of an interaction payload. Discord user ids are global
    (one account in every guild and in DMs), so ``workspace_id`` is ``""``: a
    person links once."""
    return Actor("discord", "", user_id(payload))


def conversation_of(payload: Payload) -> Conversation:
    """Where the interaction happened. A thread is its own channel on Discord."""
    guild = str(payload.get("guild_id") or "")
    channel = payload.get("channel")
    channel_id = str(payload.get("channel_id") or
                     (channel.get("id") if isinstance(channel, Mapping) else "") or "")
    ctype = channel.get("type") if isinstance(channel, Mapping) else None
    return Conversation("discord", guild, channel_id,
                        is_direct=not guild or ctype in (1, 3))


def _value(option: Payload) -> str:
    value = option.get("value", "")
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value).strip()


def _ordered(name: str, options: Sequence[Payload]) -> list[str]:
    """Option values: the declared ones in their order, then any others as sent."""
    order = OPTION_ORDER.get(name, GENERIC_ORDER)
    values = {str(o.get("name")): _value(o) for o in options if "value" in o}
    names = [n for n in order if n in values]
    names += [str(o.get("name")) for o in options if str(o.get("name")) not in names]
    return [values[n] for n in names if values.get(n)]


def command_event(payload: Payload) -> Command:
    """An APPLICATION_COMMAND interaction -> Command (see the module docstring)."""
    data = payload.get("data") or {}
    name = str(data.get("name", "")).lower()
    options: Sequence[Payload] = data.get("options") or ()
    if name == ROOT:
        sub = next((o for o in options if o.get("type") in (1, 2)), None)
        if sub is None:
            name, args = "help", ""
        else:
            name = str(sub.get("name", "help")).lower()
            inner: Sequence[Payload] = sub.get("options") or ()
            # A subcommand group (type 2) nests one more level: "poll" > "new".
            if sub.get("type") == 2 and inner:
                leaf = inner[0]
                name = f"{name} {leaf.get('name', '')}".strip()
                inner = leaf.get("options") or ()
            args = " ".join(_ordered(name, inner))
            if name in TYPED:
                text = args.strip() or "help"
                name, _, args = text.partition(" ")
                name = name.lower()
    else:
        args = " ".join(_ordered(name, options))
    return Command(name=name, args=args.strip(), actor=actor_of(payload),
                   where=conversation_of(payload), event_id=f"i:{payload['id']}")


def component_event(payload: Payload) -> ButtonPress | None:
    """A MESSAGE_COMPONENT interaction -> ButtonPress, or None when the custom id
    is not one of ours (an "open form" button, another bot's component)."""
    data = payload.get("data") or {}
    custom_id = str(data.get("custom_id", ""))
    message = payload.get("message")
    ref = str(message.get("id")) if isinstance(message, Mapping) and message.get("id") else None
    if (m := BUTTON.fullmatch(custom_id)) is not None:
        action, value = m.group("action"), strip_suffix(m.group("value"))
    elif (m := SELECT.fullmatch(custom_id)) is not None:
        action = m.group("action")
        value = MULTI_SEPARATOR.join(str(v) for v in data.get("values") or ())
    else:
        return None
    return ButtonPress(action_id=action, value=value, actor=actor_of(payload),
                       where=conversation_of(payload), event_id=f"i:{payload['id']}",
                       message_ref=ref)


def modal_values(components: Sequence[Payload]) -> list[tuple[str, str]]:
    """(custom id, value) of every input in a modal submission: text inputs in
    action rows (``value``), selects in labels (``values`` joined)."""
    out: list[tuple[str, str]] = []

    def visit(comp: Payload) -> None:
        if "custom_id" in comp and ("value" in comp or "values" in comp):
            if "values" in comp:
                value = MULTI_SEPARATOR.join(str(v) for v in comp["values"] or ())
            else:
                value = str(comp.get("value") or "")
            out.append((str(comp["custom_id"]), value))
        for child in comp.get("components") or ():
            visit(child)
        inner = comp.get("component")
        if isinstance(inner, Mapping):
            visit(inner)

    for comp in components:
        visit(comp)
    return out


def modal_event(payload: Payload, *, form: tuple[str, str] | None = None) -> FormSubmission:
    """A MODAL_SUBMIT interaction -> FormSubmission. ``form`` is ``(form_id,
    context)`` when the adapter stashed them (``cvk:``); otherwise they are read
    from a ``cvf:<form_id>:<context>`` custom id, or the custom id is the form id."""
    data = payload.get("data") or {}
    custom_id = str(data.get("custom_id", ""))
    if form is None:
        m = FORM.fullmatch(custom_id)
        form = (m.group("form"), m.group("context")) if m else (custom_id, "")
    return FormSubmission(form_id=form[0], values=tuple(modal_values(data.get("components")
                                                                    or ())),
                          actor=actor_of(payload), where=conversation_of(payload),
                          event_id=f"i:{payload['id']}", context=form[1])


def attendance_event(data: Payload, *, uid: str, attending: bool) -> Attendance:
    """A GUILD_SCHEDULED_EVENT_USER_ADD (``attending``) or _REMOVE dispatch's
    ``d`` -> Attendance for the calendar event ``uid``. The gateway gives these
    no id of their own, so each one is new (an RSVP is idempotent anyway)."""
    guild = str(data.get("guild_id") or "")
    event = str(data.get("guild_scheduled_event_id", ""))
    user = str(data.get("user_id", ""))
    verb = "add" if attending else "remove"
    return Attendance(uid=uid, attending=attending, actor=Actor("discord", "", user),
                      where=Conversation("discord", guild, ""),
                      event_id=f"se:{event}:{user}:{verb}:{time.time_ns()}")


def to_event(payload: Payload) -> Event | None:
    """Any supported interaction payload -> its core event (None: not for the core:
    a ping, an autocomplete, someone else's component)."""
    kind = payload.get("type")
    if kind == 2:
        return command_event(payload)
    if kind == 3:
        return component_event(payload)
    if kind == 5:
        return modal_event(payload)
    return None


def unwrap(envelope: Payload) -> Payload:
    """A gateway dispatch ``{"op":0,"t":..,"d":{..}}`` -> its ``d``; anything else as is."""
    if envelope.get("op") == 0 and isinstance(envelope.get("d"), Mapping):
        data: Payload = envelope["d"]
        return data
    return envelope


# --- the /convene command's own payloads ------------------------------------


def is_link(payload: Mapping[str, Any]) -> bool:
    """Whether a command payload is ``/convene link``."""
    options = (payload.get("data") or {}).get("options") or []
    return bool(options) and options[0].get("name") == "link"


def link_address(payload: Mapping[str, Any]) -> str:
    """The ``email`` option of ``/convene link``."""
    options = (payload.get("data") or {}).get("options") or []
    inner = options[0].get("options") or [] if options else []
    return next((str(o.get("value", "")) for o in inner if o.get("name") == "email"), "")


def focused(payload: Mapping[str, Any]) -> tuple[str, str, str] | None:
    """An APPLICATION_COMMAND_AUTOCOMPLETE payload's (subcommand, focused option,
    what is typed so far), or None when it is not ``/convene`` or nothing is focused."""
    data = payload.get("data") or {}
    if data.get("name") != "convene":
        return None
    for sub in data.get("options") or ():
        for opt in sub.get("options") or ():
            if opt.get("focused"):
                return str(sub.get("name", "")), str(opt.get("name", "")), \
                    str(opt.get("value", ""))
    return None
