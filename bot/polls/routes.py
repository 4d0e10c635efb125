"""Chat routes of consensus polls: ``poll new`` (and its form), stances by
button, form and ``vote``, ``poll show|list|edit|comment|close|email-round|
determine`` and ``decisions``."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from bot.context import Context
from bot.dates import local_text
from bot.errors import N_, FieldError, InvalidInput, NotFound, PermissionDenied
from bot.forms import checked
from bot.members import group_by_name
from bot.outbox import ChatTarget
from bot.permissions import alliance_group
from bot.polls import proposals, register, rounds
from bot.polls.confirm import REASON_LIMIT, stance_replies
from bot.polls.render import OUTCOME_LABELS, STATE_LABELS
from bot.polls.stances import (
    NEEDS_REASON,
    STANCE_LABELS,
    ProposalHead,
    cast_stance,
    find_proposal,
    find_proposal_head,
    parse_stance,
)
from bot.polls.versions import ask_again, outdated, parse_stance_value, stance_value
from bot.text import multi_line
from bot.types import Form, FormField, Header, Message, Option, Reply, Section
from storage.models import Group

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)

VOTE_USAGE = "ID agree|abstain|disagree|block [REASON]"


# --- scopes: the group a route's capability is checked in --------------------------

def _group_of(ctx: Context, raw: str) -> int:
    return find_proposal(ctx.session, raw).group_id


def _first_arg(ctx: Context) -> str:
    words = ctx.args.split()
    if not words:
        raise InvalidInput(N_("Name the proposal by its number, e.g. 12."))
    return words[0]


def scope_args(ctx: Context) -> int:
    """The group of the proposal named by the first argument (loads the
    proposal for the handler)."""
    return _group_of(ctx, _first_arg(ctx))


# The stance routes read only a ProposalHead (no ORM load): scope and handler share it.

def scope_vote(ctx: Context) -> int:
    """``vote``: the group of the proposal named by the first argument."""
    return find_proposal_head(ctx.session, _first_arg(ctx)).group_id


def scope_value(ctx: Context) -> int:
    """The group of the proposal named in a button value ``<id>:<round>:...``."""
    return find_proposal_head(ctx.session, ctx.value.split(":", 1)[0]).group_id


def scope_form_context(ctx: Context) -> int:
    """The group of the proposal named in a form's context ``<id>:<round>:...``."""
    form = ctx.form
    return find_proposal_head(ctx.session, (form.context if form else "").split(":", 1)[0]
                              ).group_id


def scope_new(ctx: Context) -> int | None:
    """``poll new TITLE | TEXT | CLOSES | GROUP`` and the ``poll.new`` form: the
    group named (None, the alliance, when none is named or it is unknown; the
    handler then refuses an unknown name)."""
    form = ctx.form
    if form is not None:
        name = form.get("group")
    else:
        parts = [p.strip() for p in ctx.args.split("|")]
        name = parts[3] if len(parts) > 3 else ""
    group = group_by_name(ctx.session, name) if name else None
    return group.id if group is not None else None


# --- creating -------------------------------------------------------------------------

def new_form(ctx: Context) -> Message:
    """The ``poll.new`` form (the contract with adapters that have forms)."""
    groups = proposals_groups(ctx.session)
    zone = ctx.person.timezone
    fields = (
        FormField("title", ctx._("Title"), "text", max_length=300),
        FormField("text", ctx._("Proposal text (Markdown)"), "textarea"),
        FormField("group", ctx._("Group that decides"), "select",
                  options=tuple(Option(g.name, g.name) for g in groups),
                  initial=groups[0].name if groups else ""),
        FormField("closes", ctx._("Closes"), "datetime",
                  hint=ctx._("a day (closes at its end) or a day and a time, e.g. "
                             "2026-12-01 or 2026-12-01 17:00, your time zone"),
                  check=checked(ctx.tr, lambda v: proposals.parse_closes(v, zone=zone))),
        FormField("quorum", ctx._("Quorum (% of voters, a number from 0 to 100)"), "number",
                  required=False, initial=str(ctx.settings.polls.quorum_percent),
                  check=checked(ctx.tr, _quorum)),
        FormField("visibility", ctx._("Show stances"), "select", required=False,
                  options=(Option(ctx._("live"), "live"),
                           Option(ctx._("hidden until the close"), "hidden")),
                  initial="live"),
    )
    form = Form("poll.new", ctx._("New proposal"), ctx._("Create"), fields,
                one_line="poll new TITLE | TEXT | CLOSES [| GROUP]")
    return Message(text=ctx._("Fill in the new proposal.") + " " + ctx._(
        "Or give it on one line: poll new TITLE | TEXT | CLOSES [| GROUP]"), form=form)


def _quorum(text: str) -> int:
    """A quorum as the form and the one-line command read it: a whole
    percentage from 0 to 100. Raises FieldError("quorum")."""
    raw = text.strip().rstrip("%").strip()
    if not raw.isdigit() or int(raw) > 100:
        raise FieldError("quorum", N_("The quorum is a percentage from 0 to 100."))
    return int(raw)


def proposals_groups(session: Session) -> list[Group]:
    """Groups a proposal can go to, the alliance first."""
    from sqlalchemy import select

    return sorted(session.scalars(select(Group)).all(), key=lambda g: (not g.is_alliance,
                                                                       g.name))


def _create(ctx: Context, *, title: str, text: str, group_name: str, closes: str,
            quorum: str = "", visibility: str = "") -> list[Reply]:
    group = group_by_name(ctx.session, group_name) if group_name else \
        alliance_group(ctx.session)
    if group is None:
        raise NotFound(N_("There is no group called {name!r}."), name=group_name)
    auth = ctx.authorize("poll.create", group_id=group.id)
    q = _quorum(quorum) if quorum.strip() else ctx.settings.polls.quorum_percent
    where = ctx.event.where
    origin = None if where.is_direct else ChatTarget(where.platform, where.workspace_id,
                                                     where.channel_id, where.thread_id)
    proposal = proposals.create_proposal(
        session=ctx.session, actor=auth, author=ctx.person, group=group, title=title,
        text=text, closes_at=proposals.parse_closes(closes, zone=ctx.person.timezone),
        quorum_percent=q, visibility=(visibility or "live").strip().lower(),
        language=ctx.person.language, origin=origin)
    rounds.refresh(ctx.session, proposal)
    head = ctx._("Proposal #{id} is open for stances in {group}; it closes {when}.",
                 id=proposal.id, group=group.name,
                 when=local_text(proposal.closes_at, ctx.person.timezone))
    if origin is None:
        msg = rounds.proposal_message(ctx.session, proposal, language=ctx.person.language,
                                      zone=ctx.person.timezone, reader=ctx.who.id)
        return [Reply(Message(head)), Reply(msg)]
    return [Reply(Message(head))]


def poll_new(ctx: Context) -> Message | list[Reply]:
    """``poll new`` (a form) or ``poll new TITLE | TEXT | CLOSES [| GROUP]``."""
    if not ctx.args.strip():
        return new_form(ctx)
    parts = [p.strip() for p in ctx.args.split("|")]
    if len(parts) < 3:
        raise InvalidInput(N_("Write: poll new TITLE | TEXT | CLOSES, or just poll new for a "
                              "form."))
    return _create(ctx, title=parts[0], text=parts[1], closes=parts[2],
                   group_name=parts[3] if len(parts) > 3 else "")


def poll_new_form(ctx: Context) -> list[Reply]:
    """The submitted ``poll.new`` form."""
    f = ctx.form
    assert f is not None
    return _create(ctx, title=f.get("title"), text=f.get("text"), group_name=f.get("group"),
                   closes=f.get("closes"), quorum=f.get("quorum"),
                   visibility=f.get("visibility"))


# --- stances ---------------------------------------------------------------------------

def _reason_form(ctx: Context, value: str, stance: str) -> Message:
    label = ctx._(STANCE_LABELS[stance])
    form = Form("poll.reason", ctx._("Your reason"), ctx._("Send"),
                (FormField("reason", ctx._("Why? (needed for {stance})", stance=label),
                           "textarea"),), context=value,
                one_line=f"vote {value.split(':')[0]} {stance} YOUR REASON")
    pid = value.split(":")[0]
    return Message(text=ctx._("A {stance} needs a reason: say what would change your mind.",
                              stance=label) + " " + ctx._(
        "Or give it on one line: vote {id} {word} YOUR REASON", id=pid, word=stance),
        form=form)


def _cast(ctx: Context, proposal: ProposalHead, round_no: int, stance: str,
          reason: str, *, version: int | None = None, shown: bool = False) -> list[Reply]:
    """Cast a stance. ``shown``: it comes from a button, form or link showing
    text ``version`` (None: the older value shape); one for a text that has
    since changed is refused with the new text."""
    if shown and outdated(ctx.session, proposal, round_no=round_no, version=version):
        return _outdated(ctx, proposal)
    value = stance_value(proposal_id=proposal.id, round_no=round_no,
                         version=proposal.version, stance=stance)
    if stance in NEEDS_REASON and not reason.strip():
        return [Reply(_reason_form(ctx, value, stance))]
    cut = len(multi_line(reason)) > REASON_LIMIT
    cast = cast_stance(session=ctx.session, actor=ctx.auth, person=ctx.who,
                       proposal=proposal, round_no=round_no, stance=stance, reason=reason)
    return stance_replies(services=ctx.services, session=ctx.session, tr=ctx.tr,
                          after_commit=ctx.after_commit, proposal_id=proposal.id,
                          group_id=proposal.group_id, cast=cast, cut=cut)


def _outdated(ctx: Context, head: ProposalHead) -> list[Reply]:
    """The refusal of a stance shown for an older text, with the new text."""
    proposal = find_proposal(ctx.session, head.id)
    note = ctx._("The text of proposal #{id} changed (it is now version {version}) after "
                 "that was shown to you, so nothing was recorded. Here is the new text; "
                 "take your stance again.", id=proposal.id, version=proposal.version)
    text = proposals.current_text(proposal)
    return [Reply(Message(f"{note}\n\n{text}", blocks=(Section(note), Section(text)))),
            Reply(rounds.proposal_message(
        ctx.session, proposal, language=ctx.person.language, zone=ctx.person.timezone,
        reader=ctx.who.id))]


def stance_button(ctx: Context) -> list[Reply]:
    """``poll.stance`` buttons: value ``<id>:<round>:<version>:<stance>`` (or
    the older ``<id>:<round>:<stance>``)."""
    pid, rno, version, stance = parse_stance_value(ctx.value)
    return _cast(ctx, find_proposal_head(ctx.session, pid), rno, stance, "",
                 version=version, shown=True)


def reason_form(ctx: Context) -> list[Reply]:
    """``poll.reason``: the reason for a disagree or block (context as the button value)."""
    f = ctx.form
    assert f is not None
    pid, rno, version, stance = parse_stance_value(f.context)
    return _cast(ctx, find_proposal_head(ctx.session, pid), rno, stance, f.get("reason"),
                 version=version, shown=True)


def vote(ctx: Context) -> list[Reply]:
    """``vote ID agree|abstain|disagree|block [REASON]`` in the current round."""
    words = ctx.args.split(None, 2)
    if len(words) < 2:
        raise InvalidInput(N_("Write: vote {usage}"), usage=VOTE_USAGE)
    proposal = find_proposal_head(ctx.session, words[0])
    stance = parse_stance(words[1])
    return _cast(ctx, proposal, proposal.current_round, stance,
                 words[2] if len(words) > 2 else "")


# --- reading -------------------------------------------------------------------------

def show(ctx: Context) -> Message:
    """``poll show ID``: the tally, earlier rounds, comments (advisory marked)."""
    proposal = find_proposal(ctx.session, ctx.args.split()[0])
    msg = rounds.proposal_message(ctx.session, proposal, language=ctx.person.language,
                                  zone=ctx.person.timezone, reader=ctx.who.id)
    extra: list[str] = []
    for r in proposal.rounds:
        if r.result:
            c = r.result.get("counts", {})
            extra.append(ctx._("Round {round}: {counts} ({outcome})", round=r.number,
                               counts=", ".join(f"{ctx._(STANCE_LABELS[s])} {c.get(s, 0)}"
                                                for s in STANCE_LABELS),
                               outcome=ctx._(rounds_outcome(r.outcome))))
    if proposal.determination_note:
        extra.append(ctx._("The chair's note: {note}", note=proposal.determination_note))
    for name, text, advisory in proposals.comments(ctx.session, proposal):
        tag = ctx._("advisory") if advisory else ctx._("comment")
        extra.append(f"[{tag}] {name}: {text}")
    if not extra:
        return msg
    return Message(text=msg.text + "\n" + "\n".join(extra),
                   blocks=(*msg.blocks, Section("\n".join(extra))))


def rounds_outcome(outcome: str | None) -> str:
    """The msgid for a round's outcome."""
    return OUTCOME_LABELS.get(outcome or "not_reached", OUTCOME_LABELS["not_reached"])


def list_polls(ctx: Context) -> Message:
    """``poll list``: proposals not yet decided."""
    rows = proposals.list_open(ctx.session)
    lines = [f"#{p.id} {p.title} ({ctx._(STATE_LABELS.get(p.state, p.state))}, "
             + ctx._("round {round}", round=p.current_round) + ")" for p in rows]
    title = ctx._("Open proposals")
    body = "\n".join(lines) or ctx._("There are no open proposals.")
    return Message(text=f"{title}\n{body}", blocks=(Header(title), Section(body)))


def decisions_cmd(ctx: Context) -> Message:
    """``decisions``: the decision register."""
    records = register.decisions(ctx.session)
    title = ctx._("Decision register")
    lines = []
    for r in records:
        lines.append(ctx.tr.ngettext(
            "#{id} {title}: {outcome} (text version {version}, {n} round) {discussion}",
            "#{id} {title}: {outcome} (text version {version}, {n} rounds) {discussion}",
            len(r["rounds"]), id=r["id"], title=r["title"],
            outcome=ctx._(rounds_outcome(r["outcome"])), version=r["text_version"],
            discussion=r["discussion"]).strip())
        for d in r["dissent"]:
            lines.append(f"  - {d['stance']} ({d['name']}, {d['round']}): {d['reason']}")
    body = "\n".join(lines) or ctx._("No decisions yet.")
    return Message(text=f"{title}\n{body}", blocks=(Header(title), Section(body)))


# --- changing ------------------------------------------------------------------------

def edit(ctx: Context) -> Message:
    """``poll edit ID NEW TEXT``: a new text version; earlier stances no longer
    count and the voters are asked again (see bot.polls.versions)."""
    words = ctx.args.split(None, 1)
    if len(words) < 2:
        raise InvalidInput(N_("Write: poll edit ID NEW TEXT"))
    proposal = find_proposal(ctx.session, words[0])
    old = proposals.edit_text(session=ctx.session, actor=ctx.auth, proposal=proposal,
                              text=words[1], editor=ctx.person)
    asked = ask_again(session=ctx.session, proposal=proposal, old_version=old,
                      settings=ctx.settings)
    rounds.refresh(ctx.session, proposal)
    return Message(ctx._("Proposal #{id} now has text version {version}; earlier stances "
                         "no longer count.", id=proposal.id, version=proposal.version)
                   + " " + ctx.tr.ngettext("{n} voter is asked again.",
                                           "{n} voters are asked again.", asked))


def comment(ctx: Context) -> Message:
    """``poll comment ID TEXT``: anyone may comment; without a vote it is advisory."""
    words = ctx.args.split(None, 1)
    proposal = find_proposal(ctx.session, words[0])
    try:
        ctx.authorize("poll.vote", group_id=proposal.group_id)
        advisory = False
    except PermissionDenied:
        advisory = True
    proposals.add_comment(session=ctx.session, actor=ctx.auth, proposal=proposal,
                          person=ctx.person, text=words[1] if len(words) > 1 else "",
                          advisory=advisory)
    if advisory:
        return Message(ctx._("Your comment on proposal #{id} is recorded as advisory.",
                             id=proposal.id))
    return Message(ctx._("Your comment on proposal #{id} is recorded.", id=proposal.id))


def close(ctx: Context) -> Message:
    """``poll close ID``: close the current round now (secretariat)."""
    proposal = find_proposal(ctx.session, ctx.args.split()[0])
    if proposal.state != "open":
        raise InvalidInput(N_("Proposal #{id} has no open round."), id=proposal.id)
    rnd = rounds.close_round(session=ctx.session, actor=ctx.auth, proposal=proposal,
                             settings=ctx.settings)
    if rnd is None:
        raise InvalidInput(N_("Proposal #{id} has no open round."), id=proposal.id)
    return Message(ctx._("Round {round} of proposal #{id} is closed: {outcome}.",
                         round=rnd.number, id=proposal.id,
                         outcome=ctx._(rounds_outcome(rnd.outcome))))


def email_round(ctx: Context) -> Message:
    """``poll email-round ID``: open round 2 by email (secretariat)."""
    proposal = find_proposal(ctx.session, ctx.args.split()[0])
    n = rounds.open_email_round(session=ctx.session, actor=ctx.auth, proposal=proposal,
                                settings=ctx.settings)
    return Message(ctx.tr.ngettext("Round 2 of proposal #{id} is open by email: {n} ballot "
                                   "queued.", "Round 2 of proposal #{id} is open by email: "
                                   "{n} ballots queued.", n, id=proposal.id))


def determine(ctx: Context) -> Message:
    """``poll determine ID upheld|rejected NOTE`` (the chair)."""
    words = ctx.args.split(None, 2)
    if len(words) < 3:
        raise InvalidInput(N_("Write: poll determine ID upheld|rejected NOTE"))
    proposal = find_proposal(ctx.session, words[0])
    rounds.determine(session=ctx.session, actor=ctx.auth, proposal=proposal,
                     decision=words[1], note=words[2], chair=ctx.person)
    return Message(ctx._("Your determination on proposal #{id} is recorded and announced: "
                         "{outcome}.", id=proposal.id,
                         outcome=ctx._(rounds_outcome(proposal.outcome))))
