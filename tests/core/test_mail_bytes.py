"""``build_mime``'s remembered headers change no byte of what is sent: the
messages of a batch (invitations with their iMIP part, rich emails with an
inline chart and attachments, non-ASCII subjects and names, long headers
that fold) built with :data:`bot.mail.MAIL_POLICY`, one after another so the
later ones reuse the headers the earlier ones parsed, give the bytes that
``email.policy.default`` gives, as the SMTP transport flattens them
(``email.policy.SMTP``) and as the file transport writes them."""

from __future__ import annotations

import email.policy
import re
from datetime import UTC, datetime, timedelta

from bot.email_render import render_email
from bot.mail import MAIL_POLICY, Attachment, OutgoingEmail, RememberedHeaders, build_mime
from bot.workshops.ical import Attendee, Meeting, invite
from tests.golden_messages import ICS, RICH

SENDER = "calendar@alliance.example"


def _invitation(n: int) -> OutgoingEmail:
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


def _ballot(n: int) -> OutgoingEmail:
    long_subject = "[Convene #12] Proposal: " + "shared soil-carbon probe protocol " * 4
    links = {("poll.stance", f"12:2:{s}"): f"https://convene.example/v?t={s}{n:04d}"
             for s in ("agree", "abstain", "disagree", "block")}
    return render_email(RICH, to=(f"v{n:04d}@bench.example",), subject=long_subject,
                        language="fr" if n % 2 else "en", links=links,
                        domain="alliance.example", message_id=f"<poll.12.2.{n}@alliance.example>",
                        reply_to="convene+replies@alliance.example",
                        headers=(("X-Convene-Poll", "12/2"),))


def _plain(n: int) -> OutgoingEmail:
    return OutgoingEmail(to=("sec@alliance.example", f"chair{n}@alliance.example"),
                         subject="Digest", text="Ten articles.\n",
                         attachments=(Attachment("digest.ics", "text/calendar", ICS),))


def _normalised(raw: bytes) -> bytes:
    """Without what differs from one build to the next by design: the Date,
    a Message-ID made up when none was given, and the multipart boundaries."""
    raw = re.sub(rb"^Date: [^\r\n]*", b"Date: -", raw, flags=re.M)
    raw = re.sub(rb"^Message-ID: <[0-9.]+@[^\r\n]*", b"Message-ID: -", raw, flags=re.M)
    return re.sub(rb"={15}\d+==", b"=BOUNDARY=", raw)


def test_remembered_headers_give_the_same_bytes() -> None:
    emails = [make(n) for n in range(40) for make in (_invitation, _ballot, _plain)]
    assert MAIL_POLICY.header_factory is not email.policy.default.header_factory
    for one in emails:
        ours = build_mime(one, sender=SENDER, sender_name="Alliance Secrétariat")
        stock = build_mime(one, sender=SENDER, sender_name="Alliance Secrétariat",
                           policy=email.policy.default)
        assert ours.policy is MAIL_POLICY and stock.policy is email.policy.default
        for policy in (email.policy.SMTP, None):  # the SMTP transport's, the file's
            got = ours.as_bytes(policy=policy) if policy else bytes(ours)
            want = stock.as_bytes(policy=policy) if policy else bytes(stock)
            assert _normalised(got) == _normalised(want)
        # the leaf parts one by one, byte for byte (boundaries aside, as above)
        assert [p.as_bytes() for p in ours.walk() if not p.is_multipart()] == \
            [p.as_bytes() for p in stock.walk() if not p.is_multipart()]


def test_remembering_is_bounded() -> None:
    headers = RememberedHeaders(limit=3)
    first = headers("Subject", "a")
    assert headers("Subject", "a") is first  # remembered
    for v in "bcd":
        headers("Subject", v)
    again = headers("Subject", "a")  # forgotten at the limit, parsed again
    assert again == first and again is not first
