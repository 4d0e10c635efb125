"""Chat routes of agendas, notes and action items."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from bot.context import Context
from bot.errors import N_, InvalidInput, NotFound, PermissionDenied
from bot.members import person_by_email
from bot.numbers import digits, fits, id_number
from bot.types import Header, Message, Section
from bot.workshops import agenda
from bot.workshops.render import local_text
from bot.workshops.routes import _rest, first_word, named_workshop

_DUE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[ T](\d{1,2}:\d{2}))?$")


def agenda_add(ctx: Context) -> Message:
    """``workshop agenda add ID TEXT`` (anyone in the group, observers too)."""
    ws = named_workshop(ctx)
    item = agenda.add_item(session=ctx.session, actor=ctx.auth, workshop=ws,
                           person_id=ctx.who.id, text=_rest(ctx))
    return Message(ctx._("Agenda item {item} proposed for workshop #{id}.", item=item.id,
                         id=ws.id))


def agenda_show(ctx: Context) -> Message:
    """``workshop agenda ID``."""
    ws = named_workshop(ctx)
    lines = []
    for i in agenda.items(ctx.session, ws.id):
        mark = "" if i.state == "accepted" else " " + ctx._("(proposed)")
        lines.append(f"[{i.id}] {i.text}{mark}")
    title = ctx._("Agenda of workshop #{id}", id=ws.id)
    body = "\n".join(lines) or ctx._("No agenda items yet.")
    return Message(f"{title}\n{body}", blocks=(Header(title), Section(body)))


def agenda_order(ctx: Context) -> Message:
    """``workshop agenda order ID 3,1,2`` (secretariat)."""
    ws = named_workshop(ctx)
    ids = [digits(x) for x in re.split(r"[,\s]+", _rest(ctx).strip()) if x]
    if any(i is None for i in ids):
        raise InvalidInput(N_("List the item numbers in order, e.g. 3,1,2."))
    n = agenda.order(session=ctx.session, actor=ctx.auth, workshop=ws,
                     ids=[i for i in ids if i is not None])
    return Message(ctx._("The agenda of workshop #{id} has {n} items.", id=ws.id, n=n))


def agenda_publish(ctx: Context) -> Message:
    """``workshop agenda publish ID`` (secretariat)."""
    ws = named_workshop(ctx)
    n = agenda.publish(session=ctx.session, actor=ctx.auth, workshop=ws,
                       settings=ctx.settings)
    return Message(ctx._("The agenda of workshop #{id} is circulated: {n} emails queued.",
                         id=ws.id, n=n))


def notes_cmd(ctx: Context) -> Message:
    """``workshop notes ID TEXT`` (secretariat): adds to the record, shown in
    ``workshop show`` and emailed to every invitee who did not decline."""
    ws = named_workshop(ctx)
    agenda.set_notes(session=ctx.session, actor=ctx.auth, workshop=ws, text=_rest(ctx))
    n = agenda.send_notes(session=ctx.session, workshop=ws, settings=ctx.settings)
    return Message(ctx.tr.ngettext(
        "Notes of workshop #{id} recorded and sent to {n} invitee.",
        "Notes of workshop #{id} recorded and sent to {n} invitees.", n, id=ws.id))


def action_add(ctx: Context) -> Message:
    """``workshop action add ID OWNER_EMAIL YYYY-MM-DD [HH:MM] | TEXT`` (secretariat);
    the due date is in the owner's zone (end of day when no time is given)."""
    ws = named_workshop(ctx)
    head, _, text = _rest(ctx).partition("|")
    words = head.split()
    if len(words) < 2 or not text.strip():
        raise InvalidInput(N_("Write: workshop action add ID OWNER_EMAIL YYYY-MM-DD [HH:MM] "
                              "| TEXT"))
    owner = person_by_email(ctx.session, words[0])
    if owner is None:
        raise NotFound(N_("Nobody in the roster has the address {email}."), email=words[0])
    m = _DUE.match(" ".join(words[1:3]))
    if not m:
        raise InvalidInput(N_("Write the due date as YYYY-MM-DD [HH:MM]."))
    tz = ZoneInfo(owner.timezone)
    hhmm = time.fromisoformat(m.group(2).zfill(5)) if m.group(2) else time(18, 0)
    due = datetime.combine(datetime.fromisoformat(m.group(1)).date(), hhmm, tzinfo=tz
                           ).astimezone(UTC)
    action = agenda.add_action(session=ctx.session, actor=ctx.auth, workshop=ws, owner=owner,
                               due_at=due, text=text)
    return Message(ctx._("Action item #{action} for {owner}, due {when}.", action=action.id,
                         owner=owner.name, when=local_text(due, owner.timezone,
                                                           ctx.person.language)))


def action_done(ctx: Context) -> Message:
    """``workshop action done ACTION``: the owner or the secretariat."""
    aid = id_number(first_word(ctx))
    if aid is None:
        raise InvalidInput(N_("Name the action item by its number, e.g. 3."))
    from storage.models import Workshop, WorkshopAction

    found = ctx.session.get(WorkshopAction, aid) if fits(aid) else None
    manager = False
    if found is not None:
        ws = ctx.session.get(Workshop, found.workshop_id)
        try:
            ctx.authorize("workshop.manage", group_id=ws.group_id if ws else None)
            manager = True
        except PermissionDenied:
            manager = False
    agenda.close_action(session=ctx.session, actor=ctx.auth, action_id=aid,
                        person_id=ctx.who.id, manager=manager)
    return Message(ctx._("Action item #{action} is done.", action=aid))


def actions_cmd(ctx: Context) -> Message:
    """``workshop actions [mine]``: your own open action items (with the number
    to close each: ``workshop action done N``); the secretariat sees everyone's
    unless it asks for ``mine``. Overdue items are marked."""
    from storage.base import utcnow

    everyone = ctx.args.strip().lower() not in ("mine", "moi", "mías", "mias")
    if everyone:
        try:
            ctx.authorize("workshop.manage")
        except PermissionDenied:
            everyone = False
    now = utcnow()
    lines = []
    rows = agenda.open_actions(ctx.session, owner_id=None if everyone else ctx.who.id)
    for a, owner in rows:
        late = " " + ctx._("OVERDUE") if a.due_at < now else ""
        due = local_text(a.due_at, ctx.person.timezone, ctx.person.language)
        who = f"{owner.name}: " if everyone else ""
        lines.append(f"#{a.id} {who}{a.text} ({due}){late}")
    title = ctx._("Open action items") if everyone else ctx._("Your open action items")
    if lines:
        lines.append(ctx._("When one is done: workshop action done {n}", n=rows[0][0].id))
    body = "\n".join(lines) or ctx._("No open action items.")
    return Message(f"{title}\n{body}", blocks=(Header(title), Section(body)))
