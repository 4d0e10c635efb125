"""People, organisations, groups, identities, roles and the roster import.

The roster CSV has the columns ``email, name, organisation, role, group,
language, timezone`` with one row per person and group. ``role`` may hold
several roles separated by ``;`` (``member;chair``). A group or organisation
named for the first time is created. The whole file is validated before
anything is written, so a bad file changes nothing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import and_, bindparam, select
from sqlalchemy.orm import Session, selectinload

from bot.errors import N_, InvalidInput
from bot.i18n import SUPPORTED
from bot.permissions import PersonRef, forget_roles, remember_roles
from bot.types import Actor
from storage.models import EmailAddress, Group, Identity, Membership, Organisation, Person, Role

COLUMNS = ("email", "name", "organisation", "role", "group", "language", "timezone")


def normalise_email(address: str) -> str:
    """Validate an address (syntax only, no DNS) and return it lower-cased.

    Raises ValueError with the reason.
    """
    try:
        info = validate_email(address.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from None
    return info.normalized.lower()


_BY_EMAIL = select(Person).join(EmailAddress).where(
    EmailAddress.address == bindparam("address"))
_BY_IDENTITY = select(Person).join(Identity).where(
    Identity.platform == bindparam("platform"),
    Identity.workspace_id == bindparam("workspace_id"),
    Identity.user_id == bindparam("user_id"))


def person_by_email(session: Session, address: str) -> Person | None:
    """The person with ``address`` on file, or None (case-insensitive)."""
    return session.scalars(_BY_EMAIL, {"address": address.strip().lower()}).first()


def resolve_actor(session: Session, actor: Actor) -> Person | None:
    """The person behind ``actor``: by address for console/email/web actors,
    by linked :class:`Identity` for chat platforms. None when unknown."""
    if actor.platform in ADDRESS_PLATFORMS:
        return person_by_email(session, actor.user_id)
    return session.scalars(_BY_IDENTITY, {"platform": actor.platform,
                                          "workspace_id": actor.workspace_id,
                                          "user_id": actor.user_id}).first()


#: Actor platforms whose user id is a roster address.
ADDRESS_PLATFORMS = frozenset({"console", "email", "web", "cli"})


def _actor_statement(*, by_address: bool, dedupe: Any) -> Any:
    # Built once per (kind, dedupe): the person behind an actor and every role they
    # hold, one row per membership (a person with none: one row of NULL roles).
    # With ``dedupe`` (a PostgreSQL ``INSERT .. ON CONFLICT DO NOTHING RETURNING id``)
    # the event id is recorded in the same round trip: its CTE yields no row for
    # a repeated event, so the whole statement yields none.
    cols = (Person.id, Person.language, Person.organisation_id, Membership.group_id,
            Membership.role, Group.is_alliance)
    if by_address:
        link: Any = EmailAddress
        cond = EmailAddress.address == bindparam("address")
    else:
        link = Identity
        cond = and_(Identity.platform == bindparam("platform"),
                    Identity.workspace_id == bindparam("workspace_id"),
                    Identity.user_id == bindparam("user_id"))
    if dedupe is None:
        q = select(*cols).select_from(link).join(Person, Person.id == link.person_id).where(cond)
        q = q.outerjoin(Membership, Membership.person_id == Person.id)
    else:
        ins = dedupe.cte("first_delivery")
        q = (select(ins.c.id, *cols).select_from(ins).outerjoin(link, cond)
             .outerjoin(Person, Person.id == link.person_id)
             .outerjoin(Membership, Membership.person_id == Person.id))
    return q.outerjoin(Group, Group.id == Membership.group_id)


_ACTOR_STATEMENTS: dict[tuple[bool, int], Any] = {}


def resolve_event(session: Session, actor: Actor, *,
                  dedupe: Any = None, dedupe_params: dict[str, Any] | None = None,
                  ) -> tuple[bool, PersonRef | None]:
    """``(first delivery, person)`` for an event from ``actor`` in one round trip.

    Like :func:`resolve_actor` but the person is a :class:`PersonRef` (columns,
    no ORM object; Core statement on the unit of work's connection); also
    primes the unit of work's role memo (:func:`bot.permissions.remember_roles`).
    ``dedupe``: a prebuilt PostgreSQL
    ``INSERT .. ON CONFLICT DO NOTHING RETURNING id`` statement (a module-level
    constant; statements are cached by its identity) run in the same statement
    with ``dedupe_params``; when it inserts nothing the event is a repeat and
    ``(False, None)`` is returned. Without ``dedupe`` the first element is True.
    """
    by_address = actor.platform in ADDRESS_PLATFORMS
    key = (by_address, id(dedupe))
    stmt = _ACTOR_STATEMENTS.get(key)
    if stmt is None:
        stmt = _ACTOR_STATEMENTS[key] = _actor_statement(by_address=by_address, dedupe=dedupe)
    params: dict[str, Any] = dict(dedupe_params or {})
    if by_address:
        params["address"] = actor.user_id.strip().lower()
    else:
        params.update(platform=actor.platform, workspace_id=actor.workspace_id,
                      user_id=actor.user_id)
    result: list[Any] = list(session.connection().execute(stmt, params).all())
    if dedupe is not None:
        if not result:
            return False, None
        result = [row[1:] for row in result]
    rows: list[Any] = result
    if not rows or rows[0][0] is None:
        return True, None
    person = PersonRef(rows[0][0], rows[0][1], rows[0][2])
    remember_roles(session, person.id, [(gid, Role(role), bool(alliance))
                                        for _i, _l, _o, gid, role, alliance in rows
                                        if gid is not None])
    return True, person


def link_identity(session: Session, *, person: Person, actor: Actor) -> Identity:
    """Record that ``actor`` (a Slack or Discord account) is ``person``; idempotent."""
    existing = session.scalars(select(Identity).where(
        Identity.platform == actor.platform, Identity.workspace_id == actor.workspace_id,
        Identity.user_id == actor.user_id)).first()
    if existing is not None:
        return existing
    ident = Identity(person=person, platform=actor.platform, workspace_id=actor.workspace_id,
                     user_id=actor.user_id)
    session.add(ident)
    return ident


def memberships_of(session: Session, person_id: int) -> list[tuple[str, Role]]:
    """(group name, role) pairs held by a person, sorted by group then role."""
    rows = session.execute(
        select(Group.name, Membership.role).join(Membership.group)
        .where(Membership.person_id == person_id).order_by(Group.name, Membership.role)
    ).all()
    return [(g, Role(r)) for g, r in rows]


def group_by_name(session: Session, name: str) -> Group | None:
    """The group called ``name`` (case-insensitive), or None."""
    for g in session.scalars(select(Group)).all():
        if g.name.lower() == name.strip().lower():
            return g
    return None


def people_in(session: Session, *, group_id: int | None = None,
              roles: Iterable[Role] | None = None) -> list[Person]:
    """People holding any of ``roles`` (default: any role) in ``group_id`` (None: anywhere)."""
    ids = select(Membership.person_id)
    if group_id is not None:
        ids = ids.where(Membership.group_id == group_id)
    if roles is not None:
        ids = ids.where(Membership.role.in_(list(roles)))
    # A subquery rather than DISTINCT: PostgreSQL cannot compare the JSON column.
    q = select(Person).where(Person.id.in_(ids)).options(
        selectinload(Person.emails), selectinload(Person.organisation))
    return list(session.scalars(q.order_by(Person.name, Person.id)).all())


# --- roster import -----------------------------------------------------------------


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
        if len(problems) == bad:
            rows.append(RosterRow(line, email, cell["name"], cell["organisation"],
                                  tuple(dict.fromkeys(roles)), cell["group"], lang, tz))
    if problems:
        raise RosterError(problems)
    return rows


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
                            timezone=row.timezone, interests=[])
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
