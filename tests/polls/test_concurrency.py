"""Concurrent stances: one row per voting unit per round, whatever the channel
and however many arrive at once (the UNIQUE constraint plus an upsert)."""

from __future__ import annotations

import threading
import uuid

from bot.app import Bot
from bot.types import Actor, ButtonPress, Conversation
from tests.conftest import CHAIR, MEMBER, MEMBER_ES, MEMBER_FR, SECRETARIAT
from tests.polls.helpers import audits, new_poll, proposal, stances

PRIYA = "priya.nair@carbonledger.example"


def test_one_stance_per_voter_under_concurrency(bot: Bot) -> None:
    pid = new_poll(bot, SECRETARIAT)
    voters = (MEMBER, MEMBER_FR, MEMBER_ES, PRIYA)  # the chair stays out: no early close
    barrier = threading.Barrier(16)
    errors: list[BaseException] = []

    def cast(i: int) -> None:
        email = voters[i % len(voters)]
        platform = ("console", "email", "web")[i % 3]
        stance = ("agree", "abstain")[i % 2]
        ev = ButtonPress("poll.stance", f"{pid}:1:{stance}", Actor(platform, "", email),
                         Conversation(platform, "", "c"), event_id=uuid.uuid4().hex)
        barrier.wait()
        try:
            replies = bot.dispatch(ev)
            text = replies[0].message.text
            assert "went wrong" not in text and ("round 1" in text or "tour 1" in text \
                                                 or "ronda 1" in text), text
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=cast, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    got = stances(bot, pid)
    assert len(got) == 4  # one per voter, across console, email and web
    assert len(audits(bot)) == 16  # every accepted stance or change is audited
    assert proposal(bot, pid).state == "open"
    # the fifth voter completes the round: it closes early, once
    bot.dispatch(ButtonPress("poll.stance", f"{pid}:1:agree", Actor("console", "", CHAIR),
                             Conversation("console", "", "c"), event_id="last"))
    assert proposal(bot, pid).state == "decided"
    assert len(audits(bot, "poll.close")) == 1
