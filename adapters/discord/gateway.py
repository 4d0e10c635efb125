"""Interactions that come over the gateway: deferred on arrival, answered
through discord.py.

The deferral is sent from the gateway dispatch itself
(:meth:`EarlyDeferrals.defer_on_arrival`), before discord.py builds the
Interaction, its message and view, and before any other work on the loop:
with 50 interactions in flight, deferring from the handler instead queued
each deferral behind the parsing, the followups and the worker callbacks of
all the others (p99 near 1 s, see bench/discord.py). A deferral Discord
refuses as unknown (10062: too late, or another process on the same token
answered first) ends there: the core is not run, so nothing happens that the
person was not told of.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

import discord
from discord.http import Route

from adapters.discord.ids import BUTTON, FORM, SELECT, STASHED_FORM
from adapters.discord.inbound import ROOT
from adapters.discord.outbound import Rendered
from adapters.discord.rest import multipart
from adapters.discord.turn import (
    APPLICATION_COMMAND,
    DEFERRED_CHANNEL_MESSAGE,
    DEFERRED_UPDATE_MESSAGE,
    EPHEMERAL,
    MESSAGE_COMPONENT,
    MODAL_SUBMIT,
    UNKNOWN_INTERACTION,
    Turn,
)

log = logging.getLogger(__name__)

#: Seconds a deferral sent on arrival waits for its handler (interaction tokens last 15 min).
EARLY_TTL = 900.0
#: "Enter the code" buttons (``cv:cvl:enter``, perhaps with a ``~N`` suffix).
LINK_BUTTON_PREFIX = "cv:cvl:"
LINK_MODAL_ID = "cvl:code"


def interaction_payload(interaction: discord.Interaction[Any]) -> dict[str, Any]:
    """The parts of the interaction's payload that :mod:`adapters.discord.inbound`
    and :class:`Turn` read, rebuilt from discord.py's object."""
    channel = interaction.channel
    ctype = getattr(getattr(channel, "type", None), "value", None)
    out: dict[str, Any] = {
        "id": str(interaction.id), "type": interaction.type.value,
        "token": interaction.token, "application_id": str(interaction.application_id),
        "guild_id": str(interaction.guild_id) if interaction.guild_id else None,
        "channel_id": str(interaction.channel_id) if interaction.channel_id else "",
        "user": {"id": str(interaction.user.id)}, "data": interaction.data or {},
        "locale": interaction.locale.value,
    }
    if ctype is not None:
        out["channel"] = {"id": out["channel_id"], "type": ctype}
    if interaction.message is not None:
        out["message"] = {"id": str(interaction.message.id)}
    return out


class RawModal(discord.ui.Modal):
    """A modal sent as the adapter rendered it (``forms.render_modal``). It is
    marked finished so discord.py does not keep it: the submission is read in
    ``on_interaction``, which works across restarts too."""

    def __init__(self, body: dict[str, Any]) -> None:
        super().__init__(title=body["title"], custom_id=body["custom_id"], timeout=None)
        self.body = body

    def to_dict(self) -> dict[str, Any]:
        return dict(self.body)

    def is_finished(self) -> bool:
        return True


class DeferralGate:
    """Deferrals before core work: while any deferral is on its way, a worker
    does not start the core (it waits at most ``limit`` seconds). The gateway
    loop and the workers share one interpreter lock; a worker busy in the core
    would hold it while the loop waits to send the next deferral."""

    def __init__(self, *, limit: float = 0.5) -> None:
        self.limit = limit
        self._pending = 0
        self._lock = threading.Lock()
        self._clear = threading.Event()
        self._clear.set()

    def begin(self) -> None:
        with self._lock:
            self._pending += 1
            self._clear.clear()

    def end(self) -> None:
        with self._lock:
            self._pending -= 1
            if self._pending <= 0:
                self._pending = 0
                self._clear.set()

    def wait(self) -> None:
        """Until no deferral is on its way (or ``limit`` seconds)."""
        self._clear.wait(self.limit)


class EarlyDeferrals:
    """Deferrals sent from the gateway dispatch, awaited later by the handler.

    ``allowed``: whether a guild id (``""`` in a DM) is served here. ``http``
    gives the client's HTTPClient (made at login)."""

    def __init__(self, *, allowed: Callable[[str], bool],
                 http: Callable[[], discord.http.HTTPClient]) -> None:
        self.allowed = allowed
        self.http = http
        self.gate = DeferralGate()
        #: interaction id -> (the task sending its deferral, the deferral type).
        self.pending: dict[int, tuple[asyncio.Task[bool], int]] = {}
        #: interaction id -> monotonic seconds from arrival to the deferral (bench, tests).
        self.deferral_seconds: dict[int, float] = {}

    def arrival_defer_type(self, data: dict[str, Any]) -> int:
        """The callback type to defer an INTERACTION_CREATE payload with on
        arrival, or 0 when it must not be deferred there: autocomplete and pings,
        components not ours, the buttons whose first response is a modal
        (``cvo:`` openers, "Enter the code"), and guilds this instance does not
        serve (told so as the first response)."""
        inner = data.get("data") or {}
        kind = data.get("type")
        if not self.allowed(str(data.get("guild_id") or "")):
            return 0
        if kind == APPLICATION_COMMAND and inner.get("name") == ROOT:
            return DEFERRED_CHANNEL_MESSAGE
        cid = str(inner.get("custom_id", ""))
        if kind == MESSAGE_COMPONENT:
            ours = BUTTON.fullmatch(cid) or SELECT.fullmatch(cid)
            return DEFERRED_UPDATE_MESSAGE if ours and not cid.startswith(LINK_BUTTON_PREFIX) \
                else 0
        if kind == MODAL_SUBMIT and (cid == LINK_MODAL_ID or STASHED_FORM.fullmatch(cid)
                                     or FORM.fullmatch(cid)):
            return DEFERRED_CHANNEL_MESSAGE
        return 0

    def defer_on_arrival(self, data: dict[str, Any]) -> asyncio.Task[bool] | None:
        """Start the deferral of an interaction the moment its dispatch arrives
        (see :meth:`arrival_defer_type`); :meth:`take` later awaits it.
        Returns the task sending it, or None when none was sent."""
        defer_type = self.arrival_defer_type(data)
        if not defer_type:
            return None
        interaction_id = int(data["id"])
        loop = asyncio.get_running_loop()
        self.gate.begin()
        task = loop.create_task(self._send(interaction_id, str(data["token"]), defer_type,
                                           time.monotonic()))
        self.pending[interaction_id] = (task, defer_type)
        # Not awaited by a handler (discord.py failed on the payload): forget it.
        loop.call_later(EARLY_TTL, self.pending.pop, interaction_id, None)
        return task

    async def _send(self, interaction_id: int, token: str, defer_type: int,
                    started: float) -> bool:
        """``POST /interactions/{id}/{token}/callback`` as discord.py's
        ``InteractionResponse.defer`` sends it (ephemeral). False when Discord
        no longer knows the interaction (10062) or refused the deferral."""
        from discord.webhook.async_ import async_context, interaction_response_params

        http = self.http()
        params = interaction_response_params(
            type=defer_type, data={"flags": EPHEMERAL} if defer_type ==
            DEFERRED_CHANNEL_MESSAGE else None)
        try:
            await async_context.get().create_interaction_response(
                interaction_id, token, session=http._HTTPClient__session,  # type: ignore[attr-defined]
                proxy=http.proxy, proxy_auth=http.proxy_auth, params=params)
        except discord.HTTPException as exc:
            _log_refused(interaction_id, exc)
            return False
        finally:
            self.gate.end()
        self.deferral_seconds[interaction_id] = time.monotonic() - started
        return True

    async def take(self, interaction: discord.Interaction[Any]) -> bool | None:
        """The outcome of the deferral sent on arrival (discord.py is told the
        interaction is answered), or None if none was sent."""
        early = self.pending.pop(interaction.id, None)
        if early is None:
            return None
        task, defer_type = early
        ok = await task
        if ok:
            interaction.response._response_type = discord.InteractionResponseType(defer_type)
        return ok


def _log_refused(interaction_id: int, exc: discord.HTTPException) -> None:
    if isinstance(exc, discord.NotFound) and exc.code == UNKNOWN_INTERACTION:
        log.info("interaction %s is gone (answered elsewhere or after 3 s); not acted on",
                 interaction_id)
    else:
        log.warning("could not defer interaction %s: %s", interaction_id, exc)


class GatewayTurn(Turn):
    """A :class:`Turn` around discord.py's ``Interaction`` (see the module docstring)."""

    def __init__(self, interaction: discord.Interaction[Any], early: EarlyDeferrals) -> None:
        super().__init__(interaction_payload(interaction))
        self.interaction = interaction
        self.early = early

    async def defer(self) -> bool:
        taken = await self.early.take(self.interaction)
        if taken is not None:
            return taken
        interaction = self.interaction
        started = time.monotonic()
        thinking = interaction.type is discord.InteractionType.application_command \
            or interaction.type is discord.InteractionType.modal_submit
        try:
            await interaction.response.defer(ephemeral=True, thinking=thinking)
        except discord.InteractionResponded:
            log.debug("interaction %s was already answered", interaction.id)
        except discord.HTTPException as exc:
            _log_refused(interaction.id, exc)
            return False
        self.early.deferral_seconds[interaction.id] = time.monotonic() - started
        return True

    async def _first(self, coro: Coroutine[Any, Any, Any]) -> None:
        try:
            await coro
        except discord.InteractionResponded:
            log.debug("interaction %s was already answered", self.interaction.id)
        except discord.NotFound as exc:
            if exc.code != UNKNOWN_INTERACTION:
                raise
            log.info("interaction %s is gone before its answer", self.interaction.id)

    async def open_modal(self, body: dict[str, Any]) -> None:
        await self._first(self.interaction.response.send_modal(RawModal(body)))

    async def respond(self, rendered: Rendered) -> None:
        taken = await self.early.take(self.interaction)
        if taken is not None:
            if taken:
                await self.followup(rendered, ephemeral=True)
            return
        await self._first(self.interaction.response.send_message(
            content=rendered.body.get("content") or None,
            embeds=[discord.Embed.from_dict(e) for e in rendered.body.get("embeds", [])],
            ephemeral=True, allowed_mentions=discord.AllowedMentions.none()))

    async def request(self, method: str, path: str, *, body: dict[str, Any],
                      files: Sequence[tuple[str, bytes, str]] = (), **params: Any) -> Any:
        route = Route(method, path, **params)
        http = self.early.http()
        if files:
            return await http.request(route, form=multipart(body, files))
        return await http.request(route, json=body)
