"""One interaction's way back to Discord, whichever way it arrived.

An interaction comes over the gateway (:class:`adapters.discord.gateway.GatewayTurn`,
around discord.py's ``Interaction``) or as an HTTP POST to the Interactions
Endpoint URL (:class:`adapters.discord.endpoint.HttpTurn`). Either way it gets
exactly one first response within 3 s (a deferral, type 5 or 6; a modal,
type 9; or an ephemeral message, type 4), then any number of followups
(``POST /webhooks/{application_id}/{token}``, valid 15 minutes) and channel
posts. :class:`adapters.discord.adapter.DiscordAdapter` is written once
against this class.

https://discord.com/developers/docs/interactions/receiving-and-responding
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

from adapters.discord.inbound import user_id
from adapters.discord.outbound import Rendered

EPHEMERAL = 64
UNKNOWN_INTERACTION = 10062
#: Interaction callback types (discord.InteractionResponseType).
PONG = 1
CHANNEL_MESSAGE = 4
#: "Thinking" (commands, modal submits) and "deferred update" (components).
DEFERRED_CHANNEL_MESSAGE = 5
DEFERRED_UPDATE_MESSAGE = 6
AUTOCOMPLETE_RESULT = 8
MODAL = 9
#: Interaction types.
PING = 1
APPLICATION_COMMAND = 2
MESSAGE_COMPONENT = 3
AUTOCOMPLETE = 4
MODAL_SUBMIT = 5


def defer_type(payload: Mapping[str, Any]) -> int:
    """The deferral for an interaction payload: a component's is a deferred
    update (the message stays as it is), anything else "thinking"."""
    return DEFERRED_UPDATE_MESSAGE if payload.get("type") == MESSAGE_COMPONENT \
        else DEFERRED_CHANNEL_MESSAGE


def deferral_body(kind: int) -> dict[str, Any]:
    """The callback JSON of a deferral of ``kind`` (5: ephemeral "thinking")."""
    if kind == DEFERRED_CHANNEL_MESSAGE:
        return {"type": kind, "data": {"flags": EPHEMERAL}}
    return {"type": kind}


class Turn(ABC):
    """One interaction: its payload (the shape :mod:`adapters.discord.inbound`
    reads: ``id``, ``token``, ``application_id``, ``type``, ``guild_id``,
    ``channel_id``, ``member``/``user``, ``data``, ``locale``, ``message``)
    and the ways to answer it."""

    def __init__(self, payload: Mapping[str, Any]) -> None:
        self.payload = payload

    @property
    def id(self) -> int:
        """The interaction's id (a snowflake)."""
        return int(self.payload["id"])

    @property
    def token(self) -> str:
        """The interaction token (followups, 15 minutes)."""
        return str(self.payload.get("token", ""))

    @property
    def application_id(self) -> str:
        """The application the interaction is for."""
        return str(self.payload.get("application_id", ""))

    @property
    def guild_id(self) -> str:
        """The guild, ``""`` in a direct message."""
        return str(self.payload.get("guild_id") or "")

    @property
    def channel_id(self) -> str:
        """The channel, ``""`` when none came with the interaction."""
        channel = self.payload.get("channel")
        return str(self.payload.get("channel_id")
                   or (channel.get("id") if isinstance(channel, Mapping) else "") or "")

    @property
    def user_id(self) -> str:
        """The acting user's id."""
        return user_id(self.payload)

    @property
    def locale(self) -> str:
        """The Discord client's language (``en-US``, ``fr``...)."""
        return str(self.payload.get("locale") or "en-US")

    @property
    def custom_id(self) -> str:
        """The component's or modal's custom id (``""`` for a command)."""
        return str((self.payload.get("data") or {}).get("custom_id", ""))

    @abstractmethod
    async def defer(self) -> bool:
        """Acknowledge as the first response (:func:`defer_type`). False when
        Discord no longer knows the interaction (10062: too late, or another
        process answered it): nothing more is to be done then. True also when it
        was acknowledged already."""

    @abstractmethod
    async def open_modal(self, body: dict[str, Any]) -> None:
        """A modal (``body``: title, custom_id, components) as the first response;
        logged and dropped when the interaction was answered already or is gone."""

    @abstractmethod
    async def respond(self, rendered: Rendered) -> None:
        """An ephemeral message: the first response if none was sent, else a followup."""

    @abstractmethod
    async def request(self, method: str, path: str, *, body: dict[str, Any],
                      files: Sequence[tuple[str, bytes, str]] = (), **params: Any) -> Any:
        """A REST call (``path`` with ``{name}``s filled from ``params``), JSON or,
        with ``files``, multipart. Raises ``discord.HTTPException`` subclasses."""

    async def followup(self, rendered: Rendered, *, ephemeral: bool) -> None:
        """``POST /webhooks/{application}/{token}`` of ``rendered``."""
        body = dict(rendered.body)
        if ephemeral:
            body["flags"] = EPHEMERAL
        await self.request("POST", "/webhooks/{webhook_id}/{webhook_token}", body=body,
                           files=rendered.files, webhook_id=self.application_id,
                           webhook_token=self.token)

    async def post(self, channel_id: str, rendered: Rendered) -> None:
        """A message everyone in ``channel_id`` sees."""
        await self.request("POST", "/channels/{channel_id}/messages", body=rendered.body,
                           files=rendered.files, channel_id=channel_id)
