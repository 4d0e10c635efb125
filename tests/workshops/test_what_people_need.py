"""Workshops tell people what they need (issue 20): notes shown and sent, your
own action items, a recommendation that names its reasons, availability before
confirmation, a reschedule that asks everyone again, slots numbered per
workshop, every numbered answer on a terminal, hints that work when copied,
many slots without blind cutting, and a join link never cut."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import select

from adapters.console import ConsoleSession
from adapters.discord.deliver import event_body
from adapters.discord.outbound import render_message as discord_message
from adapters.slack.outbound import render_message as slack_message
from bot.app import Bot
from bot.types import Actions, Actor, CalendarEvent, Command, Conversation, Link, Section
from bot.workshops.routes import BUTTON_SLOTS
from storage.models import AuditEntry, WorkshopAvailability, WorkshopRsvp
from tests.conftest import MEMBER, MEMBER_ES, MEMBER_FR, OBSERVER, SECRETARIAT
from tests.workshops.helpers import YEAR, confirmed_workshop, new_workshop, outbox_emails, say


def test_slots_are_numbered_within_each_workshop(bot: Bot) -> None:
    first = new_workshop(bot)
    out = say(bot, SECRETARIAT, "workshop series new Methods | UTC | 10:00 | 60")
    sid = re.search(r"#(\d+)", out)
    assert sid
    opened = say(bot, SECRETARIAT, f"workshop open {sid.group(1)} {YEAR}-Q2")
    second = int(re.search(r"#(\d+)", opened).group(1))  # type: ignore[union-attr]
    assert second != first
    assert "Slot 1 added" in say(bot, SECRETARIAT, f"workshop slot add {second} {YEAR}-05-04 "
                                                   "10:00")
    assert "Slot 2 added" in say(bot, SECRETARIAT, f"workshop slot add {second} {YEAR}-05-05 "
                                                   "10:00")
    listing = say(bot, MEMBER, f"workshop slots {second}")
    assert "Slot 1:" in listing and "Slot 2:" in listing and "Slot 3" not in listing
    assert "slot 2: yes" in say(bot, MEMBER, f"workshop answer {second} 2 yes")
    from storage.models import WorkshopSlot

    with bot.session_factory() as s:
        (row,) = s.scalars(select(WorkshopAvailability)).all()
        # slot 2 of the second workshop, not the first workshop's second slot
        slot = s.get(WorkshopSlot, row.slot_id)
        assert slot is not None and slot.workshop_id == second
    assert "has no slot 3" in say(bot, MEMBER, f"workshop answer {second} 3 yes")


def test_every_numbered_answer_works_on_a_terminal(bot: Bot) -> None:
    wid = new_workshop(bot)
    term = ConsoleSession(dispatch=bot.dispatch, email=MEMBER)
    shown = term.feed(f"workshop slots {wid}")
    numbers = dict(re.findall(r"\[(\d+)\] (\w[\w ]*)", shown))
    yes = [n for n, label in numbers.items() if label.strip() == "yes"]
    assert len(yes) == 2, shown
    assert "slot 1: yes" in term.feed(yes[0])
    assert "slot 2: yes" in term.feed(yes[1])  # the second number still presses its button
    with bot.session_factory() as s:
        assert len(s.scalars(select(WorkshopAvailability)).all()) == 2


def test_hints_are_commands_that_work_when_copied(bot: Bot) -> None:
    out = say(bot, SECRETARIAT, "workshop series new Annual | Europe/Paris | 15:00 | 90 | | | "
                                "annual")
    hint = out.split("with: ", 1)[1].strip()
    opened = say(bot, SECRETARIAT, hint)
    assert "is open" in opened, (hint, opened)
    slot_hint = opened.split("with: ", 1)[1].strip()
    day = re.search(r"\d{4}-\d{2}-\d{2}", slot_hint)
    assert day and datetime.fromisoformat(day.group(0)).date() > datetime.now(UTC).date()
    assert "added" in say(bot, SECRETARIAT, slot_hint), slot_hint
    quarterly = say(bot, SECRETARIAT, "workshop series new Q | UTC | 10:00 | 60")
    assert "is open" in say(bot, SECRETARIAT, quarterly.split("with: ", 1)[1].strip())


def test_the_recommendation_names_what_placed_each_slot(bot: Bot) -> None:
    wid = new_workshop(bot)
    say(bot, MEMBER, f"workshop lead {wid}")
    say(bot, MEMBER, f"workshop answer {wid} 1 no")
    say(bot, MEMBER, f"workshop answer {wid} 2 yes")
    for who in (MEMBER_FR, MEMBER_ES, OBSERVER):
        say(bot, who, f"workshop answer {wid} 1 yes")
    out = say(bot, SECRETARIAT, f"workshop recommend {wid}")
    last = [line.strip() for line in out.splitlines() if line.strip().startswith("2. ")]
    assert last and "slot 1" in last[0] and "(required) cannot come" in last[0], out
    assert "Amara" in last[0]


def test_attendees_before_confirmation_shows_availability(bot: Bot) -> None:
    wid = new_workshop(bot)
    say(bot, MEMBER, f"workshop answer {wid} 1 yes")
    say(bot, MEMBER_FR, f"workshop answer {wid} 2 ifneedbe")
    out = say(bot, SECRETARIAT, f"workshop attendees {wid}")
    assert "No answers yet" not in out
    assert "2 people answered" in out and "Not answered yet:" in out
    assert re.search(r"Amara[^\n]*: yes 1", out) and re.search(r"Claire[^\n]*if need be 2", out)


def test_a_reschedule_tells_everyone_and_asks_again(bot: Bot) -> None:
    wid = confirmed_workshop(bot)
    say(bot, MEMBER, f"workshop rsvp {wid} decline")
    say(bot, MEMBER_FR, f"workshop rsvp {wid} accept")
    out = say(bot, SECRETARIAT, f"workshop reschedule {wid} {YEAR}-03-18 15:00")
    assert "asked to answer again" in out
    updates = {m.to[0]: m for _k, m in outbox_emails(bot, f"workshop:{wid}:update:")}
    assert MEMBER in updates, "the person who declined the old time is told of the new one"
    assert "answer again" in updates[MEMBER].text
    assert "répondre de nouveau" in updates[MEMBER_FR].text
    with bot.session_factory() as s:
        assert s.scalars(select(WorkshopRsvp).where(WorkshopRsvp.workshop_id == wid)).all() == []
        audit = s.scalars(select(AuditEntry).where(AuditEntry.action == "workshop.update")).one()
        assert set(audit.detail["rsvps_reset"].values()) == {"declined", "accepted"}  # type: ignore[index]
    assert "answer to workshop" in say(bot, MEMBER, f"workshop rsvp {wid} accept")


def test_notes_are_shown_and_sent(bot: Bot) -> None:
    wid = confirmed_workshop(bot)
    say(bot, OBSERVER, f"workshop rsvp {wid} decline")
    out = say(bot, SECRETARIAT, f"workshop notes {wid} Decided: pilot in Kenya.")
    assert "recorded and sent to" in out
    assert "Decided: pilot in Kenya." in say(bot, MEMBER, f"workshop show {wid}")
    sent = {m.to[0]: m for _k, m in outbox_emails(bot, f"workshop:{wid}:notes:")}
    assert MEMBER in sent and OBSERVER not in sent
    assert "Decided: pilot in Kenya." in sent[MEMBER_FR].text
    assert sent[MEMBER_FR].subject.startswith("Compte rendu")
    # asked again with nothing new: not sent twice
    n = len(outbox_emails(bot, f"workshop:{wid}:notes:"))
    from bot.workshops import agenda

    with bot.session_factory() as s, s.begin():
        from storage.models import Workshop

        ws = s.get(Workshop, wid)
        assert ws is not None
        agenda.send_notes(session=s, workshop=ws, settings=bot.settings)
    assert len(outbox_emails(bot, f"workshop:{wid}:notes:")) == n


def test_a_member_lists_their_own_action_items(bot: Bot) -> None:
    wid = confirmed_workshop(bot)
    say(bot, SECRETARIAT, f"workshop action add {wid} {MEMBER} {YEAR}-04-01 | Draft the memo")
    say(bot, SECRETARIAT, f"workshop action add {wid} {MEMBER_FR} {YEAR}-04-02 | Budget")
    mine = say(bot, MEMBER, "workshop actions")
    assert "Draft the memo" in mine and "Budget" not in mine
    number = re.search(r"#(\d+) Draft", mine)
    assert number and f"workshop action done {number.group(1)}" in mine
    assert "is done" in say(bot, MEMBER, f"workshop action done {number.group(1)}")
    everyone = say(bot, SECRETARIAT, "workshop actions")
    assert "Budget" in everyone and "Claire" in everyone


def test_many_slots_are_listed_paged_and_linked_not_cut(bot: Bot) -> None:
    slots = tuple(f"{YEAR}-02-{d:02d} {h}:00" for d in range(2, 19) for h in (9, 15))
    wid = new_workshop(bot, slots=slots)
    assert len(slots) == 34
    event = Command("workshop", f"slots {wid}", Actor("console", "", MEMBER),
                    Conversation("console", "", "c", is_direct=True), "many-1")
    (reply,) = bot.dispatch(event)
    msg = reply.message
    actions = [b for b in msg.blocks if isinstance(b, Actions)]
    assert len(actions) == BUTTON_SLOTS
    listing = next(b for b in msg.blocks if isinstance(b, Section) and "Slot 34" in str(b.text))
    assert all(f"Slot {k}: " in str(listing.text) for k in range(1, 35))
    assert any(isinstance(span, Link) for b in msg.blocks if isinstance(b, Section)
               for span in (b.text if isinstance(b.text, tuple) else ()))
    slack = slack_message(msg)["blocks"]
    assert len(slack) <= 50
    assert "Availability grid: " in str(slack), "the grid (its alt text here) is not dropped"
    assert "availability page" in str(slack)
    discord = discord_message(msg)
    rows = [c for c in discord.body.get("components", []) if c.get("type") == 1]
    assert discord.files, "the grid goes as a file"
    assert 0 < len(rows) <= 5


def test_a_long_join_link_is_never_cut_on_discord() -> None:
    url = "https://meet.example.org/j/" + "a1b2c3d4e5" * 14 + "?pwd=secret"
    assert len(url) > 100
    body = event_body(CalendarEvent(uid="u", title="Workshop", starts_at=datetime(2027, 1, 1,
                                                                                    tzinfo=UTC),
                                    ends_at=datetime(2027, 1, 1, 1, tzinfo=UTC),
                                    description="Soil carbon", url=url, location=url))
    assert url in body["description"]
    assert body["entity_metadata"]["location"] == "meet.example.org"
    short = event_body(CalendarEvent(uid="u", title="W", starts_at=datetime(2027, 1, 1, tzinfo=UTC),
                                     ends_at=datetime(2027, 1, 1, 1, tzinfo=UTC),
                                     description="", url="https://meet.example/x",
                                     location="https://meet.example/x"))
    assert short["entity_metadata"]["location"] == "https://meet.example/x"
