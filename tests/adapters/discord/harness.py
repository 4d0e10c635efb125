"""Drive the real discord.py client without Discord: a fake REST API on
loopback (tests/adapters/discord/fake_discord.py) and gateway dispatches fed
into the client's own ConnectionState parsers, as discord.py's gateway does."""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from adapters.discord.adapter import DiscordAdapter
from adapters.discord.plugin import DiscordPlugin
from bot.app import Bot
from bot.members import link_identity, person_by_email
from bot.types import Actor
from tests.adapters.discord.fake_discord import APP_ID, CHANNEL, GUILD, FakeDiscord
from tests.conftest import SHARED_FIXTURES

FIXTURES = SHARED_FIXTURES / "discord"
_ids = itertools.count(1_100_000_000_000_000_000)


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


def new_id() -> str:
    return str(next(_ids))


class Harness:
    """One bot, one fake Discord, one real ConveneClient on its own loop thread."""

    def __init__(self, bot: Bot, fake: FakeDiscord) -> None:
        self.bot, self.fake = bot, fake
        self.plugin = DiscordPlugin()
        self.adapter = self.new_adapter()

    def new_adapter(self) -> DiscordAdapter:
        """A fresh adapter and client (a "restart"), logged in (commands synced)."""
        if self.__dict__.get("adapter") is not None:
            self.close()
        self.bot.adapters.pop("discord.adapter", None)
        adapter = self.plugin.adapter(self.bot)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.run(adapter.client.login("test-token"))
        self.adapter = adapter
        return adapter

    def run(self, coro: Any, timeout: float = 20) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.run(self.adapter.client.close())
        self.adapter.close()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()

    # -- gateway ------------------------------------------------------------------------
    def feed(self, event: str, data: dict[str, Any]) -> None:
        """A gateway dispatch ``event`` with ``d=data`` into the client's parser."""
        if event == "INTERACTION_CREATE":
            self.fake.interaction_created(str(data["id"]))
        parser = self.adapter.client._connection.parsers[event]
        self.loop.call_soon_threadsafe(parser, copy.deepcopy(data))

    def link(self, email: str, user_id: str) -> None:
        with self.bot.session_factory() as s, s.begin():
            person = person_by_email(s, email)
            assert person is not None
            link_identity(s, person=person, actor=Actor("discord", "", user_id))

    def wait(self, predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = predicate()
            if got:
                return got
            time.sleep(0.01)
        raise AssertionError("timed out waiting")

    def followups(self, after: int = 0) -> list[Any]:
        """Followup posts, skipping the first ``after``."""
        return [c for c in self.fake.calls if c.method == "POST"
                and c.path.startswith(f"/webhooks/{APP_ID}/")][after:]

    def drain(self) -> int:
        return self.bot.new_worker().drain()


# --- interaction payloads, on the real fixtures' shapes ---------------------------------


#: Fields today's Discord sends that the (older) fixtures predate; discord.py 2.7 reads them.
#: The ``channel`` object is the real one captured in the modal-submit fixture.
CURRENT = {"attachment_size_limit": 10_485_760,
           "channel": {**fixture("discordbm_INTERACTION_CREATE_modal_submit.json")["d"]
                       ["channel"], "id": CHANNEL, "guild_id": GUILD}}


def _member(user_id: str) -> dict[str, Any]:
    member = copy.deepcopy(fixture("kord_rootcommand.json")["member"])
    member["user"]["id"] = user_id
    return member


def command(user_id: str, sub: str, **options: Any) -> dict[str, Any]:
    """``/convene <sub> option:value ...`` (kord_rootcommand.json's shape)."""
    data = copy.deepcopy(fixture("kord_rootcommand.json"))
    data.update(id=new_id(), token=f"tok-{new_id()}", guild_id=GUILD, channel_id=CHANNEL,
                application_id=APP_ID, member=_member(user_id), locale="en-US", **CURRENT)
    data["data"] = {"type": 1, "name": "convene", "id": new_id(), "options": [
        {"type": 1, "name": sub, "options": [{"type": 3, "name": k, "value": v}
                                             for k, v in options.items()]}]}
    return data


def press(user_id: str, message: dict[str, Any], custom_id: str,
          values: list[str] | None = None) -> dict[str, Any]:
    """A component press on ``message`` (disgo_button_component.json's shape)."""
    data = copy.deepcopy(fixture("disgo_button_component.json"))
    data.update(id=new_id(), token=f"tok-{new_id()}", guild_id=GUILD, channel_id=CHANNEL,
                application_id=APP_ID, member=_member(user_id), locale="en-US", **CURRENT)
    msg = dict(message)
    msg.setdefault("channel_id", CHANNEL)
    data["message"] = msg
    data["data"] = {"custom_id": custom_id, "component_type": 3 if values is not None else 2}
    if values is not None:
        data["data"]["values"] = values
    return data


def submit(user_id: str, custom_id: str, fields: dict[str, str]) -> dict[str, Any]:
    """A modal submission (discordbm_INTERACTION_CREATE_modal_submit.json's ``d``)."""
    data = copy.deepcopy(fixture("discordbm_INTERACTION_CREATE_modal_submit.json")["d"])
    data.update(id=new_id(), token=f"tok-{new_id()}", guild_id=GUILD, channel_id=CHANNEL,
                application_id=APP_ID, member=_member(user_id),
                attachment_size_limit=CURRENT["attachment_size_limit"])
    data["channel"].update(id=CHANNEL, guild_id=GUILD)
    data["data"] = {"custom_id": custom_id, "components": [
        {"type": 1, "components": [{"type": 4, "custom_id": k, "value": v}]}
        for k, v in fields.items()]}
    return data


def custom_ids(message: dict[str, Any]) -> list[str]:
    return [c.get("custom_id", "") for row in message.get("components", [])
            for c in row["components"]]


def fixture_path(name: str) -> Path:
    return FIXTURES / name
