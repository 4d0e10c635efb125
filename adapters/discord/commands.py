"""The ``/convene`` application command, built from the core's router.

Each first word of a core command is a subcommand (``/convene poll``,
``/convene vote``, ``/convene help``); its options are ``action`` (the second
word, when the core has some: ``new``, ``show``...; autocompleted with what
the person may run), ``id`` (autocompleted from the core's completers:
proposal, workshop or sprint ids) and ``text`` (the rest). ``/convene do
text:...`` takes any typed command and ``/convene link email:...`` links an
account. Discord allows 25 subcommands; descriptions are the core's help texts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from adapters.discord.inbound import actor_of
from adapters.discord.limits import CHOICE_NAME, CHOICES, OPTION_VALUE
from bot.completion import complete, next_words

if TYPE_CHECKING:
    from adapters.discord.port import AdapterPort

MAX_SUBCOMMANDS = 25
RESERVED = ("do", "link")


def _describe(text: str) -> str:
    text = " ".join(text.split()) or "Convene"
    return text if len(text) <= 100 else text[:99] + "…"


def _words(adapter: AdapterPort) -> list[tuple[str, bool, bool, str]]:
    """(first word, has second words, takes arguments, description) per subcommand."""
    found: dict[str, list[Any]] = {}
    for route in adapter.bot.registry.routes:
        if route.kind != "command":
            continue
        head, _, rest = route.name.partition(" ")
        if head in RESERVED or not head.replace("-", "").replace("_", "").isalnum():
            continue
        entry = found.setdefault(head, [False, False, ""])
        if rest:
            entry[0] = True
        elif route.usage:
            entry[1] = True
        if not rest and route.help:
            entry[2] = route.help
        elif not entry[2] and route.help:
            entry[2] = head
    out = [(w, e[0], e[1] or e[0], e[2] or w) for w, e in sorted(found.items())]
    return out[: MAX_SUBCOMMANDS - len(RESERVED)]


def build_group(adapter: AdapterPort) -> app_commands.Group:
    """The ``/convene`` group for ``adapter``'s bot."""
    group = app_commands.Group(name="convene", description="Convene: polls, workshops, "
                               "sprints and the press review")
    for word, has_action, takes_args, description in _words(adapter):
        group.add_command(_subcommand(adapter, word, has_action, takes_args,
                                      _describe(description)))
    group.add_command(_do(adapter))
    group.add_command(_link(adapter))
    return group


async def _in_pool(adapter: AdapterPort, fn: Callable[[], Any]) -> Any:
    return await asyncio.get_running_loop().run_in_executor(adapter.pool, fn)


async def choices(adapter: AdapterPort, *, user_id: str, word: str, option: str,
                  current: str) -> list[tuple[str, str]]:
    """Autocomplete for ``/convene <word>``'s ``option`` (``action``: the next
    words the person may run; ``id``: the core's completer for ``word``) as
    (name, value) pairs, at most 25, within Discord's lengths."""
    actor = actor_of({"user": {"id": user_id}})
    if option == "action":
        words = await _in_pool(adapter, lambda: next_words(
            adapter.bot, actor=actor, first=word, prefix=current))
        return [(w[:CHOICE_NAME], w) for w in words if len(w) <= OPTION_VALUE][:CHOICES]
    if option != "id" or adapter.bot.registry.completer_for(word) is None:
        return []
    options = await _in_pool(adapter, lambda: complete(
        adapter.bot, actor=actor, command=word, prefix=current, limit=CHOICES))
    return [(o.label[:CHOICE_NAME] or o.value, o.value) for o in options
            if len(o.value) <= OPTION_VALUE][:CHOICES]


def _subcommand(adapter: AdapterPort, word: str, has_action: bool, takes_args: bool,
                description: str) -> app_commands.Command[Any, Any, None]:
    if not takes_args:
        async def plain(interaction: discord.Interaction) -> None:
            await adapter.on_gateway(interaction)

        return app_commands.Command(name=word, description=description, callback=plain)

    cmd: app_commands.Command[Any, Any, None]
    if has_action:
        @app_commands.describe(action="what to do", id="which one (a number)",
                               text="the rest")
        async def with_action(interaction: discord.Interaction, action: str | None = None,
                              id: str | None = None, text: str | None = None) -> None:
            await adapter.on_gateway(interaction)

        cmd = app_commands.Command(name=word, description=description, callback=with_action)
    else:
        @app_commands.describe(id="which one (a number)", text="the rest")
        async def with_args(interaction: discord.Interaction, id: str | None = None,
                            text: str | None = None) -> None:
            await adapter.on_gateway(interaction)

        cmd = app_commands.Command(name=word, description=description, callback=with_args)

    async def actions(interaction: discord.Interaction, current: str
                      ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=n, value=v) for n, v in await choices(
            adapter, user_id=str(interaction.user.id), word=word, option="action",
            current=current)]

    async def ids(interaction: discord.Interaction, current: str
                  ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=n, value=v) for n, v in await choices(
            adapter, user_id=str(interaction.user.id), word=word, option="id",
            current=current)]

    if has_action:
        cmd.autocomplete("action")(actions)
    cmd.autocomplete("id")(ids)
    return cmd


def _do(adapter: AdapterPort) -> app_commands.Command[Any, Any, None]:
    @app_commands.describe(text="the command, e.g. digest suggest https://...")
    async def do(interaction: discord.Interaction, text: str) -> None:
        await adapter.on_gateway(interaction)

    return app_commands.Command(name="do", description="Type any Convene command",
                                callback=do)


def _link(adapter: AdapterPort) -> app_commands.Command[Any, Any, None]:
    @app_commands.describe(email="the email address the secretariat has for you")
    async def link(interaction: discord.Interaction, email: str) -> None:
        await adapter.on_gateway(interaction)

    return app_commands.Command(name="link", description="Link your Discord account to the "
                                "alliance roster (a code is emailed to you)", callback=link)
