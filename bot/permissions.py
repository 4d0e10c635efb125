"""Roles, capabilities, the one policy table and ``authorize()``.

Every route declares the capability it needs; services that change data take
an :class:`Authorized` that only :func:`authorize` (or :func:`authorize_system`
for scheduled jobs and the operator's CLI) can make. Fail closed: an error
while deciding means no.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import bindparam, literal, select
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from bot.errors import N_, PermissionDenied
from storage.models import Group, Membership, Person, Role

log = logging.getLogger(__name__)

MEMBER, OBSERVER, SECRETARIAT, CHAIR = Role.MEMBER, Role.OBSERVER, Role.SECRETARIAT, Role.CHAIR
EVERYONE = frozenset(Role)

#: The one policy table: capability -> the roles that hold it (in the group in
#: question; secretariat and chair roles held in the alliance reach every group).
POLICY: Mapping[str, frozenset[Role]] = {
    # roster
    "roster.self": EVERYONE,
    "roster.list": frozenset({SECRETARIAT}),
    "roster.manage": frozenset({SECRETARIAT}),
    # consensus polls
    "poll.view": EVERYONE,
    "poll.comment": EVERYONE,
    "poll.vote": frozenset({MEMBER}),
    "poll.create": frozenset({MEMBER, SECRETARIAT}),
    "poll.manage": frozenset({SECRETARIAT}),
    "poll.determine": frozenset({CHAIR}),
    "decisions.view": EVERYONE,
    # press review
    "digest.view": EVERYONE,
    "digest.suggest": EVERYONE,
    "digest.review": frozenset({SECRETARIAT}),
    # workshops
    "workshop.view": EVERYONE,
    "workshop.attend": EVERYONE,
    "workshop.manage": frozenset({SECRETARIAT}),
    "workshop.lead": frozenset({MEMBER, SECRETARIAT}),
    # innovation sprints
    "sprint.view": EVERYONE,
    "sprint.follow": EVERYONE,
    "sprint.propose": frozenset({MEMBER}),
    "sprint.signup": frozenset({MEMBER}),
    "sprint.lead": frozenset({MEMBER}),
    "sprint.pledge": frozenset({MEMBER}),
    "sprint.manage": frozenset({SECRETARIAT}),
}

#: Roles that, held in the alliance group, apply in every working group too.
ALLIANCE_WIDE = frozenset({SECRETARIAT, CHAIR})


class Policy:
    """Looks capabilities up in a table. Tests may pass a different table, or
    other ``alliance_wide`` roles (held in the alliance, they reach every group)."""

    def __init__(self, table: Mapping[str, frozenset[Role]] = POLICY, *,
                 alliance_wide: frozenset[Role] = ALLIANCE_WIDE) -> None:
        self.table = table
        self.alliance_wide = alliance_wide

    def roles_for(self, capability: str) -> frozenset[Role]:
        """The roles that hold ``capability``. Raises KeyError for an unknown one."""
        return self.table[capability]

    def rule(self, capability: str) -> RoleRule:
        """Who holds ``capability`` in a group, as a :class:`RoleRule` (the one
        declaration the Python check and the SQL of a fast path are rendered
        from). Raises KeyError for an unknown capability."""
        allowed = self.roles_for(capability)
        return RoleRule(in_group=allowed, alliance_wide=allowed & self.alliance_wide)

    def knows(self, capability: str) -> bool:
        """Whether ``capability`` is in the table."""
        return capability in self.table


@dataclass(frozen=True, slots=True)
class RoleRule:
    """Who holds one capability in a group: a role of ``in_group`` held in
    that group (the alliance group when the group is None), or a role of
    ``alliance_wide`` held in the alliance group. Made by :meth:`Policy.rule`;
    rendered as the Python check (:meth:`granted`, used by :func:`authorize`)
    and as SQL (:meth:`sql_exists`, used by statements that decide in the
    database, such as the stance's fast path), so the two cannot drift."""

    in_group: frozenset[Role]
    alliance_wide: frozenset[Role]

    def granted(self, memberships: Iterable[tuple[int, Role, bool]],
                group_id: int | None) -> frozenset[Role]:
        """The roles among ``memberships`` (group id, role, group is the
        alliance) that grant the capability in ``group_id``; empty: refused."""
        return frozenset(
            role for gid, role, is_alliance in memberships
            if (role in self.in_group and (gid == group_id or (group_id is None
                                                                and is_alliance)))
            or (is_alliance and role in self.alliance_wide))

    def admits(self, session: Session, *, person_id: int, group_id: int | None) -> bool:
        """Whether ``person_id`` holds the capability in ``group_id`` (their
        memberships read once per unit of work)."""
        return bool(self.granted(_memberships(session, person_id), group_id))

    def sql_exists(self, dialect: Dialect, *, person: str, group: str) -> str:
        """The same rule as an SQL ``EXISTS`` over ``memberships`` and ``groups``
        for ``dialect``: ``person`` and ``group`` are SQL expressions (a column,
        a parameter) of the person's id and the group's id (never NULL); the
        roles are literals, so a prepared plan can be cached."""
        # Literals compiled by SQLAlchemy from the Role enum, and the caller's
        # own expressions: nothing here comes from input. Two EXISTS, each on
        # every key of an index of memberships (the person's role in the
        # group; the person's role in the alliance), so whatever the
        # statistics (none, on a new database) the planner looks the
        # person's memberships up rather than scan the group's members.
        parts = []
        if self.in_group:
            parts.append("EXISTS (SELECT 1 FROM memberships AS m "  # noqa: S608
                         f"WHERE m.person_id = {person} AND m.group_id = {group} "
                         f"AND m.role IN ({_role_literals(dialect, self.in_group)}))")
        if self.alliance_wide:
            parts.append("EXISTS (SELECT 1 FROM memberships AS m JOIN groups AS mg "  # noqa: S608
                         f"ON mg.id = m.group_id WHERE m.person_id = {person} AND mg.is_alliance "
                         f"AND m.role IN ({_role_literals(dialect, self.alliance_wide)}))")
        return f"({' OR '.join(parts)})" if parts else "(1 = 0)"


def _role_literals(dialect: Dialect, roles: frozenset[Role]) -> str:
    role_type = Membership.__table__.c.role.type
    return ", ".join(str(literal(Role(r), type_=role_type).compile(
        dialect=dialect, compile_kwargs={"literal_binds": True})) for r in sorted(roles))


_MINT = object()


@dataclass(frozen=True, slots=True)
class Authorized:
    """Proof that ``person_id`` holds ``capability`` in ``group_id``.

    ``person_id`` is None only for the system (scheduled jobs, the operator's
    CLI). ``channel`` is where the action came from, for the audit log.
    Only :func:`authorize` and :func:`authorize_system` make one.
    """

    person_id: int | None
    capability: str
    group_id: int | None
    channel: str
    roles: frozenset[Role] = field(default_factory=frozenset)
    _mint: object = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self._mint is not _MINT:
            raise TypeError("Authorized is made only by authorize()")

    @property
    def is_system(self) -> bool:
        """True for scheduled jobs and the operator's CLI."""
        return self.person_id is None


@dataclass(frozen=True, slots=True)
class PersonRef:
    """The few columns of a roster person that the dispatcher needs before a
    handler runs (read without loading the ORM object: the hot path).
    ``Context.person`` loads the full :class:`Person` when a handler asks."""

    id: int
    language: str
    organisation_id: int | None


def alliance_group(session: Session) -> Group:
    """The group that is the whole alliance. Raises LookupError if none exists."""
    group = session.scalars(select(Group).where(Group.is_alliance.is_(True))).first()
    if group is None:
        raise LookupError("no alliance group: import a roster first")
    return group


_MEMBERSHIPS = (select(Membership.group_id, Membership.role, Group.is_alliance)
                .join(Group, Group.id == Membership.group_id)
                .where(Membership.person_id == bindparam("person_id")))


def _memberships(session: Session, person_id: int) -> list[tuple[int, Role, bool]]:
    # Memoised per unit of work: a dispatch checks a route's capability, then its
    # scope, then perhaps more, and the person's roles do not change meanwhile.
    memo: dict[int, list[tuple[int, Role, bool]]] = session.info.setdefault(
        "convene.memberships", {})
    if person_id not in memo:
        memo[person_id] = [
            (gid, Role(role), bool(is_alliance)) for gid, role, is_alliance in session.execute(
                _MEMBERSHIPS, {"person_id": person_id}).all()
        ]
    return memo[person_id]


def remember_roles(session: Session, person_id: int,
                   rows: list[tuple[int, Role, bool]]) -> None:
    """Prime the per-unit-of-work memo with ``person_id``'s (group id, role,
    group is the alliance) rows, read by the caller together with the person
    (see :func:`bot.members.resolve_event`), saving a round trip."""
    session.info.setdefault("convene.memberships", {})[person_id] = list(rows)


def prime_roles(session: Session, person_ids: Iterable[int] | None = None) -> None:
    """Read the memberships of ``person_ids`` (None: everyone) in one
    statement into the per-unit-of-work memo, so that checking each of
    thousands of people (a job's wave, a workshop's invitees) costs no
    statement a person. People already in the memo keep their rows."""
    memo: dict[int, list[tuple[int, Role, bool]]] = session.info.setdefault(
        "convene.memberships", {})
    q = (select(Membership.person_id, Membership.group_id, Membership.role, Group.is_alliance)
         .join(Group, Group.id == Membership.group_id))
    wanted: set[int] | None = None
    if person_ids is not None:
        wanted = set(person_ids) - memo.keys()
        if not wanted:
            return
        q = q.where(Membership.person_id.in_(wanted))
    rows: dict[int, list[tuple[int, Role, bool]]] = {pid: [] for pid in wanted or ()}
    for pid, gid, role, is_alliance in session.execute(q):
        rows.setdefault(pid, []).append((gid, Role(role), bool(is_alliance)))
    for pid, held in rows.items():
        memo.setdefault(pid, held)


def forget_roles(session: Session) -> None:
    """Drop the per-unit-of-work memo after changing memberships in ``session``."""
    session.info.pop("convene.memberships", None)


def roles_in(session: Session, *, person_id: int, group_id: int | None,
             alliance_wide: frozenset[Role] = ALLIANCE_WIDE) -> frozenset[Role]:
    """The roles ``person_id`` effectively holds in ``group_id`` (None: the
    alliance): those held there, and ``alliance_wide`` ones held in the alliance."""
    held: set[Role] = set()
    for gid, role, is_alliance in _memberships(session, person_id):
        if (group_id is None and is_alliance) or gid == group_id:
            held.add(role)
        elif is_alliance and role in alliance_wide:
            held.add(role)
    return frozenset(held)


def authorize(
    *,
    session: Session,
    person: Person | PersonRef | None,
    capability: str,
    group_id: int | None = None,
    channel: str,
    policy: Policy | None = None,
) -> Authorized:
    """Check that ``person`` holds ``capability`` in ``group_id`` (None: the alliance).

    Raises PermissionDenied with a sentence for the person when they do not,
    when they are not in the roster, or when deciding fails (fail closed).
    """
    policy = policy or Policy()
    if person is None:
        raise PermissionDenied(N_("You are not in the alliance roster, so I cannot act for you."))
    try:
        allowed = policy.roles_for(capability)
        granted = policy.rule(capability).admits(session, person_id=person.id,
                                                 group_id=group_id)
        held = roles_in(session, person_id=person.id, group_id=group_id,
                        alliance_wide=policy.alliance_wide)
    except Exception:
        log.exception("permission check failed for %s on %s; refusing", person.id, capability)
        raise PermissionDenied(
            N_("I could not check your permissions just now, so I did not do that.")
        ) from None
    if not granted:
        raise PermissionDenied(
            N_("Your role ({roles}) does not allow this: it needs {needed}."),
            roles=tuple(sorted(held)) or ("none",),
            needed=tuple(sorted(allowed)),
        )
    return Authorized(
        person_id=person.id,
        capability=capability,
        group_id=group_id,
        channel=channel,
        roles=held,
        _mint=_MINT,
    )


def authorize_system(*, capability: str, channel: str, group_id: int | None = None) -> Authorized:
    """The authority of a scheduled job or the operator's CLI, which act for the
    alliance itself. Raises KeyError for a capability not in the policy table."""
    Policy().roles_for(capability)
    return Authorized(
        person_id=None, capability=capability, group_id=group_id, channel=channel, _mint=_MINT
    )
