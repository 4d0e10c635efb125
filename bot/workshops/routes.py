"""Chat routes of workshops: series, slots, availability, the recommendation,
confirmation and RSVPs (reading them, attendees and the ledger are in
bot/workshops/reading.py; agenda and actions in bot/workshops/agenda_routes.py)."""

from __future__ import annotations

from datetime import timedelta

from bot.context import Context
from bot.errors import N_, InvalidInput, NotFound
from bot.members import group_by_name
from bot.numbers import bounded, digits
from bot.permissions import alliance_group
from bot.types import (
    Actions,
    Block,
    Button,
    Header,
    Link,
    Message,
    Preformatted,
    Reply,
    Section,
    Span,
)
from bot.workshops import availability, invites, rsvp, series, tokens
from bot.workshops.meetings import organizer
from bot.workshops.render import (
    ANSWER_LABELS,
    RSVP_LABELS,
    grid_image,
    local_text,
    when,
)
from bot.workshops.scoring import clock_shifts, explain, slot_reasons
from storage.base import utcnow
from storage.models import Workshop, WorkshopSlot

# --- scopes ----------------------------------------------------------------------------


def first_word(ctx: Context) -> str:
    """The first argument (a workshop's or series' number). Raises InvalidInput."""
    words = ctx.args.split()
    if not words:
        raise InvalidInput(N_("Name the workshop by its number, e.g. 12."))
    return words[0]


def scope_args(ctx: Context) -> int:
    """The group of the workshop named by the first argument."""
    return series.find_workshop(ctx.session, first_word(ctx)).group_id


def scope_series(ctx: Context) -> int:
    """The group of the series named by the first argument."""
    return series.find_series(ctx.session, first_word(ctx)).group_id


def scope_value(ctx: Context) -> int:
    """The group of the workshop named in a button value ``<id>:...``."""
    return series.find_workshop(ctx.session, ctx.value.split(":", 1)[0]).group_id


def scope_form(ctx: Context) -> int:
    """The group of the workshop named in a form's context."""
    form = ctx.form
    return series.find_workshop(ctx.session, form.context if form else "").group_id


def named_workshop(ctx: Context) -> Workshop:
    """The workshop named by the first argument. Raises NotFound, InvalidInput."""
    return series.find_workshop(ctx.session, first_word(ctx))


def _rest(ctx: Context, n: int = 1) -> str:
    parts = ctx.args.split(None, n)
    return parts[n] if len(parts) > n else ""


# --- series and workshops -----------------------------------------------------------


SERIES_USAGE = "TITLE | ZONE | HH:MM | MINUTES [| TOPIC | GROUP | quarterly|annual | JOIN_URL]"


def series_new(ctx: Context) -> Message:
    """``workshop series new TITLE | ZONE | HH:MM | MINUTES [| TOPIC | GROUP | KIND | URL]``."""
    parts = [p.strip() for p in ctx.args.split("|")]
    if len(parts) < 4:
        raise InvalidInput(N_("Write: workshop series new {usage}"), usage=SERIES_USAGE)
    parts += [""] * (8 - len(parts))
    group = group_by_name(ctx.session, parts[5]) if parts[5] else alliance_group(ctx.session)
    if group is None:
        raise NotFound(N_("There is no group called {name!r}."), name=parts[5])
    minutes = bounded(parts[3], high=10_000)
    if minutes is None:
        raise InvalidInput(N_("A workshop lasts between 15 and 600 minutes."))
    s = series.create_series(session=ctx.session, actor=ctx.authorize("workshop.manage",
                                                                       group_id=group.id),
                             group=group, title=parts[0], zone=parts[1], at=parts[2],
                             minutes=minutes, topic=parts[4], kind=parts[6] or "quarterly",
                             join_url=parts[7], language=ctx.person.language)
    return Message(ctx._("Series #{id} created: {title}, {at} {zone}. Open a workshop with: "
                         "workshop open {id} {quarter}", id=s.id, title=s.title,
                         at=s.anchor_time, zone=s.anchor_zone,
                         quarter=series.next_period(s.kind, utcnow())))


def open_cmd(ctx: Context) -> Message:
    """``workshop open SERIES QUARTER``."""
    s = series.find_series(ctx.session, first_word(ctx))
    ws = series.open_workshop(session=ctx.session, actor=ctx.auth, series=s,
                              quarter=_rest(ctx), domain=organizer(
                                  ctx.settings).rsplit("@", 1)[-1])
    example = series.example_slot(ws, utcnow())
    return Message(ctx._("Workshop #{id} ({quarter}) is open. Propose times with: workshop "
                         "slot add {id} {day} {at} {zone}", id=ws.id, quarter=ws.quarter,
                         day=example.isoformat(), at=s.anchor_time, zone=s.anchor_zone))


def slot_add(ctx: Context) -> Message:
    """``workshop slot add ID YYYY-MM-DD HH:MM [Zone]``."""
    ws = named_workshop(ctx)
    slot = series.add_slot(session=ctx.session, actor=ctx.auth, workshop=ws, text=_rest(ctx))
    return Message(ctx._("Slot {slot} added to workshop #{id}: {when}.",
                         slot=series.slot_numbers(ws)[slot.id],
                         id=ws.id, when=local_text(slot.starts_at, ws.series.anchor_zone,
                                                   ctx.person.language)))


def availability_url(ctx: Context, ws: Workshop) -> str:
    """The person's signed availability page link."""
    settings = ctx.settings
    t = tokens.mint(key=settings.signing_key(), purpose="availability", person_id=ctx.who.id,
                    workshop_id=ws.id,
                    expires_at=utcnow() + timedelta(days=settings.workshops.link_days))
    return f"{settings.http.public_url()}/workshops/{ws.id}/availability?t={t}"


#: Slots answered with buttons in chat; more are listed, answered on the page or
#: typed (the tightest chat platform allows five rows of buttons a message).
BUTTON_SLOTS = 5


def slots_cmd(ctx: Context) -> Message:
    """``workshop slots ID``: the slots in the reader's zone, numbered within the
    workshop, with the reader's answers; answer buttons for the first
    :data:`BUTTON_SLOTS` slots the reader has not answered yet (all the
    slots are listed, whatever their number); the grid as a picture and the
    person's availability page link."""
    ws = named_workshop(ctx)
    zone, lang = ctx.person.timezone, ctx.person.language
    given = availability.answers(ctx.session, ws)
    mine = given.get(ctx.who.id, {})
    number = series.slot_numbers(ws)
    blocks: list[Block] = [Header(ctx._("Workshop #{id}: {title}", id=ws.id, title=ws.title))]
    if not ws.slots:
        blocks.append(Section(ctx._("No candidate slots yet.")))
    many = len(ws.slots) > BUTTON_SLOTS
    if many:
        listing: list[str | Span] = []
        for s in ws.slots:
            answer = mine.get(s.id)
            listing += [ctx._("Slot {slot}: ", slot=number[s.id]), when(s.starts_at, zone, lang),
                        f" ({ctx._(ANSWER_LABELS[answer])})" if answer else "", "\n"]
        blocks.append(Section(tuple(listing[:-1])))
    open_slots = [s for s in ws.slots if not many or s.id not in mine][:BUTTON_SLOTS]
    for s in open_slots:
        if many and ws.state != "finding":
            break
        blocks.append(Section((ctx._("Slot {slot}: ", slot=number[s.id]),
                               when(s.starts_at, zone, lang))))
        if ws.state == "finding":
            blocks.append(Actions(tuple(
                Button(ctx._(ANSWER_LABELS[a]), "workshop.avail", f"{ws.id}:{s.id}:{a}",
                       style="primary" if a == "yes" else "default",
                       disabled=mine.get(s.id) == a) for a in ANSWER_LABELS)))
    if ws.slots:
        people = availability.invitees(ctx.session, ws)
        rows = [(inv.person.name, [given.get(inv.person.id, {}).get(s.id, "none")
                                   for s in ws.slots]) for inv in people]
        blocks.append(grid_image(ctx.tr, slots=[s.starts_at for s in ws.slots], zone=zone,
                                 rows=rows))
    if ws.state == "finding":
        if many:
            blocks.append(Section(ctx._(
                "{n} slots: the buttons above answer the first ones you have not answered; "
                "answer any slot with: workshop answer {id} SLOT yes|ifneedbe|no",
                n=len(ws.slots), id=ws.id)))
        blocks.append(Section((ctx._("Or answer on your page: "),
                               Link(availability_url(ctx, ws),
                                    ctx._("your availability page")))))
    return Message(ctx._("Candidate slots of workshop #{id} (times in {zone}).", id=ws.id,
                         zone=zone), blocks=tuple(blocks))


def _answer(ctx: Context, ws: Workshop, slot: WorkshopSlot, word: str) -> Message:
    answer = availability.parse_answer(word)
    availability.set_answer(session=ctx.session, actor=ctx.auth, workshop=ws, slot_id=slot.id,
                            person_id=ctx.who.id, answer=answer)
    return Message(ctx._("Workshop #{id}, slot {slot}: {answer}.", id=ws.id,
                         slot=series.slot_numbers(ws)[slot.id],
                         answer=ctx._(ANSWER_LABELS[answer])))


def answer_cmd(ctx: Context) -> Message:
    """``workshop answer ID SLOT yes|ifneedbe|no`` (SLOT: its number in the workshop)."""
    words = ctx.args.split()
    if len(words) < 3:
        raise InvalidInput(N_("Write: workshop answer ID SLOT yes|ifneedbe|no"))
    ws = series.find_workshop(ctx.session, words[0])
    return _answer(ctx, ws, series.slot_by_number(ws, words[1]), words[2])


def avail_button(ctx: Context) -> Message:
    """``workshop.avail`` buttons: value ``<id>:<slot id>:<answer>``."""
    parts = ctx.value.split(":")
    if len(parts) != 3:
        raise InvalidInput(N_("That button or form is no longer recognised."))
    ws = series.find_workshop(ctx.session, parts[0])
    slot = next((s for s in ws.slots if str(s.id) == parts[1]), None)
    if slot is None:
        raise InvalidInput(N_("That button or form is no longer recognised."))
    return _answer(ctx, ws, slot, parts[2])


def availability_form(ctx: Context) -> Message:
    """``workshop.availability`` form (the web page): fields ``slot-<id>``."""
    form = ctx.form
    assert form is not None
    ws = series.find_workshop(ctx.session, form.context)
    n = 0
    for name, value in form.values:
        if name.startswith("slot-") and value:
            slot_id = digits(name[5:])
            if slot_id is None:
                continue
            availability.set_answer(session=ctx.session, actor=ctx.auth, workshop=ws,
                                    slot_id=slot_id, person_id=ctx.who.id,
                                    answer=availability.parse_answer(value))
            n += 1
    return Message(ctx.tr.ngettext("{n} answer saved for workshop #{id}.",
                                   "{n} answers saved for workshop #{id}.", n, id=ws.id))


def recommend_cmd(ctx: Context) -> Message:
    """``workshop recommend ID``: the slots ranked, the best explained."""
    ws = named_workshop(ctx)
    w = ctx.settings.workshops
    ranked, people, led = availability.recommend(
        ctx.session, ws, observer_weight=w.observer_weight, quorum_percent=w.quorum_percent)
    zone, lang = ctx.person.timezone, ctx.person.language
    if not ranked:
        raise InvalidInput(N_("Workshop #{id} has no candidate slots yet."), id=ws.id)
    number = series.slot_numbers(ws)
    lines = []
    for k, s in enumerate(ranked, start=1):
        why = "; ".join(ctx._(r.msgid, **r.params)
                        for r in slot_reasons(s, language=lang, best=ranked[0]))
        lines.append(f"{k}. " + ctx._("slot {slot}, {when}: {why}", slot=number[s.slot_id],
                                      when=local_text(s.starts_at, zone, lang), why=why))
    try:
        ctx.authorize("workshop.manage", group_id=ws.group_id)
        shown_ledger = led
    except Exception:  # noqa: BLE001 - the ledger is for the secretariat only
        shown_ledger = None
    reasons = [ctx._(r.msgid, **r.params) for r in explain(ranked, ledger=shown_ledger,
                                                           respondents=people)]
    previous = [o for o in ws.series.workshops if o.id != ws.id and o.starts_at is not None
                and o.state != "cancelled"]
    if previous:
        for z, before, now in clock_shifts(previous[-1].starts_at or ranked[0].starts_at,
                                           ranked[0].starts_at, [p.zone for p in people],
                                           anchor_zone=ws.series.anchor_zone):
            reasons.append(ctx._("Clocks changed: in {zone} this is {now} local, not {before} "
                                 "as last time.", zone=z, now=_hhmm(now), before=_hhmm(before)))
    best = ranked[0]
    head = ctx._("Recommended for workshop #{id}: slot {slot}, {when}.", id=ws.id,
                 slot=number[best.slot_id], when=local_text(best.starts_at, zone, lang))
    return Message(head + "\n" + "\n".join(reasons) + "\n" + "\n".join(lines), blocks=(
        Header(ctx._("Workshop #{id}: {title}", id=ws.id, title=ws.title)),
        Section((ctx._("Recommended: slot {slot}, ", slot=number[best.slot_id]),
                 when(best.starts_at, zone, lang))),
        Section("\n".join(reasons)), Preformatted("\n".join(lines))))


def _hhmm(hour: float) -> str:
    return f"{int(hour):02d}:{round((hour % 1) * 60):02d}"


def confirm_cmd(ctx: Context) -> Message:
    """``workshop confirm ID [SLOT]`` (default: the recommended slot)."""
    ws = named_workshop(ctx)
    words = ctx.args.split()
    if len(words) > 1:
        start = series.slot_by_number(ws, words[1]).starts_at
    else:
        w = ctx.settings.workshops
        ranked, _p, _l = availability.recommend(ctx.session, ws,
                                                observer_weight=w.observer_weight,
                                                quorum_percent=w.quorum_percent)
        if not ranked:
            raise InvalidInput(N_("Workshop #{id} has no candidate slots yet."), id=ws.id)
        start = ranked[0].starts_at
    return _fix(ctx, ws, start)


def _fix(ctx: Context, ws: Workshop, start: object) -> Message:
    from datetime import datetime

    assert isinstance(start, datetime)
    sent = invites.confirm(session=ctx.session, actor=ctx.auth, workshop=ws, starts_at=start,
                           settings=ctx.settings,
                           calendar_platforms=ctx.calendar_platforms)
    if ws.sequence > 0:
        return Message(ctx.tr.ngettext(
            "Workshop #{id} moves to {when}: {n} invitee is told and asked to answer again.",
            "Workshop #{id} moves to {when}: {n} invitees are told and asked to answer again.",
            sent.emails, id=ws.id,
            when=local_text(start, ctx.person.timezone, ctx.person.language)))
    return Message(ctx.tr.ngettext(
        "Workshop #{id} is set for {when}: {n} invitation queued.",
        "Workshop #{id} is set for {when}: {n} invitations queued.", sent.emails, id=ws.id,
        when=local_text(start, ctx.person.timezone, ctx.person.language)))


def reschedule_cmd(ctx: Context) -> Message:
    """``workshop reschedule ID YYYY-MM-DD HH:MM [Zone]``: same UID, SEQUENCE + 1."""
    ws = named_workshop(ctx)
    start, _zone = series.parse_local(_rest(ctx), zone=ws.series.anchor_zone)
    return _fix(ctx, ws, start)


def cancel_cmd(ctx: Context) -> Message:
    """``workshop cancel ID``: METHOD:CANCEL to everyone invited."""
    ws = named_workshop(ctx)
    sent = invites.cancel(session=ctx.session, actor=ctx.auth, workshop=ws,
                          settings=ctx.settings,
                          calendar_platforms=ctx.calendar_platforms)
    return Message(ctx._("Workshop #{id} is cancelled: {emails} cancellations queued.",
                         id=ws.id, emails=sent.emails))


# --- RSVPs ---------------------------------------------------------------------------


def do_rsvp(ctx: Context, ws: Workshop, answer: str, *, sequence: int | None = None) -> Message:
    """Record the acting person's RSVP and say so (committed before this is shown)."""
    res = rsvp.set_rsvp(session=ctx.session, actor=ctx.auth, workshop=ws,
                        person_id=ctx.who.id, answer=answer, sequence=sequence)
    label = ctx._(RSVP_LABELS[res.answer])
    if not res.changed:
        return Message(ctx._("Your answer to workshop #{id} stays: {answer}.", id=ws.id,
                             answer=label))
    return Message(ctx._("Your answer to workshop #{id}: {answer}.", id=ws.id, answer=label))


def rsvp_cmd(ctx: Context) -> Message:
    """``workshop rsvp ID accept|tentative|decline``."""
    words = ctx.args.split()
    if len(words) < 2:
        raise InvalidInput(N_("Write: workshop rsvp ID accept|tentative|decline"))
    return do_rsvp(ctx, series.find_workshop(ctx.session, words[0]), rsvp.parse_rsvp(words[1]))


def rsvp_button(ctx: Context) -> Message:
    """``workshop.rsvp`` buttons: value ``<id>:<answer>``."""
    wid, _, answer = ctx.value.partition(":")
    if answer not in rsvp.RSVPS:
        raise InvalidInput(N_("That button or form is no longer recognised."))
    return do_rsvp(ctx, series.find_workshop(ctx.session, wid), answer)


def replies_for(messages: list[Message]) -> list[Reply]:
    """Messages as private replies."""
    return [Reply(m) for m in messages]
