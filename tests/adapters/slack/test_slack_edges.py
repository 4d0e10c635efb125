"""The Slack edge (issue 11): malformed and oversized bodies, foreign
workspaces, and form errors shown inside the modal."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import quote

import httpx
from sqlalchemy import func, select

from bot.app import Bot
from storage.models import Proposal
from tests.adapters.slack.conftest import (
    Served,
    action_body,
    form_headers,
    json_headers,
    slash_body,
    view_body,
)
from tests.adapters.slack.fake_slack import FakeSlack


def test_malformed_bodies_get_400_after_the_signature(served: Served) -> None:
    for body, headers in (("payload=%7Bnot-json", form_headers("payload=%7Bnot-json")),
                          ("{not json", json_headers("{not json")),
                          ("[1, 2]", json_headers("[1, 2]"))):
        resp = served.post(body, headers)
        assert resp.status_code == 400, (body, resp.status_code, resp.text)
        assert "Traceback" not in resp.text
    # unsigned garbage is refused as unsigned, before it is parsed
    assert served.post("{not json", {"Content-Type": "application/json"}).status_code == 401
    bad_ts = {**json_headers("{}"), "X-Slack-Request-Timestamp": "soon"}
    assert served.post("{}", bad_ts).status_code == 401


def test_oversized_bodies_get_413_without_being_buffered(served: Served) -> None:
    big = "payload=" + "x" * (2 << 20)
    assert served.post(big, form_headers("payload=")).status_code == 413

    def stream() -> Iterator[bytes]:
        for _ in range(64):  # 64 MB offered in 1 MB chunks, without Content-Length
            yield b"x" * (1 << 20)

    with httpx.Client(timeout=30) as client:
        try:
            resp = client.post(served.url, content=stream(), headers=form_headers("payload="))
            status = resp.status_code
        except httpx.HTTPError:
            status = 413  # the server answered and closed while we were still sending
    assert status == 413


def test_a_foreign_workspace_is_refused(served: Served, fake_slack: FakeSlack,
                                        slack_bot: Bot) -> None:
    body = slash_body("whoami", response_url=fake_slack.hook_url("own")).replace(
        "team_id=T", "team_id=T", 1)
    assert served.post(body, form_headers(body)).status_code == 200
    fake_slack.wait_for("hook")
    foreign = body.replace("team_id=T", "team_id=TFOREIGN", 1)
    assert "TFOREIGN" in foreign
    assert served.post(foreign, form_headers(foreign)).status_code == 403
    press = action_body("poll.stance", "1:1:1:agree").replace(quote('"T'), quote('"TX'))
    assert served.post(press, form_headers(press)).status_code == 403


def test_modal_errors_are_shown_inside_the_modal(served: Served, fake_slack: FakeSlack,
                                                slack_bot: Bot) -> None:
    body = slash_body("whoami", response_url=fake_slack.hook_url("link"))
    assert served.post(body, form_headers(body)).status_code == 200
    fake_slack.wait_for("hook")  # the Slack user is now linked to the roster
    values = {"title": {"type": "plain_text_input", "value": "Budget"},
              "text": {"type": "plain_text_input", "value": "Adopt it."},
              "group": {"type": "plain_text_input", "value": "Alliance"},
              "closes": {"type": "plain_text_input", "value": "2001-01-01 10:00"},
              "quorum": {"type": "plain_text_input", "value": "50"},
              "visibility": {"type": "plain_text_input", "value": "live"}}
    view = view_body("poll.new", values, metadata="")
    resp = served.post(view, form_headers(view))
    assert resp.status_code == 200
    answer = json.loads(resp.text)
    assert answer["response_action"] == "errors"
    assert list(answer["errors"]) == ["closes"]
    assert "future" in answer["errors"]["closes"]
    with slack_bot.session_factory() as s:
        assert s.scalar(select(func.count(Proposal.id))) == 0
    assert not fake_slack.of("chat.postEphemeral")


def test_a_sprint_modal_names_each_refused_field(served: Served, fake_slack: FakeSlack,
                                                 slack_bot: Bot) -> None:
    """Issue 20: `Seats: three` and `Currency: EURO` are refused next to their
    field, by the parsers the one-line command uses; the modal stays open."""
    from storage.models import Sprint
    from tests.sprints.helpers import day

    body = slash_body("whoami", response_url=fake_slack.hook_url("link"))
    assert served.post(body, form_headers(body)).status_code == 200
    fake_slack.wait_for("hook")
    answers = {"title": "Soil probes", "aim": "Compare probes.", "topics": "soil_measurement",
               "group": "Alliance", "starts": day(15)[:10], "ends": day(19)[:10],
               "cutoff": day(10)[:10], "capacity": "three", "org_cap": "0", "leads": "1",
               "currency": "EUR", "goal": "", "minimum": "", "funding_deadline": ""}
    for field, bad, says in (("capacity", "three", "whole number"),
                             ("currency", "EURO", "is not a currency")):
        given = {**answers, "capacity": "3", field: bad}
        values = {k: {"type": "plain_text_input", "value": v} for k, v in given.items()}
        view = view_body("sprint.propose", values, metadata="")
        answer = json.loads(served.post(view, form_headers(view)).text)
        assert answer["response_action"] == "errors"
        assert list(answer["errors"]) == [field] and says in answer["errors"][field], answer
    with slack_bot.session_factory() as s:
        assert s.scalar(select(func.count(Sprint.id))) == 0
