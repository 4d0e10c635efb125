"""The emails of a poll: the round-2 ballot, reminders, answers to replies,
the objection brief and announcements. Each is written in its reader's
language; ballots, reminders and answers are Messages rendered by
:func:`bot.email_render.render_email`."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.email_render import render_email
from bot.errors import N_
from bot.i18n import Translator
from bot.mail import OutgoingEmail
from bot.polls import ballots
from bot.polls.ballots import BallotRef
from bot.polls.render import OUTCOME_LABELS, text_bar
from bot.polls.stances import STANCE_LABELS, STANCES, Tally
from bot.polls.tokens import mint
from bot.polls.words import REPLY_WORDS
from bot.settings import Settings
from bot.types import Actions, Block, Button, Header, Message, Section, SmallPrint
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


def domain(settings: Settings) -> str:
    """The domain of our Message-IDs (the sender's)."""
    return settings.mail.from_address.rsplit("@", 1)[-1] or "convene.local"


def vote_links(*, settings: Settings, proposal: Proposal, rnd: Round, person: Person
               ) -> dict[tuple[str, str], str]:
    """``("poll.stance", "<id>:<round>:<stance>")`` -> the signed vote link of
    each stance (for :func:`bot.email_render.render_email`)."""
    key, base = settings.signing_key(), settings.http.public_url()
    return {("poll.stance", f"{proposal.id}:{rnd.number}:{s}"):
            f"{base}/polls/{proposal.id}/vote?t=" + mint(
                key=key, person_id=person.id, poll_id=proposal.id, round_no=rnd.number,
                stance=s, expires_at=rnd.closes_at, version=proposal.version)
            for s in STANCES}


def reply_words(tr: Translator) -> str:
    """The stance words a voter may reply with, in ``tr``'s language."""
    return ", ".join(REPLY_WORDS.get(tr.language, REPLY_WORDS["en"]))


def ballot_message(*, tr: Translator, proposal: Proposal, rnd: Round, text: str,
                   person: Person, previous: Round | None, note: str = "") -> Message:
    """The round-2 ballot as a Message: the proposal, round 1's objections, one
    ``poll.stance`` button per stance (signed links in email) and how to vote
    by replying. ``note`` (a sentence) goes first: why a ballot is sent again."""
    blocks: list[Block] = []
    if note:
        blocks.append(Section(note))
    blocks += [Header(tr.gettext(N_("Proposal #{id}: {title}"), id=proposal.id,
                                 title=proposal.title)),
               Section(text)]
    if previous is not None:
        lines = [tr.gettext(N_("Round {round} did not reach consensus."),
                            round=previous.number)]
        found = objections(tr, previous.result)
        if found:
            lines += [tr.gettext(N_("Objections:")), *found]
        blocks.append(Section("\n".join(lines)))
    blocks += [
        Section(tr.gettext(N_("Take your stance by opening one of these links; you will "
                              "confirm it on the page that opens:"))),
        Actions(tuple(Button(tr.gettext(STANCE_LABELS[s]), "poll.stance",
                             f"{proposal.id}:{rnd.number}:{s}",
                             style="primary" if s == "agree" else "danger" if s == "block"
                             else "default") for s in STANCES)),
        Section(tr.gettext(N_("Or reply to this email with one of {words} on the first line "
                              "and your reason below it (a reason is needed for disagree and "
                              "block)."), words=reply_words(tr))),
        SmallPrint(tr.gettext(N_("You can change your stance until the round closes: {when}."),
                           when=local(rnd.closes_at, person.timezone))),
    ]
    return Message(text=tr.gettext(N_("Proposal #{id}: {title}"), id=proposal.id,
                                   title=proposal.title), blocks=tuple(blocks), accent="info")


def ballot(*, tr: Translator, settings: Settings, proposal: Proposal, rnd: Round, text: str,
           person: Person, previous: Round | None, kind: str = "b",
           note: str = "") -> tuple[OutgoingEmail, BallotRef]:
    """The round-2 ballot email for ``person`` and its reply binding: the
    Message-ID carries a token signed for that person, proposal, round and text
    version (:mod:`bot.polls.ballots`), which a reply must reference."""
    mid = ballots.message_id(key=settings.signing_key(), person_id=person.id,
                             poll_id=proposal.id, round_no=rnd.number,
                             version=proposal.version, kind=kind, domain=domain(settings))
    msg = ballot_message(tr=tr, proposal=proposal, rnd=rnd, text=text, person=person,
                         previous=previous, note=note)
    subject = subject_tag(proposal, rnd.number) + " " + tr.gettext(
        N_("Proposal: {title} (round {round}, by email)"), title=proposal.title,
        round=rnd.number)
    email = render_email(msg, to=(person.primary_email or "",), subject=subject,
                         language=tr.language, domain=domain(settings), message_id=mid,
                         links=vote_links(settings=settings, proposal=proposal, rnd=rnd,
                                          person=person),
                         reply_to=reply_address(settings),
                         headers=(("X-Convene-Poll", f"{proposal.id}/{rnd.number}"),))
    return email, ballots.BallotRef(person.id, proposal.id, rnd.number, proposal.version, mid)


def reminder(*, tr: Translator, settings: Settings, proposal: Proposal, rnd: Round,
             person: Person, hours: int = 0) -> tuple[OutgoingEmail, BallotRef | None]:
    """A reminder to someone with no stance yet; in an email round it carries
    the signed links and a reply binding of its own (returned to be recorded)."""
    body = [tr.gettext(N_("You have not taken a stance on proposal #{id}: {title}."),
                       id=proposal.id, title=proposal.title),
            tr.gettext(N_("Round {round} closes {when}."), round=rnd.number,
                       when=local(rnd.closes_at, person.timezone)),
            tr.gettext(N_("In chat, type: vote {id} agree|abstain|disagree|block [reason]"),
                       id=proposal.id)]
    blocks: list[Block] = [Section("\n".join(body))]
    mid: str | None = None
    links: dict[tuple[str, str], str] = {}
    if rnd.medium == "email":
        blocks += [Actions(tuple(Button(tr.gettext(STANCE_LABELS[s]), "poll.stance",
                                        f"{proposal.id}:{rnd.number}:{s}") for s in STANCES)),
                   Section(tr.gettext(N_("Or reply to this email with one of {words} on the "
                                         "first line and your reason below it."),
                                      words=reply_words(tr)))]
        links = vote_links(settings=settings, proposal=proposal, rnd=rnd, person=person)
        mid = ballots.message_id(key=settings.signing_key(), person_id=person.id,
                                 poll_id=proposal.id, round_no=rnd.number,
                                 version=proposal.version, kind=f"r{hours}",
                                 domain=domain(settings))
    subject = subject_tag(proposal, rnd.number) + " " + tr.gettext(
        N_("Reminder: {title}"), title=proposal.title)
    email = render_email(Message(body[0], blocks=tuple(blocks), accent="warning"),
                         to=(person.primary_email or "",), subject=subject,
                         language=tr.language, domain=domain(settings), message_id=mid,
                         links=links, reply_to=reply_address(settings))
    ref = ballots.BallotRef(person.id, proposal.id, rnd.number, proposal.version, mid) \
        if mid else None
    return email, ref


def answer(*, tr: Translator, settings: Settings, to: str, subject: str, in_reply_to: str,
           message: Message, links: dict[tuple[str, str], str] | None = None,
           message_id: str | None = None) -> OutgoingEmail:
    """Our answer to a reply (what was recorded, or why nothing was), in the
    reader's language, marked as an automatic reply (RFC 3834)."""
    subject = subject if subject.lower().startswith("re:") else f"Re: {subject}".strip()
    return render_email(message, to=(to,), subject=subject, language=tr.language,
                        domain=domain(settings), in_reply_to=in_reply_to or None,
                        message_id=message_id, links=links, reply_to=reply_address(settings),
                        headers=(("Auto-Submitted", "auto-replied"),))


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
