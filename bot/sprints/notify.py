"""What sprints tell people, by email through the outbox, each in the
reader's language and zone: offers of a freed seat (with signed accept and
decline links), skips, expiries, announcements, funding outcomes and
cancellations. Every email has its own outbox key, so it is sent once."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.errors import N_
from bot.i18n import Translator, translator
from bot.mail import OutgoingEmail
from bot.outbox import enqueue_email
from bot.settings import Settings
from bot.sprints.common import closing_text, day_text, local, topic_label
from bot.sprints.tokens import mint
from storage.models import Person, Sprint, SprintOffer


def subject(tr: Translator, sprint: Sprint, msgid: str) -> str:
    """``[sprint #3] <translated msgid>``: the tag stays the same in every language."""
    return f"[sprint #{sprint.id}] " + tr.gettext(msgid, title=sprint.title)


def send(session: Session, *, key: str, person: Person, subject_line: str,
         lines: Iterable[str]) -> bool:
    """Queue one plain-text email to ``person`` under ``key``. False when the
    person has no address or the key was queued before."""
    email = plain_email(person, subject_line=subject_line, lines=lines)
    return email is not None and enqueue_email(session=session, key=key[:255], email=email)


def plain_email(person: Person, *, subject_line: str, lines: Iterable[str]) -> OutgoingEmail | None:
    """The plain-text email :func:`send` queues to ``person`` (None: no address)."""
    if not person.primary_email:
        return None
    return OutgoingEmail(to=(person.primary_email,), subject=subject_line,
                         text="\n".join(lines) + "\n")


def link(settings: Settings, path: str, token: str) -> str:
    """An absolute link to ``path`` on the HTTP app with the token ``t``."""
    return f"{settings.http.public_url()}{path}?t={token}"


def offer_made(session: Session, *, settings: Settings, sprint: Sprint, offer: SprintOffer,
               person: Person, seats: list[int], party: list[str]) -> bool:
    """Tell ``person`` a seat is held for them until ``offer.expires_at``, with
    one signed link to accept and one to decline (single use)."""
    tr = translator(person.language)
    token = mint(key=settings.signing_key(), purpose="offer", person_id=person.id,
                 target=offer.id, expires_at=offer.expires_at)
    url = link(settings, f"/sprints/offers/{offer.id}", token)
    lines = [tr.gettext(N_("A seat in sprint #{id}, {title}, is free and held for you."),
                        id=sprint.id, title=sprint.title)]
    if len(party) > 1:
        lines.append(tr.gettext(N_("It seats your whole party together: {names}."),
                                names=", ".join(party)))
    lines += [tr.gettext(N_("Seats: {seats}."), seats=", ".join(str(s) for s in seats)),
              tr.gettext(N_("Answer before {when}; after that the seat goes to the next "
                            "person in line."), when=local(offer.expires_at, person.timezone)),
              "", tr.gettext(N_("Accept or decline here (one click on the page that opens):")),
              url, "", tr.gettext(N_("Or in chat: sprint accept {id} or sprint decline {id}."),
                                  id=sprint.id)]
    return send(session, key=f"sprint:{sprint.id}:offer:{offer.id}", person=person,
                subject_line=subject(tr, sprint, N_("A seat is free for you: {title}")),
                lines=lines)


def skipped(session: Session, *, sprint: Sprint, person: Person, organisation: str,
            held: int, cap: int) -> bool:
    """Tell a waitlisted person a free seat passed them by because their
    organisation already holds ``held`` of its ``cap`` seats (once per count)."""
    tr = translator(person.language)
    lines = [tr.gettext(N_("A seat in sprint #{id} came free, but it went to the next person "
                           "in line: {organisation} already has {held} of the {cap} seats one "
                           "organisation may hold. You keep your place in the waitlist."),
                        id=sprint.id, organisation=organisation, held=held, cap=cap)]
    return send(session, key=f"sprint:{sprint.id}:capskip:p{person.id}:{held}", person=person,
                subject_line=subject(tr, sprint, N_("Waitlist update: {title}")), lines=lines)


def offer_lapsed(session: Session, *, sprint: Sprint, offer: SprintOffer,
                 person: Person) -> bool:
    """Tell ``person`` their unanswered offer expired and they left the waitlist."""
    tr = translator(person.language)
    lines = [tr.gettext(N_("The seat held for you in sprint #{id} was not taken in time and "
                           "went to the next person in line. Sign up again to rejoin the "
                           "waitlist at its end."), id=sprint.id)]
    return send(session, key=f"sprint:{sprint.id}:lapsed:{offer.id}", person=person,
                subject_line=subject(tr, sprint, N_("Your offer expired: {title}")),
                lines=lines)


def announcement(session: Session, *, settings: Settings, sprint: Sprint, person: Person
                 ) -> bool:
    """The approval announcement to a member whose interests match, with a
    signed sign-up link valid until the cutoff."""
    tr = translator(person.language)
    token = mint(key=settings.signing_key(), purpose="join", person_id=person.id,
                 target=sprint.id, expires_at=sprint.signup_closes_at)
    topics = ", ".join(topic_label(t, person.language) for t in sprint.topics)
    lines = [sprint.title, "", sprint.aim, "",
             tr.gettext(N_("Topics: {topics}"), topics=topics),
             tr.gettext(N_("Dates: {start} to {end}"),
                        start=day_text(sprint.starts_on, person.language),
                        end=day_text(sprint.ends_on, person.language)),
             tr.gettext(N_("Seats: {capacity}; sign-ups close {when}."),
                        capacity=sprint.capacity,
                        when=closing_text(sprint, tr, person.timezone)),
             "", tr.gettext(N_("Sign up here:")),
             link(settings, f"/sprints/{sprint.id}/join", token), "",
             tr.gettext(N_("Or in chat: sprint join {id}."), id=sprint.id)]
    return send(session, key=f"sprint:{sprint.id}:announce:p{person.id}", person=person,
                subject_line=subject(tr, sprint, N_("New innovation sprint: {title}")),
                lines=lines)


def funding_outcome(session: Session, *, sprint: Sprint, people: Iterable[Person],
                    funded: bool, total: str, minimum: str) -> int:
    """Tell every pledger (and follower) whether the sprint reached its minimum."""
    n = 0
    for person in people:
        tr = translator(person.language)
        if funded:
            line = tr.gettext(N_("Sprint #{id} reached its funding minimum ({total} of "
                                 "{minimum}) and goes ahead. Thank you for your pledge."),
                              id=sprint.id, total=total, minimum=minimum)
            subj = subject(tr, sprint, N_("Funded: {title}"))
        else:
            line = tr.gettext(N_("Sprint #{id} did not reach its funding minimum by its "
                                 "deadline ({total} of {minimum}), so it does not go ahead "
                                 "and no pledge will be collected."), id=sprint.id,
                              total=total, minimum=minimum)
            subj = subject(tr, sprint, N_("Not funded: {title}"))
        n += send(session, key=f"sprint:{sprint.id}:funding:p{person.id}", person=person,
                  subject_line=subj, lines=[line])
    return n


def cancelled(session: Session, *, sprint: Sprint, people: Iterable[Person], reason: str
              ) -> int:
    """Tell everyone in or following a cancelled sprint; open offers are void."""
    n = 0
    for person in people:
        tr = translator(person.language)
        lines = [tr.gettext(N_("Sprint #{id}, {title}, is cancelled: {reason}. Any seat "
                               "offered to you can no longer be accepted."), id=sprint.id,
                            title=sprint.title, reason=reason)]
        n += send(session, key=f"sprint:{sprint.id}:cancelled:p{person.id}", person=person,
                  subject_line=subject(tr, sprint, N_("Cancelled: {title}")), lines=lines)
    return n


def decided(session: Session, *, sprint: Sprint, person: Person) -> bool:
    """Tell the proposer the secretariat's decision."""
    tr = translator(person.language)
    if sprint.state == "open":
        lines = [tr.gettext(N_("Your sprint #{id}, {title}, is approved and open for "
                               "sign-ups."), id=sprint.id, title=sprint.title)]
    else:
        lines = [tr.gettext(N_("Your sprint #{id}, {title}, was declined: {reason}"),
                            id=sprint.id, title=sprint.title, reason=sprint.decision_reason)]
    return send(session, key=f"sprint:{sprint.id}:decided:{sprint.state}", person=person,
                subject_line=subject(tr, sprint, N_("Decision on your sprint: {title}")),
                lines=lines)


def people(session: Session, ids: Iterable[int]) -> list[Person]:
    """The people with ``ids``, by id."""
    wanted = sorted(set(ids))
    if not wanted:
        return []
    return list(session.scalars(select(Person).where(Person.id.in_(wanted))
                                .order_by(Person.id)).all())


def stamp(moment: datetime) -> str:
    """A compact UTC stamp for audit reasons."""
    return moment.strftime("%Y-%m-%d %H:%M UTC")
