"""The discord.py client wired to ``Bot.dispatch``.

- ``/convene`` is one application command whose subcommands are the first
  words of the core's commands (``help``, ``vote``, ``poll``, ...), read from
  the router, so a capability's commands appear without the adapter knowing
  them (see :mod:`adapters.discord.commands`); ``/convene link`` links an account.
- Buttons and selects are :class:`discord.ui.DynamicItem` s whose ``custom_id``
  carries the core's action id and value (:mod:`adapters.discord.ids`),
  registered in ``setup_hook``: they work on messages posted before a restart.
- Every interaction is deferred at once (the transport's receipt), the core
  runs in a worker thread, and the person is answered with followups only
  after the core's commit. The deferral is sent from the gateway dispatch
  itself (:meth:`DiscordAdapter.defer_on_arrival`), before discord.py builds
  the Interaction, its message and view, and before any other work on the
  loop: with 50 interactions in flight, deferring from the handler instead
  queued each deferral behind the parsing, the followups and the worker
  callbacks of all the others (p99 near 1 s, see bench/discord.py). A
  deferral Discord refuses as unknown (10062: too late, or another process on
  the same token answered first) ends there: the core is not run, so nothing
  happens that the person was not told of.
- A modal must be an interaction's first response, so a form the core returns
  comes as an ephemeral "open" button; pressing it opens the modal.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import discord
from discord.http import Route

from adapters.discord import commands as slash
from adapters.discord.identity import Linker
from adapters.discord.ids import BUTTON, FORM, OPENER, SELECT, STASHED_FORM, opener_id
from adapters.discord.inbound import (
    ROOT,
    attendance_event,
    component_event,
    modal_event,
)
from adapters.discord.outbound import NO_MENTIONS, Rendered, render_message, render_modal
from adapters.discord.rest import multipart
from bot.errors import N_
from bot.i18n import Translator, translator
from bot.members import resolve_actor
from bot.types import Event, Form, Message, Reply

if TYPE_CHECKING:
    from bot.app import Bot

log = logging.getLogger(__name__)

EPHEMERAL = 64
UNKNOWN_INTERACTION = 10062
LINK_BUTTON_ID = "cvl:enter"
LINK_MODAL_ID = "cvl:code"
#: Interaction callback types (discord.InteractionResponseType): "thinking"
#: (commands, modal submits) and "deferred update" (components).
DEFERRED_CHANNEL_MESSAGE = 5
DEFERRED_UPDATE_MESSAGE = 6
#: Seconds a deferral sent on arrival waits for its handler (interaction tokens last 15 min).
EARLY_TTL = 900.0

#: What a worker prepared for the loop to send: ("followup" | "post", body, message).
Outgoing = tuple[str, Rendered, "Message | None"]


def interaction_payload(interaction: discord.Interaction[Any]) -> dict[str, Any]:
    """The parts of the interaction's payload that :mod:`adapters.discord.inbound`
    reads, rebuilt from discord.py's object."""
    channel = interaction.channel
    ctype = getattr(getattr(channel, "type", None), "value", None)
    out: dict[str, Any] = {
        "id": str(interaction.id), "type": interaction.type.value,
        "guild_id": str(interaction.guild_id) if interaction.guild_id else None,
        "channel_id": str(interaction.channel_id) if interaction.channel_id else "",
        "user": {"id": str(interaction.user.id)}, "data": interaction.data or {},
    }
    if ctype is not None:
        out["channel"] = {"id": out["channel_id"], "type": ctype}
    if interaction.message is not None:
        out["message"] = {"id": str(interaction.message.id)}
    return out


class FormStash:
    """Forms waiting behind an "open" button (token -> form), in memory, bounded
    and expiring: a button pressed after a restart says the form expired."""

    def __init__(self, *, size: int = 2000, ttl: float = 3600.0) -> None:
        self.size, self.ttl = size, ttl
        self._items: OrderedDict[str, tuple[float, Form]] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, form: Form) -> str:
        token = secrets.token_urlsafe(12)
        with self._lock:
            self._items[token] = (time.monotonic(), form)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return token

    def get(self, token: str) -> Form | None:
        with self._lock:
            item = self._items.get(token)
        if item is None or time.monotonic() - item[0] > self.ttl:
            return None
        return item[1]


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


class RawModal(discord.ui.Modal):
    """A modal sent as the adapter rendered it (:func:`render_modal`). It is
    marked finished so discord.py does not keep it: the submission is read in
    ``on_interaction``, which works across restarts too."""

    def __init__(self, body: dict[str, Any]) -> None:
        super().__init__(title=body["title"], custom_id=body["custom_id"], timeout=None)
        self.body = body

    def to_dict(self) -> dict[str, Any]:  # type: ignore[override]
        return dict(self.body)

    def is_finished(self) -> bool:
        return True


class DiscordAdapter:
    """Everything between discord.py and the core for one Bot.

    ``client`` is the discord.py client (``ConveneClient``); tests drive it by
    feeding gateway dispatches into ``client._connection.parsers``.
    """

    def __init__(self, bot: Bot, *, workers: int | None = None) -> None:
        cfg = bot.settings.discord
        self.bot = bot
        self.linker = Linker(bot)
        self.forms = FormStash()
        self.pool = ThreadPoolExecutor(workers or cfg.workers, thread_name_prefix="discord")
        allowed = list(cfg.allowed_guilds) or ([cfg.guild_id] if cfg.guild_id else [])
        self.allowed_guilds = frozenset(allowed)
        self.client = ConveneClient(self)
        #: Interactions seen and how they ended, for tests and the benchmark:
        #: interaction id -> monotonic seconds from arrival to the deferral.
        self.deferral_seconds: dict[int, float] = {}
        #: Deferrals sent on arrival: interaction id -> (the task sending it, its type).
        self.early: dict[int, tuple[asyncio.Task[bool], int]] = {}
        self.gate = DeferralGate()

    # -- entry points (on the client's loop) -------------------------------------------
    async def on_command(self, interaction: discord.Interaction[Any]) -> None:
        """A ``/convene`` subcommand (also ``link``)."""
        payload = interaction_payload(interaction)
        if slash.is_link(payload):
            await self.on_link(interaction, slash.link_address(payload))
            return
        from adapters.discord.inbound import command_event

        await self.handle(interaction, command_event(payload))

    async def on_component(self, interaction: discord.Interaction[Any]) -> None:
        """A ``cv:``/``cvs:`` button or select."""
        event = component_event(interaction_payload(interaction))
        if event is not None:
            await self.handle(interaction, event)

    async def on_open_form(self, interaction: discord.Interaction[Any], token: str) -> None:
        """An "open" button: the stashed form as this interaction's first response."""
        form = self.forms.get(token)
        if form is None:
            tr = await self.translator_for(interaction)
            await self.respond(interaction, Message(tr.gettext(N_(
                "This form has expired. Run the command again to get a new one."))))
            return
        try:
            body = render_modal(form)
        except ValueError:
            body = render_modal(form, custom_id=f"cvk:{self.forms.put(form)}")
        await self._first_response(interaction, interaction.response.send_modal(RawModal(body)))

    async def on_link_button(self, interaction: discord.Interaction[Any]) -> None:
        """"Enter the code": the code modal as the first response."""
        tr = await self.translator_for(interaction)
        body = {"title": tr.gettext(N_("Link your account"))[:45], "custom_id": LINK_MODAL_ID,
                "components": [{"type": 1, "components": [{
                    "type": 4, "custom_id": "code", "style": 1, "required": True,
                    "min_length": 10, "max_length": 16,
                    "label": tr.gettext(N_("The code from the email"))[:45]}]}]}
        await self._first_response(interaction, interaction.response.send_modal(RawModal(body)))

    async def on_modal(self, interaction: discord.Interaction[Any]) -> None:
        """Any modal submission (read here rather than by registered modals, so
        a modal opened before a restart still submits)."""
        payload = interaction_payload(interaction)
        custom_id = str((interaction.data or {}).get("custom_id", ""))
        if custom_id == LINK_MODAL_ID:
            event = modal_event(payload)
            await self.on_link_code(interaction, event.get("code"))
            return
        stashed = STASHED_FORM.fullmatch(custom_id)
        if stashed is not None:
            form = self.forms.get(stashed.group("token"))
            if form is None:
                tr = await self.translator_for(interaction)
                await self.respond(interaction, Message(tr.gettext(N_(
                    "This form has expired. Run the command again to get a new one."))))
                return
            await self.handle(interaction, modal_event(payload, form=(form.form_id,
                                                                      form.context)))
            return
        if custom_id.startswith("cvf:"):
            await self.handle(interaction, modal_event(payload))

    async def on_attendance(self, data: dict[str, Any], *, attending: bool) -> None:
        """GUILD_SCHEDULED_EVENT_USER_ADD/REMOVE of an event Convene published."""
        from adapters.discord.deliver import uid_of

        loop = asyncio.get_running_loop()
        event_id = str(data.get("guild_scheduled_event_id", ""))
        uid = await loop.run_in_executor(self.pool, uid_of, self.bot.session_factory, event_id)
        if uid is None:
            return  # not one of ours
        event = attendance_event(data, uid=uid, attending=attending)
        replies = await loop.run_in_executor(self.pool, self.run_core, event)
        if replies:
            await loop.run_in_executor(self.pool, self.dm, event.actor.user_id, replies)

    # -- deferral on arrival (on the client's loop, from the gateway dispatch) ----------
    def arrival_defer_type(self, data: dict[str, Any]) -> int:
        """The callback type to defer an INTERACTION_CREATE payload with on
        arrival, or 0 when it must not be deferred there: autocomplete and pings,
        components not ours, the buttons whose first response is a modal
        (``cvo:`` openers, "Enter the code"), and guilds this instance does not
        serve (told so as the first response)."""
        allowed = not self.allowed_guilds or str(data.get("guild_id") or "") in \
            self.allowed_guilds
        inner = data.get("data") or {}
        kind = data.get("type")
        if not allowed:
            return 0
        if kind == 2 and inner.get("name") == ROOT:
            return DEFERRED_CHANNEL_MESSAGE
        if kind == 3:
            cid = str(inner.get("custom_id", ""))
            if cid.startswith("cv:cvl:") or not (BUTTON.fullmatch(cid) or SELECT.fullmatch(cid)):
                return 0
            return DEFERRED_UPDATE_MESSAGE
        if kind == 5:
            cid = str(inner.get("custom_id", ""))
            if cid == LINK_MODAL_ID or STASHED_FORM.fullmatch(cid) or FORM.fullmatch(cid):
                return DEFERRED_CHANNEL_MESSAGE
        return 0

    def defer_on_arrival(self, data: dict[str, Any]) -> asyncio.Task[bool] | None:
        """Start the deferral of an interaction the moment its dispatch arrives
        (see :meth:`arrival_defer_type`); :meth:`defer` later awaits it.
        Returns the task sending it, or None when none was sent."""
        defer_type = self.arrival_defer_type(data)
        if not defer_type:
            return None
        interaction_id = int(data["id"])
        loop = asyncio.get_running_loop()
        self.gate.begin()
        task = loop.create_task(self._send_deferral(interaction_id, str(data["token"]),
                                                    defer_type, time.monotonic()))
        self.early[interaction_id] = (task, defer_type)
        # Not awaited by a handler (discord.py failed on the payload): forget it.
        loop.call_later(EARLY_TTL, self.early.pop, interaction_id, None)
        return task

    async def _send_deferral(self, interaction_id: int, token: str, defer_type: int,
                             started: float) -> bool:
        """``POST /interactions/{id}/{token}/callback`` as discord.py's
        ``InteractionResponse.defer`` sends it (ephemeral). False when Discord
        no longer knows the interaction (10062) or refused the deferral."""
        from discord.webhook.async_ import async_context, interaction_response_params

        http = self.client.http
        params = interaction_response_params(
            type=defer_type, data={"flags": EPHEMERAL} if defer_type ==
            DEFERRED_CHANNEL_MESSAGE else None)
        try:
            await async_context.get().create_interaction_response(
                interaction_id, token, session=http._HTTPClient__session,  # type: ignore[attr-defined]
                proxy=http.proxy, proxy_auth=http.proxy_auth, params=params)
        except discord.NotFound as exc:
            if exc.code != UNKNOWN_INTERACTION:
                log.warning("could not defer interaction %s: %s", interaction_id, exc)
            else:
                log.info("interaction %s is gone (answered elsewhere or after 3 s); "
                         "not acted on", interaction_id)
            return False
        except discord.HTTPException as exc:
            log.warning("could not defer interaction %s: %s", interaction_id, exc)
            return False
        finally:
            self.gate.end()
        self.deferral_seconds[interaction_id] = time.monotonic() - started
        return True

    async def take_early(self, interaction: discord.Interaction[Any]) -> bool | None:
        """The outcome of the deferral sent on arrival (discord.py is told the
        interaction is answered), or None if none was sent."""
        early = self.early.pop(interaction.id, None)
        if early is None:
            return None
        task, defer_type = early
        ok = await task
        if ok:
            interaction.response._response_type = discord.InteractionResponseType(defer_type)
        return ok

    # -- the common path ---------------------------------------------------------------
    def allowed(self, interaction: discord.Interaction[Any]) -> bool:
        """Whether the interaction's guild is one this instance serves."""
        if not self.allowed_guilds:
            return True
        return str(interaction.guild_id or "") in self.allowed_guilds

    async def handle(self, interaction: discord.Interaction[Any], event: Event) -> None:
        """Defer, run the core in a worker thread, answer with followups."""
        if not self.allowed(interaction):
            tr = translator(interaction.locale.value)
            await self.respond(interaction, Message(tr.gettext(N_(
                "Convene does not serve this server."))))
            return
        if not await self.defer(interaction):
            return
        loop = asyncio.get_running_loop()
        tr = translator(interaction.locale.value)
        has_channel = bool(interaction.channel_id)
        # One trip to the worker pool: link check, the core, and the rendering,
        # so the loop only sends (it keeps answering the next interactions).
        outgoing = await loop.run_in_executor(
            self.pool, lambda: self.work(event, tr, has_channel=has_channel))
        await self.send_rendered(interaction, outgoing)

    def work(self, event: Event, tr: Translator, *, has_channel: bool) -> list[Outgoing]:
        """A worker thread: the link instructions for an unlinked person, else
        the core's replies, rendered (see :meth:`prepare`)."""
        self.gate.wait()
        if not self.linker.is_linked(event.actor):
            instructions = self.link_instructions(tr)
            return [("followup", self.render(instructions), instructions)]
        replies = self.run_core(event)
        self.gate.wait()
        return self.prepare(replies, has_channel=has_channel)

    def prepare(self, replies: list[Reply], *, has_channel: bool) -> list[Outgoing]:
        """The core's replies as ``(where, rendered, message)``: ``actor`` ones
        as ephemeral followups, ``conversation`` ones in the channel; a form as
        its "open" button. ``message`` is kept for a followup's DM fallback."""
        if not replies:
            replies = [Reply(Message("✓"))]
        out: list[Outgoing] = []
        for reply in replies:
            message = reply.message
            if message.form is not None:
                message = self.with_opener(message)
                out.append(("followup", self.render(message), message))
            elif reply.audience == "conversation" and has_channel:
                out.append(("post", self.render(message), message))
            else:
                out.append(("followup", self.render(message), message))
        return out

    def run_core(self, event: Event) -> list[Reply]:
        """``Bot.dispatch`` (a worker thread)."""
        return self.bot.dispatch(event)

    async def defer(self, interaction: discord.Interaction[Any]) -> bool:
        """Acknowledge at once. False when Discord no longer knows the
        interaction (10062): it came too late or another process answered it.
        Usually the deferral was sent on arrival: this awaits its outcome."""
        early = await self.take_early(interaction)
        if early is not None:
            return early
        started = time.monotonic()
        thinking = interaction.type is discord.InteractionType.application_command \
            or interaction.type is discord.InteractionType.modal_submit
        try:
            await interaction.response.defer(ephemeral=True, thinking=thinking)
        except discord.InteractionResponded:
            log.debug("interaction %s was already answered", interaction.id)
        except discord.NotFound as exc:
            if exc.code != UNKNOWN_INTERACTION:
                raise
            log.info("interaction %s is gone (answered elsewhere or after 3 s); not acted on",
                     interaction.id)
            return False
        except discord.HTTPException as exc:
            log.warning("could not defer interaction %s: %s", interaction.id, exc)
            return False
        self.deferral_seconds[interaction.id] = time.monotonic() - started
        return True

    async def _first_response(self, interaction: discord.Interaction[Any], coro: Any) -> None:
        try:
            await coro
        except discord.InteractionResponded:
            log.debug("interaction %s was already answered", interaction.id)
        except discord.NotFound as exc:
            if exc.code != UNKNOWN_INTERACTION:
                raise
            log.info("interaction %s is gone before its modal opened", interaction.id)

    async def respond(self, interaction: discord.Interaction[Any], message: Message) -> None:
        """An ephemeral message as the first response (no core work behind it),
        or a followup when the interaction was deferred on arrival."""
        early = await self.take_early(interaction)
        if early is not None:
            if early:
                await self.followup(interaction, message, ephemeral=True)
            return
        rendered = render_message(message)
        await self._first_response(interaction, interaction.response.send_message(
            content=rendered.body.get("content") or None,
            embeds=[discord.Embed.from_dict(e) for e in rendered.body.get("embeds", [])],
            ephemeral=True, allowed_mentions=discord.AllowedMentions.none()))

    async def send(self, interaction: discord.Interaction[Any], replies: list[Reply]) -> None:
        """The core's replies (see :meth:`prepare`), rendered on the loop."""
        await self.send_rendered(interaction, self.prepare(
            replies, has_channel=bool(interaction.channel_id)))

    async def send_rendered(self, interaction: discord.Interaction[Any],
                            outgoing: list[Outgoing]) -> None:
        """Send what :meth:`prepare` made, in order."""
        for where, rendered, message in outgoing:
            if where == "post":
                await self.post(str(interaction.channel_id), message, rendered=rendered)
            else:
                await self.followup(interaction, message, ephemeral=True, rendered=rendered)

    def with_opener(self, message: Message) -> Message:
        """``message`` with its form replaced by a button that opens it."""
        from bot.types import Actions, Button

        assert message.form is not None
        token = self.forms.put(message.form)
        opener = Actions((Button(message.form.title, "open", token, "primary"),))
        rendered_text = message.text
        return Message(text=rendered_text, blocks=(*message.blocks, opener),
                       accent=message.accent)

    def render(self, message: Message) -> Rendered:
        """Render, turning our "open" buttons into ``cvo:`` custom ids."""
        rendered = render_message(message)
        for row in rendered.body.get("components", []):
            for comp in row["components"]:
                m = BUTTON.fullmatch(comp.get("custom_id", ""))
                if m and m.group("action") == "open" and self.forms.get(m.group("value")):
                    comp["custom_id"] = opener_id(m.group("value"))
        return rendered

    async def followup(self, interaction: discord.Interaction[Any], message: Message | None,
                       *, ephemeral: bool, rendered: Rendered | None = None) -> None:
        """``POST /webhooks/{application}/{token}`` (valid 15 minutes) of
        ``message``, or of ``rendered`` when the worker rendered it already."""
        if rendered is None:
            assert message is not None
            rendered = self.render(message)
        body = dict(rendered.body)
        if ephemeral:
            body["flags"] = EPHEMERAL
        route = Route("POST", "/webhooks/{webhook_id}/{webhook_token}",
                      webhook_id=interaction.application_id, webhook_token=interaction.token)
        http = self.client.http
        try:
            if rendered.files:
                await http.request(route, form=multipart(body, rendered.files))
            else:
                await http.request(route, json=body)
        except discord.HTTPException as exc:
            log.warning("followup to interaction %s failed (%s); sending a DM instead",
                        interaction.id, exc)
            if message is not None:
                await asyncio.get_running_loop().run_in_executor(
                    self.pool, self.dm, str(interaction.user.id), [Reply(message)])

    async def post(self, channel_id: str, message: Message | None, *,
                   rendered: Rendered | None = None) -> None:
        """A message everyone in the channel sees (``rendered`` if given)."""
        if rendered is None:
            assert message is not None
            rendered = self.render(message)
        route = Route("POST", "/channels/{channel_id}/messages", channel_id=channel_id)
        if rendered.files:
            await self.client.http.request(route, form=multipart(rendered.body, rendered.files))
        else:
            await self.client.http.request(route, json=rendered.body)

    def dm(self, user_id: str, replies: list[Reply]) -> None:
        """Direct messages through the outbox (a worker thread; retried there)."""
        from bot.outbox import ChatTarget, enqueue_chat

        with self.bot.session_factory() as session, session.begin():
            for reply in replies:
                enqueue_chat(session=session, key=f"discord-dm:{secrets.token_hex(8)}",
                             target=ChatTarget("discord", "", "", user_id=user_id),
                             message=reply.message)

    # -- linking -------------------------------------------------------------------------
    def link_instructions(self, tr: Translator) -> Message:
        """What an unlinked person is told (never an error)."""
        return Message(tr.gettext(N_(
            "Your Discord account is not linked to the alliance roster yet. Type /convene "
            "link with the email address the secretariat has for you: I will email you a "
            "code to enter here.")), accent="info")

    async def on_link(self, interaction: discord.Interaction[Any], address: str) -> None:
        """``/convene link email:ADDRESS``."""
        if not await self.defer(interaction):
            return
        from adapters.discord.inbound import actor_of
        from bot.types import Actions, Button

        actor = actor_of(interaction_payload(interaction))
        loop = asyncio.get_running_loop()
        tr = translator(interaction.locale.value)
        try:
            await loop.run_in_executor(self.pool, lambda: self.linker.request(
                actor=actor, address=address))
        except ValueError:
            await self.followup(interaction, Message(tr.gettext(N_(
                "That is not an email address. Type /convene link followed by your address.")
            )), ephemeral=True)
            return
        text = tr.gettext(N_(
            "If {address} is on the alliance roster, I have emailed it a code. Press the "
            "button and enter it within {minutes} minutes."), address=address,
            minutes=self.bot.settings.discord.link_code_minutes)
        await self.followup(interaction, Message(text, blocks=(
            _section(text), Actions((Button(tr.gettext(N_("Enter the code")), "cvl", "enter",
                                            "primary"),)))), ephemeral=True)

    async def on_link_code(self, interaction: discord.Interaction[Any], code: str) -> None:
        """The code modal's submission."""
        if not await self.defer(interaction):
            return
        from adapters.discord.inbound import actor_of

        actor = actor_of(interaction_payload(interaction))
        loop = asyncio.get_running_loop()
        person = await loop.run_in_executor(self.pool, lambda: self.linker.confirm(
            actor=actor, code=code))
        if person is None:
            tr = translator(interaction.locale.value)
            text = tr.gettext(N_("That code is wrong, used or expired. Type /convene link to "
                                 "get a new one."))
        else:
            tr = translator(person.language)
            text = tr.gettext(N_("Linked: this Discord account is {name} on the roster. Type "
                                 "/convene help to see what you can do."), name=person.name)
        await self.followup(interaction, Message(text), ephemeral=True)

    async def translator_for(self, interaction: discord.Interaction[Any]) -> Translator:
        """The person's language if linked, else the Discord client's."""
        from adapters.discord.inbound import actor_of

        actor = actor_of(interaction_payload(interaction))

        def language() -> str | None:
            with self.bot.session_factory() as s:
                person = resolve_actor(s, actor)
                return person.language if person else None

        lang = await asyncio.get_running_loop().run_in_executor(self.pool, language)
        return translator(lang or interaction.locale.value)

    def close(self) -> None:
        """Stop the worker threads."""
        self.pool.shutdown(wait=True, cancel_futures=False)


def _section(text: str) -> Any:
    from bot.types import Section

    return Section(text)


# --- persistent components ----------------------------------------------------------


class ActionButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=BUTTON.pattern):
    """A core Button: ``cv:<action_id>:<value>``."""

    def __init__(self, custom_id: str) -> None:
        super().__init__(discord.ui.Button(custom_id=custom_id))

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any],
                             item: discord.ui.Item[Any], match: Any, /) -> ActionButton:
        return cls(match.group(0))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        client = interaction.client
        assert isinstance(client, ConveneClient)
        if BUTTON.fullmatch(self.custom_id) and self.custom_id.startswith("cv:cvl:"):
            await client.adapter.on_link_button(interaction)
            return
        await client.adapter.on_component(interaction)


class ActionSelect(discord.ui.DynamicItem[discord.ui.Select[Any]], template=SELECT.pattern):
    """A core Select: ``cvs:<action_id>``."""

    def __init__(self, custom_id: str) -> None:
        super().__init__(discord.ui.Select(custom_id=custom_id))

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any],
                             item: discord.ui.Item[Any], match: Any, /) -> ActionSelect:
        return cls(match.group(0))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        client = interaction.client
        assert isinstance(client, ConveneClient)
        await client.adapter.on_component(interaction)


class FormOpener(discord.ui.DynamicItem[discord.ui.Button[Any]], template=OPENER.pattern):
    """"Open the form": ``cvo:<token>``."""

    def __init__(self, custom_id: str, token: str) -> None:
        super().__init__(discord.ui.Button(custom_id=custom_id))
        self.token = token

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any],
                             item: discord.ui.Item[Any], match: Any, /) -> FormOpener:
        return cls(match.group(0), match.group("token"))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        client = interaction.client
        assert isinstance(client, ConveneClient)
        await client.adapter.on_open_form(interaction, self.token)


class ConveneClient(discord.Client):
    """discord.py's Client with the ``/convene`` tree and the dynamic items.

    Intents: ``guilds`` and ``guild_scheduled_events`` (no privileged intent:
    interactions need none, and the roster link needs no member list)."""

    def __init__(self, adapter: DiscordAdapter) -> None:
        intents = discord.Intents.none()
        intents.guilds = True
        intents.guild_scheduled_events = True
        super().__init__(intents=intents, allowed_mentions=discord.AllowedMentions.none())
        self.adapter = adapter
        self.tree = discord.app_commands.CommandTree(self)
        self.tree.add_command(slash.build_group(adapter))
        self.synced: list[dict[str, Any]] = []

    async def setup_hook(self) -> None:
        self.add_dynamic_items(ActionButton, ActionSelect, FormOpener)
        # The gateway gives USER_ADD/REMOVE only for events in discord.py's cache;
        # ours are looked up by id, so the raw dispatch is taken before it.
        parsers = self._connection.parsers
        for name, attending in (("GUILD_SCHEDULED_EVENT_USER_ADD", True),
                                ("GUILD_SCHEDULED_EVENT_USER_REMOVE", False)):
            parsers[name] = self._attendance_parser(parsers[name], attending)
        parsers["INTERACTION_CREATE"] = self._interaction_parser(parsers["INTERACTION_CREATE"])
        guild_id = self.adapter.bot.settings.discord.guild_id
        guild = discord.Object(int(guild_id)) if guild_id else None
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        commands = await self.tree.sync(guild=guild)
        self.synced = [c.to_dict() for c in commands]
        log.info("Discord: %d application command(s) synced (%s)", len(commands),
                 f"guild {guild_id}" if guild_id else "global")

    def _interaction_parser(self, original: Any) -> Any:
        """INTERACTION_CREATE: the deferral goes out first; discord.py's own
        parsing (the Interaction, its message and view, the dispatch) runs
        once it is answered (the handler would wait for it anyway), so that
        interactions arriving together are all deferred before any is parsed.
        An interaction not deferred here is parsed two loop turns later."""
        def parse(data: dict[str, Any]) -> None:
            task = self.adapter.defer_on_arrival(data)
            if task is None:
                self.loop.call_soon(self.loop.call_soon, original, data)
            else:
                task.add_done_callback(lambda _: original(data))

        return parse

    def _attendance_parser(self, original: Any, attending: bool) -> Any:
        def parse(data: dict[str, Any]) -> None:
            self.loop.create_task(self.adapter.on_attendance(data, attending=attending))
            original(data)

        return parse

    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        if interaction.type is discord.InteractionType.modal_submit:
            await self.adapter.on_modal(interaction)


__all__ = ["NO_MENTIONS", "ConveneClient", "DiscordAdapter", "interaction_payload"]
