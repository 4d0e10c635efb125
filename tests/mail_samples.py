"""Sample outgoing emails for the mail tests and bench/mail.py: a batch's
invitations (text, HTML, an iMIP part, non-ASCII names), poll ballots
(``render_email`` of the rich golden message with vote links, an inline
chart, an attachment and a long subject that folds) and plain notices."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.email_render import render_email
from bot.mail import Attachment, OutgoingEmail
from bot.workshops.ical import Attendee, Meeting, invite
from tests.golden_messages import ICS, RICH

SENDER = "calendar@alliance.example"


def invitation(n: int) -> OutgoingEmail:
    """Invitation ``n`` of a workshop (some without a Message-ID, some replies)."""
    start = datetime(2027, 1, 5, 14, tzinfo=UTC)
    who = Attendee(f"p{n}@org{n % 7}.example", f"Personne {n} Éléonore")
    ics = invite(Meeting(uid="ws-1@alliance.example", sequence=n % 2, starts_at=start,
                         ends_at=start + timedelta(minutes=90), zone="Europe/Paris",
                         summary="Atelier carbone des sols", description="Mesures à bas coût",
                         organizer_email=SENDER, organizer_name="Alliance",
                         attendees=(who,), url="https://meet.example/x"))
    return OutgoingEmail(
        to=(who.email,), subject="Invitation : Atelier carbone des sols 2027-T1",
        text=f"Bonjour {who.name},\n\nVous êtes invité·e.\n", html=f"<p>Bonjour {who.name}</p>",
        message_id=f"<workshop.1.0.{n}.x@alliance.example>" if n % 3 else None,
        reply_to="convene@alliance.example",
        in_reply_to="<poll.1.2.abc@alliance.example>" if n % 5 == 0 else None,
        headers=(("X-Convene-Workshop", f"1/{n % 2}"),),
        attachments=(Attachment("invite.ics", "text/calendar; method=REQUEST; charset=UTF-8",
                                ics),))


def ballot(n: int) -> OutgoingEmail:
    """Ballot ``n`` of poll #12 round 2, rendered (French for odd ``n``)."""
    long_subject = "[Convene #12] Proposal: " + "shared soil-carbon probe protocol " * 4
    links = {("poll.stance", f"12:2:{s}"): f"https://convene.example/v?t={s}{n:04d}"
             for s in ("agree", "abstain", "disagree", "block")}
    return render_email(RICH, to=(f"v{n:04d}@bench.example",), subject=long_subject,
                        language="fr" if n % 2 else "en", links=links,
                        domain="alliance.example", message_id=f"<poll.12.2.{n}@alliance.example>",
                        reply_to="convene+replies@alliance.example",
                        headers=(("X-Convene-Poll", "12/2"),))


def notice(n: int) -> OutgoingEmail:
    """A text-only notice to two people with a calendar attachment."""
    return OutgoingEmail(to=("sec@alliance.example", f"chair{n}@alliance.example"),
                         subject="Digest", text="Ten articles.\n",
                         attachments=(Attachment("digest.ics", "text/calendar", ICS),))
