"""The real slack-bolt App in HTTP mode, served by uvicorn on loopback, against
the fake Slack Web API: signatures, acknowledgement, replies, identity, retries,
App Home, and the roster commands that exist in the core."""

from __future__ import annotations

import json
import time
from pathlib import Path

from sqlalchemy import func, select

from adapters.slack.plugin import plugin as slack_plugin
from bot.app import Bot
from bot.types import Actor
from storage.models import Identity, ProcessedEvent
from tests.adapters.slack.conftest import (
    CHANNEL,
    Served,
    action_body,
    fixture_body,
    form_headers,
    json_headers,
    slash_body,
    view_body,
)
from tests.adapters.slack.fake_slack import TEAM, FakeSlack
from tests.conftest import MEMBER


def test_signed_slash_command_is_acknowledged_then_answered(
        served: Served, fake_slack: FakeSlack) -> None:
    body = slash_body("whoami", response_url=fake_slack.hook_url("r1"))
    resp = served.post(body, form_headers(body))
    assert resp.status_code == 200 and resp.text == ""  # the bare receipt
    [hook] = fake_slack.wait_for("hook")
    assert hook.args["response_type"] == "ephemeral"
    assert "Amara Okafor" in json.dumps(hook.args["blocks"])
    assert len(fake_slack.of("users.list")) == 1 and fake_slack.of("users.info") == []
    assert slack_plugin.adapter(served.bot).events.warm  # later requests are acked inline
    body = slash_body("help", response_url=fake_slack.hook_url("r2"))
    assert served.post(body, form_headers(body)).status_code == 200
    assert fake_slack.wait_for("hook", 2)[1].path == "/hooks/r2"


def test_bad_signature_and_old_timestamp_are_refused(
        served: Served, fake_slack: FakeSlack) -> None:
    body = slash_body("whoami")
    assert served.post(body, form_headers(body, secret="not-the-secret")).status_code == 401
    stale = int(time.time()) - 60 * 10
    assert served.post(body, form_headers(body, timestamp=stale)).status_code == 401
    tampered = form_headers(body)
    assert served.post(body.replace("whoami", "members"), tampered).status_code == 401
    time.sleep(0.3)
    assert fake_slack.of("users.info") == fake_slack.of("users.list") == []
    assert fake_slack.of("hook") == []


def test_url_verification_fixture(served: Served, shared_fixtures: Path) -> None:
    body = fixture_body(shared_fixtures, "opsdroid_payload_url_verification.json")
    resp = served.post(body, json_headers(body))
    assert resp.status_code == 200 and resp.json() == {"challenge": "here-comes-a-challenge"}


def _mention(text: str, *, event_id: str, user: str = "UMEMBER") -> str:
    return json.dumps({
        "token": "x", "team_id": TEAM, "api_app_id": "A1", "type": "event_callback",
        "event_id": event_id, "event_time": int(time.time()),
        "event": {"type": "app_mention", "user": user, "text": f"<@UCONVENEBOT> {text}",
                  "ts": "1.000200", "channel": CHANNEL, "event_ts": "1.000200"},
    })


def test_slack_retries_never_act_twice(served: Served, fake_slack: FakeSlack,
                                       slack_bot: Bot) -> None:
    body = _mention("help", event_id="Ev0RETRY1")
    assert served.post(body, json_headers(body)).status_code == 200
    retry = {**json_headers(body), "X-Slack-Retry-Num": "1",
             "X-Slack-Retry-Reason": "http_timeout"}
    assert served.post(body, retry).status_code == 200
    [eph] = fake_slack.wait_for("chat.postEphemeral")
    assert eph.args["channel"] == CHANNEL and eph.args["user"] == "UMEMBER"
    time.sleep(0.5)
    assert len(fake_slack.of("chat.postEphemeral")) == 1
    with slack_bot.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(ProcessedEvent)
                        .where(ProcessedEvent.event_id == "Ev0RETRY1")) == 1


def test_unknown_slack_user_is_refused_politely(served: Served, fake_slack: FakeSlack) -> None:
    body = slash_body("members", user="USTRANGER", response_url=fake_slack.hook_url("r"))
    assert served.post(body, form_headers(body)).status_code == 200
    [hook] = fake_slack.wait_for("hook")
    assert hook.args["response_type"] == "ephemeral" and "Traceback" not in hook.args["text"]


def test_secretariat_lists_members_with_escaped_addresses(
        served: Served, fake_slack: FakeSlack) -> None:
    body = slash_body("members", user="USECRETARIAT", response_url=fake_slack.hook_url("r"))
    served.post(body, form_headers(body))
    [hook] = fake_slack.wait_for("hook")
    text = json.dumps(hook.args["blocks"])
    assert f"&lt;{MEMBER}&gt;" in text  # an address is not taken for a Slack link


def test_one_person_in_two_workspaces(slack_bot: Bot, fake_slack: FakeSlack) -> None:
    adapter = slack_plugin.adapter(slack_bot)
    fake_slack.users["UOTHERWS"] = MEMBER.upper()
    assert adapter.identities.ensure(Actor("slack", TEAM, "UMEMBER"))
    assert adapter.identities.ensure(Actor("slack", "T0SECOND", "UOTHERWS"))
    assert adapter.identities.ensure(Actor("slack", TEAM, "UMEMBER"))  # cached now
    assert len(fake_slack.of("users.list")) == 2  # one directory per workspace
    with slack_bot.session_factory() as s:
        people = s.scalars(select(Identity.person_id).where(Identity.platform == "slack")).all()
    assert len(people) == 2 and len(set(people)) == 1
    assert not adapter.identities.ensure(Actor("slack", TEAM, "UNOBODY"))
    assert not adapter.identities.ensure(Actor("slack", TEAM, "UNOBODY"))  # not asked again
    assert [c.args["user"] for c in fake_slack.of("users.info")].count("UNOBODY") == 1


def test_app_home_is_published(served: Served, fake_slack: FakeSlack) -> None:
    body = json.dumps({"token": "x", "team_id": TEAM, "api_app_id": "A1",
                       "type": "event_callback", "event_id": "Ev0HOME1",
                       "event_time": int(time.time()),
                       "event": {"type": "app_home_opened", "user": "UMEMBERFR",
                                 "channel": "D1", "tab": "home", "event_ts": "1.2"}})
    assert served.post(body, json_headers(body)).status_code == 200
    [pub] = fake_slack.wait_for("views.publish")
    assert pub.args["user_id"] == "UMEMBERFR" and pub.args["view"]["type"] == "home"
    assert "Claire" in json.dumps(pub.args["view"]["blocks"])


def test_deliverer_posts_then_updates(slack_bot: Bot, fake_slack: FakeSlack) -> None:
    from bot.outbox import ChatTarget, enqueue_chat
    from bot.types import Message, Section

    target = ChatTarget("slack", TEAM, CHANNEL)
    for n in (1, 2):
        with slack_bot.session_factory() as s, s.begin():
            enqueue_chat(session=s, key=f"tally:{n}", target=target,
                         message=Message(f"tally {n}", blocks=(Section(f"tally {n}"),)),
                         ref="poll:99")
        slack_bot.new_worker().drain()
    [post] = fake_slack.of("chat.postMessage")
    [update] = fake_slack.of("chat.update")
    assert update.args["channel"] == CHANNEL and update.args["text"] == "tally 2"
    assert fake_slack.messages[(CHANNEL, update.args["ts"])]["text"] == "tally 2"
    assert post.token == "xoxb-test-token"


def test_reply_to_a_modal_opened_outside_a_channel_goes_to_a_dm(
        served: Served, fake_slack: FakeSlack) -> None:
    body = view_body("no.such.form", {"x": {"type": "plain_text_input", "value": "1"}},
                     metadata="")
    assert served.post(body, form_headers(body)).status_code == 200
    [dm] = fake_slack.wait_for("chat.postMessage")
    assert dm.args["channel"] == "UMEMBER" and "no longer recognised" in dm.args["text"]


def test_form_without_trigger_becomes_a_button_that_opens_it(
        served: Served, fake_slack: FakeSlack, slack_bot: Bot) -> None:
    from bot.outbox import ChatTarget, enqueue_chat
    from bot.types import Form, FormField, Message

    form = Form("poll.reason", "Your reason", "Send", (FormField("reason", "Why?", "textarea"),),
                context="1:1:block")
    with slack_bot.session_factory() as s, s.begin():
        enqueue_chat(session=s, key="form:1", target=ChatTarget("slack", TEAM, CHANNEL),
                     message=Message("A block needs a reason.", form=form))
    slack_bot.new_worker().drain()
    [post] = fake_slack.of("chat.postMessage")
    [button] = post.args["blocks"][-1]["elements"]
    assert button["action_id"] == "slack.form" and button["text"]["text"] == "Your reason"
    body = action_body(button["action_id"], button["value"], trigger="trig.open.1")
    assert served.post(body, form_headers(body)).status_code == 200
    [opened] = fake_slack.wait_for("views.open")
    assert opened.args["trigger_id"] == "trig.open.1"
    assert opened.args["view"]["callback_id"] == "poll.reason"
    assert json.loads(opened.args["view"]["private_metadata"])["c"] == "1:1:block"


def test_command_whose_text_says_payload_reaches_the_core(
        served: Served, fake_slack: FakeSlack) -> None:
    """Issue 22: slack-bolt read a form body containing the word "payload" as an
    interaction's payload= field, so such a /convene command never reached the
    core. The body bolt works on is now the one Convene parsed."""
    body = slash_body("whoami payload", response_url=fake_slack.hook_url("p1"))
    assert "payload" in body
    resp = served.post(body, form_headers(body))
    assert resp.status_code == 200
    [hook] = fake_slack.wait_for("hook")
    assert hook.path == "/hooks/p1"
    assert "Amara Okafor" in json.dumps(hook.args["blocks"])


def test_a_response_url_outside_slack_is_not_posted_to(
        served: Served, fake_slack: FakeSlack) -> None:
    """Convene posts a reply only where Slack says: a response_url on another
    host (here a loopback server of this test's) is ignored, the reply goes by
    chat.postEphemeral instead."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()

    other = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    try:
        body = slash_body("whoami",
                          response_url=f"http://127.0.0.1:{other.server_address[1]}/hook")
        assert served.post(body, form_headers(body)).status_code == 200
        [posted] = fake_slack.wait_for("chat.postEphemeral")
        assert "Amara Okafor" in json.dumps(posted.args)
        assert hits == []
    finally:
        other.shutdown()
        other.server_close()
