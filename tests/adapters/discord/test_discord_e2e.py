"""discord.py's own objects, from real payload shapes, drive the adapter end to
end against a fake Discord API: commands, persistent buttons, modals, tallies
edited in place, refusals, repeats and late answers."""

from __future__ import annotations

from sqlalchemy import func, select

from storage.models import Stance
from tests.adapters.discord.fake_discord import CHANNEL
from tests.adapters.discord.harness import Harness, command, custom_ids, press, submit
from tests.conftest import MEMBER, OBSERVER

ALICE = "700000000000000001"  # linked to MEMBER
OLIVER = "700000000000000002"  # linked to OBSERVER


def _stances(h: Harness) -> int:
    with h.bot.session_factory() as s:
        return s.scalar(select(func.count(Stance.id))) or 0


def _new_poll(h: Harness) -> tuple[int, dict]:
    """/convene poll action:new text:... -> the proposal posted in the channel."""
    h.feed("INTERACTION_CREATE", command(
        ALICE, "poll", action="new", text="Adopt the soil charter | We adopt it. | 2030-01-01 12:00"))
    h.wait(lambda: h.followups())
    assert "is open for stances" in str(h.followups()[0].body)
    h.drain()
    posts = h.wait(lambda: h.fake.find("POST", f"/channels/{CHANNEL}/messages"))
    message = h.fake.messages[posts[-1].body and list(h.fake.messages)[-1]]
    return 1, message


def test_slash_command_button_and_tally_edited_in_place(harness: Harness) -> None:
    h = harness
    h.link(MEMBER, ALICE)
    synced = h.fake.find("PUT", "/applications/")
    assert synced and synced[0].body[0]["name"] == "convene"
    subs = {o["name"] for o in synced[0].body[0]["options"]}
    assert {"poll", "vote", "help", "link", "do"} <= subs
    _, message = _new_poll(h)
    agree = next(c for c in custom_ids(message) if c.endswith(":agree"))
    h.feed("INTERACTION_CREATE", press(ALICE, message, agree))
    h.wait(lambda: len(h.followups()) >= 2)
    assert _stances(h) == 1
    assert "Your stance on proposal #1" in str(h.followups()[-1].body)
    h.drain()
    edits = h.wait(lambda: h.fake.find("PATCH", f"/channels/{CHANNEL}/messages/{message['id']}"))
    assert edits and h.fake.messages[message["id"]]["edited_timestamp"]

