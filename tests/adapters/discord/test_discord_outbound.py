"""Golden Discord JSON for every Message kind, each checked against Discord's limits."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from adapters.discord.forms import render_modal
from adapters.discord.limits import message_problems, modal_problems
from adapters.discord.markdown import escape
from adapters.discord.outbound import render_message
from bot.types import (
    Actions,
    Attachment,
    Button,
    Code,
    Divider,
    Emphasis,
    Field,
    Form,
    FormField,
    Header,
    Image,
    Link,
    LinkButton,
    Mention,
    Message,
    Option,
    Preformatted,
    Section,
    Select,
    SmallPrint,
    Strong,
    Time,
)

GOLDEN = Path(__file__).parent / "golden"
PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 16

KITCHEN_SINK = Message(
    text="Proposal #12",
    accent="warning",
    blocks=(
        Header("Proposal #12: adopt *the* charter"),
        Section(("Read ", Strong("the text"), " and ", Emphasis("vote"), ": ", Code("vote 12"),
                 " or ", Link("https://alliance.example/p/12", "the page"), ". Asked by ",
                 Mention(3, "Amara Okafor"), ", closes ", Time(1767268800, "1 Jan 2026 12:00 CET"),
                 ". @everyone <@123> ~not~ |spoiler|"),
                fields=(Field("Agree", "3"), Field("Block", ("1 (", Strong("Tom"), ")")))),
        Preformatted("agree ███ 3\nblock █   1 `x`"),
        Image(url="", alt="Tally chart", png=PNG),
        Divider(),
        Actions((Button("Agree", "poll.stance", "12:1:agree", "primary"),
                 Button("Block", "poll.stance", "12:1:block", "danger"),
                 Button("Closed", "poll.stance", "12:1:abstain", disabled=True),
                 LinkButton("Open", "https://alliance.example/p/12"))),
        Actions((Select("sprint.roles", "Choose roles", (Option("Lead", "lead"),
                                                         Option("Analyst", "analyst")),
                        multi=True, max_selected=2, initial=("lead",)),)),
        SmallPrint("Round 1 · [[time:1767268800|1 Jan 2026 12:00 CET]]"),
    ),
    attachments=(Attachment("invite.ics", "text/calendar; method=REQUEST", b"BEGIN:VCALENDAR",
                            "Workshop invitation"),),
)

CASES = {
    "text_only": Message("Your stance: *block* on #12 @here"),
    "accent_only": Message("Round 1 closed.", accent="success"),
    "kitchen_sink": KITCHEN_SINK,
}


def _check(name: str, data: object) -> None:
    path = GOLDEN / f"{name}.json"
    text = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    if os.environ.get("CONVENE_REGEN_GOLDEN"):
        path.write_text(text)
    assert path.exists(), f"golden file {path.name} missing (CONVENE_REGEN_GOLDEN=1)"
    assert json.loads(text) == json.loads(path.read_text())


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_messages(name: str) -> None:
    rendered = render_message(CASES[name], mentions={3: "700000000000000001"}.get)
    assert message_problems(rendered.body) == []
    _check(name, {"body": rendered.body,
                  "files": [[n, len(d), m] for n, d, m in rendered.files]})


def test_kitchen_sink_details() -> None:
    rendered = render_message(KITCHEN_SINK)
    body = rendered.body
    embed = body["embeds"][0]
    assert embed["color"] == 0xDAA038 and embed["title"].startswith("Proposal #12: adopt \\*the\\*")
    assert "<t:1767268800:F>" in embed["description"]
    assert "@\u200beveryone" in embed["description"] and "\\<@123\\>" in embed["description"]
    assert "[the page](https://alliance.example/p/12)" in embed["description"]
    assert any(e.get("image") == {"url": "attachment://image-1.png"} for e in body["embeds"])
    assert [f[0] for f in rendered.files] == ["image-1.png", "invite.ics"]
    assert body["allowed_mentions"] == {"parse": []}
    buttons = body["components"][0]["components"]
    assert [b.get("custom_id") for b in buttons] == [
        "cv:poll.stance:12:1:agree", "cv:poll.stance:12:1:block", "cv:poll.stance:12:1:abstain",
        None]
    assert buttons[2]["disabled"] is True and buttons[3]["url"]


def test_limits_are_kept_for_oversized_messages() -> None:
    many = Message("x", blocks=(
        Header("T" * 400),
        Section("line of text " * 40 + "\n" + ("word " * 2000)),
        Section("f", fields=tuple(Field(f"L{i}" * 100, "v" * 2000) for i in range(40))),
        Actions(tuple(Button(f"B{i}" * 50, "a.b", str(i)) for i in range(40))),
        Actions((Select("s.t", "p" * 300, tuple(Option(f"o{i}", str(i)) for i in range(60))),)),
        Button and Actions((Button("long", "a.b", "v" * 200),)),
    ))
    rendered = render_message(many)
    assert message_problems(rendered.body) == []
    assert len(rendered.body["components"]) == 5
    ids = [c["custom_id"] for r in rendered.body["components"] for c in r["components"]]
    assert all(len(i) <= 100 for i in ids) and "cv:a.b:" + "v" * 200 not in ids


def test_checker_catches_what_breaks_limits() -> None:
    bad = {"content": "x" * 2001, "allowed_mentions": {}, "components": [
        {"type": 1, "components": [{"type": 2, "style": 1, "label": "l", "custom_id": "c" * 101}]
         * 6}]}
    problems = message_problems(bad)
    assert any("content" in p for p in problems)
    assert any("custom_id of 101" in p for p in problems)
    assert any("6 components" in p for p in problems)
    assert any("allowed_mentions" in p for p in problems)


def test_modal_golden_and_limits() -> None:
    form = Form("poll.new", "New proposal with a rather long title here", "Create", (
        FormField("title", "Title", "text", max_length=300),
        FormField("text", "Proposal text (Markdown)", "textarea"),
        FormField("group", "Group that decides", "select",
                  options=(Option("Alliance", "Alliance"), Option("Soil WG", "Soil WG")),
                  initial="Alliance"),
        FormField("closes", "Closes", "datetime", hint="e.g. 2026-12-01 17:00, your time zone"),
        FormField("quorum", "Quorum (% of voters)", "number", required=False, initial="50"),
        FormField("visibility", "Show stances", "select", required=False,
                  options=(Option("live", "live"),)),
    ))
    # Six fields: two modals of at most five, nothing left out.
    with pytest.raises(ValueError):
        render_modal(form)  # a form of two pages needs a stash token
    first, second = (render_modal(form, page=n, custom_id="cvk:tok") for n in (0, 1))
    with pytest.raises(ValueError):
        render_modal(form, page=2, custom_id="cvk:tok")
    for modal in (first, second):
        assert modal_problems(modal) == []

    def ids(modal: dict) -> list[str]:
        return [c.get("component", c.get("components", [{}])[0]).get("custom_id")
                for c in modal["components"]]

    assert ids(first) == ["title", "text", "group", "closes", "quorum"]
    assert ids(second) == ["visibility"]
    assert first["title"].endswith(" (1/2)") and second["title"].endswith(" (2/2)")
    assert len(first["title"]) <= 45
    _check("form_modal", first)
    one_page = Form("poll.new", "Short", "Create", form.fields[:5], context="12")
    assert render_modal(one_page)["custom_id"] == "cvf:poll.new:12"
    assert render_modal(one_page)["title"] == "Short"
    with pytest.raises(ValueError):
        render_modal(Form("x", "t", "s", (FormField("a", "A"),), context="c" * 200))


def test_escape() -> None:
    assert escape("# a *b* _c_ `d` > e ~f~ |g| [h](i) \\") == \
        "\\# a \\*b\\* \\_c\\_ \\`d\\` \\> e \\~f\\~ \\|g\\| \\[h\\](i) \\\\"
    assert escape("@everyone and @here") == "@\u200beveryone and @\u200bhere"
