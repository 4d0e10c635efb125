"""Approval and announcement, interest matching (roster column, ``interests
set``, the weekly nudge), the home section, the rendered Message, and the
CLI export with neutralised CSV."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.app import Bot
from bot.home import home_message
from bot.roster import RosterError, parse_roster
from bot.sprints.jobs import send_nudges
from bot.types import Actions, Actor, Button, Image, Section, Time
from tests.conftest import MEMBER, MEMBER_FR, OBSERVER, SECRETARIAT
from tests.sprints.helpers import emails_to, open_sprint, propose, say

PRIYA = "priya.nair@carbonledger.example"


def test_roster_interests_column() -> None:
    head = "email,name,organisation,role,group,language,timezone,interests\n"
    rows = parse_roster(head + "a@x.org,A,Org,member,Alliance,en,UTC,"
                        "soil_measurement;co_benefits\n")
    assert rows[0].interests == ("soil_measurement", "co_benefits")
    with pytest.raises(RosterError) as err:
        parse_roster(head + "a@x.org,A,Org,member,Alliance,en,UTC,soil;co_benefits\n")
    assert "interests" in str(err.value) and "unknown topic 'soil'" in str(err.value)
    assert parse_roster(head.replace(",interests", "") +
                        "a@x.org,A,Org,member,Alliance,fr,UTC\n")[0].interests == ()


def test_approval_announces_to_channels_and_matching_members(bot: Bot) -> None:
    say(bot, MEMBER_FR, "interests set soil_measurement")
    say(bot, PRIYA, "interests set 2")  # carbon markets: no match
    say(bot, OBSERVER, "interests set soil_measurement")  # observers get no sign-up email
    sid = propose(bot)
    assert "Only the secretariat" in say(bot, MEMBER, f"sprint approve {sid}") or \
        "does not allow" in say(bot, MEMBER, f"sprint approve {sid}")
    out = say(bot, SECRETARIAT, f"sprint approve {sid}")
    assert "1 member with matching interests emailed" in out, out
    (mail,) = emails_to(bot, MEMBER_FR, ":announce:")
    assert f"/sprints/{sid}/join?t=" in mail.payload["text"]
    assert "Technologies de mesure du carbone des sols" in mail.payload["text"]
    assert emails_to(bot, PRIYA, ":announce:") == emails_to(bot, OBSERVER, ":announce:") == []
    assert len(emails_to(bot, MEMBER, ":decided:")) == 1
    # weekly nudge: once per person and week
    assert send_nudges(bot) == 1  # Claire; not the observer, who cannot sign up
    assert send_nudges(bot) == 0


def test_message_home_and_buttons(bot: Bot) -> None:
    sid = open_sprint(bot, capacity=1, minimum="1000", currency="EUR")
    say(bot, MEMBER, f"sprint join {sid}")
    say(bot, MEMBER_FR, f"sprint pledge {sid} 250 EUR")
    home = home_message(bot, Actor("console", "", PRIYA))
    buttons = [e for b in home.blocks if isinstance(b, Actions) for e in b.elements
               if isinstance(e, Button)]
    assert any(b.label == "Join the waitlist" and not b.disabled for b in buttons)
    mine = home_message(bot, Actor("console", "", MEMBER))
    assert any("seat 1" in str(b) for b in mine.blocks if isinstance(b, Section))
    obs = home_message(bot, Actor("console", "", OBSERVER))
    assert [e.action_id for b in obs.blocks if isinstance(b, Actions) for e in b.elements] == \
        ["sprint.follow"]
    from bot.i18n import translator
    from bot.sprints.render import sprint_message
    from storage.base import utcnow
    from storage.models import Sprint

    with bot.session_factory() as s:
        msg = sprint_message(s, s.get(Sprint, sid), tr=translator("fr"),  # type: ignore[arg-type]
                             zone="Europe/Paris", now=utcnow())
    image = next(b for b in msg.blocks if isinstance(b, Image))
    assert image.png.startswith(b"\x89PNG") and "1\u202f000,00" in image.alt
    times = [p for b in msg.blocks if isinstance(b, Section) for f in b.fields
             for p in (f.value if isinstance(f.value, tuple) else ()) if isinstance(p, Time)]
    assert times and all("Europe/Paris" in t.fallback for t in times)
    assert "*" not in msg.text.replace("**cheap**", "")  # no platform markup added
    assert msg.accent == "warning"  # full


def test_cli_export(bot: Bot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sid = open_sprint(bot, capacity=1, minimum="100", currency="EUR")
    say(bot, MEMBER, f"sprint join {sid}")
    say(bot, MEMBER_FR, f"sprint join {sid}")
    say(bot, MEMBER, f"sprint pledge {sid} 100 EUR")
    with bot.session_factory() as s, s.begin():
        from bot.members import person_by_email

        person_by_email(s, MEMBER_FR).name = "=HYPERLINK(\"http://x\")"  # type: ignore[union-attr]
    monkeypatch.setenv("CONVENE_DATABASE_URL", bot.settings.database_url)
    from bot.cli import _add_plugin_commands, app

    _add_plugin_commands()
    runner = CliRunner()
    out = runner.invoke(app, ["sprints", "export", str(sid), "--format", "csv"])
    assert out.exit_code == 0, out.output
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert {r["section"] for r in rows} >= {"people", "pledge", "waitlist", "log"}
    wait = [r for r in rows if r["section"] == "waitlist"]
    assert wait[0]["position"] == "1" and wait[0]["name"].startswith("'=")
    assert not any(v.startswith(("=", "+", "-", "@")) for r in rows for v in r.values())
    data = json.loads(runner.invoke(app, ["sprints", "export", str(sid), "-f", "json"]).stdout)
    assert data["totals"] == {"EUR": "100.00"} and data["waitlist"][0]["position"] == 1
    assert any("free on sign-up" in e["reason"] for e in data["log"])
    listed = runner.invoke(app, ["sprints", "list"]).stdout
    assert f"#{sid}\topen\t1/1\twaiting 1" in listed
