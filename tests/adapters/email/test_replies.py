"""Reading ballot replies built from real mail clients' messages, and the IMAP
reader against a real dovecot."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest

from adapters.email.imap import ImapReader
from adapters.email.replies import is_automatic, new_text, read_ballot
from bot.app import Bot
from bot.polls.words import read_stance
from tests.adapters.email.servers import DOVECOT, dovecot
from tests.conftest import MEMBER, MEMBER_FR, SECRETARIAT, need
from tests.email_replies import written_above
from tests.polls.helpers import fail_round_one, open_round_two, stances

# fixture -> a line of its quoted history or signature that must never reach the reason
HISTORY = {
    "talon_gmail.eml": "Megan One",
    "talon_outlook.eml": "The manager has commented",
    "talon_apple_mail_2.eml": "Hi there!",
    "talon_android.eml": "написал",
    "talon_hotmail.eml": "Subject: Test",
    "talon_reply-quotations-share-block.eml": "wrote:",
    "zapier_email_1_2.txt": "Abhishek Kona",
    "zapier_email_headers_no_delimiter.txt": "Dan Watson",
    "mailparserreply_multi_header.txt": "Unfortunately, we are unable",
    "mailparserreply_email_fr_wrap.txt": "le poste est de nouveau ouvert",
}


def build(fixtures: Path, name: str, top: str, *, sender: str = MEMBER,
          subject: str = "Re: [poll #7/2] Proposal: x") -> EmailMessage:
    msg = written_above(fixtures, name, top)
    msg["From"] = sender
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{name}@client.example>"
    return msg


@pytest.mark.parametrize("name", sorted(HISTORY))
@pytest.mark.parametrize(("top", "stance", "reason"), [
    ("Block\nThe budget line is missing.", "block", "The budget line is missing."),
    ("Pas d'accord : le calendrier est trop serré", "disagree", "le calendrier est trop serré"),
    ("De acuerdo", "agree", ""),
    ("ME ABSTENGO", "abstain", ""),
])
def test_stance_reason_and_no_history(shared_fixtures: Path, name: str, top: str, stance: str,
                                      reason: str) -> None:
    ballot = read_ballot(build(shared_fixtures, name, top))
    assert ballot.stance == stance
    assert (ballot.poll_id, ballot.round_no) == (7, 2)
    assert ballot.sender == MEMBER
    assert ballot.reason.startswith(reason)
    assert HISTORY[name] not in ballot.reason
    assert "\n>" not in ballot.reason


def test_poll_from_in_reply_to_when_the_subject_lost_its_tag(shared_fixtures: Path) -> None:
    msg = build(shared_fixtures, "talon_gmail.eml", "agree", subject="Re: my vote")
    msg["In-Reply-To"] = "<poll-12-r2-p4.0f3e@alliance.example>"
    b = read_ballot(msg)
    assert (b.stance, b.poll_id, b.round_no) == ("agree", 12, 2)


def test_words_and_cuts() -> None:
    assert read_stance("Je bloque. Trop cher") == ("block", "Trop cher")
    assert read_stance("Désaccord") == ("disagree", "")
    assert read_stance("d’accord !") == ("agree", "")
    assert read_stance("agreed") is None and read_stance("Hello") is None
    assert new_text("block\nno\n-- \nAmara\nTerraSoil") == "block\nno"
    assert new_text("agree\n\nSent from my iPhone") == "agree"
    auto = EmailMessage()
    auto["From"] = "someone@example.org"
    auto["Auto-Submitted"] = "auto-replied"
    assert is_automatic(auto, own=set())
    own = EmailMessage()
    own["From"] = "Convene <ballots@alliance.example>"
    assert is_automatic(own, own={"ballots@alliance.example"})


def test_imap_reader_counts_a_message_delivered_twice_once(
        make_bot, db_url: str, shared_fixtures: Path) -> None:
    need(DOVECOT is not None, "dovecot is not installed (apt-get install dovecot-imapd)")
    with dovecot() as imap:
        bot: Bot = make_bot(db_url, imap=imap.settings())
        pid = fail_round_one(bot, secretariat=SECRETARIAT, block_by=MEMBER_FR)
        open_round_two(bot, secretariat=SECRETARIAT, pid=pid)
        reply = build(shared_fixtures, "talon_android.eml", "Block\nNot yet.",
                      subject=f"Re: [poll #{pid}/2] Proposal")
        imap.append(reply)
        imap.append(reply)  # the same message, delivered twice (same Message-ID)
        reader = ImapReader(bot, bot.settings.imap)
        outcomes = reader.poll_once()
        assert [o.dispatched for o in outcomes] == [True, False]
        assert len(stances(bot, pid, 2)) == 1
        assert list(stances(bot, pid, 2).values()) == [("block", "email", "Not yet.")]
        # an unreadable reply gets an answer and casts nothing
        imap.append(build(shared_fixtures, "talon_gmail.eml", "Sounds fine to me",
                          subject=f"Re: [poll #{pid}/2] Proposal"))
        [o] = reader.poll_once()
        assert not o.dispatched and "no stance on the first line" in o.answer
        assert imap.unseen() == 0
