"""A form stashed behind an "open" button by one replica opens on another
(issue 22): the stash is the ``form_stash`` table, shared by Slack and
Discord, not one process's memory; expired rows are swept."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import func, select

from adapters.discord.forms import PagedForms
from adapters.slack.plugin import plugin as slack_plugin
from bot.app import Bot
from bot.formstash import FormStash
from bot.outbox import ChatTarget, enqueue_chat
from bot.types import Form, FormField, Message
from storage.base import utcnow
from storage.models import StashedForm
from tests.adapters.slack.conftest import CHANNEL, SECRET, Served, action_body, form_headers
from tests.adapters.slack.fake_slack import TEAM, FakeSlack
from tests.clock import freeze

FORM = Form("poll.reason", "Your reason", "Send", (FormField("reason", "Why?", "textarea"),),
            context="1:1:block")
SURVEY = Form("survey", "Survey", "Send",
              tuple(FormField(f"q{i}", f"Question {i}", "text") for i in range(7)))


def test_slack_a_form_stashed_by_one_replica_opens_on_another(
        make_bot: Callable[..., Bot], db_url: str, fake_slack: FakeSlack) -> None:
    cfg = {"enabled": True, "bot_token": "xoxb-test-token", "signing_secret": SECRET,
           "api_url": fake_slack.api_url}
    one, two = make_bot(db_url, slack=cfg), make_bot(db_url, roster=None, slack=cfg)
    with one.session_factory() as s, s.begin():
        enqueue_chat(session=s, key="form:1", target=ChatTarget("slack", TEAM, CHANNEL),
                     message=Message("A block needs a reason.", form=FORM))
    one.new_worker().drain()  # replica one posts the button, its form stashed
    [post] = fake_slack.of("chat.postMessage")
    [button] = post.args["blocks"][-1]["elements"]
    served = Served(two)  # the press reaches replica two
    try:
        body = action_body(button["action_id"], button["value"], trigger="trig.other.1")
        assert served.post(body, form_headers(body)).status_code == 200
        [opened] = fake_slack.wait_for("views.open")
        assert opened.args["trigger_id"] == "trig.other.1"
        assert opened.args["view"]["callback_id"] == "poll.reason"
        assert json.loads(opened.args["view"]["private_metadata"])["c"] == "1:1:block"
    finally:
        served.stop()
        for bot in (one, two):
            slack_plugin.adapter(bot).close(wait=False)


def test_discord_pages_advance_on_any_replica_and_only_once(
        make_bot: Callable[..., Bot], db_url: str) -> None:
    one, two = make_bot(db_url), make_bot(db_url, roster=None)
    a, b = PagedForms(one.session_factory), PagedForms(two.session_factory)
    token = a.put(SURVEY)
    got = b.get(token)
    assert got is not None and got.form == SURVEY and got.page == 0 and got.pages == 2
    page_one = tuple((f"q{i}", str(i)) for i in range(5))
    moved = b.advance(token, page=0, values=(*page_one, ("intruder", "x")))
    assert moved is not None and moved.page == 1 and moved.values == page_one
    assert a.advance(token, page=0, values=page_one) is None  # the same page again
    seen = a.get(token)
    assert seen is not None and seen.page == 1 and seen.values == page_one
    assert a.get("no-such-token") is None


def test_expired_forms_are_gone_and_swept(make_bot: Callable[..., Bot], db_url: str) -> None:
    bot = make_bot(db_url)
    stash = FormStash(bot.session_factory, platform="discord", ttl=60)
    old = stash.put({"form": "x"})
    assert stash.get(old) is not None
    assert FormStash(bot.session_factory, platform="slack").get(old) is None
    freeze(utcnow() + timedelta(seconds=61))
    assert stash.get(old) is None
    assert stash.advance(old, page=0, values=()) is None
    stash.put({"form": "y"})  # a new stash sweeps the expired
    with bot.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(StashedForm)) == 1
