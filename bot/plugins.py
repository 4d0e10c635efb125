"""Adapters plug into the core through the ``convene.plugins`` entry point group.

The core never imports an adapter. Each adapter package declares, in
pyproject.toml, an object with the :class:`Plugin` hooks; the core calls them
to add chat deliverers, a mail transport, CLI commands, HTTP routes and
background runners.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    import typer
    from pydantic import BaseModel

    from bot.app import Bot

log = logging.getLogger(__name__)

GROUP = "convene.plugins"
Stopper = Callable[[], None]


class Plugin:
    """Hooks an adapter may implement; every default does nothing."""

    name = "plugin"
    #: The plugin's own configuration section, ``[<name>]`` in convene.toml and
    #: ``CONVENE_<NAME>__<KEY>``: a pydantic model validated with the rest of the
    #: settings at start (bot/settings.py); read it with ``settings.section()``.
    settings_model: ClassVar[type[BaseModel] | None] = None

    def setup_bot(self, bot: Bot, *, mail_given: bool) -> None:
        """Register chat deliverers (``bot.chat_deliverers[platform]``) or the mail
        transport (unless ``mail_given``: the caller chose one)."""

    def cli(self, app: typer.Typer) -> None:
        """Add commands to the ``convene`` CLI."""

    def web_routes(self, bot: Bot) -> list[Any]:
        """Starlette routes to mount on the HTTP app."""
        return []

    def start(self, bot: Bot) -> Stopper | None:
        """Start background work for ``convene serve``; return how to stop it."""
        return None


def load_plugins() -> list[Plugin]:
    """Every installed plugin, sorted by name. A plugin that fails to load is
    logged and skipped, so one broken adapter does not stop the others."""
    found: list[Plugin] = []
    for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        try:
            obj = ep.load()
            found.append(obj() if isinstance(obj, type) else obj)
        except Exception:
            log.exception("could not load plugin %s", ep.name)
    return found


def plugin_sections() -> dict[str, type[BaseModel]]:
    """``{plugin name: its settings model}`` of every installed plugin that
    declares one (:attr:`Plugin.settings_model`)."""
    return {p.name: p.settings_model for p in load_plugins() if p.settings_model is not None}
