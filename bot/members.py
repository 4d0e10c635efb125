"""People, organisations, groups, identities and roles: who an actor is.

The roster import lives in bot/roster.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import and_, bindparam, select
from sqlalchemy.orm import Session, selectinload

from bot.permissions import PersonRef, remember_roles
from bot.types import Actor
from storage.models import EmailAddress, Group, Identity, Membership, Person, Role


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

#: The person behind an actor in a prebuilt SQL statement (a fast path), by
#: whether the actor is found by address: ``(FROM, WHERE)``, the person ``p``
#: and its link ``l``; the parameters are :func:`actor_sql_params`.
ACTOR_SQL = {
    True: ("email_addresses AS l JOIN people AS p ON p.id = l.person_id",
           "l.address = :address"),
    False: ("identities AS l JOIN people AS p ON p.id = l.person_id",
            "l.platform = :platform AND l.workspace_id = :workspace_id "
            "AND l.user_id = :user_id"),
}


def actor_sql_params(actor: Actor) -> dict[str, str]:
    """The parameters of :data:`ACTOR_SQL` for ``actor`` (``platform`` always)."""
    if actor.platform in ADDRESS_PLATFORMS:
        return {"platform": actor.platform, "address": actor.user_id.strip().lower()}
    return {"platform": actor.platform, "workspace_id": actor.workspace_id,
            "user_id": actor.user_id}


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
    """Record that ``actor`` (a chat platform's account) is ``person``; idempotent."""
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


def memberships_by_person(session: Session) -> dict[int, list[tuple[str, Role]]]:
    """Every person's (group name, role) pairs, in one query (sorted as
    :func:`memberships_of`)."""
    out: dict[int, list[tuple[str, Role]]] = {}
    for pid, group, role in session.execute(
            select(Membership.person_id, Group.name, Membership.role).join(Membership.group)
            .order_by(Group.name, Membership.role)).all():
        out.setdefault(pid, []).append((group, Role(role)))
    return out


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
