"""The Registry's verbs, filled with no Bot in sight (as a capability's install is)."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.routing import Route

from bot.registry import Registry
from bot.routing import RouteError
from bot.settings import Settings
from bot.types import Message, Option, Section


def test_every_verb_registers_once_and_refuses_a_second_time(tmp_path: Path) -> None:
    reg = Registry(settings=Settings(database_url=f"sqlite:///{tmp_path}/x.db"))
    reg.route("command", "hello there", lambda ctx: Message("hi"), capability="roster.self",
              help="Say hello.", usage="[NAME]")
    with pytest.raises(RouteError, match="twice"):
        reg.route("command", "Hello There", lambda ctx: None, capability="roster.self")
    with pytest.raises(RouteError, match="not in the policy table"):
        reg.route("action", "x", lambda ctx: None, capability="made.up")
    found = reg.routes.match_command("hello there Ada")
    assert found is not None and found[1] == "Ada" and found[0].usage == "[NAME]"

    spec = reg.job("t.tick", print, trigger="interval", seconds=30, kwargs={"end": ""})
    assert (spec.trigger_args, spec.kwargs) == ({"seconds": 30}, {"end": ""})
    with pytest.raises(ValueError, match="twice"):
        reg.job("t.tick", print, trigger="interval", seconds=60)

    reg.home_section(lambda ctx: [Section("late")], order=50)
    reg.home_section(lambda ctx: [Section("early")], order=5)
    assert [p(None)[0].text for p in reg.home_sections] == ["early", "late"]

    reg.completer(kind="thing", commands=("Thing", "pick"), capability="poll.view",
                  fn=lambda s, p, prefix: [Option("#1 One", "1")])
    spec_c = reg.completer_for("pick 12")
    assert spec_c is not None and spec_c.kind == "thing" and reg.completer_for("") is None
    with pytest.raises(KeyError):
        reg.completer(kind="x", commands=("x",), capability="made.up", fn=lambda s, p, q: [])

    reg.renderer("t.tally", lambda session, args: None)
    with pytest.raises(ValueError, match="twice"):
        reg.renderer("t.tally", lambda session, args: None)

    made: list[object] = []
    reg.web_routes(lambda bot: made.append(bot) or [Route("/t", lambda r: None)])
    assert [r.path for r in reg.make_web_routes("the bot")] == ["/t"]
    assert made == ["the bot"]
