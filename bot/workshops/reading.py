"""Chat routes that read workshops: ``workshop show``, ``list``, ``attendees``,
``lead`` and the burden ledger."""

from __future__ import annotations

from dataclasses import replace

from bot.context import Context
from bot.types import Header, Message, Preformatted, Section, SmallPrint
from bot.workshops import availability, rsvp, series
from bot.workshops.render import (
    ANSWER_LABELS,
    RSVP_LABELS,
    STATE_LABELS,
    channel_label,
    local_text,
    workshop_message,
)
from bot.workshops.routes import first_word, named_workshop
from storage.models import Role, Workshop


def show_cmd(ctx: Context) -> Message:
    """``workshop show ID``."""
    ws = named_workshop(ctx)
    msg = workshop_message(ctx.tr, ws, zone=ctx.person.timezone,
                           counts=rsvp.counts(ctx.session, ws.id),
                           mine=rsvp.rsvp_of(ctx.session, ws.id, ctx.who.id))
    if not ws.notes:
        return msg
    heading = ctx._("Notes")
    return replace(msg, text=f"{msg.text}\n\n{heading}\n{ws.notes}",
                   blocks=(*msg.blocks, Header(heading), Section(ws.notes)))


def list_cmd(ctx: Context) -> Message:
    """``workshop list``."""
    rows = series.list_workshops(ctx.session)
    lines = []
    for ws in rows:
        t = (local_text(ws.starts_at, ctx.person.timezone, ctx.person.language)
             if ws.starts_at else "-")
        lines.append(f"#{ws.id} {ws.title} ({ctx._(STATE_LABELS.get(ws.state, ws.state))}) {t}")
    title = ctx._("Workshops")
    body = "\n".join(lines) or ctx._("There are no workshops yet.")
    return Message(f"{title}\n{body}", blocks=(Header(title), Section(body)))


def attendees_cmd(ctx: Context) -> Message:
    """``workshop attendees ID`` (secretariat): answers and counts by role."""
    ws = named_workshop(ctx)
    people = availability.invitees(ctx.session, ws)
    roles = {inv.person.id: inv.roles for inv in people}
    lines = []
    by_role: dict[str, dict[str, int]] = {}
    for p, answer, channel in rsvp.attendee_list(ctx.session, ws.id):
        lines.append(f"{p.name} ({p.organisation.name if p.organisation else '-'}): "
                     f"{ctx._(RSVP_LABELS[answer])} ({ctx._(channel_label(channel))})")
        for r in roles.get(p.id, frozenset()):
            by_role.setdefault(str(Role(r)), {}).setdefault(answer, 0)
            by_role[str(Role(r))][answer] += 1
    summary = [f"{ctx._(r)}: " + ", ".join(f"{ctx._(RSVP_LABELS[a])} {n}"
                                           for a, n in sorted(c.items()))
               for r, c in sorted(by_role.items())]
    title = ctx._("Attendees of workshop #{id}", id=ws.id)
    if ws.state == "finding" or not lines:
        lines += _availability_lines(ctx, ws, people)
    body = "\n".join(lines) or ctx._("No answers yet.")
    return Message(f"{title}\n{body}", blocks=(Header(title), Section(body),
                                               SmallPrint("\n".join(summary) or "-")))


def _availability_lines(ctx: Context, ws: Workshop,
                        people: list[availability.Invitee]) -> list[str]:
    """Before a time is confirmed: each invitee's availability answers (slot
    numbers per answer), and who has not answered yet."""
    given = availability.answers(ctx.session, ws)
    number = series.slot_numbers(ws)
    out: list[str] = []
    silent: list[str] = []
    for inv in sorted(people, key=lambda i: i.person.name):
        mine = given.get(inv.person.id, {})
        if not mine:
            silent.append(inv.person.name)
            continue
        parts = []
        for a in ANSWER_LABELS:
            slots = sorted(number[sid] for sid, ans in mine.items() if ans == a and sid in number)
            if slots:
                parts.append(f"{ctx._(ANSWER_LABELS[a])} " + ", ".join(map(str, slots)))
        out.append(f"{inv.person.name}: " + "; ".join(parts))
    if out:
        out.insert(0, ctx.tr.ngettext("{n} person answered the candidate slots (slot numbers):",
                                      "{n} people answered the candidate slots (slot numbers):",
                                      len(out)))
    if silent:
        out.append(ctx._("Not answered yet: {names}", names=", ".join(silent)))
    return out


def lead_cmd(ctx: Context) -> Message:
    """``workshop lead ID``: lead (chair) the workshop; the lead is required."""
    ws = named_workshop(ctx)
    ws.lead_id = ctx.who.id
    return Message(ctx._("You lead workshop #{id}; slots you cannot make are ranked last.",
                         id=ws.id))


def ledger_cmd(ctx: Context) -> Message:
    """``workshop ledger SERIES`` (secretariat): burden per region and quarter."""
    s = series.find_series(ctx.session, first_word(ctx))
    rows = availability.ledger_rows(ctx.session, s.id)
    lines = [ctx._("{zone} {quarter}: burden {burden} ({n} people)", zone=z, quarter=q,
                   burden=f"{b:g}", n=n) for z, q, b, n in rows]
    title = ctx._("Burden ledger of series #{id}", id=s.id)
    body = "\n".join(lines) or ctx._("No workshop of this series has been confirmed yet.")
    return Message(f"{title}\n{body}", blocks=(Header(title), Preformatted(body)))


