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

from bot.mail import MAIL_POLICY, RememberedHeaders, build_mime
from tests.mail_samples import SENDER, ballot, invitation, notice


def _normalised(raw: bytes) -> bytes:
    """Without what differs from one build to the next by design: the Date,
    a Message-ID made up when none was given, and the multipart boundaries."""
    raw = re.sub(rb"^Date: [^\r\n]*", b"Date: -", raw, flags=re.M)
    raw = re.sub(rb"^Message-ID: <[0-9.]+@[^\r\n]*", b"Message-ID: -", raw, flags=re.M)
    return re.sub(rb"={15}\d+==", b"=BOUNDARY=", raw)


def test_remembered_headers_give_the_same_bytes() -> None:
    emails = [make(n) for n in range(40) for make in (invitation, ballot, notice)]
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
    # a header that differs per message is parsed every time, never kept
    to = headers("To", "p1@org.example")
    assert headers("To", "p1@org.example") is not to
    assert type(headers("To", "p2@org.example")) is type(to)  # one class a name
