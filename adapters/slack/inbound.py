"""Slack payloads -> core events.

Shapes handled (https://api.slack.com/interactivity, https://api.slack.com/events):

- a slash command form body (``/convene vote 12 block``) -> :class:`Command`;
- an ``event_callback`` whose event is an ``app_mention`` or a direct
  ``message`` -> :class:`Command` (the leading mention is dropped);
- ``block_actions`` (buttons, static selects, overflow menus) -> one
  :class:`ButtonPress` per action;
- ``view_submission`` of a modal -> :class:`FormSubmission`.

Every event carries a stable ``event_id`` taken from the payload (the Events
API ``event_id``, the interaction's ``trigger_id``), so a delivery Slack
retries (``X-Slack-Retry-Num``) is dropped by the core's dedupe. Slack's text
entities (``<#C1|general>``, ``<https://x|label>``, ``&amp;``) are decoded.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from adapters.slack.outbound import LINK_ACTION, core_action_id
from bot.types import Actor, ButtonPress, Command, Conversation, FormSubmission

Payload = Mapping[str, Any]

_ENTITY = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")
_LEADING_MENTION = re.compile(r"^\s*(?:<@[UW][A-Z0-9]+(?:\|[^>]*)?>\s*)+")


def _form_fields(raw: str) -> dict[str, Any]:
    """An ``application/x-www-form-urlencoded`` body as Slack sends it: a slash
    command's fields, or ``payload=<JSON>`` for interactions (decoded)."""
    fields = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
    if "payload" in fields:
        payload: dict[str, Any] = json.loads(fields["payload"])
        return payload
    return fields


def parse_body(raw: bytes, content_type: str) -> dict[str, Any]:
    """A verified request body as a dict: JSON (Events API) or a form body
    (``payload=<JSON>`` decoded). Raises ValueError when it is not UTF-8, not
    JSON where JSON is due, or not an object."""
    text = raw.decode("utf-8")
    if content_type.split(";")[0].strip().lower() == "application/json":
        data: Any = json.loads(text)
    else:
        data = _form_fields(text)
    if not isinstance(data, dict):
        raise ValueError("the body is not an object")
    return data


def team_of(body: Payload) -> str | None:
    """The workspace a request comes from: ``team_id`` (events, commands),
    ``team.id`` (interactions) or ``user.team_id``; None when it names none
    (``url_verification``)."""
    team = body.get("team")
    user = body.get("user")
    for candidate in (body.get("team_id"), team.get("id") if isinstance(team, Mapping)
                      else None, user.get("team_id") if isinstance(user, Mapping) else None):
        if isinstance(candidate, str) and candidate:
            return candidate
    return None


def decode_text(text: str) -> str:
    """Slack message text -> plain text: channel and link entities become their
    label (``#general``, the URL), user mentions stay ``<@U..>``, specials
    (``<!here>``) become ``@here``; ``&amp; &lt; &gt;`` are unescaped."""

    def entity(m: re.Match[str]) -> str:
        target, label = m.group(1), m.group(2)
        if target.startswith("#"):
            return f"#{label}" if label else target
        if target.startswith("@"):
            return f"<{target}>"
        if target.startswith("!"):
            return f"@{label or target[1:].split('^')[0]}"
        if target.startswith("mailto:"):
            return target[len("mailto:"):]
        return target

    text = _ENTITY.sub(entity, text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _split_command(text: str) -> tuple[str, str]:
    text = text.strip() or "help"
    name, _, args = text.partition(" ")
    return name.lower(), args.strip()


def _team(body: Payload) -> str:
    team = body.get("team")
    if isinstance(team, Mapping) and team.get("id"):
        return str(team["id"])
    if body.get("team_id"):
        return str(body["team_id"])
    user = body.get("user")
    if isinstance(user, Mapping) and user.get("team_id"):
        return str(user["team_id"])
    enterprise = body.get("enterprise")
    return str(enterprise.get("id", "")) if isinstance(enterprise, Mapping) else ""


def command_event(body: Payload) -> Command:
    """A slash command body (``command``, ``text``, ``team_id``, ``channel_id``,
    ``user_id``, ``trigger_id``) -> Command. Empty text means ``help``."""
    name, args = _split_command(decode_text(str(body.get("text", ""))))
    team = _team(body)
    channel = str(body.get("channel_id", ""))
    direct = channel.startswith("D") or body.get("channel_name") == "directmessage"
    return Command(
        name=name, args=args,
        actor=Actor("slack", team, str(body["user_id"])),
        where=Conversation("slack", team, channel, is_direct=direct),
        event_id=f"cmd:{body.get('trigger_id') or body.get('response_url', '')}",
    )


def message_event(body: Payload, *, bot_user_id: str | None = None) -> Command | None:
    """An Events API ``event_callback`` with a ``message`` or ``app_mention``
    -> Command, or None for what is not addressed to the bot: edits and other
    subtypes, bot posts (ours included) and other event types."""
    event = body.get("event")
    if not isinstance(event, Mapping) or event.get("type") not in ("message", "app_mention"):
        return None
    if event.get("subtype") or event.get("bot_id") or not event.get("user"):
        return None
    if bot_user_id and event.get("user") == bot_user_id:
        return None
    text = str(event.get("text", ""))
    if event["type"] == "app_mention":
        text = _LEADING_MENTION.sub("", text)
    name, args = _split_command(decode_text(text))
    team = str(body.get("team_id") or event.get("team") or "")
    return Command(
        name=name, args=args,
        actor=Actor("slack", team, str(event["user"])),
        where=Conversation("slack", team, str(event.get("channel", "")),
                           thread_id=event.get("thread_ts"),
                           is_direct=event.get("channel_type") == "im"),
        event_id=str(body.get("event_id") or f"ev:{event.get('channel')}:{event.get('ts')}"),
    )


def _action_value(action: Payload) -> str | None:
    if "value" in action and action.get("type") == "button":
        return str(action["value"])
    option = action.get("selected_option")
    if isinstance(option, Mapping):
        return str(option.get("value", ""))
    return None


def action_events(body: Payload) -> list[ButtonPress]:
    """A ``block_actions`` payload -> one ButtonPress per button press or menu
    choice (link buttons and unsupported elements are left out)."""
    team = _team(body)
    user = str(body["user"]["id"])
    channel = body.get("channel") or {}
    container = body.get("container") or {}
    channel_id = str(channel.get("id") or container.get("channel_id") or "")
    trigger = str(body.get("trigger_id", ""))
    out: list[ButtonPress] = []
    for i, action in enumerate(body.get("actions") or ()):
        action_id = str(action.get("action_id", ""))
        value = _action_value(action)
        if value is None or core_action_id(action_id) == LINK_ACTION:
            continue
        message = body.get("message") or {}
        out.append(ButtonPress(
            action_id=core_action_id(action_id), value=value,
            actor=Actor("slack", team, user),
            where=Conversation("slack", team, channel_id,
                               thread_id=message.get("thread_ts"),
                               is_direct=channel_id.startswith("D")),
            event_id=f"act:{trigger or action.get('action_ts', '')}:{i}",
            message_ref=container.get("message_ts") or message.get("ts"),
        ))
    return out


def _state_value(element: Payload) -> str:
    kind = element.get("type")
    if kind == "datetimepicker":
        epoch = element.get("selected_date_time")
        return datetime.fromtimestamp(int(epoch), UTC).isoformat() if epoch else ""
    for key in ("value", "selected_date", "selected_time", "selected_conversation",
                "selected_channel", "selected_user"):
        if key in element:
            return str(element[key] or "")
    if "selected_option" in element:
        option = element["selected_option"]
        return str(option.get("value", "")) if isinstance(option, Mapping) else ""
    for key in ("selected_options", "selected_users", "selected_conversations",
                "selected_channels"):
        if key in element:
            items = element[key] or []
            return ",".join(str(o.get("value", "")) if isinstance(o, Mapping) else str(o)
                            for o in items)
    return ""


def decode_metadata(raw: str) -> tuple[str, str, str | None]:
    """``private_metadata`` -> (form context, channel id, thread id). Metadata the
    adapter did not write is taken as the context itself."""
    try:
        data = json.loads(raw) if raw.startswith("{") else None
    except ValueError:
        data = None
    if isinstance(data, dict) and "c" in data:
        return str(data["c"]), str(data.get("ch") or ""), data.get("th")
    return raw, "", None


def view_submission_event(body: Payload) -> FormSubmission:
    """A ``view_submission`` -> FormSubmission: ``form_id`` is the view's
    ``callback_id``; a field's name is its input's ``block_id`` (or
    ``block_id.action_id`` when a block holds several elements); pickers give
    their date, time or ISO 8601 UTC moment; empty choices are ``""``."""
    view = body["view"]
    team = _team(body)
    values: list[tuple[str, str]] = []
    for block_id, elements in ((view.get("state") or {}).get("values") or {}).items():
        for action_id, element in elements.items():
            name = block_id if action_id == "value" or len(elements) == 1 \
                else f"{block_id}.{action_id}"
            values.append((name, _state_value(element)))
    context, channel, thread = decode_metadata(str(view.get("private_metadata") or ""))
    return FormSubmission(
        form_id=str(view.get("callback_id", "")), values=tuple(values),
        actor=Actor("slack", team, str(body["user"]["id"])),
        where=Conversation("slack", team, channel, thread_id=thread,
                           is_direct=channel.startswith("D") or not channel),
        event_id=f"view:{view.get('id', '')}:{body.get('trigger_id') or view.get('hash', '')}",
        context=context,
    )
