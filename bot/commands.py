"""The core's own chat commands: help, whoami, members."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.context import Context
from bot.errors import N_
from bot.members import memberships_by_person, memberships_of, people_in
from bot.permissions import authorize
from bot.types import Field, Header, Message, Section

if TYPE_CHECKING:
    from bot.registry import Registry


def install(reg: Registry) -> None:
    """Register help, whoami and members, and the core's queue tables (the
    outbox and the inbox every chat adapter shares)."""
    from bot.queue import INBOX, OUTBOX

    reg.queue_table(OUTBOX)
    reg.queue_table(INBOX)
    reg.route("command", "help", help_cmd, capability="roster.self",
              help=N_("List what you can do here."))
    reg.route("command", "whoami", whoami, capability="roster.self",
              help=N_("Show your name, organisation, roles, language and time zone."))
    reg.route("command", "members", members, capability="roster.list",
              help=N_("List the people in the roster (secretariat)."))


def _allowed(ctx: Context, capability: str) -> bool:
    try:
        authorize(session=ctx.session, person=ctx.person, capability=capability,
                  channel=ctx.channel, policy=ctx.policy)
    except Exception:  # noqa: BLE001  (any refusal means: do not list it)
        return False
    return True


def help_cmd(ctx: Context) -> Message:
    """Only the commands the asker may use (checked in the alliance group)."""
    lines = []
    for route in ctx.routes:
        if route.kind != "command" or not _allowed(ctx, route.capability):
            continue
        synopsis = f"{route.name} {route.usage}".strip()
        lines.append(f"`{synopsis}`: {ctx._(route.help)}" if route.help else f"`{synopsis}`")
    title = ctx._("What you can do")
    return Message(text=title + "\n" + "\n".join(lines),
                   blocks=(Header(title), Section("\n".join(lines))))


def whoami(ctx: Context) -> Message:
    """The person's name, organisation, roles per group, language and zone."""
    p = ctx.person
    by_group: dict[str, list[str]] = {}
    for group, role in memberships_of(ctx.session, p.id):
        by_group.setdefault(group, []).append(ctx._(_ROLE_NAMES[role]))
    roles = "; ".join(ctx._("{group}: {roles}", group=g, roles=", ".join(rs))
                      for g, rs in by_group.items()) or ctx._("none")
    org = p.organisation.name if p.organisation else ctx._("none")
    fields = (
        Field(ctx._("Name"), p.name),
        Field(ctx._("Organisation"), org),
        Field(ctx._("Roles"), roles),
        Field(ctx._("Language"), p.language),
        Field(ctx._("Time zone"), p.timezone),
    )
    text = "\n".join(ctx._("{label}: {value}", label=f.label, value=f.value) for f in fields)
    return Message(text=text, blocks=(Section(ctx._("This is you:"), fields=fields),))


_ROLE_NAMES = {
    "member": N_("member"),
    "observer": N_("observer"),
    "secretariat": N_("secretariat"),
    "chair": N_("chair"),
}


def members(ctx: Context) -> Message:
    """Everyone in the roster with organisation and roles (secretariat only)."""
    people = people_in(ctx.session)
    held = memberships_by_person(ctx.session)
    lines = []
    for p in people:
        roles = ", ".join(ctx._("{group}: {roles}", group=g, roles=ctx._(_ROLE_NAMES[r]))
                          for g, r in held.get(p.id, []))
        org = p.organisation.name if p.organisation else "-"
        lines.append(f"{p.name} <{p.primary_email}> ({org}) {roles}")
    title = ctx.tr.ngettext("{n} person in the roster", "{n} people in the roster", len(people))
    return Message(text=title + "\n" + "\n".join(lines),
                   blocks=(Header(title), Section("\n".join(lines))))
