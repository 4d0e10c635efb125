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
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

if TYPE_CHECKING:
    import typer
    from pydantic import BaseModel, SecretStr

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


class TokenSection(Protocol):
    """A chat platform's settings section: switched on, with a bot token."""

    @property
    def enabled(self) -> bool: ...
    @property
    def bot_token(self) -> SecretStr: ...


def token_ready(cfg: TokenSection, *, section: str) -> bool:
    """Whether the ``[section]`` settings turn the adapter on: ``enabled`` and
    a non-empty ``bot_token``. Enabled without a token logs an error naming the
    section and answers False (the adapter stays off; the others run)."""
    if not cfg.enabled:
        return False
    if not cfg.bot_token.get_secret_value():
        log.error("[%s] enabled but bot_token is empty: it stays off", section)
        return False
    return True


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

