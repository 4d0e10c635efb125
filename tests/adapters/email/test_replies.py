"""The email adapter turns real mail clients' messages into the core's
InboundEmail, with no domain meaning, and skips automatic mail."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest

from adapters.email.inbound import is_automatic, to_event
from tests.conftest import MEMBER
from tests.email_replies import written_above

FIXTURES = ["talon_gmail.eml", "talon_outlook.eml", "talon_apple_mail_2.eml",
            "talon_android.eml", "talon_hotmail.eml", "talon_reply-quotations-share-block.eml",
            "zapier_email_1_2.txt", "zapier_email_headers_no_delimiter.txt",
            "mailparserreply_multi_header.txt", "mailparserreply_email_fr_wrap.txt"]


@pytest.mark.parametrize("name", FIXTURES)
def test_a_real_reply_becomes_an_inbound_email(shared_fixtures: Path, name: str) -> None:
    msg = written_above(shared_fixtures, name, "Block\nThe budget line is missing.")
    msg["From"] = "Amara Okafor <Amara.Okafor@TerraSoil.example>"
    msg["Subject"] = "Re: [poll #7/2]  Proposal: x"
    msg["Message-ID"] = f"<{name}@client.example>"
    msg["In-Reply-To"] = "<poll.7.2.5-7-2-1.sig.b@alliance.example>"
    msg["References"] = "<first@alliance.example> <poll.7.2.5-7-2-1.sig.b@alliance.example>"
    msg["Authentication-Results"] = "mx.alliance.example; spf=pass smtp.mailfrom=terrasoil.example"
    event = to_event(msg)
    assert event.actor.platform == "email" and event.actor.user_id == MEMBER
    assert event.event_id == f"<{name}@client.example>"
    assert event.subject == "Re: [poll #7/2] Proposal: x"
    assert event.in_reply_to == "<poll.7.2.5-7-2-1.sig.b@alliance.example>"
    assert event.references == ("<first@alliance.example>",
                                "<poll.7.2.5-7-2-1.sig.b@alliance.example>")
    assert event.tags() == ("poll",)
    assert event.authentication_results == (
        "mx.alliance.example; spf=pass smtp.mailfrom=terrasoil.example",)
    assert event.text.startswith("Block\nThe budget line is missing.")
    assert "\r" not in event.text and "\ufeff" not in event.text


def test_html_only_mail_is_read_as_text_with_its_quotes_kept_quoted() -> None:
    msg = EmailMessage()
    msg["From"] = MEMBER
    msg.set_content("<p>Agree<br>Fine &amp; good</p><blockquote>Block</blockquote>",
                    subtype="html")
    text = to_event(msg).text
    assert text.startswith("Agree\nFine & good") and "\n>\n" in text and "Block" not in text


def test_automatic_mail_is_recognised() -> None:
    auto = EmailMessage()
    auto["From"] = "someone@example.org"
    auto["Auto-Submitted"] = "auto-replied"
    assert is_automatic(auto, own=set())
    own = EmailMessage()
    own["From"] = "Convene <ballots@alliance.example>"
    assert is_automatic(own, own={"ballots@alliance.example"})
    bounce = EmailMessage()
    bounce["From"] = "MAILER-DAEMON@mx.example"
    assert is_automatic(bounce, own=set())
    person = EmailMessage()
    person["From"] = MEMBER
    assert not is_automatic(person, own={"ballots@alliance.example"})
