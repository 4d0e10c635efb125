"""The roster import: one CSV row per person and group.

Columns ``email, name, organisation, role, group, language, timezone``;
``role`` may hold several roles separated by ``;`` (``member;chair``). A group
or organisation named for the first time is created. The whole file is
validated before anything is written, so a bad file changes nothing.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from bot.errors import N_, InvalidInput
from bot.i18n import SUPPORTED
from bot.members import normalise_email
from bot.permissions import forget_roles
from storage.models import EmailAddress, Group, Membership, Organisation, Person, Role

COLUMNS = ("email", "name", "organisation", "role", "group", "language", "timezone")
#: Optional columns: ``interests`` holds scope-topic keys separated by ``;``
#: (``soil_measurement;carbon_markets``), matched against innovation sprints.
OPTIONAL = ("interests",)

@dataclass(frozen=True, slots=True)
class RosterProblem:
    """One bad cell: ``line`` is 1-based in the file (the header is line 1)."""

    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, {self.field}: {self.message}"


class RosterError(InvalidInput):
    """The roster file has problems; nothing of it was applied."""

    def __init__(self, problems: list[RosterProblem]) -> None:
        super().__init__(N_("The roster has {n} problem(s); nothing was changed."),
                         n=len(problems))
        self.problems = problems

    def __str__(self) -> str:
        return "roster not imported, nothing changed:\n" + "\n".join(
            f"  {p}" for p in self.problems)


@dataclass(frozen=True, slots=True)
class RosterRow:
    """A validated roster row."""

    line: int
    email: str
    name: str
    organisation: str
    roles: tuple[Role, ...]
    group: str
    language: str
    timezone: str
    interests: tuple[str, ...] = ()


@dataclass
class ImportReport:
    """What an import changed. ``changed`` is False when the file matched the database."""

    rows: int = 0
    people_created: int = 0
    people_updated: int = 0
    organisations_created: int = 0
    groups_created: int = 0
    memberships_added: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any((self.people_created, self.people_updated, self.organisations_created,
                    self.groups_created, self.memberships_added))


def parse_roster(text: str) -> list[RosterRow]:
    """Validate a roster CSV. Raises RosterError listing every problem with its
    line and field (unknown role, bad zone, bad address, bad language, duplicate
    person-and-group row, conflicting details for one person)."""
    problems: list[RosterProblem] = []
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise RosterError([RosterProblem(1, ", ".join(missing), "missing column(s); expected "
                                         + ", ".join(COLUMNS))])
    reader.fieldnames = header
    rows: list[RosterRow] = []
    seen: dict[tuple[str, str], int] = {}
    details: dict[str, tuple[int, str, str, str, str]] = {}
    zones_ok: dict[str, bool] = {}
    for record in reader:
        line = reader.line_num
        cell = {k: (v or "").strip() for k, v in record.items() if k}
        if not any(cell.values()):
            continue
        bad = len(problems)
        try:
            email = normalise_email(cell["email"])
        except ValueError as exc:
            problems.append(RosterProblem(line, "email", f"{cell['email']!r} is not a valid "
                                          f"address ({exc})"))
            email = cell["email"].lower()
        if not cell["name"]:
            problems.append(RosterProblem(line, "name", "is empty; give the person's name"))
        roles: list[Role] = []
        for raw in filter(None, (r.strip().lower() for r in cell["role"].split(";"))):
            try:
                roles.append(Role(raw))
            except ValueError:
                problems.append(RosterProblem(
                    line, "role", f"unknown role {raw!r}; use member, observer, secretariat "
                    "or chair"))
        if not cell["role"]:
            problems.append(RosterProblem(line, "role", "is empty; use member, observer, "
                                          "secretariat or chair"))
        if not cell["group"]:
            problems.append(RosterProblem(line, "group", "is empty; name the group"))
        lang = (cell["language"] or "en").lower()
        if lang not in SUPPORTED:
            problems.append(RosterProblem(line, "language", f"{lang!r} is not supported; use "
                                          + ", ".join(SUPPORTED)))
        tz = cell["timezone"] or "UTC"
        if tz not in zones_ok:
            try:
                ZoneInfo(tz)
                zones_ok[tz] = True
            except (ZoneInfoNotFoundError, ValueError):
                zones_ok[tz] = False
        if not zones_ok[tz]:
            problems.append(RosterProblem(line, "timezone", f"{tz!r} is not an IANA time zone "
                                          "(e.g. Europe/Paris, America/Bogota)"))
        key = (email, cell["group"].lower())
        if key in seen:
            problems.append(RosterProblem(line, "group", f"duplicate: {email} is already in "
                                          f"{cell['group']!r} on line {seen[key]}"))
        else:
            seen[key] = line
        mine = (line, cell["name"], cell["organisation"], lang, tz)
        if email in details and details[email][1:] != mine[1:]:
            first = details[email][0]
            problems.append(RosterProblem(line, "name/organisation/language/timezone",
                                          f"differ from line {first} for the same person "
                                          f"{email}; make them match"))
        details.setdefault(email, mine)
        interests: list[str] = []
        for raw in filter(None, (t.strip().lower() for t in cell.get("interests", "").split(";"))):
            if raw not in _topics():
                problems.append(RosterProblem(line, "interests", f"unknown topic {raw!r}; use "
                                              + ", ".join(_topics())))
            elif raw not in interests:
                interests.append(raw)
        if len(problems) == bad:
            rows.append(RosterRow(line, email, cell["name"], cell["organisation"],
                                  tuple(dict.fromkeys(roles)), cell["group"], lang, tz,
                                  tuple(interests)))
    if problems:
        raise RosterError(problems)
    return rows


def _topics() -> tuple[str, ...]:
    from digests.taxonomy import load_taxonomy

    return tuple(t.key for t in load_taxonomy().topics)


def import_roster(*, session: Session, rows: list[RosterRow], alliance_name: str) -> ImportReport:
    """Apply validated rows in the caller's unit of work (never commits).

    Idempotent: the same rows twice change nothing the second time. Existing
    people are matched by address; their details are updated to the file's.
    """
    report = ImportReport(rows=len(rows))
    orgs = {o.name.lower(): o for o in session.scalars(select(Organisation)).all()}
    groups = {g.name.lower(): g for g in session.scalars(select(Group)).all()}
    if not any(g.is_alliance for g in groups.values()):
        alliance = groups.get(alliance_name.lower())
        if alliance is None:
            alliance = Group(name=alliance_name, is_alliance=True)
            session.add(alliance)
            groups[alliance_name.lower()] = alliance
            report.groups_created += 1
        else:
            alliance.is_alliance = True
    by_email: dict[str, Person] = {
        e.address: e.person for e in session.scalars(
            select(EmailAddress).options(selectinload(EmailAddress.person))).all()
    }
    held: set[tuple[int, int, str]] = {
        (m.person_id, m.group_id, str(m.role)) for m in session.scalars(select(Membership)).all()
    }
    touched: set[str] = set()
    for row in rows:
        org = None
        if row.organisation:
            org = orgs.get(row.organisation.lower())
            if org is None:
                org = Organisation(name=row.organisation)
                session.add(org)
                orgs[row.organisation.lower()] = org
                report.organisations_created += 1
        group = groups.get(row.group.lower())
        if group is None:
            group = Group(name=row.group, is_alliance=False)
            session.add(group)
            groups[row.group.lower()] = group
            report.groups_created += 1
        person = by_email.get(row.email)
        if person is None:
            person = Person(name=row.name, organisation=org, language=row.language,
                            timezone=row.timezone, interests=list(row.interests))
            person.emails.append(EmailAddress(address=row.email, primary=True))
            session.add(person)
            by_email[row.email] = person
            report.people_created += 1
            touched.add(row.email)
        elif row.email not in touched:
            touched.add(row.email)
            changed = False
            for attr, value in (("name", row.name), ("language", row.language),
                                ("timezone", row.timezone)):
                if getattr(person, attr) != value:
                    setattr(person, attr, value)
                    changed = True
            if person.organisation is not org:
                person.organisation = org
                changed = True
            # an empty cell keeps what the person set in chat (interests set ...)
            if row.interests and list(person.interests or []) != list(row.interests):
                person.interests = list(row.interests)
                changed = True
            report.people_updated += changed
        for role in row.roles:
            if person.id is not None and group.id is not None and \
                    (person.id, group.id, str(role)) in held:
                continue
            session.add(Membership(person=person, group=group, role=role))
            if person.id is not None and group.id is not None:
                held.add((person.id, group.id, str(role)))
            report.memberships_added += 1
    session.flush()
    forget_roles(session)
    return report


def import_roster_file(*, session: Session, path: Path, alliance_name: str) -> ImportReport:
    """Validate then apply a roster CSV file. Raises RosterError (nothing applied)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RosterError([RosterProblem(0, "file", f"not UTF-8 text ({exc})")]) from None
    return import_roster(session=session, rows=parse_roster(text), alliance_name=alliance_name)
