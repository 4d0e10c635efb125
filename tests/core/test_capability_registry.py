"""The capability registry: a capability declared through the
``convene.capabilities`` entry-point group (a tiny package written here, with a
distribution's metadata, as an installed package would have) works on the
terminal and Slack with no change outside its package; a misspelt or broken
one stops start-up with its name."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from adapters.slack.plugin import plugin as slack_plugin
from bot.app import Bot
from bot.capabilities import CapabilityError, discover
from bot.compose import build_app
from bot.home import home_message
from bot.types import Actor
from tests.adapters.slack.conftest import SECRET, Served, form_headers, slash_body
from tests.adapters.slack.fake_slack import FakeSlack
from tests.conftest import MEMBER, OBSERVER, make_settings

PACKAGE = textwrap.dedent('''
    """A capability that exists only in a test."""
    from __future__ import annotations

    from bot.capabilities import Capability
    from bot.types import Header, Message, Section, SmallPrint, Strong

    TICKS = []


    def hello(ctx):
        return Message(text="hello", blocks=(Section(("Hello, ", Strong(ctx.person.name),
                                                      "!")),))


    def section(ctx):
        return [Header("Test capability"), SmallPrint("nothing to do")]


    def tick(*args, **kwargs):
        TICKS.append(args)


    def install(reg):
        # The Registry's verbs only: the Bot does not exist yet.
        reg.route("command", "hello", hello, capability="roster.self",
                  help="Say hello (test capability).")
        reg.home_section(section, order=90)
        reg.job("testcap.tick", tick, trigger="interval", seconds=3600)


    capability = Capability(name="testcap", install=install, domain="testcap", order=90)
    ''')


def _install_distribution(root: Path, *, name: str, target: str) -> None:
    """Write a package and the dist-info an installer would write for it."""
    (root / "convene_testcap").mkdir(exist_ok=True)
    (root / "convene_testcap" / "__init__.py").write_text(PACKAGE)
    info = root / f"{name}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        f"[convene.capabilities]\ntestcap = {target}\n")


@pytest.fixture
def testcap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    root = tmp_path / "site"
    root.mkdir()
    _install_distribution(root, name="convene_testcap", target="convene_testcap:capability")
    monkeypatch.syspath_prepend(str(root))
    yield root
    sys.modules.pop("convene_testcap", None)


def test_discovered_alongside_the_builtin_capabilities(testcap: Path) -> None:
    names = [c.name for c in discover()]
    assert names[:2] == ["polls", "digest"] and "testcap" in names


def test_works_on_the_terminal_with_its_job_and_home_section(
        testcap: Path, make_bot: Callable[..., Bot], sqlite_url: str,
        chat: Callable[[str], object]) -> None:
    bot = make_bot(sqlite_url)
    from adapters.console import ConsoleSession

    session = ConsoleSession(dispatch=bot.dispatch, email=MEMBER)
    assert session.feed("hello") == "Hello, Amara Okafor!"
    assert "hello" in session.feed("help")
    assert [j.id for j in bot.registry.jobs
            if j.id.startswith("testcap")] == ["testcap.tick"]
    home = home_message(bot, Actor("console", "", OBSERVER))
    assert any(getattr(b, "text", "") == "Test capability" for b in home.blocks)


def test_works_on_slack(testcap: Path, make_bot: Callable[..., Bot], sqlite_url: str) -> None:
    fake = FakeSlack(users={"UMEMBER": MEMBER}).start()
    try:
        bot = make_bot(sqlite_url, slack={"enabled": True, "bot_token": "xoxb-test-token",
                                          "signing_secret": SECRET,
                                          "api_url": fake.api_url})
        served = Served(bot)
        try:
            body = slash_body("hello", response_url=fake.hook_url("hello"))
            assert served.post(body, form_headers(body)).status_code == 200
            [hook] = fake.wait_for("hook")
            assert "Hello, *Amara Okafor*!" in str(hook.args)
        finally:
            served.stop()
            slack_plugin.adapter(bot).close()
    finally:
        fake.stop()


def test_works_on_discord(testcap: Path, make_bot: Callable[..., Bot], db_url: str) -> None:
    from tests.adapters.discord.fake_discord import GUILD, FakeDiscord
    from tests.adapters.discord.harness import Harness, command

    fake = FakeDiscord().start()
    bot = make_bot(db_url, discord={"enabled": True, "bot_token": "test-token",
                                    "guild_id": GUILD, "api_url": fake.base})
    h = Harness(bot, fake)
    try:
        alice = "700000000000000001"
        h.link(MEMBER, alice)
        synced = h.wait(lambda: fake.find("PUT", "/applications/"))
        assert "hello" in {o["name"] for o in synced[0].body[0]["options"]}
        h.feed("INTERACTION_CREATE", command(alice, "hello"))
        [answer] = h.wait(lambda: h.followups())
        assert "Hello, **Amara Okafor**!" in str(answer.body)
    finally:
        h.close()
        rest = bot.adapters.get("discord.rest")
        if rest is not None:
            rest.close()
        fake.stop()


def test_a_misspelt_capability_stops_start_up_with_its_name(sqlite_url: str,
                                                           tmp_path: Path) -> None:
    settings = make_settings(sqlite_url, tmp_path, capabilities=["polls", "digets"])
    with pytest.raises(CapabilityError, match=r"'digets'.*installed: .*digest"):
        build_app(settings)


def test_a_capability_that_fails_to_import_stops_start_up(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "site"
    root.mkdir()
    _install_distribution(root, name="convene_broken", target="convene_testcap:no_such_name")
    monkeypatch.syspath_prepend(str(root))
    try:
        with pytest.raises(CapabilityError, match=r"capability 'testcap'.*failed to load"):
            discover()
    finally:
        sys.modules.pop("convene_testcap", None)


def test_only_the_enabled_capabilities_are_installed(sqlite_url: str, tmp_path: Path) -> None:
    bot = build_app(make_settings(sqlite_url, tmp_path, capabilities=["polls"]), plugins=False)
    names = {r.name for r in bot.registry.routes}
    assert "vote" in names and not any(n.startswith("digest") for n in names)
    bot.engine.dispose()
