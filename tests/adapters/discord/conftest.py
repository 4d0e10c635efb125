from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from bot.app import Bot
from tests.adapters.discord.fake_discord import GUILD, FakeDiscord
from tests.adapters.discord.harness import Harness
from tests.conftest import SHARED_FIXTURES, need


@pytest.fixture
def fake_discord() -> Iterator[FakeDiscord]:
    fake = FakeDiscord().start()
    yield fake
    fake.stop()


@pytest.fixture
def harness(make_bot: Callable[..., Bot], db_url: str,
            fake_discord: FakeDiscord) -> Iterator[Harness]:
    need((SHARED_FIXTURES / "discord").is_dir(), "discord fixtures missing")
    # Without the workshops capability: test_discord_events registers its own
    # attendance route to watch what the adapter dispatches (workshops' own RSVP
    # from an Attendance is tested in tests/workshops).
    bot = make_bot(db_url, discord={"enabled": True, "bot_token": "test-token",
                                    "guild_id": GUILD, "api_url": fake_discord.base},
                   capabilities=["polls", "digest", "sprints"])
    h = Harness(bot, fake_discord)
    yield h
    h.close()
    rest = bot.adapters.get("discord.rest")
    if rest is not None:
        rest.close()
