"""Round 1 in chat, driven through the console adapter on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from adapters.console import ConsoleSession
from bot.app import Bot
from bot.polls.jobs import run as run_jobs
from bot.types import Actor, ButtonPress, Conversation
from storage.models import Group, OutboxMessage, Person
from tests.conftest import CHAIR, MEMBER, MEMBER_ES, MEMBER_FR, OBSERVER, SECRETARIAT
from tests.polls.helpers import audits, later, new_poll, proposal, stances

PRIYA = "priya.nair@carbonledger.example"
Chat = Callable[[str], ConsoleSession]


def test_form_buttons_reason_and_tally(bot: Bot, chat: Chat) -> None:
    amara = chat(MEMBER)
    out = amara.feed("poll new")
    assert "-- New proposal --" in out
    form = amara._form
    assert form.form_id == "poll.new"
    assert [f.name for f in form.fields] == ["title", "text", "group", "closes", "quorum",
                                             "visibility"]
    assert [f.kind for f in form.fields] == ["text", "textarea", "select", "datetime",
                                             "number", "select"]
    for answer in ("Shared soil-carbon baseline", "We publish a shared baseline.",
                   "Alliance", "2030-01-15 17:00", "60", "hidden"):
        out = amara.feed(answer)
    assert "Proposal #1 is open for stances in Alliance; it closes " in out
    assert "[1] Agree" in out and "[4] Block" in out
    assert "2030-01-15 17:00 Africa/Lagos" in out  # the person's zone
    p = proposal(bot, 1)
    assert p.quorum_percent == 60 and p.visibility == "hidden"
    assert p.closes_at.isoformat() == "2030-01-15T16:00:00+00:00"

    out = amara.feed("1")
    assert "Your stance on proposal #1, round 1: Agree." in out

    claire = chat(MEMBER_FR)
    out = claire.feed("vote 1 block")
    assert "-- Votre raison --" in out or "-- Your reason --" in out
    assert claire._form.form_id == "poll.reason"
    assert claire._form.context == "1:1:1:block"  # <id>:<round>:<version>:<stance>
    claire.feed("Le protocole ignore les sols tropicaux.")
    got = stances(bot, 1)
    assert got == {"p:1": ("agree", "console", ""),
                   "p:2": ("block", "console", "Le protocole ignore les sols tropicaux.")}
    # hidden: counts only, no names, until the close
    shown = chat(MEMBER_ES).feed("poll show 1")
    assert "Claire Dubois" not in shown and "█" in shown
    # a stance changes until the close; the last one counts
    amara.feed("vote 1 disagree Too early for the smaller members")
    assert stances(bot, 1)["p:1"] == ("disagree", "console", "Too early for the smaller members")
    actions = [(a.action, a.detail["stance"], a.detail["previous"], a.channel)
               for a in audits(bot)]
    assert actions == [("poll.stance", "agree", None, "console"),
                       ("poll.stance", "block", None, "console"),
                       ("poll.stance.change", "disagree", "agree", "console")]


def test_observer_comments_are_advisory_and_observers_never_vote(bot: Bot, chat: Chat) -> None:
    pid = new_poll(bot, SECRETARIAT)
    tom = chat(OBSERVER)
    out = tom.feed(f"vote {pid} agree")
    assert "Your role (observer) does not allow this: it needs member." in out
    out = tom.feed(f"poll comment {pid} Lenders will want the baseline early.")
    assert "recorded as advisory" in out
    assert "[advisory] Tom Becker: Lenders will want" in chat(MEMBER).feed(
        f"poll show {pid}")
    assert stances(bot, pid) == {}


def test_the_same_platform_event_twice_counts_once(bot: Bot, chat: Chat) -> None:
    pid = new_poll(bot, MEMBER)
    ev = ButtonPress("poll.stance", f"{pid}:1:agree", Actor("console", "", MEMBER),
                     Conversation("console", "", "t"), event_id="slack-retry-1")
    assert "Agree" in bot.dispatch(ev)[0].message.text
    assert bot.dispatch(ev) == []
    assert len(audits(bot)) == 1 and len(stances(bot, pid)) == 1


def test_round_closes_at_deadline_with_dissent_and_blocks_named(
        bot: Bot, chat: Chat) -> None:
    pid = new_poll(bot, MEMBER, days=1)
    chat(MEMBER).feed(f"vote {pid} agree")
    chat(MEMBER_FR).feed(f"vote {pid} disagree Trop tôt")
    chat(MEMBER_ES).feed(f"vote {pid} block Falta presupuesto")
    assert run_jobs(bot, now=later(25)) == (1, 0)
    assert run_jobs(bot, now=later(26)) == (0, 0)  # closes once
    p = proposal(bot, pid)
    assert p.state == "failed" and p.outcome is None
    out = chat(MEMBER).feed(f"poll show {pid}")
    assert "Block by Mateo Rojas: Falta presupuesto" in out
    assert "Disagree by Claire Dubois: Trop tôt" in out
    assert "consensus not reached" in out
    # the secretariat is told how to open the email round
    with bot.session_factory() as s:
        keys = s.scalars(select(OutboxMessage.key).where(
            OutboxMessage.key.like(f"poll:{pid}:r1:failed%"))).all()
    assert len(keys) == 2  # James and Sofía


def test_early_close_when_everyone_has_a_stance_means_consensus(
        bot: Bot, chat: Chat) -> None:
    pid = new_poll(bot, SECRETARIAT)
    for who in (MEMBER, MEMBER_FR, MEMBER_ES, PRIYA):
        chat(who).feed(f"vote {pid} agree")
    assert proposal(bot, pid).state == "open"
    chat(CHAIR).feed(f"vote {pid} abstain")
    p = proposal(bot, pid)
    assert (p.state, p.outcome) == ("decided", "consensus")
    out = chat(MEMBER).feed(f"vote {pid} block late")
    assert "is not open" in out


def test_organisation_voting_unit_last_stance_counts(bot: Bot, chat: Chat) -> None:
    with bot.session_factory() as s, s.begin():
        for g in s.scalars(select(Group)).all():
            g.voting_unit = "organisation"
        amara = s.scalars(select(Person).where(Person.name == "Amara Okafor")).one()
        priya = s.scalars(select(Person).where(Person.name == "Priya Nair")).one()
        priya.organisation_id = amara.organisation_id  # one organisation, two people
        org = amara.organisation_id
    pid = new_poll(bot, MEMBER)
    chat(MEMBER).feed(f"vote {pid} agree")
    chat(PRIYA).feed(f"vote {pid} block Not our position")
    got = stances(bot, pid)
    assert got == {f"o:{org}": ("block", "console", "Not our position")}
    out = chat(MEMBER).feed(f"poll show {pid}")
    assert "1 of 4 voting units" in out


def test_editing_after_stances_starts_a_new_version(bot: Bot, chat: Chat) -> None:
    pid = new_poll(bot, MEMBER)
    chat(MEMBER_FR).feed(f"vote {pid} agree")
    out = chat(MEMBER_ES).feed(f"poll edit {pid} Changed text")
    assert out == "Solo el autor o la secretaría pueden modificar una propuesta."
    out = chat(MEMBER).feed(f"poll edit {pid} We adopt v3 instead.")
    assert "text version 2" in out
    shown = chat(MEMBER).feed(f"poll show {pid}")
    assert "We adopt v3 instead." in shown and "0 of 5 voting units" in shown
    chat(MEMBER_FR).feed(f"vote {pid} agree")
    assert "1 of 5 voting units" in chat(MEMBER).feed(f"poll show {pid}")


def test_reminders_go_only_to_those_without_a_stance(bot: Bot, chat: Chat) -> None:
    pid = new_poll(bot, MEMBER, days=2)
    chat(MEMBER).feed(f"vote {pid} agree")
    chat(CHAIR).feed(f"vote {pid} agree")
    assert run_jobs(bot, now=later(25)) == (0, 3)  # the 24 h reminder
    assert run_jobs(bot, now=later(26)) == (0, 0)  # once
    bot.new_worker().drain()
    with bot.session_factory() as s:
        to = sorted(t for (row,) in s.execute(select(OutboxMessage.payload).where(
            OutboxMessage.key.like(f"poll:{pid}:r1:v1:remind24:%"))) for t in row["to"])
    assert to == ["claire.dubois@inrae-partner.example", "mateo.rojas@suelosvivos.example",
                  PRIYA]
