"""Everything between a Discord interaction and ``Bot.dispatch``, written once
for the gateway and the HTTP interactions endpoint (both give a
:class:`adapters.discord.turn.Turn`).

- ``/convene`` is one application command whose subcommands are the first
  words of the core's commands (:mod:`adapters.discord.commands`);
  ``/convene link`` links an account (:mod:`adapters.discord.identity`).
- Buttons and selects carry the core's action id and value in their
  ``custom_id`` (:mod:`adapters.discord.ids`): they work on messages posted
  before a restart.
- Every interaction for the core is deferred at once (the transport's
  receipt), the core runs in a worker thread, and the person is answered
  with followups only after the core's commit.
- A modal must be an interaction's first response, so a form the core
  returns comes as an ephemeral "open" button; pressing it opens the modal
  (:mod:`adapters.discord.forms`, pages of five fields).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import discord

from adapters.discord.client import ConveneClient
from adapters.discord.forms import PagedForms, Pending, render_modal
from adapters.discord.gateway import (
    LINK_BUTTON_PREFIX,
    LINK_MODAL_ID,
    EarlyDeferrals,
    GatewayTurn,
)
from adapters.discord.identity import Linker
from adapters.discord.ids import BUTTON, OPENER, STASHED_FORM, opener_id, stashed_id
from adapters.discord.inbound import (
    ROOT,
    actor_of,
    attendance_event,
    command_event,
    component_event,
    is_link,
    link_address,
    modal_event,
    modal_values,
)
from adapters.discord.outbound import Rendered, render_message
from adapters.discord.settings import discord_settings
from adapters.discord.turn import APPLICATION_COMMAND, MESSAGE_COMPONENT, MODAL_SUBMIT, Turn
from bot.errors import N_
from bot.i18n import Translator, translator
from bot.members import resolve_actor
from bot.types import Actions, Button, Event, Message, Reply, Section

if TYPE_CHECKING:
    from bot.app import Bot

log = logging.getLogger(__name__)

#: What a worker prepared for the loop to send: ("followup" | "post", body, message).
Outgoing = tuple[str, Rendered, "Message | None"]
EXPIRED = N_("This form has expired. Run the command again to get a new one.")


class DiscordAdapter:
    """Everything between Discord and the core for one Bot.

    ``client`` is the discord.py client (``ConveneClient``, for the gateway);
    tests drive it by feeding gateway dispatches into
    ``client._connection.parsers``. The HTTP endpoint
    (:mod:`adapters.discord.endpoint`) calls :meth:`on_interaction` directly.
    """

    def __init__(self, bot: Bot, *, workers: int | None = None) -> None:
        cfg = discord_settings(bot.settings)
        self.bot = bot
        self.linker = Linker(bot)
        self.forms = PagedForms()
        self.pool = ThreadPoolExecutor(workers or cfg.workers, thread_name_prefix="discord")
        allowed = list(cfg.allowed_guilds) or ([cfg.guild_id] if cfg.guild_id else [])
        self.allowed_guilds = frozenset(allowed)
        self.early = EarlyDeferrals(allowed=self.serves, http=lambda: self.client.http)
        self.gate = self.early.gate
        self.client = ConveneClient(self)

    def serves(self, guild_id: str) -> bool:
        """Whether interactions from ``guild_id`` (``""``: a DM) are answered here."""
        return not self.allowed_guilds or guild_id in self.allowed_guilds

    # -- entry points (on an event loop) -------------------------------------------------
    async def on_gateway(self, interaction: discord.Interaction[Any]) -> None:
        """An interaction discord.py routed to us (command tree, dynamic items, modals)."""
        await self.on_interaction(GatewayTurn(interaction, self.early))

    async def on_interaction(self, turn: Turn) -> None:
        """Any interaction: ``/convene``, our buttons and selects, the form
        openers, "Enter the code", and modal submissions. Others are ignored."""
        kind, cid = turn.payload.get("type"), turn.custom_id
        if kind == APPLICATION_COMMAND and (turn.payload.get("data") or {}).get("name") == ROOT:
            await self.on_command(turn)
        elif kind == MESSAGE_COMPONENT and (m := OPENER.fullmatch(cid)) is not None:
            await self.on_open_form(turn, m.group("token"))
        elif kind == MESSAGE_COMPONENT and cid.startswith(LINK_BUTTON_PREFIX):
            await self.on_link_button(turn)
        elif kind == MESSAGE_COMPONENT:
            event = component_event(turn.payload)
            if event is not None:
                await self.handle(turn, event)
        elif kind == MODAL_SUBMIT:
            await self.on_modal(turn)

    async def on_command(self, turn: Turn) -> None:
        """A ``/convene`` subcommand (also ``link``)."""
        if is_link(turn.payload):
            await self.on_link(turn, link_address(turn.payload))
            return
        await self.handle(turn, command_event(turn.payload))

    async def on_open_form(self, turn: Turn, token: str) -> None:
        """An "open" button: the stashed form's next page as the first response."""
        pending = self.forms.get(token)
        if pending is None:
            await self.respond(turn, Message((await self.translator_for(turn)).gettext(EXPIRED)))
            return
        await turn.open_modal(self.modal(token, pending))

    @staticmethod
    def modal(token: str, pending: Pending) -> dict[str, Any]:
        """The modal of ``pending``'s next page: a one-page form carries its id and
        context (``cvf:``) when they fit, anything else the stash token (``cvk:``)."""
        if pending.pages == 1:
            try:
                return render_modal(pending.form)
            except ValueError:
                pass
        return render_modal(pending.form, page=pending.page,
                            custom_id=stashed_id(token, pending.page))

    async def on_modal(self, turn: Turn) -> None:
        """Any modal submission (read here rather than by registered modals, so
        a modal opened before a restart still submits)."""
        custom_id = turn.custom_id
        if custom_id == LINK_MODAL_ID:
            await self.on_link_code(turn, modal_event(turn.payload).get("code"))
            return
        stashed = STASHED_FORM.fullmatch(custom_id)
        if stashed is None:
            if custom_id.startswith("cvf:"):
                await self.handle(turn, modal_event(turn.payload))
            return
        token = stashed.group("token")
        pending = self.forms.get(token)
        if pending is None:
            await self.respond(turn, Message((await self.translator_for(turn)).gettext(EXPIRED)))
            return
        form, page = pending.form, int(stashed.group("page") or 0)
        if page == pending.page and page + 1 >= pending.pages:
            event = modal_event(turn.payload, form=(form.form_id, form.context))
            await self.handle(turn, replace(event, values=pending.values + event.values))
            return
        if not await turn.defer():
            return
        values = tuple(modal_values((turn.payload.get("data") or {}).get("components") or ()))
        # A page submitted again (an old modal) moves nothing: the button for the
        # page the form waits for is sent again.
        current = self.forms.advance(token, page=page, values=values) or \
            self.forms.get(token)
        tr = await self.translator_for(turn)
        if current is None:
            await self.followup(turn, Message(tr.gettext(EXPIRED)), ephemeral=True)
            return
        text = tr.gettext(N_("Part {done} of {pages} saved. Press the button for the next "
                             "part."), done=current.page, pages=current.pages)
        await self.followup(turn, Message(text, blocks=(Section(text), Actions((Button(
            f"{form.title} ({current.page + 1}/{current.pages})", "open", token,
            "primary"),)))), ephemeral=True)

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

    # -- the common path ---------------------------------------------------------------
    async def handle(self, turn: Turn, event: Event) -> None:
        """Defer, run the core in a worker thread, answer with followups."""
        tr = translator(turn.locale)
        if not self.serves(turn.guild_id):
            await self.respond(turn, Message(tr.gettext(N_(
                "Convene does not serve this server."))))
            return
        if not await turn.defer():
            return
        has_channel = bool(turn.channel_id)
        # One trip to the worker pool: link check, the core, and the rendering,
        # so the loop only sends (it keeps answering the next interactions).
        outgoing = await asyncio.get_running_loop().run_in_executor(
            self.pool, lambda: self.work(event, tr, has_channel=has_channel))
        await self.send_rendered(turn, outgoing)

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

    async def respond(self, turn: Turn, message: Message) -> None:
        """An ephemeral message with no core work behind it."""
        await turn.respond(self.render(message))

    async def send_rendered(self, turn: Turn, outgoing: list[Outgoing]) -> None:
        """Send what :meth:`prepare` made, in order."""
        for where, rendered, message in outgoing:
            if where == "post":
                await turn.post(turn.channel_id, rendered)
            else:
                await self.followup(turn, message, ephemeral=True, rendered=rendered)

    def with_opener(self, message: Message) -> Message:
        """``message`` with its form replaced by a button that opens it."""
        assert message.form is not None
        token = self.forms.put(message.form)
        opener = Actions((Button(message.form.title, "open", token, "primary"),))
        return Message(text=message.text, blocks=(*message.blocks, opener),
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

    async def followup(self, turn: Turn, message: Message | None, *, ephemeral: bool,
                       rendered: Rendered | None = None) -> None:
        """A followup of ``message`` (or of ``rendered`` when the worker rendered
        it already); when Discord refuses it, ``message`` goes by DM instead."""
        if rendered is None:
            assert message is not None
            rendered = self.render(message)
        try:
            await turn.followup(rendered, ephemeral=ephemeral)
        except discord.HTTPException as exc:
            log.warning("followup to interaction %s failed (%s); sending a DM instead",
                        turn.id, exc)
            if message is not None:
                await asyncio.get_running_loop().run_in_executor(
                    self.pool, self.dm, turn.user_id, [Reply(message)])

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

    async def on_link(self, turn: Turn, address: str) -> None:
        """``/convene link email:ADDRESS``."""
        if not await turn.defer():
            return
        actor = actor_of(turn.payload)
        tr = translator(turn.locale)
        try:
            await asyncio.get_running_loop().run_in_executor(
                self.pool, lambda: self.linker.request(actor=actor, address=address))
        except ValueError:
            await self.followup(turn, Message(tr.gettext(N_(
                "That is not an email address. Type /convene link followed by your address.")
            )), ephemeral=True)
            return
        text = tr.gettext(N_(
            "If {address} is on the alliance roster, I have emailed it a code. Press the "
            "button and enter it within {minutes} minutes."), address=address,
            minutes=discord_settings(self.bot.settings).link_code_minutes)
        await self.followup(turn, Message(text, blocks=(
            Section(text), Actions((Button(tr.gettext(N_("Enter the code")), "cvl", "enter",
                                           "primary"),)))), ephemeral=True)

    async def on_link_button(self, turn: Turn) -> None:
        """"Enter the code": the code modal as the first response."""
        tr = await self.translator_for(turn)
        await turn.open_modal({
            "title": tr.gettext(N_("Link your account"))[:45], "custom_id": LINK_MODAL_ID,
            "components": [{"type": 1, "components": [{
                "type": 4, "custom_id": "code", "style": 1, "required": True,
                "min_length": 10, "max_length": 16,
                "label": tr.gettext(N_("The code from the email"))[:45]}]}]})

    async def on_link_code(self, turn: Turn, code: str) -> None:
        """The code modal's submission."""
        if not await turn.defer():
            return
        actor = actor_of(turn.payload)
        person = await asyncio.get_running_loop().run_in_executor(
            self.pool, lambda: self.linker.confirm(actor=actor, code=code))
        if person is None:
            tr = translator(turn.locale)
            text = tr.gettext(N_("That code is wrong, used or expired. Type /convene link to "
                                 "get a new one."))
        else:
            tr = translator(person.language)
            text = tr.gettext(N_("Linked: this Discord account is {name} on the roster. Type "
                                 "/convene help to see what you can do."), name=person.name)
        await self.followup(turn, Message(text), ephemeral=True)

    async def translator_for(self, turn: Turn) -> Translator:
        """The person's language if linked, else the Discord client's."""
        actor = actor_of(turn.payload)

        def language() -> str | None:
            with self.bot.session_factory() as s:
                person = resolve_actor(s, actor)
                return person.language if person else None

        lang = await asyncio.get_running_loop().run_in_executor(self.pool, language)
        return translator(lang or turn.locale)

    def close(self) -> None:
        """Stop the worker threads."""
        self.pool.shutdown(wait=True, cancel_futures=False)
