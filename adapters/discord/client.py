"""The discord.py client: the ``/convene`` tree, the persistent components,
and the gateway dispatches taken before discord.py parses them.

Buttons and selects are :class:`discord.ui.DynamicItem` s registered in
``setup_hook``, so they work on messages posted before a restart; each hands
its interaction to :meth:`AdapterPort.on_gateway`, as do the command tree
and modal submissions. INTERACTION_CREATE is deferred before discord.py parses
it (:mod:`adapters.discord.gateway`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord

from adapters.discord import commands as slash
from adapters.discord.ids import BUTTON, OPENER, SELECT
from adapters.discord.settings import discord_settings

if TYPE_CHECKING:
    from adapters.discord.port import AdapterPort

log = logging.getLogger(__name__)


async def _to_adapter(interaction: discord.Interaction[Any]) -> None:
    client = interaction.client
    assert isinstance(client, ConveneClient)
    await client.adapter.on_gateway(interaction)


class ActionButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=BUTTON.pattern):
    """A core Button: ``cv:<action_id>:<value>`` (also "Enter the code", ``cv:cvl:``)."""

    def __init__(self, custom_id: str) -> None:
        super().__init__(discord.ui.Button(custom_id=custom_id))

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any],
                             item: discord.ui.Item[Any], match: Any, /) -> ActionButton:
        return cls(match.group(0))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await _to_adapter(interaction)


class ActionSelect(discord.ui.DynamicItem[discord.ui.Select[Any]], template=SELECT.pattern):
    """A core Select: ``cvs:<action_id>``."""

    def __init__(self, custom_id: str) -> None:
        super().__init__(discord.ui.Select(custom_id=custom_id))

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any],
                             item: discord.ui.Item[Any], match: Any, /) -> ActionSelect:
        return cls(match.group(0))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await _to_adapter(interaction)


class FormOpener(discord.ui.DynamicItem[discord.ui.Button[Any]], template=OPENER.pattern):
    """"Open the form": ``cvo:<token>``."""

    def __init__(self, custom_id: str) -> None:
        super().__init__(discord.ui.Button(custom_id=custom_id))

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any],
                             item: discord.ui.Item[Any], match: Any, /) -> FormOpener:
        return cls(match.group(0))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await _to_adapter(interaction)


class ConveneClient(discord.Client):
    """discord.py's Client with the ``/convene`` tree and the dynamic items.

    Intents: ``guilds`` and ``guild_scheduled_events`` (no privileged intent:
    interactions need none, and the roster link needs no member list)."""

    def __init__(self, adapter: AdapterPort) -> None:
        intents = discord.Intents.none()
        intents.guilds = True
        intents.guild_scheduled_events = True
        super().__init__(intents=intents, allowed_mentions=discord.AllowedMentions.none())
        self.adapter = adapter
        self.tree: discord.app_commands.CommandTree[ConveneClient] = \
            discord.app_commands.CommandTree(self)
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
        guild_id = discord_settings(self.adapter.bot.settings).guild_id
        guild = discord.Object(int(guild_id)) if guild_id else None
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        commands = await self.tree.sync(guild=guild)
        self.synced = [dict(c.to_dict()) for c in commands]
        log.info("Discord: %d application command(s) synced (%s)", len(commands),
                 f"guild {guild_id}" if guild_id else "global")

    def _interaction_parser(self, original: Any) -> Any:
        """INTERACTION_CREATE: the deferral goes out first; discord.py's own
        parsing (the Interaction, its message and view, the dispatch) runs
        once it is answered (the handler would wait for it anyway), so that
        interactions arriving together are all deferred before any is parsed.
        An interaction not deferred here is parsed two loop turns later."""
        def parse(data: dict[str, Any]) -> None:
            task = self.adapter.early.defer_on_arrival(data)
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
            await self.adapter.on_gateway(interaction)
