"""The ``workshop attendees`` route: RSVPs and counts by role, and before a
time is confirmed each invitee's availability answers."""

from __future__ import annotations

from bot.context import Context
from bot.types import Header, Message, Section, SmallPrint
from bot.workshops import availability, rsvp, series
from bot.workshops.render import ANSWER_LABELS, RSVP_LABELS
from bot.workshops.routes import _ws
from storage.models import Role, Workshop


def attendees_cmd(ctx: Context) -> Message:
    """``workshop attendees ID`` (secretariat): answers and counts by role."""
    ws = _ws(ctx)
    people = availability.invitees(ctx.session, ws)
    roles = {inv.person.id: inv.roles for inv in people}
    lines = []
    by_role: dict[str, dict[str, int]] = {}
    for p, answer, channel in rsvp.attendee_list(ctx.session, ws.id):
        lines.append(f"{p.name} ({p.organisation.name if p.organisation else '-'}): "
                     f"{ctx._(RSVP_LABELS[answer])} [{channel}]")
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
