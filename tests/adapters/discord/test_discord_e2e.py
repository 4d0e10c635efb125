"""discord.py's own objects, from real payload shapes, drive the adapter end to
end against a fake Discord API: commands, persistent buttons, modals, tallies
edited in place, refusals, repeats and late answers."""

from __future__ import annotations

from sqlalchemy import func, select

from storage.models import Stance
from tests.adapters.discord.fake_discord import CHANNEL
from tests.adapters.discord.harness import Harness, command, custom_ids, press, submit
from tests.conftest import MEMBER, OBSERVER

ALICE = "700000000000000001"  # linked to MEMBER
OLIVER = "700000000000000002"  # linked to OBSERVER


def _stances(h: Harness) -> int:
    with h.bot.session_factory() as s:
        return s.scalar(select(func.count(Stance.id))) or 0


def _new_poll(h: Harness) -> tuple[int, dict]:
    """/convene poll action:new text:... -> the proposal posted in the channel."""
    h.feed("INTERACTION_CREATE", command(
        ALICE, "poll", action="new",
        text="Adopt the soil charter | We adopt it. | 2030-01-01 12:00"))
    h.wait(lambda: h.followups())
    assert "is open for stances" in str(h.followups()[0].body)
    h.drain()
    posts = h.wait(lambda: h.fake.find("POST", f"/channels/{CHANNEL}/messages"))
    message = h.fake.messages[posts[-1].body and list(h.fake.messages)[-1]]
    return 1, message


def test_slash_command_button_and_tally_edited_in_place(harness: Harness) -> None:
    h = harness
    h.link(MEMBER, ALICE)
    synced = h.fake.find("PUT", "/applications/")
    assert synced and synced[0].body[0]["name"] == "convene"
    subs = {o["name"] for o in synced[0].body[0]["options"]}
    assert {"poll", "vote", "help", "link", "do"} <= subs
    _, message = _new_poll(h)
    agree = next(c for c in custom_ids(message) if c.endswith(":agree"))
    h.feed("INTERACTION_CREATE", press(ALICE, message, agree))
    h.wait(lambda: len(h.followups()) >= 2)
    assert _stances(h) == 1
    assert "Your stance on proposal #1" in str(h.followups()[-1].body)
    h.drain()
    edits = h.wait(lambda: h.fake.find("PATCH", f"/channels/{CHANNEL}/messages/{message['id']}"))
    assert edits and h.fake.messages[message["id"]]["edited_timestamp"]



def test_button_works_after_restart_observer_refused_repeat_once(harness: Harness) -> None:
    h = harness
    h.link(MEMBER, ALICE)
    h.link(OBSERVER, OLIVER)
    _, message = _new_poll(h)
    h.new_adapter()  # a new client instance: only the DynamicItem templates know the ids
    ids = custom_ids(message)
    agree = next(c for c in ids if c.endswith(":agree"))
    n = len(h.followups())
    h.feed("INTERACTION_CREATE", press(OLIVER, message, agree))
    refusal = h.wait(lambda: h.followups(n))[0].body
    assert refusal["flags"] == 64 and "does not allow this" in str(refusal)
    assert _stances(h) == 0
    pressed = press(ALICE, message, agree)
    h.feed("INTERACTION_CREATE", pressed)
    h.wait(lambda: len(h.followups(n)) >= 2)
    assert _stances(h) == 1
    # The same interaction delivered again (a resumed session): acted on once.
    h.fake.interactions.pop(pressed["id"])
    h.fake.answered.discard(pressed["id"])
    h.feed("INTERACTION_CREATE", pressed)
    h.wait(lambda: len(h.followups(n)) >= 3)
    assert _stances(h) == 1


def test_block_asks_for_a_reason_in_a_modal(harness: Harness) -> None:
    h = harness
    h.link(MEMBER, ALICE)
    _, message = _new_poll(h)
    block = next(c for c in custom_ids(message) if c.endswith(":block"))
    n = len(h.followups())
    h.feed("INTERACTION_CREATE", press(ALICE, message, block))
    prompt = h.wait(lambda: h.followups(n))[0].body
    opener = next(c for c in custom_ids(prompt) if c.startswith("cvo:"))
    prompt_msg = h.fake.messages[list(h.fake.messages)[-1]]
    h.feed("INTERACTION_CREATE", press(ALICE, prompt_msg, opener))
    modal = h.wait(lambda: [c for c in h.fake.find("POST", "/interactions/")
                            if c.body.get("type") == 9])[0].body["data"]
    # proposal:round:text version:stance (text versions came with issue 11)
    assert modal["custom_id"] == "cvf:poll.reason:1:1:1:block"
    assert _stances(h) == 0
    field = modal["components"][0]["components"][0]["custom_id"]
    h.feed("INTERACTION_CREATE", submit(ALICE, modal["custom_id"], {field: "Too costly"}))
    h.wait(lambda: _stances(h) == 1)
    with h.bot.session_factory() as s:
        stance = s.scalars(select(Stance)).one()
    assert (stance.stance, stance.reason, stance.channel) == ("block", "Too costly", "discord")


def test_unknown_interaction_after_the_window_is_not_acted_on(harness: Harness) -> None:
    h = harness
    h.link(MEMBER, ALICE)
    _, message = _new_poll(h)
    agree = next(c for c in custom_ids(message) if c.endswith(":agree"))
    h.fake.window = 0.05
    h.fake.callback_delay = 0.1  # the deferral reaches Discord after the window: 10062
    n = len(h.followups())
    late = press(ALICE, message, agree)
    h.feed("INTERACTION_CREATE", late)
    h.wait(lambda: [c for c in h.fake.find("POST", f"/interactions/{late['id']}/")])
    # Its refusal came back and its handler saw it (the fake reads the window
    # after its delay: resetting it earlier would let the late one through).
    h.wait(lambda: int(late["id"]) not in h.adapter.early.pending)
    h.fake.window, h.fake.callback_delay = 3.0, 0.0
    # The client is still alive and serves the next interaction.
    h.feed("INTERACTION_CREATE", press(ALICE, message, agree))
    h.wait(lambda: h.followups(n))
    assert _stances(h) == 1 and len(h.followups(n)) == 1


def test_unlinked_user_gets_instructions_and_links_by_code(harness: Harness) -> None:
    h = harness
    stranger = "700000000000000009"
    h.feed("INTERACTION_CREATE", command(stranger, "whoami"))
    first = h.wait(lambda: h.followups())[0].body
    assert "/convene link" in str(first) and first["flags"] == 64
    h.feed("INTERACTION_CREATE", command(stranger, "link", email=MEMBER.upper()))
    reply = h.wait(lambda: h.followups(1))[0].body
    assert "Enter the code" in str(reply)
    from storage.models import OutboxMessage

    with h.bot.session_factory() as s:
        mail = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "email")).one()
    import re

    code = re.search(r"\b([A-Z0-9]{5}-[A-Z0-9]{5})\b", mail.payload["text"]).group(1)
    assert mail.payload["to"] == [MEMBER]
    h.feed("INTERACTION_CREATE", submit(stranger, "cvl:code", {"code": "WRONG-CODE0"}))
    assert "wrong" in str(h.wait(lambda: h.followups(2))[0].body)
    h.feed("INTERACTION_CREATE", submit(stranger, "cvl:code", {"code": code.lower()}))
    assert "Linked" in str(h.wait(lambda: h.followups(3))[0].body)
    # Single use: the same code again links nothing new and says so.
    h.feed("INTERACTION_CREATE", submit(stranger, "cvl:code", {"code": code}))
    assert "wrong, used or expired" in str(h.wait(lambda: h.followups(4))[0].body)
    h.feed("INTERACTION_CREATE", command(stranger, "whoami"))
    assert "Amara" in str(h.wait(lambda: h.followups(5))[0].body)


def test_a_form_past_five_fields_opens_in_pages_over_the_gateway(harness: Harness) -> None:
    """The gateway path runs the same pages as the HTTP endpoint
    (test_discord_http.py): two modals, one FormSubmission with every field."""
    from bot.context import Context
    from bot.types import Form, FormField, FormSubmission, Message

    h = harness
    h.link(MEMBER, ALICE)
    got: list[FormSubmission] = []
    form = Form("survey", "Survey", "Send", tuple(FormField(f"q{i}", f"Q{i}")
                                                  for i in range(1, 7)))

    def answered(ctx: Context) -> Message:
        assert isinstance(ctx.event, FormSubmission)
        got.append(ctx.event)
        return Message("Thanks")

    h.bot.registry.route("command", "survey", lambda ctx: Message("Answer", form=form),
                     capability="workshop.attend")
    h.bot.registry.route("form", "survey", answered, capability="workshop.attend")

    def modals() -> list[dict]:
        return [c.body["data"] for c in h.fake.find("POST", "/interactions/")
                if c.body.get("type") == 9]

    h.feed("INTERACTION_CREATE", command(ALICE, "do", text="survey"))
    offer = h.wait(lambda: h.followups())[0].body
    opener = next(c for c in custom_ids(offer) if c.startswith("cvo:"))
    h.feed("INTERACTION_CREATE", press(ALICE, h.fake.messages[list(h.fake.messages)[-1]],
                                       opener))
    first = h.wait(modals)[0]
    assert first["title"] == "Survey (1/2)" and len(first["components"]) == 5
    h.feed("INTERACTION_CREATE", submit(ALICE, first["custom_id"],
                                        {f"q{i}": f"a{i}" for i in range(1, 6)}))
    more = h.wait(lambda: h.followups(1))[0].body
    assert "Part 1 of 2 saved" in str(more) and custom_ids(more) == [opener]
    h.feed("INTERACTION_CREATE", press(ALICE, h.fake.messages[list(h.fake.messages)[-1]],
                                       opener))
    second = h.wait(lambda: modals()[1:])[0]
    assert second["title"] == "Survey (2/2)" and len(second["components"]) == 1
    h.feed("INTERACTION_CREATE", submit(ALICE, second["custom_id"], {"q6": "a6"}))
    h.wait(lambda: got)
    assert dict(got[0].values) == {f"q{i}": f"a{i}" for i in range(1, 7)}
    assert "Thanks" in str(h.wait(lambda: h.followups(2))[0].body)


def test_a_refused_field_reopens_the_form_with_every_answer_kept(harness: Harness) -> None:
    """Issue 20: a modal cannot answer a modal, so the person gets the reason
    and a button that opens the form again at the refused field's page, with
    what they wrote as the fields' values; nothing is lost."""
    from storage.models import Sprint
    from tests.sprints.helpers import day

    h = harness
    h.link(MEMBER, ALICE)
    answers = {"title": "Soil probes", "aim": "Compare cheap probes.",
               "topics": "soil_measurement", "group": "Alliance", "starts": day(15)[:10],
               "ends": day(19)[:10], "cutoff": day(10)[:10], "capacity": "three",
               "org_cap": "0", "leads": "1", "currency": "EUR", "goal": "", "minimum": "",
               "funding_deadline": ""}

    def modals() -> list[dict]:
        return [c.body["data"] for c in h.fake.find("POST", "/interactions/")
                if c.body.get("type") == 9]

    def open_last(n_modals: int) -> dict:
        offer = h.fake.messages[list(h.fake.messages)[-1]]
        opener = next(c for c in custom_ids(offer) if c.startswith("cvo:"))
        h.feed("INTERACTION_CREATE", press(ALICE, offer, opener))
        return h.wait(lambda: modals()[n_modals:])[0]

    h.feed("INTERACTION_CREATE", command(ALICE, "do", text="sprint propose"))
    h.wait(lambda: h.followups())
    for n in range(3):
        modal = open_last(n)
        names = [c.get("custom_id") or c["component"]["custom_id"]
                 for row in modal["components"]
                 for c in (row.get("components") or [row])]
        h.feed("INTERACTION_CREATE", submit(ALICE, modal["custom_id"],
                                            {k: answers[k] for k in names}))
        h.wait(lambda n=n: h.followups(n + 1))
    refusal = str(h.followups(3)[0].body)
    assert "nothing you wrote is lost" in refusal and "Seats (a number)" in refusal, refusal
    assert "whole number" in refusal
    with h.bot.session_factory() as s:
        assert s.scalar(select(func.count(Sprint.id))) == 0
    again = open_last(3)
    assert again["title"].endswith("(2/3)")
    values = {row["components"][0]["custom_id"]: row["components"][0].get("value")
              for row in again["components"] if row.get("type") == 1}
    assert values["capacity"] == "three" and values["ends"] == answers["ends"]
    h.feed("INTERACTION_CREATE", submit(ALICE, again["custom_id"], dict(
        {k: answers[k] for k in values}, capacity="3")))
    h.wait(lambda: h.followups(4))
    last = open_last(4)
    kept = {row["components"][0]["custom_id"]: row["components"][0].get("value", "")
            for row in last["components"] if row.get("type") == 1}
    assert kept["currency"] == "EUR"
    h.feed("INTERACTION_CREATE", submit(ALICE, last["custom_id"], kept))
    done = h.wait(lambda: h.followups(5))[0].body
    assert "is proposed" in str(done), done
    with h.bot.session_factory() as s:
        sprint = s.scalars(select(Sprint)).one()
        assert (sprint.title, sprint.capacity) == ("Soil probes", 3)
