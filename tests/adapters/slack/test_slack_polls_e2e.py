"""End to end through the real slack-bolt App (HTTP mode, uvicorn on loopback)
and the fake Slack Web API: a signed slash command creates a poll, a signed
button press records a stance, the poll message is updated with chat.update;
forms open as modals and come back as view submissions."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from bot.app import Bot
from bot.outbox import OutboxWorker
from storage.base import utcnow
from tests.adapters.slack.conftest import (
    CHANNEL,
    Served,
    action_body,
    form_headers,
    slash_body,
    view_body,
)
from tests.adapters.slack.fake_slack import FakeSlack


@pytest.fixture
def worker(slack_bot: Bot) -> Iterator[OutboxWorker]:
    """The outbox worker running as in ``convene serve`` (polling fast)."""
    w = slack_bot.new_worker()
    w.poll_seconds = 0.05
    w.start()
    yield w
    w.stop()


def _closes() -> str:
    return (utcnow() + timedelta(days=7)).strftime("%Y-%m-%d 17:00")


def _buttons(blocks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Stance buttons of a rendered tally (value <id>:<round>:<version>:<stance>), by stance."""
    return {e["value"].rsplit(":", 1)[1]: e for b in blocks if b["type"] == "actions"
            for e in b["elements"] if e.get("value", "").count(":") == 3}


def _create_poll(served: Served, fake: FakeSlack) -> tuple[str, dict[str, Any]]:
    body = slash_body(f"poll new Budget 2027 | Adopt the 2027 budget | {_closes()}",
                      response_url=fake.hook_url("create"))
    resp = served.post(body, form_headers(body))
    assert resp.status_code == 200
    [hook] = fake.wait_for("hook")
    assert hook.args["response_type"] == "ephemeral" and "#1" in hook.args["text"]
    [post] = fake.wait_for("chat.postMessage")
    assert post.args["channel"] == CHANNEL
    ts = next(ts for (ch, ts) in fake.messages if ch == CHANNEL)
    return ts, post.args


def test_command_creates_poll_button_records_stance_message_updated(
        served: Served, fake_slack: FakeSlack, worker: OutboxWorker) -> None:
    ts, post = _create_poll(served, fake_slack)
    buttons = _buttons(post["blocks"])
    assert set(buttons) == {"agree", "abstain", "disagree", "block"}
    assert len({b["action_id"] for b in buttons.values()}) == 4  # unique within the message
    agree = buttons["agree"]

    body = action_body(agree["action_id"], agree["value"], message_ts=ts,
                       response_url=fake_slack.hook_url("agree"))
    assert served.post(body, form_headers(body)).status_code == 200
    [update] = fake_slack.wait_for("chat.update")
    assert (update.args["channel"], update.args["ts"]) == (CHANNEL, ts)
    assert "Agree 0" in json.dumps(post["blocks"], ensure_ascii=False)
    assert "Agree 1" in json.dumps(update.args["blocks"], ensure_ascii=False)
    hooks = fake_slack.wait_for("hook", 2)
    assert hooks[1].path == "/hooks/agree" and "#1" in hooks[1].args["text"]

    # An observer's press is refused in the core: a private sentence, no new tally.
    body = action_body(agree["action_id"], agree["value"], user="UOBSERVER", message_ts=ts,
                       response_url=fake_slack.hook_url("observer"))
    assert served.post(body, form_headers(body)).status_code == 200
    refused = fake_slack.wait_for("hook", 3)[2]
    assert refused.path == "/hooks/observer" and refused.args["response_type"] == "ephemeral"
    assert len(fake_slack.of("chat.update")) == 1


def test_block_without_reason_opens_a_modal_whose_submission_counts(
        served: Served, fake_slack: FakeSlack, worker: OutboxWorker) -> None:
    ts, post = _create_poll(served, fake_slack)
    block = _buttons(post["blocks"])["block"]
    body = action_body(block["action_id"], block["value"], trigger="trig.block.1",
                       message_ts=ts, response_url=fake_slack.hook_url("block"))
    served.post(body, form_headers(body))
    [opened] = fake_slack.wait_for("views.open")
    view = opened.args["view"]
    assert opened.args["trigger_id"] == "trig.block.1"
    assert view["callback_id"] == "poll.reason" and view["blocks"][-1]["block_id"] == "reason"
    assert fake_slack.of("chat.update") == []

    body = view_body("poll.reason", {"reason": {"type": "plain_text_input",
                                                "value": "Too costly for small members"}},
                     metadata=view["private_metadata"])
    resp = served.post(body, form_headers(body))
    assert resp.status_code == 200 and resp.text == ""  # ack closes the modal
    [update] = fake_slack.wait_for("chat.update")
    assert (update.args["channel"], update.args["ts"]) == (CHANNEL, ts)
    tally = json.dumps(update.args["blocks"], ensure_ascii=False)
    assert "Block 1" in tally and "Too costly for small members" in tally
    [confirm] = fake_slack.wait_for("chat.postEphemeral")  # no response_url from a modal
    assert confirm.args["channel"] == CHANNEL and confirm.args["user"] == "UMEMBER"
    assert "#1" in confirm.args["text"]


def test_poll_new_form_round_trip(served: Served, fake_slack: FakeSlack,
                                  worker: OutboxWorker) -> None:
    body = slash_body("poll new", trigger="trig.form.1", response_url=fake_slack.hook_url("f"))
    served.post(body, form_headers(body))
    [opened] = fake_slack.wait_for("views.open")
    view = opened.args["view"]
    assert view["callback_id"] == "poll.new"
    kinds = {b["block_id"]: b["element"]["type"] for b in view["blocks"] if b["type"] == "input"}
    assert kinds == {"title": "plain_text_input", "text": "plain_text_input",
                     "group": "static_select", "closes": "datetimepicker",
                     "quorum": "number_input", "visibility": "static_select"}
    closes = int((utcnow() + timedelta(days=5)).timestamp())
    body = view_body("poll.new", {
        "title": {"type": "plain_text_input", "value": "Shared soil protocol"},
        "text": {"type": "plain_text_input", "value": "Adopt protocol v2."},
        "group": {"type": "static_select", "selected_option": {"value": "Alliance"}},
        "closes": {"type": "datetimepicker", "selected_date_time": closes},
        "quorum": {"type": "number_input", "value": None},
        "visibility": {"type": "static_select", "selected_option": None},
    }, metadata=view["private_metadata"])
    assert served.post(body, form_headers(body)).status_code == 200
    [post] = fake_slack.wait_for("chat.postMessage", 1)
    assert post.args["channel"] == CHANNEL
    assert "Shared soil protocol" in json.dumps(post.args["blocks"])
    assert set(_buttons(post.args["blocks"])) == {"agree", "abstain", "disagree", "block"}
