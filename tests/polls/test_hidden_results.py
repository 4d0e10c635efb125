"""Hidden means hidden: while a round's results are hidden, nobody but the
secretariat sees a count, the quorum figure or the chart, on any path (chat
and Discord ``poll show``, the Slack and Discord cards and their updates, the
voter's own confirmation on the fast and the general path, an email reply's
answer, the vote page, App Home, the decision register and its export), each
driven by a member and an observer; after the close everyone sees everything.
``poll new ... | hidden`` sets it on one line; ``[polls] default_visibility``
makes it the alliance's default."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import httpx
from sqlalchemy import func, select

from adapters.console import ConsoleSession
from adapters.console import render as console_render
from adapters.discord.outbound import render_message as discord_render
from adapters.email.imap import handle_reply
from adapters.slack.outbound import render_message as slack_render
from bot.app import Bot
from bot.home import home_message
from bot.polls import register
from bot.polls.tokens import mint
from bot.types import (
    Actor,
    ButtonPress,
    Command,
    Conversation,
    FormSubmission,
    Image,
    Message,
    message_from_data,
)
from bot.web import create_web_app
from storage.base import utcnow
from storage.models import Ballot, EmailAddress, Group, Proposal
from tests.adapters.email.servers import http_app
from tests.conftest import MEMBER, MEMBER_ES, MEMBER_FR, OBSERVER, SECRETARIAT
from tests.polls.helpers import YES, closes_in, origin

#: What a count looks like on any path, in any of the three languages.
_COUNT = re.compile(r"(Agree|Abstain|Disagree|Block|D'accord|Abstention|Désaccord|Blocage|"
                    r"De acuerdo|Abstención|En desacuerdo|Bloqueo)[ \t]*[:·]?[ \t]*\d"
                    r"|█|voting units|unités de vote|unidades de voto|Tally|Décompte|Recuento",
                    re.I)


def leaks(text: str) -> bool:
    return bool(_COUNT.search(text))


def has_chart(message: Message) -> bool:
    return any(isinstance(b, Image) and b.png for b in message.blocks)


def say(bot: Bot, who: str, line: str) -> str:
    return ConsoleSession(dispatch=bot.dispatch, email=who).feed(line)


def hidden_poll(bot: Bot, *, days: float = 7) -> int:
    out = say(bot, SECRETARIAT, f"poll new Baseline | We publish a baseline. | "
                                f"{closes_in(days)} | hidden")
    assert "is open for stances" in out, out
    with bot.session_factory() as s:
        pid = int(s.scalar(select(func.max(Proposal.id))) or 0)
        assert s.get(Proposal, pid).visibility == "hidden"  # type: ignore[union-attr]
    return pid


def test_one_line_poll_new_takes_hidden_and_the_default_is_a_setting(
        make_bot: Any, db_url: str) -> None:
    bot = make_bot(db_url)
    pid = hidden_poll(bot)
    out = say(bot, SECRETARIAT, f"poll new Other | Text. | {closes_in()} | Alliance | live")
    assert "is open for stances in Alliance" in out
    out = say(bot, SECRETARIAT, f"poll new Third | Text. | {closes_in()} | Alliance")
    with bot.session_factory() as s:
        vis = dict(s.execute(select(Proposal.id, Proposal.visibility)).all())
    assert vis == {pid: "hidden", pid + 1: "live", pid + 2: "live"}
    hiding = make_bot(db_url, roster=None, polls={"default_visibility": "hidden"})
    say(hiding, SECRETARIAT, f"poll new Fourth | Text. | {closes_in()}")
    form = hiding.dispatch(Command("poll", "new", Actor("console", "", SECRETARIAT),
                                   Conversation("console", "", "t"), "form"))[0].message.form
    assert form is not None and form.fields[-1].initial == "hidden"  # the form's default too
    with hiding.session_factory() as s:
        assert s.get(Proposal, pid + 3).visibility == "hidden"  # type: ignore[union-attr]


def test_poll_show_in_chat_and_on_discord(bot: Bot) -> None:
    pid = hidden_poll(bot)
    say(bot, MEMBER, f"vote {pid} agree")
    say(bot, MEMBER_FR, f"vote {pid} block Not before the trials")
    bot.identify(Actor("discord", "G1", "D_MEMBER"), MEMBER_ES)
    bot.identify(Actor("discord", "G1", "D_OBS"), OBSERVER)
    where = Conversation("discord", "G1", "CH1")
    for who in (MEMBER, MEMBER_ES, OBSERVER):
        shown = say(bot, who, f"poll show {pid}")
        assert "Baseline" in shown and not leaks(shown), (who, shown)
    for user in ("D_MEMBER", "D_OBS"):
        replies = bot.dispatch(Command("poll", f"show {pid}", Actor("discord", "G1", user),
                                       where, f"show-{user}"))
        msg = replies[0].message
        rendered = discord_render(msg)
        assert "Baseline" in rendered.payload_json(), user
        assert not leaks(rendered.payload_json()) and not rendered.files and \
            not has_chart(msg), (user, rendered.payload_json())
    secretariat = say(bot, SECRETARIAT, f"poll show {pid}")
    assert leaks(secretariat) and "2 of" in secretariat  # the secretariat sees the counts
    assert "is closed" in say(bot, SECRETARIAT, f"poll close {pid}")
    for who in (MEMBER, OBSERVER):
        after = say(bot, who, f"poll show {pid}")
        assert "█" in after and "Claire Dubois" in after, who  # everything, after the close


def test_the_slack_and_discord_cards_and_their_updates(bot: Bot) -> None:
    with bot.session_factory() as s, s.begin():
        alliance = s.scalars(select(Group).where(Group.is_alliance.is_(True))).one()
        alliance.channels = {"slack": {"workspace_id": "T1", "channel_id": "C_ALL"},
                             "discord": {"workspace_id": "G1", "channel_id": "CH1"}}
    got: list[tuple[str, Message]] = []

    def deliver(payload: Mapping[str, Any], *, existing_id: str | None) -> str:
        got.append((payload["platform"], message_from_data(payload["message"])))
        return existing_id or f"m-{payload['platform']}"

    bot.chat_deliverers.update(console=deliver, slack=deliver, discord=deliver)
    pid = hidden_poll(bot)
    bot.identify(Actor("slack", "T1", "U_M"), MEMBER)
    bot.dispatch(ButtonPress("poll.stance", f"{pid}:1:1:agree", Actor("slack", "T1", "U_M"),
                             Conversation("slack", "T1", "C_ALL"), "slack-press"))
    say(bot, MEMBER_FR, f"vote {pid} abstain")
    assert bot.new_worker().drain() >= 2
    cards = [(p, m) for p, m in got if p in ("slack", "discord")]
    assert {p for p, _ in cards} == {"slack", "discord"}
    for platform, msg in cards:
        out = json.dumps(slack_render(msg)) if platform == "slack" else \
            discord_render(msg).payload_json()
        assert "Baseline" in out and not leaks(out) and not has_chart(msg), (platform, out)
    got.clear()
    say(bot, SECRETARIAT, f"poll close {pid}")
    bot.new_worker().drain()
    closed = {p: m for p, m in got if p in ("slack", "discord")}
    assert set(closed) == {"slack", "discord"}
    assert leaks(json.dumps(slack_render(closed["slack"]))) and has_chart(closed["slack"])
    assert leaks(discord_render(closed["discord"]).payload_json())


def test_the_voters_own_confirmation_on_every_path(bot: Bot) -> None:
    pid = hidden_poll(bot)
    confirmations: list[str] = []
    # the terminal (the fast path where the dialect has one)
    confirmations.append(say(bot, MEMBER, f"vote {pid} agree"))
    # a Slack button (fast path) and the reason form (the general path)
    bot.identify(Actor("slack", "T1", "U_FR"), MEMBER_FR)
    fr = Actor("slack", "T1", "U_FR")
    where = Conversation("slack", "T1", "C1")
    confirmations += [r.message.text for r in bot.dispatch(
        ButtonPress("poll.stance", f"{pid}:1:1:abstain", fr, where, "b-fr"))]
    confirmations += [r.message.text for r in bot.dispatch(FormSubmission(
        "poll.reason", (("reason", "Trop tôt"),), fr, where, "f-fr",
        context=f"{pid}:1:1:disagree"))]
    # a Discord command
    bot.identify(Actor("discord", "G1", "D_ES"), MEMBER_ES)
    confirmations += [r.message.text for r in bot.dispatch(Command(
        "vote", f"{pid} agree", Actor("discord", "G1", "D_ES"),
        Conversation("discord", "G1", "CH1"), "d-es"))]
    assert len(confirmations) == 4
    for text in confirmations:
        assert ("recorded" in text or "enregistrée" in text or "registrada" in text), text
        assert not leaks(text), text
    # the observer's attempt tells no count either
    refusal = say(bot, OBSERVER, f"vote {pid} agree")
    assert "does not allow" in refusal and not leaks(refusal)


def _round_two(bot: Bot) -> int:
    pid = hidden_poll(bot)
    say(bot, MEMBER_FR, f"vote {pid} block Not before the trials")
    say(bot, SECRETARIAT, f"poll close {pid}")
    assert "is open by email" in say(bot, SECRETARIAT, f"poll email-round {pid}")
    return pid


def _reply(pid: int, ballot: str, sender: str, mid: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["Subject"] = f"Re: [poll #{pid}/2] Baseline"
    msg["In-Reply-To"] = ballot
    msg["Message-ID"] = mid
    msg.set_content("Agree\n\nFine by us.\n")
    return msg


def test_email_reply_confirmation_and_the_vote_page(bot: Bot) -> None:
    pid = _round_two(bot)
    say(bot, MEMBER_ES, f"vote {pid} agree")  # someone stands already in round 2
    with bot.session_factory() as s:
        ids = dict(s.execute(select(EmailAddress.address, EmailAddress.person_id)).all())
        ballot = s.scalars(select(Ballot.message_id).where(
            Ballot.proposal_id == pid, Ballot.person_id == ids[MEMBER])).first()
    assert ballot is not None
    outcome = handle_reply(bot, _reply(pid, ballot, f"Amara Okafor <{MEMBER}>",
                                       "<member-reply-1@terrasoil.example>"))
    assert outcome is not None and "recorded" in outcome.answer, outcome
    assert not leaks(outcome.answer), outcome.answer
    obs = _reply(pid, ballot, f"Tom Becker <{OBSERVER}>",
                 "<observer-reply-1@agrifinance.example>")
    answer = handle_reply(bot, obs)
    assert answer is None or not leaks(answer.answer)

    key = bot.settings.signing_key()
    exp = utcnow() + timedelta(hours=24)
    with http_app(create_web_app(bot)) as base, \
            httpx.Client(base_url=base, timeout=30, headers=origin(bot)) as web:
        for who, status in ((MEMBER_FR, 200), (OBSERVER, 403)):
            token = mint(key=key, person_id=ids[who], poll_id=pid, round_no=2,
                         stance="abstain", expires_at=exp)
            page = web.get(f"/polls/{pid}/vote", params={"t": token})
            assert page.status_code == status and not leaks(page.text), (who, page.text)
            done = web.post(f"/polls/{pid}/vote", data={"t": token, **YES})
            assert done.status_code == status, (who, done.text)
            assert not leaks(done.text), (who, done.text)
            if status == 200:
                assert "recorded" in done.text or "enregistrée" in done.text


def test_app_home_the_register_and_its_export(bot: Bot) -> None:
    pid = hidden_poll(bot)
    say(bot, MEMBER, f"vote {pid} agree")
    say(bot, MEMBER_FR, f"vote {pid} agree")
    for who in (MEMBER, OBSERVER):
        home = home_message(bot, Actor("console", "", who))
        text = console_render(home)[0]
        assert "Baseline" in text and not leaks(text) and not has_chart(home), (who, text)
        slack_home = json.dumps(slack_render(home))
        assert not leaks(slack_home)
        assert not leaks(say(bot, who, "decisions"))
    with bot.session_factory() as s:
        records = register.decisions(s)
    assert all(r["id"] != pid for r in records)  # an open round is not in the register
    assert not leaks(register.to_csv(records).split("\n", 1)[1])
    # after the close the register shows everything
    say(bot, SECRETARIAT, f"poll close {pid}")
    with bot.session_factory() as s:
        state = s.get(Proposal, pid).state  # type: ignore[union-attr]
    if state == "decided":
        with bot.session_factory() as s:
            rec = next(r for r in register.decisions(s) if r["id"] == pid)
        assert rec["rounds"][0]["counts"]["agree"] == 2
