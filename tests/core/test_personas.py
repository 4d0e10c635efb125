"""A month of the alliance's work on the terminal, read by each role in turn
(the secretariat, the chair, a French member, a Spanish member, a French
observer): polls, workshops, sprints and the press review, asserting what each
person sees: their language, dates and numbers as they write them, and none of
the product's internal words. The key steps again on Slack and Discord, through
their fakes (tests/adapters/slack, tests/adapters/discord)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from adapters.console import ConsoleSession
from bot.app import Bot
from tests.conftest import (
    CHAIR,
    MEMBER,
    MEMBER_ES,
    MEMBER_FR,
    OBSERVER_FR,
    SECRETARIAT,
    SECRETARIAT_ES,
)
from tests.locale_checks import ISO_MOMENT, problems
from tests.polls.helpers import closes_in
from tests.sprints.helpers import open_sprint
from tests.workshops.helpers import YEAR

#: Words of the machinery a person must never read.
INTERNAL = re.compile(r"soil_measurement|\[console\]|\[web\]|\{'|'\}|<[A-Za-z_.]+ object|"
                      r"Traceback|bozo|\bNone\b|voter_key|p:\d|o:\d")
#: Typed by people in the walkthrough (not the product's words), and the
#: commands a person types back.
TYPED = ("Protocole v2", "Protocolo v2", "Carbone des sols", "Sondes", "Low-cost soil probes",
         "Build and compare **cheap** probes.", "Trop cher", "Avis", "Annexe tropicale")
COMMAND = re.compile(r"`[^`]*`|\b(?:vote|poll|sprint|workshop|digest|decisions|interests|"
                     r"whoami|help|home)(?: [\w|\[\].:@,-]+)*")


@dataclass
class Month:
    """What each person read, in order: (their line, what they saw)."""

    seen: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)

    def of(self, who: str) -> str:
        return "\n".join(out for _line, out in self.seen.get(who, []))


def a_month(bot: Bot) -> Month:
    """The walkthrough: every person's lines through the console adapter."""
    month = Month()

    def say(who: str, line: str) -> str:
        out = ConsoleSession(dispatch=bot.dispatch, email=who).feed(line)
        month.seen.setdefault(who, []).append((line, out))
        return out

    # polls: a proposal, stances in three languages, an observer's comment, escalation
    out = say(SECRETARIAT, f"poll new Protocole v2 | Protocolo v2. | {closes_in(7)}")
    pid = month.ids["poll"] = int(out.split("#", 1)[1].split()[0])
    say(MEMBER_FR, f"poll show {pid}")
    say(MEMBER_FR, f"vote {pid} bloquer Trop cher")
    say(MEMBER_ES, f"poll show {pid}")
    say(MEMBER_ES, f"vote {pid} desacuerdo Trop cher")
    say(OBSERVER_FR, f"poll comment {pid} Avis")
    say(OBSERVER_FR, f"vote {pid} d'accord")
    say(MEMBER, f"vote {pid} agree")
    say(SECRETARIAT, f"poll close {pid}")
    say(SECRETARIAT, f"poll email-round {pid}")
    say(SECRETARIAT, f"poll close {pid}")
    say(CHAIR, f"poll show {pid}")
    say(CHAIR, f"poll determine {pid} upheld Annexe tropicale")
    for who in (MEMBER_FR, MEMBER_ES, OBSERVER_FR, CHAIR):
        say(who, "decisions")
    # workshops: a series on a scope topic, two slots, answers, confirmation, RSVPs
    out = say(SECRETARIAT, "workshop series new Carbone des sols | Europe/Paris | 15:00 | 90 | "
              "soil_measurement | | quarterly | https://meet.example/soil")
    sid = int(out.split("#", 1)[1].split()[0])
    out = say(SECRETARIAT, f"workshop open {sid} {YEAR}-Q1")
    wid = month.ids["workshop"] = int(out.split("#", 1)[1].split()[0])
    say(SECRETARIAT, f"workshop slot add {wid} {YEAR}-03-11 15:00")
    say(SECRETARIAT, f"workshop slot add {wid} {YEAR}-03-12 08:00")
    for who in (MEMBER_FR, MEMBER_ES, OBSERVER_FR):
        say(who, f"workshop slots {wid}")
        say(who, f"workshop answer {wid} 1 yes")
        say(who, f"workshop show {wid}")
    say(SECRETARIAT, f"workshop confirm {wid}")
    say(MEMBER_FR, f"workshop rsvp {wid} accept")
    say(MEMBER_ES, f"workshop rsvp {wid} decline")
    say(SECRETARIAT, f"workshop attendees {wid}")
    say(SECRETARIAT_ES, f"workshop attendees {wid}")
    # sprints: one seat, a waitlist, a pledge written the French way
    sprint = month.ids["sprint"] = open_sprint(bot, capacity=1, org_cap=1, currency="EUR",
                                               goal="5000", minimum="3000", funding_days=8)
    say(MEMBER_ES, f"sprint join {sprint}")
    say(MEMBER_FR, f"sprint join {sprint}")
    say(MEMBER_FR, f"sprint pledge {sprint} 1 500,50 EUR")
    for who in (MEMBER_FR, MEMBER_ES, OBSERVER_FR):
        say(who, f"sprint show {sprint}")
        say(who, "sprint list")
    say(OBSERVER_FR, f"sprint join {sprint}")
    # the press review
    say(SECRETARIAT_ES, "digest preview")
    say(SECRETARIAT, "digest preview")
    for who in (MEMBER_FR, MEMBER_ES, OBSERVER_FR, SECRETARIAT, CHAIR):
        say(who, "home")
    return month


def _reads(month: Month, who: str, language: str) -> str:
    text = month.of(who)
    assert text.strip(), who
    assert not INTERNAL.search(text), INTERNAL.search(text)
    if language != "en":
        cleaned = text
        for typed in TYPED:
            cleaned = cleaned.replace(typed, " ")
        bad = problems(COMMAND.sub(" ", cleaned), language)
        assert not bad, f"{who}:\n" + "\n".join(bad)
    else:
        assert not ISO_MOMENT.search(COMMAND.sub(" ", text)), ISO_MOMENT.search(text)
    return text


def test_the_secretariat(bot: Bot) -> None:
    month = a_month(bot)
    en = _reads(month, SECRETARIAT, "en")
    assert "Closes: " in en and "(Europe/London)" in en
    assert "Claire Dubois (Institut Sol Vivant): accept (in chat)" in en
    es = _reads(month, SECRETARIAT_ES, "es")
    assert "Mateo Rojas (Suelos Vivos): rechazar (en el chat)" in es
    assert "Participantes del taller" in es


def test_the_chair(bot: Bot) -> None:
    month = a_month(bot)
    text = _reads(month, CHAIR, "en")
    assert "is adopted despite the objections" in text
    assert "The chair's note: Annexe tropicale" in text
    assert "Block by Claire Dubois (round 1): Trop cher" in text
    assert "(Australia/Sydney)" in text


def test_a_member_in_french(bot: Bot) -> None:
    month = a_month(bot)
    text = _reads(month, MEMBER_FR, "fr")
    assert "Votre position sur la proposition" in text
    assert re.search(r"Clôture\u202f?: \w+\. \d+ déc\. \d{4}, \d\d:\d\d CET \(Europe/Paris\)",
                     text), text
    assert "Note de la présidence" in text and "Commentaire consultatif de Lucie Martin" in text
    assert "État: ouvert" in text and "Thème: Technologies de mesure du carbone des sols" in text
    assert "1\u202f500,50\u00a0€" in text  # the pledge as France writes it


def test_a_member_in_spanish(bot: Bot) -> None:
    month = a_month(bot)
    text = _reads(month, MEMBER_ES, "es")
    assert "Su postura sobre la propuesta" in text and "En desacuerdo" in text
    assert "(America/Bogota)" in text and " dic " in text
    assert "Estado: abierto" in text and "como máximo 1 plaza" in text
    assert "Bloquear de Claire Dubois (ronda 1)" in text


def test_an_observer_in_french(bot: Bot) -> None:
    month = a_month(bot)
    text = _reads(month, OBSERVER_FR, "fr")
    said = dict(month.seen[OBSERVER_FR])
    poll = month.ids["poll"]
    assert "consultatif" in said[f"poll comment {poll} Avis"]
    refused = said[f"vote {poll} d'accord"]
    assert "Votre position" not in refused and refused.strip(), refused
    assert "Commentaire consultatif de Lucie Martin" in text


# --- the same key steps on Slack and Discord ----------------------------------------------

def test_key_steps_on_slack(make_bot: Callable[..., Bot], sqlite_url: str) -> None:
    from adapters.slack.plugin import SERVICE
    from adapters.slack.plugin import plugin as slack_plugin
    from tests.adapters.slack.conftest import SECRET, USERS, Served, form_headers, slash_body
    from tests.adapters.slack.fake_slack import FakeSlack

    fake = FakeSlack(users=dict(USERS)).start()
    try:
        bot = make_bot(sqlite_url, slack={"enabled": True, "bot_token": "xoxb-test-token",
                                          "signing_secret": SECRET, "api_url": fake.api_url})
        ConsoleSession(dispatch=bot.dispatch, email=SECRETARIAT).feed(
            f"poll new Protocole v2 | Protocolo v2. | {closes_in(7)}")
        srv = Served(bot)
        try:
            replies = []
            for n, line in enumerate(("vote 1 bloquer Trop cher", "poll show 1", "decisions")):
                body = slash_body(line, user="UMEMBERFR", response_url=fake.hook_url(f"s{n}"))
                assert srv.post(body, form_headers(body)).status_code == 200
                replies.append(fake.wait_for("hook", n + 1)[n].args)
        finally:
            srv.stop()
            if SERVICE in bot.adapters:
                slack_plugin.adapter(bot).close(wait=False)
    finally:
        fake.stop()
    vote, show, _decisions = (json.dumps(r, ensure_ascii=False) for r in replies)
    assert "Votre position sur la proposition n° 1" in vote and "Bloquer" in vote
    assert "Clôture" in show and "déc." in show and not ISO_MOMENT.search(show), show
    assert "vote 1 d'accord|abstention|désaccord|bloquer" in show


def test_key_steps_on_discord(make_bot: Callable[..., Bot], sqlite_url: str) -> None:
    from tests.adapters.discord.fake_discord import GUILD, FakeDiscord
    from tests.adapters.discord.harness import Harness, command

    fake = FakeDiscord().start()
    try:
        bot = make_bot(sqlite_url, discord={"enabled": True, "bot_token": "test-token",
                                            "guild_id": GUILD, "api_url": fake.base},
                       capabilities=["polls", "digest", "sprints"])
        h = Harness(bot, fake)
        try:
            claire, mateo = "700000000000000011", "700000000000000012"
            h.link(MEMBER_FR, claire)
            h.link(MEMBER_ES, mateo)
            ConsoleSession(dispatch=bot.dispatch, email=SECRETARIAT).feed(
                f"poll new Protocole v2 | Protocolo v2. | {closes_in(7)}")
            steps = [(claire, "vote 1 bloquer Trop cher"), (mateo, "vote 1 en desacuerdo caro"),
                     (mateo, "poll show 1")]
            for n, (user, line) in enumerate(steps):
                h.feed("INTERACTION_CREATE", command(user, "do", text=line))
                h.wait(lambda n=n: len(h.followups()) > n)
            said = [json.dumps(f.body, ensure_ascii=False) for f in h.followups()]
        finally:
            h.close()
            rest = bot.adapters.get("discord.rest")
            if rest is not None:
                rest.close()  # type: ignore[attr-defined]
    finally:
        fake.stop()
    assert "Votre position sur la proposition n° 1" in said[0] and "Bloquer" in said[0]
    assert "Su postura sobre la propuesta n.º 1" in said[1] and "En desacuerdo" in said[1]
    assert "(America/Bogota)" in said[2] or "<t:" in said[2]
    assert not ISO_MOMENT.search(said[2]), said[2]
