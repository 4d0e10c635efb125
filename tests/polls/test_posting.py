"""The proposal message goes to the conversation it was made in and to the
group's channels, with ref ``poll:<id>``; stances queue one coalesced refresh,
rendered when delivered."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from bot.app import Bot
from bot.types import Actor, ButtonPress, Command, Conversation, message_from_data
from storage.models import Group, OutboxMessage
from tests.conftest import MEMBER, MEMBER_FR
from tests.polls.helpers import closes_in


def test_posted_to_origin_and_group_channels_and_refreshed(bot: Bot) -> None:
    with bot.session_factory() as s, s.begin():
        alliance = s.scalars(select(Group).where(Group.is_alliance.is_(True))).one()
        alliance.channels = {"slack": {"workspace_id": "T1", "channel_id": "C_ALL"}}
    where = Conversation("console", "", "room-1")
    replies = bot.dispatch(Command("poll", f"new Title | Text | {closes_in()}",
                                   Actor("console", "", MEMBER), where, "c1"))
    assert "is open for stances" in replies[0].message.text
    bot.dispatch(ButtonPress("poll.stance", "1:1:agree", Actor("console", "", MEMBER_FR),
                             where, "b1"))
    with bot.session_factory() as s:
        rows = s.scalars(select(OutboxMessage).where(OutboxMessage.kind.like("chat:%"))
                         .order_by(OutboxMessage.id)).all()
    targets = [(r.kind, r.payload["channel_id"], r.payload["ref"]) for r in rows]
    # The creation's post and the stance's refresh are one pending row per target.
    assert targets == [("chat:console", "room-1", "poll:1"), ("chat:slack", "C_ALL", "poll:1")]
    assert all(r.payload["render"] == "poll.tally" and "message" not in r.payload for r in rows)
    got: list[tuple[str, dict[str, Any], str | None]] = []

    def deliver(payload: Mapping[str, Any], *, existing_id: str | None) -> str:
        got.append((payload["platform"], dict(payload["message"]), existing_id))
        return existing_id or f"m-{payload['platform']}"

    bot.chat_deliverers.update(console=deliver, slack=deliver)
    assert bot.new_worker().drain() == 2
    assert [(p, e) for p, _, e in got] == [("console", None), ("slack", None)]
    last = message_from_data(got[-1][1])  # rendered when delivered: the latest tally
    buttons = [b for blk in last.blocks if hasattr(blk, "elements") for b in blk.elements]
    assert [(b.action_id, b.value) for b in buttons] == [
        ("poll.stance", "1:1:1:agree"), ("poll.stance", "1:1:1:abstain"),
        ("poll.stance", "1:1:1:disagree"), ("poll.stance", "1:1:1:block")]
    assert "Agree 1" in last.text
    assert any(getattr(b, "png", b"").startswith(b"\x89PNG\r\n\x1a\n")
               for b in last.blocks)
    # The next stance, after delivery: a new refresh, updating the same messages.
    bot.dispatch(ButtonPress("poll.stance", "1:1:block", Actor("console", "", MEMBER),
                             where, "b2"))
    got.clear()
    bot.dispatch(Command("vote", "1 block It costs too much", Actor("console", "", MEMBER),
                         where, "b3"))
    assert bot.new_worker().drain() == 2
    assert [(p, e) for p, _, e in got] == [("console", "m-console"), ("slack", "m-slack")]
    assert "Block 1" in message_from_data(got[-1][1]).text
