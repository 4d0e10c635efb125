"""Text versions: an edit opens a new version and every voter is asked again.

Stances on an earlier version stay on record (the stance row keeps its
``version``, the audit log every change) and no longer count. A button, form
or link names the version it was shown with: ``<id>:<round>:<version>:<stance>``;
one for an older version is refused with the new text. The older
``<id>:<round>:<stance>`` shape (links and replies minted before versions were
carried) stands for the text the round opened with.
"""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from bot.errors import N_, InvalidInput
from bot.i18n import translator
from bot.mail import OutgoingEmail
from bot.outbox import ChatTarget, enqueue_chat, enqueue_email
from bot.polls.emails import reply_address, subject_tag
from bot.polls.proposals import current_text
from bot.polls.stances import ProposalHead, current_round, parse_stance
from bot.settings import Settings
from bot.types import Message
from storage.models import Identity, Person, Proposal, ProposalVersion, Round, Stance


def stance_value(*, proposal_id: int, round_no: int, version: int, stance: str) -> str:
    """The value of a stance button or a reason form's context."""
    return f"{proposal_id}:{round_no}:{version}:{stance}"


def parse_stance_value(raw: str) -> tuple[str, int, int | None, str]:
    """``(proposal id, round, version or None, stance)`` from
    ``<id>:<round>:<version>:<stance>`` or the older ``<id>:<round>:<stance>``
    (version None). Raises InvalidInput for anything else."""
    try:
        parts = raw.split(":")
        if len(parts) == 4:
            return parts[0], int(parts[1]), int(parts[2]), parse_stance(parts[3])
        if len(parts) == 3:
            return parts[0], int(parts[1]), None, parse_stance(parts[2])
    except (ValueError, InvalidInput):
        pass
    raise InvalidInput(N_("That button or form is no longer recognised."))


def outdated(session: Session, proposal: ProposalHead, *, round_no: int,
             version: int | None) -> bool:
    """Whether a stance shown for text ``version`` (None: the older value
    shape, which stands for the text round ``round_no`` opened with) is for a
    text that has since changed."""
    if version is not None:
        return version != proposal.version
    if proposal.version == 1:
        return False
    opened = select(Round.opens_at).where(Round.proposal_id == proposal.id,
                                          Round.number == round_no).scalar_subquery()
    return bool(session.scalar(select(exists().where(
        ProposalVersion.proposal_id == proposal.id, ProposalVersion.number > 1,
        ProposalVersion.created_at > opened))))


def _changed_email(*, settings: Settings, proposal: Proposal, rnd: Round, person: Person,
                   text: str) -> OutgoingEmail:
    tr = translator(person.language)
    body = [tr.gettext(N_("The text of proposal #{id} ({title}) has changed: it is now "
                          "version {version}."), id=proposal.id, title=proposal.title,
                       version=proposal.version),
            tr.gettext(N_("Your stance on the earlier text no longer counts; please take "
                          "your stance again on the new text:")), "", text, "",
            tr.gettext(N_("In chat, type: vote {id} agree|abstain|disagree|block [reason]"),
                       id=proposal.id)]
    return OutgoingEmail(to=(person.primary_email or "",),
                         subject=subject_tag(proposal, rnd.number) + " " + tr.gettext(
                             N_("Text changed: {title}"), title=proposal.title),
                         text="\n".join(body), reply_to=reply_address(settings))


def ask_again(*, session: Session, proposal: Proposal, old_version: int,
              settings: Settings) -> int:
    """After an edit, ask again everyone whose stance was on ``old_version``
    (in the current round): an email each, and a private note in the
    conversation the proposal was posted in where they have an account there.
    In the email round every voter gets the new ballot (the old one carried
    the old text). Returns how many people were asked. Never commits."""
    from bot.polls.rounds import ballots_after_edit

    rnd = current_round(session, proposal)
    assert rnd is not None
    if rnd.medium == "email":
        return ballots_after_edit(session=session, settings=settings, proposal=proposal)
    ids = select(Stance.person_id).where(Stance.round_id == rnd.id,
                                         Stance.version == old_version)
    people = list(session.scalars(select(Person).where(Person.id.in_(ids))
                                  .order_by(Person.id)).all())
    text = current_text(proposal)
    asked = 0
    for p in people:
        key = f"poll:{proposal.id}:r{rnd.number}:v{proposal.version}:changed:p{p.id}"
        sent = False
        if p.primary_email:
            sent = enqueue_email(session=session, key=key, email=_changed_email(
                settings=settings, proposal=proposal, rnd=rnd, person=p, text=text))
        if proposal.origin_platform and proposal.origin_channel:
            for ident in session.scalars(select(Identity).where(
                    Identity.person_id == p.id,
                    Identity.platform == proposal.origin_platform,
                    Identity.workspace_id == proposal.origin_workspace)).all():
                tr = translator(p.language)
                note = tr.gettext(N_("The text of proposal #{id} has changed (version "
                                     "{version}); your stance on the earlier text no longer "
                                     "counts. Please take your stance again."),
                                  id=proposal.id, version=proposal.version)
                sent = enqueue_chat(session=session, key=f"{key}:{ident.platform}"[:255],
                                    target=ChatTarget(ident.platform, ident.workspace_id,
                                                      proposal.origin_channel,
                                                      user_id=ident.user_id),
                                    message=Message(note)) or sent
        asked += sent
    return asked
