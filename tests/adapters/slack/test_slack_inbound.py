"""Golden tests: real Slack payloads (../shared/fixtures/slack/) -> core events."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from adapters.slack.inbound import (
    action_events,
    command_event,
    decode_metadata,
    decode_text,
    message_event,
    parse_body,
    team_of,
    view_submission_event,
)
from adapters.slack.outbound import encode_metadata
from bot.types import Actor, ButtonPress, Command, Conversation, FormSubmission
from tests.adapters.slack.conftest import fixture_body

FORM = "application/x-www-form-urlencoded"


def _form(shared: Path, name: str) -> dict[str, Any]:
    """A fixture body as the HTTP edge reads it (adapters/slack/edges.py)."""
    return parse_body(fixture_body(shared, name).encode(), FORM)

T = "T01ND2P8N91"
ZT = "T06NRA6HM3P"


def _json(shared: Path, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((shared / "slack" / name).read_text())
    return data


def test_slash_command(shared_fixtures: Path) -> None:
    body = _form(shared_fixtures, "opsdroid_payload_slash_command"
                                        ".urlencoded")
    assert command_event(body) == Command(
        name="help", args="",  # an empty /command asks for help
        actor=Actor("slack", T, "U01NK1K9L68"),
        where=Conversation("slack", T, "C01N639ECTY", is_direct=False),
        event_id="cmd:2093168434705.1761091294307.7f8d01a322363a013721e32e83af484b",
    )
    body["text"] = "poll new Budget &amp; plan | see <https://x.example/doc|the doc>"
    event = command_event(body)
    assert (event.name, event.args) == ("poll", "new Budget & plan | see https://x.example/doc")


def test_direct_message_event(shared_fixtures: Path) -> None:
    body = _json(shared_fixtures, "opsdroid_payload_message.json")
    assert message_event(body) == Command(
        name="this", args="is a test message",
        actor=Actor("slack", T, "U01NK1K9L68"),
        where=Conversation("slack", T, "C01N9PM1D53", thread_id=None, is_direct=False),
        event_id="Ev01NA3KCXSR",
    )
    body["event"]["channel_type"] = "im"
    event = message_event(body)
    assert event is not None and event.where.is_direct


def test_app_mention_drops_the_leading_mention(shared_fixtures: Path) -> None:
    # The README: an app_mention has this shape with type app_mention and no channel_type.
    body = _json(shared_fixtures, "zulip_message_with_channel_and_user_mentions.json")
    body["event"]["type"] = "app_mention"
    del body["event"]["channel_type"]
    assert message_event(body) == Command(
        name="#general", args="message with both channel and user mentions",
        actor=Actor("slack", ZT, "U06NU4E26M9"),
        where=Conversation("slack", ZT, "C06NRA6JLER", thread_id=None, is_direct=False),
        event_id="Ev079B8H59UM",
    )


def test_formatted_message_keeps_markup(shared_fixtures: Path) -> None:
    body = _json(shared_fixtures, "zulip_message_with_complex_formatted_texts.json")
    event = message_event(body)
    assert event is not None
    assert event.args.endswith("~_*all three*_~")
    assert event.event_id == body["event_id"]


@pytest.mark.parametrize("change", [
    {"subtype": "message_changed"}, {"bot_id": "B01"}, {"user": "UCONVENEBOT"},
])
def test_messages_not_for_us_are_ignored(shared_fixtures: Path, change: dict[str, str]) -> None:
    body = _json(shared_fixtures, "opsdroid_payload_message.json")
    body["event"].update(change)
    assert message_event(body, bot_user_id="UCONVENEBOT") is None


def test_url_verification_is_no_event(shared_fixtures: Path) -> None:
    body = _json(shared_fixtures, "opsdroid_payload_url_verification.json")
    # Not a message, and it names no workspace (the team guard lets it through to bolt).
    assert message_event(body) is None and team_of(body) is None


def test_button_block_action(shared_fixtures: Path) -> None:
    body = _form(shared_fixtures, "opsdroid_payload_block_action_button.urlencoded")
    assert action_events(body) == [ButtonPress(
        action_id="button-action", value="click_me_123",
        actor=Actor("slack", T, "U01NK1K9L68"),
        where=Conversation("slack", T, "C01N9PM1D53", thread_id=None, is_direct=False),
        event_id="act:1785900466016.1761091294307.570d0e81a0429ccc47b150dc9fe53b02:0",
        message_ref="1613575038.002800",
    )]


def test_static_select_block_action(shared_fixtures: Path) -> None:
    body = _form(shared_fixtures, "opsdroid_payload_block_action_static_select.urlencoded")
    assert action_events(body) == [ButtonPress(
        action_id="static_select-action", value="value-0",
        actor=Actor("slack", T, "U01NK1K9L68"),
        where=Conversation("slack", T, "C01N9PM1D53", thread_id=None, is_direct=False),
        event_id="act:1762273590147.1761091294307.bc6e426ebbf03c96d7ff447041583146:0",
        message_ref="1613575038.002800",
    )]


def test_repeated_action_ids_map_back_and_links_are_dropped(shared_fixtures: Path) -> None:
    body = _form(shared_fixtures, "opsdroid_payload_block_action_button.urlencoded")
    body["actions"][0]["action_id"] = "poll.stance~3"
    link = {"type": "button", "action_id": "slack.link~2", "value": "", "action_ts": "1"}
    body["actions"].append(link)
    [press] = action_events(body)
    assert press.action_id == "poll.stance"


def test_view_submission(shared_fixtures: Path) -> None:
    raw = fixture_body(shared_fixtures, "opsdroid_payload_view_submission.urlencoded")
    assert raw.startswith("payload=%7B")  # the extra encoding is gone; Slack's own remains
    event = view_submission_event(parse_body(raw.encode(), FORM))
    assert event == FormSubmission(
        form_id="simple_callback_id",
        values=(("1=zGH", "ddd"), ("7Zh", "dddd"),
                ("cbQh.actionId-0", ""), ("cbQh.actionId-1", ""), ("cbQh.actionId-2", ""),
                ("cbQh.actionId-3", ""), ("an8gR", ""),
                ("YWJ.actionId-0", "1990-04-28"), ("YWJ.actionId-1", "02:00")),
        actor=Actor("slack", T, "U01NK1K9L68"),
        where=Conversation("slack", T, "", thread_id=None, is_direct=True),
        event_id="view:V01QKTZBFMK:1835952449765.1761091294307.f04f465a970c18de583c065d0043875e",
        context="",
    )
    assert event.get("7Zh") == "dddd"


def test_our_modal_fields_and_metadata_round_trip() -> None:
    meta = encode_metadata(context="12:1:block", channel_id="C9", thread_id="1.2")
    assert decode_metadata(meta) == ("12:1:block", "C9", "1.2")
    body = {"type": "view_submission", "team": {"id": T}, "user": {"id": "U1"},
            "trigger_id": "t1", "view": {
                "id": "V1", "callback_id": "poll.reason", "private_metadata": meta,
                "state": {"values": {
                    "reason": {"value": {"type": "plain_text_input", "value": "too costly"}},
                    "closes": {"value": {"type": "datetimepicker",
                                         "selected_date_time": 1796144400}},
                    "group": {"value": {"type": "static_select",
                                        "selected_option": {"value": "Soil"}}},
                    "quorum": {"value": {"type": "number_input", "value": None}}}}}}
    event = view_submission_event(body)
    assert event.context == "12:1:block"
    assert event.where == Conversation("slack", T, "C9", thread_id="1.2", is_direct=False)
    assert dict(event.values) == {"reason": "too costly", "closes": "2026-12-01T17:00:00+00:00",
                                  "group": "Soil", "quorum": ""}


def test_decode_text_entities() -> None:
    assert decode_text("<!here> see <mailto:a@b.org|a@b.org> &lt;3 <@U1>") == \
        "@here see a@b.org <3 <@U1>"
