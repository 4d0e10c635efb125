"""The emails of a poll: the round-2 ballot, reminders, the objection brief,
and announcements. Each is written in its reader's language."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.errors import N_
from bot.i18n import Translator
from bot.mail import OutgoingEmail
from bot.polls.render import OUTCOME_LABELS, text_bar
from bot.polls.stances import STANCE_LABELS, STANCES, Tally
from bot.settings import Settings
from storage.models import Person, Proposal, Round


def subject_tag(proposal: Proposal, round_no: int) -> str:
    """The language-neutral tag replies are matched by: ``[poll #12/2]``."""
    return f"[poll #{proposal.id}/{round_no}]"


def local(moment: datetime, zone: str) -> str:
    """``moment`` (aware) as ``YYYY-MM-DD HH:MM Zone`` in ``zone``."""
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M ") + zone


def reply_address(settings: Settings) -> str:
    """Where replies go (the mailbox read over IMAP)."""
    return settings.polls.reply_address or settings.mail.from_address


def objections(tr: Translator, result: dict[str, object] | None) -> list[str]:
    """Lines naming every block and disagree (with reasons) of a closed round."""
    lines: list[str] = []
    if not result:
        return lines
    for name, reason in result.get("blocks", []) or []:  # type: ignore[attr-defined]
        lines.append("- " + tr.gettext(N_("Block by {name}: {reason}"), name=name,
                                       reason=reason))
    for name, reason in result.get("dissent", []) or []:  # type: ignore[attr-defined]
        lines.append("- " + tr.gettext(N_("Disagree by {name}: {reason}"), name=name,
                                       reason=reason))
    return lines


def ballot(*, tr: Translator, settings: Settings, proposal: Proposal, rnd: Round, text: str,
           person: Person, links: dict[str, str], previous: Round | None,
           message_id: str) -> OutgoingEmail:
    """The round-2 email: the proposal, round 1's objections, one signed link per
    stance (each opens a confirmation page) and how to vote by replying."""
    parts = [f"{proposal.title}", "", text, ""]
    if previous is not None:
        parts.append(tr.gettext(N_("Round {round} did not reach consensus."),
                                round=previous.number))
        lines = objections(tr, previous.result)
        if lines:
            parts += [tr.gettext(N_("Objections:")), *lines]
        parts.append("")
    parts.append(tr.gettext(N_("Take your stance by opening one of these links; you will "
                               "confirm it on the page that opens:")))
    for s in STANCES:
        parts.append(f"{tr.gettext(STANCE_LABELS[s])}: {links[s]}")
    parts += ["", tr.gettext(N_("Or reply to this email with agree, abstain, disagree or block "
                                "on the first line and your reason below it (a reason is "
                                "needed for disagree and block).")),
              tr.gettext(N_("You can change your stance until the round closes: {when}."),
                         when=local(rnd.closes_at, person.timezone))]
    subject = subject_tag(proposal, rnd.number) + " " + tr.gettext(
        N_("Proposal: {title} (round {round}, by email)"), title=proposal.title,
        round=rnd.number)
    return OutgoingEmail(to=(person.primary_email or "",), subject=subject,
                         text="\n".join(parts), message_id=message_id,
                         reply_to=reply_address(settings),
                         headers=(("X-Convene-Poll", f"{proposal.id}/{rnd.number}"),))


def reminder(*, tr: Translator, settings: Settings, proposal: Proposal, rnd: Round,
             person: Person) -> OutgoingEmail:
    """A reminder to someone with no stance yet."""
    body = [tr.gettext(N_("You have not taken a stance on proposal #{id}: {title}."),
                       id=proposal.id, title=proposal.title),
            tr.gettext(N_("Round {round} closes {when}."), round=rnd.number,
                       when=local(rnd.closes_at, person.timezone)),
            tr.gettext(N_("In chat, type: vote {id} agree|abstain|disagree|block [reason]"),
                       id=proposal.id)]
    if rnd.medium == "email":
        body.append(tr.gettext(N_("Or reply to this email with your stance on the first "
                                  "line.")))
    return OutgoingEmail(to=(person.primary_email or "",),
                         subject=subject_tag(proposal, rnd.number) + " " + tr.gettext(
                             N_("Reminder: {title}"), title=proposal.title),
                         text="\n".join(body), reply_to=reply_address(settings))


def brief(*, tr: Translator, proposal: Proposal, text: str, rounds: list[Round],
          person: Person) -> OutgoingEmail:
    """The objection brief for the chair: the proposal, each round's tally and
    every block and disagree with reasons, and how to record a determination."""
    body = [tr.gettext(N_("Proposal #{id} did not reach consensus in {n} rounds and is "
                          "escalated to you for a determination."),
                       id=proposal.id, n=len(rounds)), "",
            proposal.title, "", text, ""]
    for rnd in rounds:
        result = rnd.result or {}
        counts = result.get("counts", {})
        t = Tally(proposal.id, rnd.number, {s: int(counts.get(s, 0)) for s in STANCES},
                  int(result.get("eligible", 0)), proposal.quorum_percent, proposal.rule)
        body += [tr.gettext(N_("Round {round} ({medium}): {cast} of {eligible} voting "
                               "units; quorum met: {quorum}."), round=rnd.number,
                            medium=rnd.medium, cast=t.cast, eligible=t.eligible,
                            quorum=tr.gettext(N_("yes")) if result.get("quorum_met")
                            else tr.gettext(N_("no"))),
                 text_bar(t, tr), *objections(tr, result), ""]
    body.append(tr.gettext(N_("Record your determination in chat: poll determine {id} "
                              "upheld|rejected NOTE"), id=proposal.id))
    return OutgoingEmail(to=(person.primary_email or "",),
                         subject=subject_tag(proposal, proposal.current_round) + " "
                         + tr.gettext(N_("Objection brief: {title}"), title=proposal.title),
                         text="\n".join(body))


def announcement(*, tr: Translator, proposal: Proposal, person: Person,
                 note: str = "") -> OutgoingEmail:
    """The outcome of a proposal (a round's close or the chair's determination)."""
    outcome = tr.gettext(OUTCOME_LABELS.get(proposal.outcome or "not_reached",
                                            OUTCOME_LABELS["not_reached"]))
    body = [tr.gettext(N_("Proposal #{id}: {title}"), id=proposal.id, title=proposal.title),
            tr.gettext(N_("Outcome: {outcome}"), outcome=outcome)]
    if note:
        body.append(tr.gettext(N_("The chair's note: {note}"), note=note))
    return OutgoingEmail(to=(person.primary_email or "",),
                         subject=subject_tag(proposal, proposal.current_round) + " "
                         + tr.gettext(N_("Outcome: {outcome}"), outcome=outcome),
                         text="\n".join(body))
