"""A sprint as a platform-neutral Message: title and aim, topics, dates as
:class:`~bot.types.Time` spans (each reader's own zone; the fallback names
the zone), seats and waitlist, funding per currency with a progress picture
(PNG), and buttons that are disabled when the sprint is full or closed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.charts import Progress, progress_chart
from bot.errors import N_
from bot.i18n import Translator
from bot.sprints import money
from bot.sprints.common import local, topic_label
from bot.sprints.pledges import totals
from bot.sprints.seats import counts
from bot.types import (
    Accent,
    Actions,
    Block,
    Button,
    Emphasis,
    Field,
    Header,
    Image,
    Inline,
    Mention,
    Message,
    Option,
    Section,
    Select,
    SmallPrint,
    Span,
    Strong,
    Time,
)
from storage.models import Person, Sprint

STATE_LABELS = {"proposed": N_("waiting for approval"), "open": N_("open"),
                "declined": N_("declined"), "cancelled": N_("cancelled")}
FUNDING_LABELS = {"none": N_("no minimum"), "pending": N_("pledges open"),
                  "funded": N_("funded"), "not_funded": N_("not funded")}


def when(moment: datetime, zone: str) -> Time:
    """``moment`` as a Time span whose fallback is in ``zone``, zone named."""
    return Time(int(moment.timestamp()), local(moment, zone))


def funding_chart(tr: Translator, sprint: Sprint, by_currency: dict[str, int]) -> bytes:
    """The pledges in the sprint's currency against its minimum (or goal), as a
    progress bar in that currency with the amounts written in the reader's
    locale; pledges in other currencies are named under it, never drawn on the
    same scale (there is no exchange rate). PNG bytes."""
    target = sprint.minimum_minor or sprint.goal_minor
    own = by_currency.get(sprint.currency, 0)
    lang = tr.language
    label = N_("Minimum") if sprint.minimum_minor else N_("Goal")
    text = tr.gettext(N_("{pledged} of {target}"),
                      pledged=money.format_money(own, sprint.currency, lang),
                      target=money.format_money(target, sprint.currency, lang))
    others = {c: m for c, m in by_currency.items() if c != sprint.currency and m}
    note = tr.gettext(N_("Also pledged (not converted, not counted): {amounts}"),
                      amounts=money.format_totals(others, lang)) if others else ""
    row = Progress(sprint.currency, float(own), float(max(target, 1)), text)
    return progress_chart([row], title=tr.gettext(label), note=note)


def sprint_message(session: Session, sprint: Sprint, *, tr: Translator, zone: str,
                   now: datetime, signup: bool = True) -> Message:
    """The sprint for a reader of ``tr.language`` in ``zone``; ``signup``: show
    the sign-up and pledge controls (False for observers, who get Follow)."""
    n = counts(session, sprint.id)
    held = n.get("seated", 0) + n.get("offered", 0)
    waiting = n.get("waitlisted", 0)
    closed = sprint.state != "open" or now >= sprint.signup_closes_at
    full = held >= sprint.capacity
    proposer = session.get(Person, sprint.proposer_id) if sprint.proposer_id else None
    topics = ", ".join(topic_label(t, tr.language) for t in sprint.topics)
    head = tr.gettext(N_("Sprint #{id}: {title}"), id=sprint.id, title=sprint.title)
    dates: Inline = (when(sprint.starts_at, zone), " → ", when(sprint.ends_at, zone))
    fields = [
        Field(tr.gettext(N_("Status")), tr.gettext(STATE_LABELS.get(sprint.state,
                                                                    sprint.state))),
        Field(tr.gettext(N_("Topics")), topics),
        Field(tr.gettext(N_("Dates")), dates),
        Field(tr.gettext(N_("Sign-ups close")), (when(sprint.signup_closes_at, zone),)),
        Field(tr.gettext(N_("Seats")), tr.gettext(N_("{held} of {capacity} taken"),
                                                  held=held, capacity=sprint.capacity)),
        Field(tr.gettext(N_("Waitlist")), str(waiting)),
    ]
    if sprint.org_cap:
        fields.append(Field(tr.gettext(N_("Per organisation")),
                            tr.gettext(N_("at most {cap} seats"), cap=sprint.org_cap)))
    blocks: list[Block] = [Header(head)]
    intro: list[str | Span] = [Strong(sprint.title), "\n", Emphasis(sprint.aim)]
    if proposer is not None:
        intro += ["\n" + tr.gettext(N_("Proposed by")) + " ",
                  Mention(proposer.id, proposer.name)]
    lines = [head, sprint.aim, f"{tr.gettext(N_('Topics'))}: {topics}",
             tr.gettext(N_("{held} of {capacity} seats taken, {waiting} waiting."), held=held,
                        capacity=sprint.capacity, waiting=waiting)]
    by_currency = totals(session, sprint.id)
    if sprint.currency or by_currency:
        pledged = money.format_totals(by_currency, tr.language) or "-"
        fields.append(Field(tr.gettext(N_("Pledged")), pledged))
        lines.append(f"{tr.gettext(N_('Pledged'))}: {pledged}")
        if sprint.minimum_minor:
            minimum = money.format_money(sprint.minimum_minor, sprint.currency, tr.language)
            state = tr.gettext(FUNDING_LABELS.get(sprint.funding_state, sprint.funding_state))
            value: Inline = (f"{minimum} ({state}) ", when(sprint.funding_deadline, zone)) \
                if sprint.funding_deadline else f"{minimum} ({state})"
            fields.append(Field(tr.gettext(N_("Minimum to go ahead")), value))
            lines.append(f"{tr.gettext(N_('Minimum to go ahead'))}: {minimum} ({state})")
    blocks.append(Section(tuple(intro), fields=tuple(fields)))
    if sprint.minimum_minor or sprint.goal_minor:
        blocks.append(Image("", tr.gettext(N_("Pledges per currency against the minimum of "
                                             "{amount}"), amount=money.format_money(
            sprint.minimum_minor or sprint.goal_minor, sprint.currency, tr.language)),
            png=funding_chart(tr, sprint, by_currency)))
    sid = str(sprint.id)
    if sprint.state in ("open", "proposed"):
        if signup:
            label = tr.gettext(N_("Join the waitlist")) if full else tr.gettext(N_("Sign up"))
            elements: list[Button | Select] = [
                Button(label, "sprint.join", f"{sid}:contributor", style="primary",
                       disabled=closed),
                Select("sprint.join", tr.gettext(N_("Sign up as…")), (
                    Option(tr.gettext(N_("contributor")), f"{sid}:contributor"),
                    Option(tr.gettext(N_("lead")), f"{sid}:lead"))),
                Button(tr.gettext(N_("Pledge")), "sprint.pledge", sid,
                       disabled=sprint.state != "open" or (sprint.funding_state != "pending"
                       and bool(sprint.minimum_minor))),
            ]
            if closed:
                elements.pop(1)
            blocks.append(Actions(tuple(elements)))
        else:
            blocks.append(Actions((Button(tr.gettext(N_("Follow")), "sprint.follow", sid),)))
        if full and not closed:
            blocks.append(SmallPrint(tr.gettext(N_("Full: new sign-ups join the waitlist and are "
                                                "offered a seat when one frees."))))
    accent: Accent = ("danger" if sprint.state in ("cancelled", "declined") else
                      "info" if sprint.state == "proposed" else
                      "warning" if full or closed else "success")
    return Message(text="\n".join(lines), blocks=tuple(blocks), accent=accent)
