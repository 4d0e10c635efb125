"""Golden Block Kit for every core Message kind, and Block Kit's limits."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from adapters.slack.outbound import (
    core_action_id,
    encode_metadata,
    mrkdwn,
    render_home,
    render_message,
    render_modal,
)
from bot.types import (
    Actions,
    Button,
    Divider,
    Field,
    Form,
    FormField,
    Header,
    Image,
    LinkButton,
    Message,
    Option,
    Section,
    Select,
    SmallPrint,
)
from tests.adapters.slack.blockkit import block_problems, message_problems, modal_problems
from tests.golden_messages import RICH

GOLDEN = Path(__file__).parent / "golden"
CLOSES = "[[time:1796144400|1 Dec 2026 17:00 CET]]"

KITCHEN_SINK = Message(
    text=f"Budget 2027: vote by {CLOSES}",
    blocks=(
        Header("Budget 2027 proposal"),
        Section(f"Vote by {CLOSES}. *Please* read <the annex> & the budget.",
                fields=(Field("Group", "Soil health"), Field("Quorum", "50%"))),
        Actions((Button("Agree", "poll.stance", "12:1:agree", "primary"),
                 Button("Abstain", "poll.stance", "12:1:abstain"),
                 Button("Disagree", "poll.stance", "12:1:disagree", "danger"),
                 Button("Block", "poll.stance", "12:1:block", "danger"))),
        Actions((Select("digest.theme", "Choose a theme",
                        (Option("Soil carbon", "soil"), Option("Water", "water"))),
                 LinkButton("Open the document", "https://alliance.example/doc/12"))),
        SmallPrint(f"Proposed by Amara Okafor · closes {CLOSES}"),
        Image("https://alliance.example/chart/12.png", "Tally: 3 agree, 1 block"),
        Image("data:image/png;base64,iVBORw0KGgo=", "Availability grid"),
        Divider(),
    ),
)

NEW_POLL = Form(
    form_id="poll.new", title="New consensus poll", submit_label="Propose",
    fields=(
        FormField("title", "Title", max_length=200),
        FormField("text", "Proposal", kind="textarea", hint="What do you propose, and why?"),
        FormField("group", "Group", kind="select",
                  options=(Option("Alliance", "Alliance"), Option("Soil health", "Soil health")),
                  initial="Alliance"),
        FormField("closes", "Closes", kind="datetime", initial="2026-12-01T17:00:00+01:00",
                  hint="In your time zone"),
        FormField("quorum", "Quorum (%)", kind="number", required=False),
        FormField("visibility", "Tally", kind="select", required=False,
                  options=(Option("Live", "live"), Option("Hidden until close", "hidden"))),
    ),
    context="from-help",
)

CASES: dict[str, Any] = {
    "kitchen_sink": lambda: render_message(KITCHEN_SINK),
    "text_only": lambda: render_message(Message(text="Hello & welcome <3, see *help*")),
    "rich": lambda: render_message(RICH),
    "form_modal": lambda: render_modal(
        NEW_POLL, intro=Message("Propose something", blocks=(Section("Fill in the form."),)),
        metadata=encode_metadata(context=NEW_POLL.context, channel_id="C0GENERAL",
                                 thread_id=None)),
    "home": lambda: render_home(Message("Convene", blocks=(
        Header("Convene for Alliance"), Section("Hello Amara."), Divider(),
        Section(f"*Budget 2027* closes {CLOSES}"),
        SmallPrint("Type help to see what you can do.")))),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_block_kit(name: str) -> None:
    rendered = CASES[name]()
    path = GOLDEN / f"{name}.json"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(json.dumps(rendered, indent=2, ensure_ascii=False) + "\n")
    assert rendered == json.loads(path.read_text())
    kind = rendered.get("type")
    if kind == "modal":
        assert modal_problems(rendered) == []
    elif kind == "home":
        assert block_problems(rendered["blocks"], max_blocks=100) == []
    else:
        assert message_problems(rendered) == []


def test_times_escaping_and_unique_action_ids() -> None:
    body = render_message(KITCHEN_SINK)
    section = body["blocks"][1]["text"]["text"]
    assert "<!date^1796144400^{date_short_pretty} {time}|1 Dec 2026 17:00 CET>" in section
    assert "&lt;the annex&gt; &amp; the budget" in section
    ids = [e["action_id"] for e in body["blocks"][2]["elements"]]
    assert ids == ["poll.stance", "poll.stance~2", "poll.stance~3", "poll.stance~4"]
    assert {core_action_id(i) for i in ids} == {"poll.stance"}
    header = body["blocks"][0]["text"]
    assert header["type"] == "plain_text"


def test_cuts_never_split_entities_or_time_tokens() -> None:
    assert mrkdwn("&" * 1000, 20) == "&amp;&amp;&amp;" + "…"
    cut = mrkdwn("ab " + CLOSES * 3, 90)
    assert cut.endswith("…") and cut.count("<!date^") == cut.count(">") and len(cut) <= 90


def test_long_texts_are_split_or_cut_within_limits() -> None:
    lines = [f"{i:04d} " + "word " * 30 for i in range(200)]  # ~31,000 characters
    body = render_message(Message("Members", blocks=(Header("h" * 200), Section("\n".join(lines)),
                                                     Section("x" * 5000))))
    assert message_problems(body) == []
    assert body["blocks"][0]["text"]["text"].endswith("…")
    sections = [b["text"]["text"] for b in body["blocks"] if b["type"] == "section"]
    assert "\n".join(sections[:-1]) == "\n".join(lines)  # split at line ends, nothing lost
    assert sections[-1] == "x" * 2999 + "…"


def test_many_blocks_keep_the_buttons() -> None:
    many = tuple(Section(f"paragraph {i}") for i in range(80))
    buttons = Actions((Button("Agree", "poll.stance", "1:1:agree"),))
    body = render_message(Message("long", blocks=(*many, buttons)))
    assert message_problems(body) == []
    assert len(body["blocks"]) == 50
    assert body["blocks"][-1]["type"] == "actions"
    assert body["blocks"][-2] == {"type": "context", "elements": [{"type": "mrkdwn",
                                                                  "text": "…"}]}


def test_elements_fields_and_options_within_limits() -> None:
    buttons = tuple(Button("b" * 100, "pick", str(i)) for i in range(60))
    options = (*(Option(f"option {i}", f"v{i}") for i in range(150)),
               Option("too long a value", "v" * 151))
    fields = tuple(Field(f"label {i}", "value " * 500) for i in range(15))
    body = render_message(Message("big", blocks=(
        Section("fields", fields=fields),
        Actions((*buttons, Button("huge", "pick", "x" * 2001), Select("s", "p" * 200, options))),
    )))
    assert message_problems(body) == []
    actions = [b for b in body["blocks"] if b["type"] == "actions"]
    assert [len(a["elements"]) for a in actions] == [25, 25, 11]  # 60 buttons + select
    select = actions[-1]["elements"][-1]
    assert len(select["options"]) == 100 and select["options"][-1]["value"] == "v99"
    assert all(e.get("value") != "x" * 2001 for a in actions for e in a["elements"])
    sections = [b for b in body["blocks"] if b["type"] == "section"]
    assert [len(s.get("fields", [])) for s in sections] == [10, 5]


def test_modal_limits() -> None:
    form = Form("f", "A title far longer than Slack allows", "Submit it now please, really",
                tuple(FormField(f"f{i}", f"Field {i}") for i in range(120)))
    view = render_modal(form, metadata=encode_metadata(context="", channel_id="C1",
                                                      thread_id=None))
    assert modal_problems(view) == []
    assert len(view["blocks"]) == 100 and view["title"]["text"].endswith("…")
    with pytest.raises(ValueError):
        encode_metadata(context="c" * 3000, channel_id="C1", thread_id=None)


def test_hostile_text_renders_inert() -> None:
    """Neither a title nor a span can inject a ping or a link: every ``<`` that
    reaches Slack was written by the renderer for a span it vouches for."""
    body = render_message(RICH)

    def mrkdwn_texts(node: Any) -> list[str]:
        if isinstance(node, dict):
            own = [node["text"]] if node.get("type") == "mrkdwn" else []
            return own + [t for v in node.values() for t in mrkdwn_texts(v)]
        if isinstance(node, list):
            return [t for v in node for t in mrkdwn_texts(v)]
        return []

    # plain_text objects (headers, buttons) are never parsed by Slack; mrkdwn is.
    texts = [*mrkdwn_texts(body), body["text"]]
    assert all("<!channel>" not in t and "<https://evil.example" not in t for t in texts)
    assert any("&lt;!channel&gt;" in t and "&lt;https://evil.example/click&gt;" in t
               for t in texts)
    [att] = body["attachments"]
    section = att["blocks"][1]["text"]["text"]
    assert "<https://alliance.example/w/3?a=1&b=2|the agenda>" in section
    assert "javascript:" not in section and "not a link" in section
    assert "<!date^1796144400^" in section
    assert "`rsvp 3 yes`" in section and "_Observers welcome._" in section
    elements = [e for b in att["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [e["type"] for e in elements] == ["button", "multi_static_select"]
    assert elements[1]["initial_options"][0]["value"] == "s2"
