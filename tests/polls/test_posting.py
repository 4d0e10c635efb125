"""The proposal message goes to the conversation it was made in and to the
group's channels, with ref ``poll:<id>``; each stance queues a refreshed tally."""

from __future__ import annotations

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
    assert targets == [("chat:console", "room-1", "poll:1"), ("chat:slack", "C_ALL", "poll:1")] * 2
    assert len({r.key for r in rows}) == 4  # a unique outbox key per refresh
    last = message_from_data(rows[-1].payload["message"])
    buttons = [b for blk in last.blocks if hasattr(blk, "elements") for b in blk.elements]
    assert [(b.action_id, b.value) for b in buttons] == [
        ("poll.stance", "1:1:1:agree"), ("poll.stance", "1:1:1:abstain"),
        ("poll.stance", "1:1:1:disagree"), ("poll.stance", "1:1:1:block")]
    assert "Agree 1" in last.text
    assert any(getattr(b, "png", b"").startswith(b"\x89PNG\r\n\x1a\n")
               for b in last.blocks)
