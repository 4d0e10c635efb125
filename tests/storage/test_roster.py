"""Roster import on SQLite and PostgreSQL: idempotent, all-or-nothing, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.members import memberships_of, person_by_email
from bot.roster import RosterError, import_roster_file
from storage.engine import make_engine, make_session_factory
from storage.models import Group, Membership, Organisation, Person, Role
from tests.conftest import EXAMPLES

HEADER = "email,name,organisation,role,group,language,timezone\n"


def _import(url: str, path: Path):
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as s, s.begin():
            return import_roster_file(session=s, path=path, alliance_name="Alliance")
    finally:
        engine.dispose()


def _counts(url: str) -> tuple[int, int, int, int]:
    engine = make_engine(url)
    with make_session_factory(engine)() as s:
        out = tuple(s.scalar(select(func.count()).select_from(m)) or 0
                    for m in (Person, Organisation, Group, Membership))
    engine.dispose()
    return out  # type: ignore[return-value]


def test_import_then_reimport_changes_nothing(db_url: str) -> None:
    first = _import(db_url, EXAMPLES / "roster.csv")
    assert first.people_created == 9 and first.changed
    assert first.groups_created == 2  # the alliance and one working group
    before = _counts(db_url)
    second = _import(db_url, EXAMPLES / "roster.csv")
    assert not second.changed
    assert _counts(db_url) == before
    engine = make_engine(db_url)
    with make_session_factory(engine)() as s:
        helen = person_by_email(s, "HELEN.CHO@chair.example")
        assert helen is not None and helen.timezone == "Australia/Sydney"
        assert set(memberships_of(s, helen.id)) == {("Alliance", Role.CHAIR),
                                                     ("Alliance", Role.MEMBER)}
    engine.dispose()


def test_bad_rows_are_reported_with_line_and_field_and_nothing_applied(
        db_url: str, tmp_path: Path) -> None:
    _import(db_url, EXAMPLES / "roster.csv")
    before = _counts(db_url)
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "\n".join([
        "new.person@ok.example,New Person,New Org,member,Alliance,en,Europe/Paris",
        "x@ok.example,X,Org,president,Alliance,en,UTC",
        "y@ok.example,Y,Org,member,Alliance,en,Mars/Olympus",
        "not-an-address,Z,Org,member,Alliance,en,UTC",
        "new.person@ok.example,New Person,New Org,observer,alliance,en,Europe/Paris",
        "w@ok.example,W,Org,member,Alliance,de,UTC",
    ]) + "\n", encoding="utf-8")
    with pytest.raises(RosterError) as info:
        _import(db_url, bad)
    found = {(p.line, p.field) for p in info.value.problems}
    assert found == {(3, "role"), (4, "timezone"), (5, "email"), (6, "group"), (7, "language")}
    assert "president" in str(info.value) and "Mars/Olympus" in str(info.value)
    assert _counts(db_url) == before, "a bad file must change nothing"


def test_missing_columns_are_named(tmp_path: Path, sqlite_url: str) -> None:
    bad = tmp_path / "cols.csv"
    bad.write_text("email,name\na@b.example,A\n")
    with pytest.raises(RosterError, match="organisation, role, group, language, timezone"):
        _import(sqlite_url, bad)


def test_details_update_on_reimport(tmp_path: Path, sqlite_url: str) -> None:
    path = tmp_path / "r.csv"
    path.write_text(HEADER + "a@b.example,Ana,Org A,member,Alliance,en,UTC\n")
    _import(sqlite_url, path)
    path.write_text(HEADER + "a@b.example,Ana Lopez,Org B,member,Alliance,es,America/Lima\n")
    report = _import(sqlite_url, path)
    assert report.people_updated == 1 and report.organisations_created == 1
    engine = make_engine(sqlite_url)
    with make_session_factory(engine)() as s:
        ana = person_by_email(s, "a@b.example")
        assert ana is not None
        assert (ana.name, ana.language, ana.timezone) == ("Ana Lopez", "es", "America/Lima")
    engine.dispose()
