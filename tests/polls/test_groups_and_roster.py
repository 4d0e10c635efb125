"""Authorisation in the proposal's group, and a roster that can demote: issue 11."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from adapters.console import ConsoleSession
from bot.app import Bot
from bot.members import person_by_email
from bot.permissions import authorize_system
from bot.polls.rounds import close_round, open_email_round
from bot.polls.stances import eligible_people, find_proposal, tally
from bot.polls.voters import may_vote
from bot.roster import import_roster_file
from storage.models import EmailAddress, Group, Membership, OutboxMessage, Person, Role
from tests.conftest import EXAMPLES, MEMBER, SECRETARIAT
from tests.polls.helpers import fail_round_one, new_poll, stances

Chat = Callable[[str], ConsoleSession]
WG = "Measurement Working Group"
WG_ONLY = "wg.only@soil.example"          # a member of the working group, not in the alliance
WG_OBS_ALLIANCE = "wg.obs@soil.example"   # a member of the working group, alliance observer
WG_OBSERVER = "wg.watcher@soil.example"   # an observer of the working group


def _add(bot: Bot, email: str, roles: list[tuple[str, Role]]) -> None:
    with bot.session_factory() as s, s.begin():
        groups = {g.name: g for g in s.scalars(select(Group)).all()}
        p = Person(name=email.split("@")[0], language="en", timezone="UTC", interests=[])
        p.emails.append(EmailAddress(address=email, primary=True))
        s.add(p)
        for group, role in roles:
            s.add(Membership(person=p, group=groups[group], role=role))


def _people(bot: Bot) -> None:
    _add(bot, WG_ONLY, [(WG, Role.MEMBER)])
    _add(bot, WG_OBS_ALLIANCE, [(WG, Role.MEMBER), ("Alliance", Role.OBSERVER)])
    _add(bot, WG_OBSERVER, [(WG, Role.OBSERVER), ("Alliance", Role.MEMBER)])


def test_working_group_members_vote_in_their_group(bot: Bot, chat: Chat) -> None:
    _people(bot)
    pid = new_poll(bot, MEMBER, group=WG)
    for email in (WG_ONLY, WG_OBS_ALLIANCE):
        out = chat(email).feed(f"vote {pid} agree")
        assert f"Your stance on proposal #{pid}, round 1: Agree." in out, out
    out = chat(WG_OBSERVER).feed(f"vote {pid} agree")
    assert "does not allow" in out and "observer" in out, out
    assert len(stances(bot, pid)) == 2
    # the secretariat's alliance-wide role reaches the working group (poll.manage)
    assert "is closed" in chat(SECRETARIAT).feed(f"poll close {pid}")
    # an unknown person is refused first, before the proposal is even looked up
    out = chat("stranger@nowhere.example").feed("vote 999 agree")
    assert "not in the alliance roster" in out, out
    # a working-group-only member can open a proposal in that group
    out = chat(WG_ONLY).feed("poll new Own WG item | Text | 2031-01-01 10:00 | " + WG)
    assert "is open for stances in Measurement Working Group" in out, out


def test_ballots_and_pages_use_the_same_check(bot: Bot) -> None:
    _people(bot)
    pid = fail_round_one(bot, secretariat=SECRETARIAT, block_by=MEMBER)
    with bot.session_factory() as s, s.begin():
        p = find_proposal(s, pid)
        p.group_id = s.scalars(select(Group).where(Group.name == WG)).one().id
        group = s.get(Group, p.group_id)
        assert group is not None
        names = {x.primary_email for x in eligible_people(s, group=group)}
        for email in (WG_ONLY, WG_OBS_ALLIANCE, WG_OBSERVER, MEMBER):
            person = person_by_email(s, email)
            assert person is not None
            assert may_vote(s, person.id, p) == (email in names), email
        assert WG_OBSERVER not in names and {WG_ONLY, WG_OBS_ALLIANCE} <= names
        open_email_round(session=s, actor=authorize_system(capability="poll.manage",
                                                             channel="cli"),
                         proposal=p, settings=bot.settings)
        to = {a for m in s.scalars(select(OutboxMessage)).all()
              if "r2:ballot" in m.key for a in m.payload.get("to", [])}
    assert WG_ONLY in to and WG_OBS_ALLIANCE in to and WG_OBSERVER not in to


ROSTER_HEADER = "email,name,organisation,role,group,language,timezone\n"


def _reimport(bot: Bot, path: Path, **kw: object):  # type: ignore[no-untyped-def]
    with bot.session_factory() as s, s.begin():
        return import_roster_file(session=s, path=path, alliance_name="Alliance", **kw)


def test_roster_import_demotes_and_the_tally_follows(bot: Bot, chat: Chat,
                                                       tmp_path: Path) -> None:
    pid = new_poll(bot, SECRETARIAT)
    assert "Agree" in chat(MEMBER).feed(f"vote {pid} agree")
    # Amara becomes an observer in the alliance in the new file
    text = (EXAMPLES / "roster.csv").read_text(encoding="utf-8").replace(
        "amara.okafor@terrasoil.example,Amara Okafor,TerraSoil Analytics,member,Alliance",
        "amara.okafor@terrasoil.example,Amara Okafor,TerraSoil Analytics,observer,Alliance")
    new = tmp_path / "roster.csv"
    new.write_text(text, encoding="utf-8")
    plan = _reimport(bot, new, dry_run=True)
    assert [(c.email, c.group, c.role) for c in plan.removed] == [
        ("amara.okafor@terrasoil.example", "Alliance", "member")]
    assert [(c.email, c.group, c.role) for c in plan.added] == [
        ("amara.okafor@terrasoil.example", "Alliance", "observer")]
    with bot.session_factory() as s:   # a dry run changes nothing
        amara = person_by_email(s, MEMBER)
        assert amara is not None
        assert (Role.MEMBER, "Alliance") in {(Role(m.role), m.group.name)
                                             for m in amara.memberships}
    report = _reimport(bot, new)
    assert report.memberships_removed == 1 and report.memberships_added == 1
    assert "does not allow" in chat(MEMBER).feed(f"vote {pid} agree")
    with bot.session_factory() as s, s.begin():
        p = find_proposal(s, pid)
        rnd = p.rounds[0]
        t = tally(s, proposal=p, rnd=rnd)
        assert t.cast == 0, "a stance cast while a member no longer counts"
        closed = close_round(session=s, actor=authorize_system(
            capability="poll.manage", channel="cli"), proposal=p, settings=bot.settings)
        assert closed is not None and closed.result["cast"] == 0
    assert stances(bot, pid)  # still on record (the audit and the stance row)
    # --add-only keeps roles that are not in the file
    report = _reimport(bot, EXAMPLES / "roster.csv", add_only=True)
    assert report.memberships_removed == 0 and report.memberships_added == 1


def test_roster_import_only_touches_groups_it_names(bot: Bot, tmp_path: Path) -> None:
    part = tmp_path / "wg.csv"
    part.write_text(ROSTER_HEADER + "amara.okafor@terrasoil.example,Amara Okafor,"
                    "TerraSoil Analytics,member,Measurement Working Group,en,Africa/Lagos\n",
                    encoding="utf-8")
    report = _reimport(bot, part)
    assert [(c.email, c.group) for c in report.removed] == [
        ("claire.dubois@inrae-partner.example", WG)]
    assert not report.new_people
    with bot.session_factory() as s:
        alliance = s.scalars(select(Group).where(Group.is_alliance.is_(True))).one()
        assert len(s.scalars(select(Membership).where(
            Membership.group_id == alliance.id)).all()) == 10
