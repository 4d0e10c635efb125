"""What the gateway client and the ``/convene`` commands use of the adapter.

:class:`~adapters.discord.adapter.DiscordAdapter` implements :class:`AdapterPort`;
:mod:`adapters.discord.client` and :mod:`adapters.discord.commands` are typed
against the port, so neither imports the adapter that imports them.
"""

from __future__ import annotations

from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import discord

    from adapters.discord.gateway import EarlyDeferrals
    from bot.app import Bot


class AdapterPort(Protocol):
    """``bot``: the core; ``pool``: the threads that run it; ``early``: the
    deferrals sent on arrival; the two coroutines take what the gateway gives."""

    @property
    def bot(self) -> Bot: ...
    @property
    def pool(self) -> Executor: ...
    @property
    def early(self) -> EarlyDeferrals: ...

    async def on_gateway(self, interaction: discord.Interaction[Any]) -> None:
        """An interaction discord.py routed to the adapter."""

    async def on_attendance(self, data: dict[str, Any], *, attending: bool) -> None:
        """A scheduled event's interested / not interested."""
