"""Configuration: file plus environment, and errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.settings import load_settings
from tests.conftest import EXAMPLES


def test_example_file_loads_and_environment_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONVENE_SMTP__HOST", "mail.example.org")
    monkeypatch.setenv("CONVENE_DIGEST__ITEMS", "12")
    s = load_settings(EXAMPLES / "convene.toml")
    assert s.smtp.host == "mail.example.org" and s.digest.items == 12
    assert s.http.public_url() == "http://127.0.0.1:8000"


def test_a_bad_value_names_the_key_and_what_it_expects(tmp_path: Path) -> None:
    cfg = tmp_path / "convene.toml"
    cfg.write_text('default_timezone = "Mars/Base"\n[http]\nport = "eighty"\n'
                   '[digest]\ntime = "25:00"\n')
    with pytest.raises(ConfigError) as info:
        load_settings(cfg)
    msg = str(info.value)
    assert "http.port" in msg and "integer" in msg
    assert "default_timezone" in msg and "IANA" in msg
    assert "digest.time" in msg


def test_unknown_keys_and_missing_files_are_errors(tmp_path: Path) -> None:
    cfg = tmp_path / "convene.toml"
    cfg.write_text("databse_url = 'sqlite://'\n")
    with pytest.raises(ConfigError, match="databse_url"):
        load_settings(cfg)
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml")


def test_every_example_key_is_a_real_setting() -> None:
    import tomllib

    data = tomllib.loads((EXAMPLES / "convene.toml").read_text())
    load_settings(EXAMPLES / "convene.toml")  # extra="forbid" rejects unknown keys
    assert "smtp" in data and "digest" in data and "polls" in data


def test_the_signing_key_is_created_once_with_private_mode(tmp_path: Path) -> None:
    s = load_settings(None, secret_file=tmp_path / "k")
    key = s.signing_key()
    assert len(key) > 40 and s.signing_key() == key
    assert (tmp_path / "k").stat().st_mode & 0o077 == 0


def test_a_plugins_section_is_its_own_model_validated_with_the_rest(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``[slack]`` and ``[discord]`` are declared by their plugins (the core has
    no model of them), yet a bad value is named as any other key's, next to
    the core's own errors, and ``CONVENE_<NAME>__<KEY>`` still sets it."""
    import bot.settings
    from adapters.discord.plugin import plugin as discord_plugin
    from adapters.discord.settings import DiscordSettings, discord_settings
    from adapters.slack.plugin import plugin as slack_plugin
    from adapters.slack.settings import SlackSettings, slack_settings
    from bot.settings import plugin_sections

    assert not hasattr(bot.settings, "SlackSettings")
    assert not hasattr(bot.settings, "DiscordSettings")
    assert slack_plugin.settings_model is SlackSettings
    assert plugin_sections()["discord"] is discord_plugin.settings_model is DiscordSettings
    cfg = tmp_path / "convene.toml"
    cfg.write_text('[slack]\nmode = "carrier"\nworkers = 0\nbot_token = "xoxb-file"\n'
                   '[discord]\npublic_key = "zz"\n[polls]\nquorum_percent = 900\n'
                   '[slak]\nenabled = true\n')
    with pytest.raises(ConfigError) as info:
        load_settings(cfg)
    msg = str(info.value)
    for key in ("slack.mode", "slack.workers", "discord.public_key", "polls.quorum_percent",
                "slak"):
        assert key in msg, key
    cfg.write_text('[slack]\nenabled = true\nbot_token = "xoxb-file"\nteam_ids = ["T1"]\n')
    monkeypatch.setenv("CONVENE_SLACK__BOT_TOKEN", "xoxb-env")
    monkeypatch.setenv("CONVENE_DISCORD__ALLOWED_GUILDS", '["1", "2"]')
    monkeypatch.setenv("CONVENE_DISCORD__WORKERS", "3")
    s = load_settings(cfg)
    slack = slack_settings(s)
    assert slack.enabled and slack.bot_token.get_secret_value() == "xoxb-env"
    assert slack.team_ids == ["T1"] and s.slack is slack  # type: ignore[attr-defined]
    assert discord_settings(s).allowed_guilds == ["1", "2"]
    assert discord_settings(s).workers == 3
    # A copy keeps the sections (convene serve copies the settings).
    assert slack_settings(s.model_copy(update={"alliance_name": "B"})) is slack
