"""Chat routes of proposing, deciding and funding sprints: ``sprint propose``
(a form, or one line), ``sprint approve|reject|cancel|priority`` for the
secretariat, ``sprint list``, and ``sprint pledge|unpledge`` with the pledge
form."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from bot.context import Context
from bot.errors import N_, InvalidInput, NotFound
from bot.forms import checked
from bot.i18n import translator
from bot.members import group_by_name, person_by_email
from bot.outbox import ChatTarget
from bot.permissions import alliance_group
from bot.sprints import money, pledges, proposals, seats
from bot.sprints.common import closing_text, day_text, find_sprint, parse_topics, topic_keys
from bot.sprints.render import STATE_LABELS, sprint_message
from bot.types import Form, FormField, Header, Message, Option, Reply, Section
from storage.base import utcnow
from storage.models import Group, Membership, Sprint

#: The alliance's currency: what a goal is counted in unless the form says otherwise.
DEFAULT_CURRENCY = "EUR"
PROPOSE_USAGE = "[TITLE | AIM | TOPICS | STARTS | ENDS | CAPACITY | CUTOFF]"
_LINE_FIELDS = ("title", "aim", "topics", "starts", "ends", "capacity", "cutoff")


def _checked(ctx: Context, read: Callable[[str], object]) -> Callable[[str], str]:
    return checked(ctx.tr, read)


def _own_group(ctx: Context, groups: list[Group]) -> str:
    """The group a proposal most likely goes to: the first working group the
    person belongs to, else the alliance."""
    mine = set(ctx.session.scalars(select(Membership.group_id).where(
        Membership.person_id == ctx.person.id)).all())
    own = next((g for g in groups if not g.is_alliance and g.id in mine), None)
    if own is None:
        return groups[0].name if groups else ""
    return own.name


def propose_form(ctx: Context) -> Message:
    """The ``sprint.propose`` form: each field says what it expects and is
    checked by the parser the one-line command uses; the group defaults to the
    person's own working group, the currency to the alliance's."""
    groups = sorted(ctx.session.scalars(select(Group)).all(),
                    key=lambda g: (not g.is_alliance, g.name))
    hint = ctx._("a date, e.g. 2027-03-01")
    zone, language = ctx.person.timezone, ctx.person.language

    def when(name: str) -> Callable[[str], str]:
        return _checked(ctx, lambda v: proposals.parse_when(
            v, zone=zone, what=proposals.WHEN_FIELDS[name],
            day_zone=ctx.settings.sprints.timezone))

    def day(name: str) -> Callable[[str], str]:
        return _checked(ctx, lambda v: proposals.parse_day(
            v, zone=zone, what=proposals.WHEN_FIELDS[name]))

    def count(name: str) -> Callable[[str], str]:
        return _checked(ctx, lambda v: proposals.count_field(v, name=name))

    def amount(v: str) -> object:
        return money.parse_amount(v, currency=DEFAULT_CURRENCY, language=language)

    fields = (
        FormField("title", ctx._("Title"), max_length=300),
        FormField("aim", ctx._("Aim"), "textarea"),
        FormField("topics", ctx._("Scope topics (comma-separated)"),
                  hint=", ".join(topic_keys()), check=_checked(ctx, parse_topics)),
        FormField("group", ctx._("Group"), "select",
                  options=tuple(Option(g.name, g.name) for g in groups),
                  initial=_own_group(ctx, groups)),
        FormField("starts", ctx._("First day"), "datetime", hint=hint, check=day("starts")),
        FormField("ends", ctx._("Last day"), "datetime", hint=hint, check=day("ends")),
        FormField("cutoff", ctx._("Sign-ups close at the end of"), "datetime",
                  hint=ctx._("a date, e.g. 2027-03-01; the day ends in {zone}",
                             zone=ctx.settings.sprints.timezone), check=when("cutoff")),
        FormField("capacity", ctx._("Seats (a number)"), "number", check=count("capacity")),
        FormField("org_cap", ctx._("At most this many seats per organisation (a number; 0: "
                                   "no cap)"), "number", required=False, initial="0",
                  check=count("org_cap")),
        FormField("leads", ctx._("Leads allowed (a number)"), "number", required=False,
                  initial="1", check=count("leads")),
        FormField("currency", ctx._("Currency (ISO 4217 code, e.g. EUR, USD, COP)"),
                  required=False, initial=DEFAULT_CURRENCY,
                  check=_checked(ctx, money.currency_code)),
        FormField("goal", ctx._("Funding goal (an amount; optional)"), required=False,
                  check=_checked(ctx, amount)),
        FormField("minimum", ctx._("Minimum to go ahead (an amount; optional)"),
                  required=False, check=_checked(ctx, amount)),
        FormField("funding_deadline", ctx._("Funding deadline (default: the cutoff)"),
                  "datetime", required=False, hint=hint, check=when("funding_deadline")),
    )
    return Message(ctx._("Fill in the sprint you propose."),
                   form=Form("sprint.propose", ctx._("Propose a sprint"), ctx._("Propose"),
                             fields, one_line=f"sprint propose {PROPOSE_USAGE.strip('[]')}"))


def _create(ctx: Context, values: dict[str, str]) -> Message:
    name = values.get("group", "").strip()
    group = group_by_name(ctx.session, name) if name else alliance_group(ctx.session)
    if group is None:
        raise NotFound(N_("There is no group called {name!r}."), name=name)
    auth = ctx.authorize("sprint.propose", group_id=group.id)
    person = ctx.person
    draft = proposals.parse_draft(values, zone=person.timezone, language=person.language,
                                  now=utcnow(), day_zone=ctx.settings.sprints.timezone)
    where = ctx.event.where
    origin = None if where.is_direct else ChatTarget(where.platform, where.workspace_id,
                                                     where.channel_id)
    sprint = proposals.create_sprint(ctx.session, actor=auth, proposer=person, group=group,
                                     draft=draft, settings=ctx.settings,
                                     language=person.language, origin=origin)
    return Message(ctx._("Sprint #{id} is proposed ({first} to {last}; sign-ups close "
                         "{when}); the secretariat will approve or decline it.", id=sprint.id,
                         first=day_text(sprint.starts_on, person.language),
                         last=day_text(sprint.ends_on, person.language),
                         when=closing_text(sprint, ctx.tr, person.timezone)))


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
    currency = sprint.currency or DEFAULT_CURRENCY
    language = ctx.person.language
    fields = (FormField("amount", ctx._("Amount (a number, e.g. 1500 or 1500.50)"), "number",
                        check=_checked(ctx, lambda v: money.parse_amount(
                            v, currency=currency, language=language))),
              FormField("currency", ctx._("Currency (ISO 4217 code, e.g. EUR, USD, COP)"),
                        initial=currency, check=_checked(ctx, money.currency_code)))
    return Message(ctx._("Pledge to sprint #{id}.", id=sid),
                   form=Form("sprint.pledge", ctx._("Pledge"), ctx._("Pledge"), fields,
                             context=str(sid),
                             one_line=f"sprint pledge {sid} AMOUNT {currency}"))


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
