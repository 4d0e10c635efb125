"""The real payloads in ../shared/fixtures/discord/ become the expected core events."""

from __future__ import annotations

import pytest

from adapters.discord.inbound import (
    attendance_event,
    command_event,
    component_event,
    modal_event,
    to_event,
    unwrap,
)
from bot.types import MULTI_SEPARATOR, Actor, ButtonPress, Command, Conversation, FormSubmission
from tests.adapters.discord.harness import fixture
from tests.conftest import SHARED_FIXTURES, need


@pytest.fixture(autouse=True)
def _fixtures() -> None:
    need((SHARED_FIXTURES / "discord").is_dir(), "discord fixtures missing")


def test_slash_command() -> None:
    event = to_event(fixture("kord_rootcommand.json"))
    assert event == Command(
        name="testsubcommands", args="1", actor=Actor("discord", "", "695549908383432716"),
        where=Conversation("discord", "556525343595298817", "587324906702766226"),
        event_id="i:793442788670832640")


def test_convene_subcommand_options_in_declared_order() -> None:
    payload = fixture("kord_rootcommand.json")
    payload["data"] = {"type": 1, "name": "convene", "options": [{"type": 1, "name": "poll",
                       "options": [{"type": 3, "name": "text", "value": "too costly"},
                                   {"type": 3, "name": "id", "value": "12"},
                                   {"type": 3, "name": "action", "value": "comment"}]}]}
    event = command_event(payload)
    assert (event.name, event.args) == ("poll", "comment 12 too costly")
    payload["data"]["options"] = [{"type": 1, "name": "do", "options": [
        {"type": 3, "name": "text", "value": "Digest suggest https://x.example/a"}]}]
    assert (command_event(payload).name, command_event(payload).args) == \
        ("digest", "suggest https://x.example/a")


def test_button_of_ours_and_foreign() -> None:
    payload = fixture("disgo_button_component.json")
    assert component_event(payload) is None  # custom_id "foo" is not one of ours
    payload["data"]["custom_id"] = "cv:poll.stance:12:1:block~2"
    assert component_event(payload) == ButtonPress(
        action_id="poll.stance", value="12:1:block", actor=Actor("discord", "",
                                                                  "53908232506183680"),
        where=Conversation("discord", "290926798626357999", "345626669114982999"),
        event_id="i:846462639134605312", message_ref="844397162624450620")


def test_multi_select() -> None:
    payload = fixture("kord_selectmenu.json")
    assert component_event(payload) is None
    payload["data"]["custom_id"] = "cvs:sprint.roles"
    event = component_event(payload)
    assert event is not None and event.action_id == "sprint.roles"
    assert event.value == MULTI_SEPARATOR.join(["mage", "rogue"])
    assert event.message_ref == "847587334500646933"


def test_modal_submit_gateway_envelope() -> None:
    data = unwrap(fixture("discordbm_INTERACTION_CREATE_modal_submit.json"))
    event = modal_event(data)
    assert event == FormSubmission(
        form_id="autoPings;add;match", values=(("texts", "Hello, dad"),),
        actor=Actor("discord", "", "290483761559240704"),
        where=Conversation("discord", "808638139785936919", "1016614538398937098"),
        event_id="i:1095661440997806172")
    data["data"]["custom_id"] = "cvf:poll.reason:12:1:block"
    ours = modal_event(data)
    assert (ours.form_id, ours.context, ours.get("texts")) == ("poll.reason", "12:1:block",
                                                               "Hello, dad")


def test_select_in_a_label_is_read() -> None:
    data = unwrap(fixture("discordbm_INTERACTION_CREATE_modal_submit.json"))
    data["data"]["components"].append({"type": 18, "component": {
        "type": 3, "custom_id": "group", "values": ["Alliance"]}})
    assert modal_event(data).get("group") == "Alliance"


def test_scheduled_event_user_add() -> None:
    created = unwrap(fixture("remora_GUILD_SCHEDULED_EVENT_CREATE.json"))
    data = unwrap(fixture("remora_GUILD_SCHEDULED_EVENT_USER_ADD.json"))
    assert data["guild_scheduled_event_id"] == created["id"]
    event = attendance_event(data, uid="workshop-3-1@convene", attending=True)
    assert (event.uid, event.attending, event.actor, event.tag()) == (
        "workshop-3-1@convene", True, Actor("discord", "", "999999999999999999"), "workshop")
    assert event.event_id.startswith("se:999999999999999999:999999999999999999:add:")
