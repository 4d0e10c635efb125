"""Replies built from the real client messages in ../shared/fixtures/email/."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

ADDRESS_HEADERS = ("From", "To", "Subject", "In-Reply-To", "References", "Message-ID",
                   "Message-Id")


def written_above(fixtures: Path, name: str, top: str) -> EmailMessage:
    """The fixture ``name`` with ``top`` (a stance line, a reason) written above its
    own text and quoted history, and its address headers removed for the caller."""
    raw = (fixtures / "email" / name).read_bytes()
    if name.endswith(".eml"):
        msg = BytesParser(policy=policy.default).parsebytes(raw)
        part = msg.get_body(preferencelist=("plain",))
        assert part is not None
        part.set_content(top + "\n\n" + part.get_content())
    else:
        msg = EmailMessage()
        msg.set_content(top + "\n\n" + raw.decode("utf-8"))
    for h in ADDRESS_HEADERS:
        del msg[h]
    assert isinstance(msg, EmailMessage)
    return msg
