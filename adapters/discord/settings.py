"""The ``[discord]`` section of convene.toml (``CONVENE_DISCORD__<KEY>``), declared
by the Discord plugin and validated with the rest of the configuration at start."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, Field, SecretStr

if TYPE_CHECKING:
    from bot.settings import Settings


class DiscordSettings(BaseModel):
    """Discord: a bot token and the guild the alliance uses.

    ``guild_id`` is where ``/convene`` is registered (instantly; empty: global
    commands, which Discord may take up to an hour to show) and where workshops
    become scheduled events; ``allowed_guilds`` (empty: only ``guild_id``, or any
    when that is empty too) are the guilds whose interactions are answered.
    ``gateway``: whether this process holds the gateway connection (exactly one
    replica should); every replica can still deliver through the REST API.
    ``public_key``: the application's public key (64 hex characters, Developer
    Portal > General Information); when set, every replica serves Discord's
    Interactions Endpoint URL at ``POST /discord/interactions``, verifying each
    request's Ed25519 signature with it.
    """

    enabled: bool = False
    bot_token: SecretStr = SecretStr("")
    application_id: str = ""
    guild_id: str = ""
    allowed_guilds: list[str] = Field(default_factory=list)
    default_channel: str = ""
    gateway: bool = True
    #: REST base URL; empty: discord.py's (https://discord.com/api/v10). Tests
    #: point it at a loopback fake.
    api_url: str = ""
    #: Minutes a ``/convene link`` code stays valid.
    link_code_minutes: int = Field(15, ge=1, le=1440)
    #: Threads that run the core for interactions (the gateway loop never blocks).
    workers: int = Field(8, ge=1, le=64)
    public_key: str = Field("", pattern=r"^([0-9a-fA-F]{64})?$")


def discord_settings(settings: Settings) -> DiscordSettings:
    """The ``[discord]`` section of ``settings`` (defaults when it was not read)."""
    return settings.section("discord", DiscordSettings)
