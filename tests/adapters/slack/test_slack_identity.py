"""After a restart, Slack accounts are resolved from the roster's linked
identities first (one query per workspace, not one per account), and accounts
not linked yet from one batched ``users.list`` directory, not one
``users.info`` call each (issue 24: the inbox drained at 11-19 presses a
second after a restart)."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient
from sqlalchemy import event, insert, select

from adapters.slack.identity import IdentityCache
from bot.app import Bot
from bot.types import Actor
from storage.models import EmailAddress, Identity
from tests.adapters.slack.fake_slack import TEAM, FakeSlack


def _cache(bot: Bot, fake: FakeSlack) -> IdentityCache:
    return IdentityCache(bot, WebClient(token="xoxb-test", base_url=fake.api_url))


def _count_selects(bot: Bot) -> list[str]:
    seen: list[str] = []

    def before(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    event.listen(bot.engine, "before_cursor_execute", before)
    return seen


def test_unlinked_accounts_come_from_one_directory_listing(bot: Bot) -> None:
    with bot.session_factory() as s:
        addresses = s.scalars(select(EmailAddress.address).order_by(EmailAddress.id)).all()
    users = {f"UNEW{i:03d}": a for i, a in enumerate(addresses)}
    fake = FakeSlack(users=dict(users, UNOTINROSTER="nobody@elsewhere.example")).start()
    try:
        cache = _cache(bot, fake)
        assert all(cache.ensure(Actor("slack", TEAM, u)) for u in users)
        assert not cache.ensure(Actor("slack", TEAM, "UNOTINROSTER"))
        assert len(users) > 5
        assert fake.of("users.info") == []
        assert len(fake.of("users.list")) == 1
        with bot.session_factory() as s:
            linked = s.scalars(select(Identity.user_id).where(Identity.platform == "slack"))
            assert set(linked) == set(users)
    finally:
        fake.stop()


def test_a_restart_reads_the_linked_accounts_in_one_query(bot: Bot) -> None:
    with bot.session_factory() as s, s.begin():
        people = s.scalars(select(EmailAddress.person_id).order_by(EmailAddress.id)).all()
        s.execute(insert(Identity), [{"person_id": p, "platform": "slack", "workspace_id": TEAM,
                                      "user_id": f"ULINKED{i:03d}"}
                                     for i, p in enumerate(people)])
    fake = FakeSlack().start()
    try:
        cache = _cache(bot, fake)  # a new process: nothing in memory
        selects = _count_selects(bot)
        assert all(cache.ensure(Actor("slack", TEAM, f"ULINKED{i:03d}"))
                   for i in range(len(people)))
        assert len(people) > 5 and len(selects) == 1
        assert fake.calls == []
    finally:
        fake.stop()
