"""The roster import: one CSV row per person and group (read by bot/roster_parse.py).

Columns ``email, name, organisation, role, group, language, timezone``;
``role`` may hold several roles separated by ``;`` (``member;chair``). A group
or organisation named for the first time is created. The whole file is
validated before anything is written, so a bad file changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from bot import audit
from bot.errors import N_, InvalidInput
from bot.i18n import Translator
from bot.permissions import Authorized, authorize_system, forget_roles
from bot.roster_parse import (  # the CSV side; its names stay importable from here
    COLUMNS,
    OPTIONAL,
    RosterError,
    RosterProblem,
    RosterRow,
    parse_roster,
    problem,
)
from storage.models import EmailAddress, Group, Membership, Organisation, Person, Role

_LOCKOUT = N_("Refused: this roster would leave {gaps}; nothing was changed. Keep in the "
              "file the rows of the people who hold these roles today (listed above as "
              "removed), or add their successors.")


class RosterLockout(InvalidInput):
    """The import would leave the alliance without a chair or a group without a
    secretariat (its own or the alliance's); nothing was applied, whatever the
    flags. ``report`` is the plan that was refused; ``gaps`` the ``(group,
    role)`` pairs left empty."""

    def __init__(self, report: ImportReport, gaps: list[tuple[str, str]]) -> None:
        super().__init__(_LOCKOUT, gaps="; ".join(
            f"{g} without a {r}" for g, r in gaps))
        self.report = report
        self.gaps = gaps

    def render(self, tr: Translator) -> str:
        """The refusal in ``tr``'s language, each gap as "Alliance without a
        chair" or "Measurement Working Group without a secretariat"."""
        parts = []
        for group, role in self.gaps:
            if role == Role.CHAIR:
                parts.append(tr.gettext(N_("{group} without a chair"), group=group))
            else:
                parts.append(tr.gettext(N_("{group} without a secretariat"), group=group))
        return tr.gettext(_LOCKOUT, gaps="; ".join(parts))


@dataclass(frozen=True, slots=True)
class RoleChange:
    """One role given or taken away: ``email`` and ``name`` of the person,
    ``group`` as named in the file or the database, ``role`` its value."""

    email: str
    name: str
    group: str
    role: str


@dataclass
class ImportReport:
    """What an import changes (``dry_run``: would change). ``changed`` is False
    when the file matched the database. ``added``/``removed``: the roles given
    and taken away; ``new_people``: addresses of people added."""

    rows: int = 0
    people_created: int = 0
    people_updated: int = 0
    organisations_created: int = 0
    groups_created: int = 0
    memberships_added: int = 0
    memberships_removed: int = 0
    added: list[RoleChange] = field(default_factory=list)
    removed: list[RoleChange] = field(default_factory=list)
    new_people: list[str] = field(default_factory=list)
    dry_run: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any((self.people_created, self.people_updated, self.organisations_created,
                    self.groups_created, self.memberships_added, self.memberships_removed))


def _plan(session: Session, rows: list[RosterRow], report: ImportReport, *,
          add_only: bool) -> list[Membership]:
    """Fill ``report.added``/``removed``/``new_people`` and return the
    memberships to delete: in every group the file names, a role the file does
    not give is taken away (unless ``add_only``)."""
    people: dict[int, Person] = {}
    by_email: dict[str, Person] = {}
    for e in session.scalars(select(EmailAddress).options(
            selectinload(EmailAddress.person))).all():
        by_email[e.address] = e.person
        people[e.person.id] = e.person
    wanted: set[tuple[str, str, str]] = set()
    for row in rows:
        person = by_email.get(row.email)
        who = f"p{person.id}" if person is not None else row.email
        for role in row.roles:
            wanted.add((who, row.group.lower(), str(role)))
        if person is None and row.email not in report.new_people:
            report.new_people.append(row.email)
    held = session.execute(select(Membership, Group.name).join(
        Group, Group.id == Membership.group_id).order_by(Group.name, Membership.id)).all()
    have = {(f"p{m.person_id}", g.lower(), str(m.role)) for m, g in held}
    for row in rows:
        person = by_email.get(row.email)
        who = f"p{person.id}" if person is not None else row.email
        for role in row.roles:
            if (who, row.group.lower(), str(role)) not in have:
                have.add((who, row.group.lower(), str(role)))
                report.added.append(RoleChange(row.email, row.name, row.group, str(role)))
    if add_only:
        return []
    named = {row.group.lower() for row in rows}
    drop: list[Membership] = []
    for m, g in held:
        if g.lower() in named and (f"p{m.person_id}", g.lower(), str(m.role)) not in wanted:
            p = people.get(m.person_id) or session.get(Person, m.person_id)
            report.removed.append(RoleChange(p.primary_email or "" if p else "",
                                             p.name if p else "", g, str(m.role)))
            drop.append(m)
    return drop


def _keepers(session: Session) -> dict[tuple[int, str], int]:
    """How many people hold chair and secretariat: ``(group_id, role) -> count``.
    A secretariat held in the alliance reaches every group, so it counts for each."""
    groups = session.execute(select(Group.id, Group.is_alliance)).all()
    held = session.execute(select(Membership.group_id, Membership.role, Membership.person_id)).all()
    alliance = {gid for gid, is_alliance in groups if is_alliance}
    who: dict[tuple[int, str], set[int]] = {}
    for gid, role, pid in held:
        who.setdefault((gid, str(role)), set()).add(pid)
    out: dict[tuple[int, str], int] = {}
    for gid, is_alliance in groups:
        sec = set(who.get((gid, str(Role.SECRETARIAT)), set()))
        for a in alliance:
            sec |= who.get((a, str(Role.SECRETARIAT)), set())
        out[(gid, str(Role.SECRETARIAT))] = len(sec)
        if is_alliance:
            out[(gid, str(Role.CHAIR))] = len(who.get((gid, str(Role.CHAIR)), set()))
    return out


def _lockout(session: Session, before: dict[tuple[int, str], int]) -> list[tuple[str, str]]:
    """The ``(group name, role)`` pairs that had someone before and nobody now."""
    after = _keepers(session)
    names: dict[int, str] = {gid: name for gid, name in session.execute(
        select(Group.id, Group.name)).all()}
    return [(names.get(gid, str(gid)), role) for (gid, role), n in sorted(before.items())
            if n and not after.get((gid, role))]


def import_roster(*, session: Session, rows: list[RosterRow], alliance_name: str,
                  add_only: bool = False, dry_run: bool = False,
                  actor: Authorized | None = None) -> ImportReport:
    """Apply validated rows in the caller's unit of work (never commits).

    The file is the whole roster of every group it names: a role held in such
    a group that the file does not give is removed (``add_only`` keeps them,
    the old behaviour); groups the file does not name are left alone. The
    report lists the roles added and removed and the people added;
    ``dry_run`` fills it and changes nothing. Idempotent: the same rows twice
    change nothing the second time. Existing people are matched by address;
    their details are updated to the file's.

    Raises RosterLockout (nothing applied, dry run or not) when the result
    would leave the alliance without a chair or a group without a secretariat
    that it had before. Every role removed is written to the audit log
    (``roster.role_removed``, detail: email, group, role) as ``actor``
    (default: the operator's CLI); importing the previous file again puts the
    roles back (a role that file does not give is removed, audited too).
    """
    report = ImportReport(rows=len(rows), dry_run=dry_run)
    drop = _plan(session, rows, report, add_only=add_only)
    report.memberships_added = len(report.added)
    report.memberships_removed = len(drop)
    report.people_created = len(report.new_people)
    before = _keepers(session)
    # The file is applied inside a savepoint: a dry run and a refused file
    # roll it back, so the report counts exactly what the real run would do.
    nested = session.begin_nested()
    for m in drop:
        session.delete(m)
    session.flush()
    _apply(session, rows, report, alliance_name)
    gaps = _lockout(session, before)
    if dry_run or gaps:
        nested.rollback()
    else:
        nested.commit()
    forget_roles(session)
    if gaps:
        raise RosterLockout(report, gaps)
    if not dry_run:
        who = actor or authorize_system(capability="roster.manage", channel="cli")
        for c in report.removed:
            audit.record(session=session, actor=who, action="roster.role_removed",
                         subject_type="roster", subject_id=c.email, email=c.email,
                         group=c.group, role=c.role)
    return report


def _apply(session: Session, rows: list[RosterRow], report: ImportReport,
           alliance_name: str) -> None:
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
    session.flush()


def import_roster_file(*, session: Session, path: Path, alliance_name: str,
                       add_only: bool = False, dry_run: bool = False,
                       actor: Authorized | None = None) -> ImportReport:
    """Validate then apply a roster CSV file (see :func:`import_roster` for
    ``add_only`` and ``dry_run``). Raises RosterError (nothing applied)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RosterError([problem(0, "file", N_("not UTF-8 text ({reason})"),
                                     reason=exc)]) from None
    return import_roster(session=session, rows=parse_roster(text), alliance_name=alliance_name,
                         add_only=add_only, dry_run=dry_run, actor=actor)


__all__ = ["COLUMNS", "OPTIONAL", "ImportReport", "RoleChange", "RosterError", "RosterLockout",
           "RosterProblem", "RosterRow", "import_roster", "import_roster_file", "parse_roster"]
