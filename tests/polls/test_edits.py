"""Edits open a new text version; earlier stances stop counting and voters are
asked again on every path (issue 11)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlalchemy import select

from adapters.console import ConsoleSession
from bot.app import Bot
from bot.types import Actor, ButtonPress, Conversation
from storage.models import AuditEntry, OutboxMessage
from tests.conftest import MEMBER, MEMBER_FR, SECRETARIAT
from tests.polls.helpers import fail_round_one, new_poll, open_round_two, proposal, stances

Chat = Callable[[str], ConsoleSession]


def _outbox(bot: Bot, part: str) -> list[OutboxMessage]:
    with bot.session_factory() as s:
        return [m for m in s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
                if part in m.key]


def _press(bot: Bot, email: str, value: str) -> str:
    replies = bot.dispatch(ButtonPress("poll.stance", value, Actor("email", "", email),
                                       Conversation("email", "", "x", is_direct=True),
                                       uuid.uuid4().hex))
    return "\n".join(r.message.text for r in replies)


def test_round_one_edit_asks_voters_again(bot: Bot, chat: Chat) -> None:
    pid = new_poll(bot, SECRETARIAT)
    amara = chat(MEMBER)
    amara.feed(f"poll show {pid}")
    assert "Your stance" in amara.feed("1")  # the Agree button of version 1
    out = chat(SECRETARIAT).feed(f"poll edit {pid} We adopt v3 of the protocol instead.")
    assert f"Proposal #{pid} now has text version 2" in out and "1 voter is asked again" in out
    mails = _outbox(bot, ":changed:")
    assert [m.payload["to"] for m in mails] == [[MEMBER]]
    assert "We adopt v3 of the protocol instead." in mails[0].payload["text"]
    # the old stance is on record, no longer counted
    assert stances(bot, pid)["p:1"][0] == "agree"
    shown = amara.feed(f"poll show {pid}")
    assert "Agree 0" in shown and "version 2" in shown and "take your stance again" in shown
    # a button shown for version 1 is refused, with the new text
    out = _press(bot, MEMBER, f"{pid}:1:1:agree")
    assert "changed" in out and "nothing was recorded" in out, out
    with bot.session_factory() as s:
        edits = s.scalars(select(AuditEntry).where(AuditEntry.action == "poll.edit")).all()
        assert [(e.detail["previous_version"], e.detail["invalidated"]) for e in edits] == [
            (1, 1)]
    # the new version's button counts
    assert "Your stance" in _press(bot, MEMBER, f"{pid}:1:2:agree")
    assert "Agree 1" in chat(MEMBER).feed(f"poll show {pid}")


def test_round_two_edit_before_any_stance_is_a_new_version(bot: Bot) -> None:
    pid = fail_round_one(bot, secretariat=SECRETARIAT, block_by=MEMBER_FR)
    open_round_two(bot, secretariat=SECRETARIAT, pid=pid)
    first = _outbox(bot, ":r2:ballot")
    assert first
    out = ConsoleSession(dispatch=bot.dispatch, email=SECRETARIAT).feed(
        f"poll edit {pid} A different text for round two.")
    assert "text version 2" in out, out
    assert proposal(bot, pid).version == 2
    again = _outbox(bot, ":r2:v2:ballot")
    assert {tuple(m.payload["to"]) for m in again} == {tuple(m.payload["to"]) for m in first}
    assert all("A different text for round two." in m.payload["text"] for m in again)
    # a reply or link for the old ballot (the older value shape) is refused
    out = _press(bot, MEMBER, f"{pid}:2:agree")
    assert "nothing was recorded" in out and "A different text for round two." in out, out
    assert not stances(bot, pid, 2)
    assert "Your stance" in _press(bot, MEMBER, f"{pid}:2:2:agree")


def test_unchanged_text_is_refused(bot: Bot, chat: Chat) -> None:
    pid = new_poll(bot, SECRETARIAT, text="Same text.")
    out = chat(SECRETARIAT).feed(f"poll edit {pid} Same text.")
    assert "already the text" in out and proposal(bot, pid).version == 1
