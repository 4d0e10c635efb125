"""Interactions a crash interrupted, worked again from the inbox.

The HTTP endpoint records each interaction in the platform-neutral inbox
(:mod:`bot.inbox`, platform ``discord``) before it answers, and marks it done
when its flow has ended. A process killed in between leaves the row claimed;
once its lease runs out (or its owner restarts or its heartbeat goes stale)
the inbox's sweep, on any replica serving the endpoint, hands it to
:func:`recover`: the same flow (:meth:`DiscordAdapter.on_interaction`) runs
again with a :class:`RecoveredTurn`, whose first response, no HTTP response
being left to carry it, goes through ``POST /interactions/{id}/{token}/callback``
(refused as already acknowledged, 40060, when the dead process had answered:
the followups go through the webhook all the same, valid 15 minutes). The
core drops an event id it has seen, so a flow that had committed acts once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import discord

from adapters.discord.outbound import Rendered
from adapters.discord.turn import (
    CHANNEL_MESSAGE,
    EPHEMERAL,
    MODAL,
    UNKNOWN_INTERACTION,
    Turn,
    defer_type,
    deferral_body,
)

if TYPE_CHECKING:
    from adapters.discord.adapter import DiscordAdapter
    from adapters.discord.rest import Rest
    from bot.inbox_item import InboxItem

log = logging.getLogger(__name__)

#: The inbox row kind of an interaction; its payload is ``{"body": <interaction>}``.
KIND = "interaction"
#: Discord's "Interaction has already been acknowledged".
ALREADY_ACKNOWLEDGED = 40060
CALLBACK = "/interactions/{interaction_id}/{interaction_token}/callback"


def row(payload: Mapping[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """The inbox row (key, kind, payload) of an interaction ``payload``:
    keyed by Discord's interaction id, so a replay is not written twice."""
    return f"discord:{payload['id']}", KIND, {"body": dict(payload)}


class RecoveredTurn(Turn):
    """An interaction worked from its inbox row: every response through REST."""

    def __init__(self, payload: Mapping[str, Any], *, rest: Rest) -> None:
        super().__init__(payload)
        self.rest = rest
        self.answered = False

    async def _callback(self, body: dict[str, Any]) -> str:
        """Send the first response ``body``: ``sent``; ``answered`` when the
        interaction had its first response already (the dead process sent
        it); ``gone`` when Discord no longer knows it."""
        if self.answered:
            return "answered"
        try:
            await self.rest.arequest("POST", CALLBACK, json_body=body,
                                     interaction_id=self.id, interaction_token=self.token)
        except discord.HTTPException as exc:
            if exc.code == ALREADY_ACKNOWLEDGED:
                self.answered = True
                return "answered"
            if exc.code != UNKNOWN_INTERACTION:
                raise
            log.info("interaction %s is gone (%s): no first response", self.id, exc.code)
            return "gone"
        self.answered = True
        return "sent"

    async def defer(self) -> bool:
        return await self._callback(deferral_body(defer_type(self.payload))) != "gone"

    async def open_modal(self, body: dict[str, Any]) -> None:
        if await self._callback({"type": MODAL, "data": body}) != "sent":
            log.debug("interaction %s was already answered; modal not opened", self.id)

    async def respond(self, rendered: Rendered) -> None:
        # A first response carrying files would be multipart: those go as a followup.
        if not rendered.files and await self._callback(
                {"type": CHANNEL_MESSAGE, "data": {**rendered.body, "flags": EPHEMERAL}}) \
                == "sent":
            return
        await self.followup(rendered, ephemeral=True)

    async def request(self, method: str, path: str, *, body: dict[str, Any],
                      files: Sequence[tuple[str, bytes, str]] = (), **params: Any) -> Any:
        return await self.rest.arequest(method, path, json_body=body, files=files, **params)


def recover(item: InboxItem, *, adapter: Callable[[], DiscordAdapter],
            rest: Callable[[], Rest]) -> None:
    """Work one inbox row again (an inbox worker thread: a loop of its own).
    Raises what the flow raises, so the inbox retries the row later."""
    if item.kind != KIND:
        log.error("unknown Discord inbox kind %r (row %s)", item.kind, item.id)
        return
    turn = RecoveredTurn(item.payload["body"], rest=rest())
    log.info("Discord interaction %s: worked again after an interruption", turn.id)
    asyncio.run(adapter().on_interaction(turn))
