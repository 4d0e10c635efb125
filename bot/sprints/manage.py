"""Chat routes of proposing, deciding and funding sprints: ``sprint propose``
(a form, or one line), ``sprint approve|reject|cancel|priority`` for the
secretariat, ``sprint list``, and ``sprint pledge|unpledge`` with the pledge
form."""

from __future__ import annotations

from sqlalchemy import select

from bot.context import Context
from bot.errors import N_, InvalidInput, NotFound
from bot.i18n import translator
from bot.members import group_by_name, person_by_email
from bot.outbox import ChatTarget
from bot.permissions import alliance_group
from bot.sprints import money, pledges, proposals, seats
from bot.sprints.common import find_sprint, topic_keys
from bot.sprints.render import STATE_LABELS, sprint_message
from bot.types import Form, FormField, Header, Message, Option, Reply, Section
from storage.base import utcnow
from storage.models import Group, Sprint

PROPOSE_USAGE = "[TITLE | AIM | TOPICS | STARTS | ENDS | CAPACITY | CUTOFF]"
_LINE_FIELDS = ("title", "aim", "topics", "starts", "ends", "capacity", "cutoff")


def propose_form(ctx: Context) -> Message:
    """The ``sprint.propose`` form."""
    groups = sorted(ctx.session.scalars(select(Group)).all(),
                    key=lambda g: (not g.is_alliance, g.name))
    hint = ctx._("e.g. 2027-03-01, your time zone")
    fields = (
        FormField("title", ctx._("Title"), max_length=300),
        FormField("aim", ctx._("Aim"), "textarea"),
        FormField("topics", ctx._("Scope topics (comma-separated)"),
                  hint=", ".join(topic_keys())),
        FormField("group", ctx._("Group"), "select",
                  options=tuple(Option(g.name, g.name) for g in groups),
                  initial=groups[0].name if groups else ""),
        FormField("starts", ctx._("Starts"), "datetime", hint=hint),
        FormField("ends", ctx._("Ends"), "datetime", hint=hint),
        FormField("cutoff", ctx._("Sign-ups close"), "datetime", hint=hint),
        FormField("capacity", ctx._("Seats"), "number"),
        FormField("org_cap", ctx._("At most this many seats per organisation (0: no cap)"),
                  "number", required=False, initial="0"),
        FormField("leads", ctx._("Leads allowed"), "number", required=False, initial="1"),
        FormField("currency", ctx._("Currency (ISO 4217)"), required=False, initial="EUR"),
        FormField("goal", ctx._("Funding goal (optional)"), required=False),
        FormField("minimum", ctx._("Minimum to go ahead (optional)"), required=False),
        FormField("funding_deadline", ctx._("Funding deadline (default: the cutoff)"),
                  "datetime", required=False, hint=hint),
    )
    return Message(ctx._("Fill in the sprint you propose."),
                   form=Form("sprint.propose", ctx._("Propose a sprint"), ctx._("Propose"),
                             fields))


def _create(ctx: Context, values: dict[str, str]) -> Message:
    name = values.get("group", "").strip()
    group = group_by_name(ctx.session, name) if name else alliance_group(ctx.session)
    if group is None:
        raise NotFound(N_("There is no group called {name!r}."), name=name)
    auth = ctx.authorize("sprint.propose", group_id=group.id)
    person = ctx.person
    draft = proposals.parse_draft(values, zone=person.timezone, language=person.language,
                                  now=utcnow())
    where = ctx.event.where
    origin = None if where.is_direct else ChatTarget(where.platform, where.workspace_id,
                                                     where.channel_id)
    sprint = proposals.create_sprint(ctx.session, actor=auth, proposer=person, group=group,
                                     draft=draft, settings=ctx.settings,
                                     language=person.language, origin=origin)
    return Message(ctx._("Sprint #{id} is proposed; the secretariat will approve or decline "
                         "it.", id=sprint.id))


def propose_cmd(ctx: Context) -> Message:
    """``sprint propose`` (a form) or ``sprint propose TITLE | AIM | ...``."""
    if not ctx.args.strip():
        return propose_form(ctx)
    parts = [p.strip() for p in ctx.args.split("|")]
    if len(parts) < len(_LINE_FIELDS):
        raise InvalidInput(N_("Write: sprint propose {usage}, or just sprint propose for a "
                              "form."), usage=PROPOSE_USAGE)
    return _create(ctx, dict(zip(_LINE_FIELDS, parts, strict=False)))


def propose_submitted(ctx: Context) -> Message:
    """The submitted ``sprint.propose`` form."""
    f = ctx.form
    assert f is not None
    return _create(ctx, {k: v for k, v in f.values})


def _announcement(ctx: Context, sprint: Sprint) -> Message:
    zone = ctx.settings.default_timezone
    return sprint_message(ctx.session, sprint, tr=translator(sprint.language), zone=zone,
                          now=utcnow())


def approve_cmd(ctx: Context) -> Message:
    """``sprint approve ID``: open sign-ups and announce (secretariat)."""
    sprint = find_sprint(ctx.session, ctx.args.split()[0])
    emailed = proposals.approve(ctx.session, actor=ctx.auth, sprint=sprint,
                                settings=ctx.settings, now=utcnow(),
                                message=lambda: _announcement(ctx, sprint))
    return Message(ctx.tr.ngettext("Sprint #{id} is open for sign-ups; announced, and {n} "
                                   "member with matching interests emailed.",
                                   "Sprint #{id} is open for sign-ups; announced, and {n} "
                                   "members with matching interests emailed.", emailed,
                                   id=sprint.id))


def reject_cmd(ctx: Context) -> Message:
    """``sprint reject ID REASON`` (secretariat)."""
    words = ctx.args.split(None, 1)
    sprint = find_sprint(ctx.session, words[0])
    proposals.decline(ctx.session, actor=ctx.auth, sprint=sprint,
                      reason=words[1] if len(words) > 1 else "", now=utcnow())
    return Message(ctx._("Sprint #{id} is declined; the proposer is told why.", id=sprint.id))


def cancel_cmd(ctx: Context) -> Message:
    """``sprint cancel ID REASON`` (secretariat): open offers become void."""
    words = ctx.args.split(None, 1)
    if len(words) < 2:
        raise InvalidInput(N_("Write: sprint cancel ID REASON"))
    sid = find_sprint(ctx.session, words[0]).id
    voided = proposals.cancel(ctx.session, actor=ctx.auth, sprint_id=sid, reason=words[1],
                              now=utcnow())
    return Message(ctx.tr.ngettext("Sprint #{id} is cancelled; {n} open offer is void.",
                                   "Sprint #{id} is cancelled; {n} open offers are void.",
                                   voided, id=sid))


def priority_cmd(ctx: Context) -> Message:
    """``sprint priority ID EMAIL N`` (secretariat): higher is served first."""
    words = ctx.args.split()
    if len(words) != 3 or not words[2].lstrip("-").isdigit():
        raise InvalidInput(N_("Write: sprint priority ID EMAIL NUMBER"))
    sprint = find_sprint(ctx.session, words[0])
    person = person_by_email(ctx.session, words[1])
    if person is None:
        raise NotFound(N_("{email} is not in the roster."), email=words[1])
    seats.set_priority(ctx.session, actor=ctx.auth, sprint_id=sprint.id, person=person,
                       priority=int(words[2]))
    return Message(ctx._("{name} now has priority {n} in the waitlist of sprint #{id}.",
                         name=person.name, n=int(words[2]), id=sprint.id))


def list_cmd(ctx: Context) -> Message:
    """``sprint list``: sprints proposed or open."""
    rows = ctx.session.scalars(select(Sprint).where(Sprint.state.in_(("proposed", "open")))
                               .order_by(Sprint.id)).all()
    lines = []
    for s in rows:
        n = seats.counts(ctx.session, s.id)
        lines.append(ctx._("#{id} {title} ({state}): {held} of {capacity} seats, {waiting} "
                           "waiting", id=s.id, title=s.title,
                           state=ctx._(STATE_LABELS.get(s.state, s.state)),
                           held=n.get("seated", 0) + n.get("offered", 0), capacity=s.capacity,
                           waiting=n.get("waitlisted", 0)))
    title = ctx._("Innovation sprints")
    body = "\n".join(lines) or ctx._("No sprint is open or proposed.")
    return Message(f"{title}\n{body}", blocks=(Header(title), Section(body)))


# --- pledges ------------------------------------------------------------------------

def pledge_form(ctx: Context, sid: int) -> Message:
    """The ``sprint.pledge`` form for sprint ``sid``."""
    sprint = find_sprint(ctx.session, sid)
    fields = (FormField("amount", ctx._("Amount"), "number"),
              FormField("currency", ctx._("Currency (ISO 4217)"),
                        initial=sprint.currency or "EUR"))
    return Message(ctx._("Pledge to sprint #{id}.", id=sid),
                   form=Form("sprint.pledge", ctx._("Pledge"), ctx._("Pledge"), fields,
                             context=str(sid)))


def _pledge(ctx: Context, sid: int, amount_text: str, currency_text: str) -> Message:
    code = money.currency_code(currency_text)
    amount = money.parse_amount(amount_text, currency=code, language=ctx.person.language)
    pledges.pledge(ctx.session, actor=ctx.auth, sprint_id=sid, person=ctx.person,
                   amount=amount, currency=code, now=utcnow())
    sprint = find_sprint(ctx.session, sid)
    shown = money.format_money(money.to_minor(amount, code), code, ctx.tr.language)
    text = ctx._("Your pledge to sprint #{id}: {amount}.", id=sid, amount=shown)
    if sprint.currency and code != sprint.currency:
        text += " " + ctx._("Only pledges in {currency} count towards its minimum; amounts in "
                            "other currencies are shown apart, never converted.",
                            currency=sprint.currency)
    totals = money.format_totals(pledges.totals(ctx.session, sid), ctx.tr.language)
    return Message(text + "\n" + ctx._("Pledged so far: {totals}", totals=totals))


def pledge_cmd(ctx: Context) -> Message:
    """``sprint pledge ID AMOUNT CURRENCY`` (or ``sprint pledge ID`` for a form)."""
    words = ctx.args.split()
    sid = find_sprint(ctx.session, words[0]).id
    if len(words) == 1:
        return pledge_form(ctx, sid)
    if len(words) < 3:
        raise InvalidInput(N_("Write: sprint pledge ID AMOUNT CURRENCY, e.g. sprint pledge 3 "
                              "1500 EUR"))
    return _pledge(ctx, sid, " ".join(words[1:-1]), words[-1])


def pledge_button(ctx: Context) -> Message:
    """``sprint.pledge`` button: value ``<sprint id>`` opens the form."""
    return pledge_form(ctx, find_sprint(ctx.session, ctx.value).id)


def pledge_submitted(ctx: Context) -> Message:
    """The submitted ``sprint.pledge`` form (context: the sprint id)."""
    f = ctx.form
    assert f is not None
    return _pledge(ctx, find_sprint(ctx.session, f.context).id, f.get("amount"),
                   f.get("currency"))


def unpledge_cmd(ctx: Context) -> Message | list[Reply]:
    """``sprint unpledge ID``: withdraw your pledge before the deadline."""
    sid = find_sprint(ctx.session, ctx.args.split()[0]).id
    pledges.withdraw(ctx.session, actor=ctx.auth, sprint_id=sid, person=ctx.person,
                     now=utcnow())
    return Message(ctx._("Your pledge to sprint #{id} is withdrawn.", id=sid))
