"""Ballot replies by email, end to end through the core: real mail clients'
messages answering a real ballot's Message-ID. A stance is recorded only for
the person the ballot was sent to, from a message the receiving server did not
mark failed, on the current text, with a first line that reads as a stance."""

from __future__ import annotations

from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import select

from adapters.console import ConsoleSession
from adapters.email.imap import ImapReader, handle_reply
from bot.app import Bot
from bot.mail import OutgoingEmail
from storage.models import Ballot, EmailAddress, OutboxMessage
from tests.adapters.email.servers import DOVECOT, dovecot
from tests.conftest import MEMBER, MEMBER_ES, MEMBER_FR, SECRETARIAT, need
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
FAIL = "mx.alliance.example; spf=fail smtp.mailfrom=evil.example; dkim=none; dmarc=fail"


def _ids(bot: Bot) -> dict[str, int]:
    with bot.session_factory() as s:
        return dict(s.execute(select(EmailAddress.address, EmailAddress.person_id)).all())


def ballot_ids(bot: Bot, pid: int, version: int = 1) -> dict[str, str]:
    """address -> the Message-ID of the ballot sent to that person."""
    ids = {v: k for k, v in _ids(bot).items()}
    with bot.session_factory() as s:
        rows = s.execute(select(Ballot.person_id, Ballot.message_id).where(
            Ballot.proposal_id == pid, Ballot.version == version)).all()
    return {ids[p]: mid for p, mid in rows}


def reply(fixtures: Path, name: str, *, sender: str, top: str, to: str,
          auth: str | None = "mx.alliance.example; spf=pass smtp.mailfrom=x; dkim=pass") \
        -> EmailMessage:
    msg = written_above(fixtures, name, top)
    msg["From"] = sender
    msg["Subject"] = "Re: [poll] Proposal"
    msg["In-Reply-To"] = to
    msg["References"] = to
    msg["Message-ID"] = f"<{name}.{abs(hash((sender, top, to)))}@client.example>"
    if auth:
        msg["Authentication-Results"] = auth
    return msg


def answers(bot: Bot, to: str) -> list[OutgoingEmail]:
    with bot.session_factory() as s:
        rows = s.scalars(select(OutboxMessage.payload).where(
            OutboxMessage.key.like("poll-reply:%")).order_by(OutboxMessage.id)).all()
    return [e for e in (OutgoingEmail.from_payload(r) for r in rows) if to in e.to]


def _round_two(bot: Bot) -> int:
    pid = fail_round_one(bot, secretariat=SECRETARIAT, block_by=MEMBER_FR)
    open_round_two(bot, secretariat=SECRETARIAT, pid=pid)
    return pid


def test_stances_and_reasons_from_real_clients(bot: Bot, shared_fixtures: Path) -> None:
    pid = _round_two(bot)
    mid = ballot_ids(bot, pid)[MEMBER]
    key = f"p:{_ids(bot)[MEMBER]}"
    tops = [("Block\nThe budget line\nis missing.", "block", "The budget line is missing."),
            ("Pas d'accord : le calendrier est trop serré", "disagree",
             "le calendrier est trop serré"),
            ("De acuerdo", "agree", ""), ("ME ABSTENGO", "abstain", "")]
    for i, name in enumerate(sorted(HISTORY)):
        top, stance, reason = tops[i % len(tops)]
        out = handle_reply(bot, reply(shared_fixtures, name, sender=MEMBER, top=top, to=mid))
        assert out is not None and out.dispatched, name
        got = stances(bot, pid, 2)[key]
        assert got[:2] == (stance, "email"), (name, out.answer)
        assert got[2].startswith(reason) and HISTORY[name] not in got[2], (name, got)
        assert "\n>" not in got[2]
    assert len(answers(bot, MEMBER)) == len(HISTORY)  # each answered, in English
    assert "Your stance on proposal" in answers(bot, MEMBER)[-1].text


def test_a_forged_from_is_refused(bot: Bot, shared_fixtures: Path) -> None:
    pid = _round_two(bot)
    mid = ballot_ids(bot, pid)[MEMBER]
    out = handle_reply(bot, reply(shared_fixtures, "talon_gmail.eml", sender=MEMBER,
                                  top="Agree", to=mid, auth=FAIL))
    assert out is not None and "could not confirm" in out.answer and "dmarc=fail" in out.answer
    soft = "mx.alliance.example; spf=softfail smtp.mailfrom=x; dkim=none"
    out = handle_reply(bot, reply(shared_fixtures, "talon_outlook.eml", sender=MEMBER,
                                  top="Agree", to=mid, auth=soft))
    assert out is not None and "could not confirm" in out.answer
    assert stances(bot, pid, 2) == {}
    # a softfail with a passing DKIM signature is the sender's own server: accepted
    ok = "mx.alliance.example; spf=softfail smtp.mailfrom=x; dkim=pass header.d=terrasoil.example"
    handle_reply(bot, reply(shared_fixtures, "talon_hotmail.eml", sender=MEMBER, top="Agree",
                            to=mid, auth=ok))
    assert [v[0] for v in stances(bot, pid, 2).values()] == ["agree"]


def test_a_ballot_answers_only_its_own_person(bot: Bot, shared_fixtures: Path) -> None:
    pid = _round_two(bot)
    amara = ballot_ids(bot, pid)[MEMBER]
    # Claire replies to Amara's ballot (forwarded to her, or a forged From)
    out = handle_reply(bot, reply(shared_fixtures, "talon_gmail.eml", sender=MEMBER_FR,
                                  top="Block\nNon.", to=amara))
    assert out is not None and "envoyé à quelqu'un d'autre" in out.answer
    # no ballot referenced at all (the subject tag alone proves nothing)
    bare = reply(shared_fixtures, "talon_gmail.eml", sender=MEMBER, top="Agree",
                 to="<CAB123@mail.gmail.com>")
    bare.replace_header("Subject", f"Re: [poll #{pid}/2] Proposal")
    out = handle_reply(bot, bare)
    assert out is not None and answers(bot, MEMBER) == []  # not ours: dispatcher refused
    # a ballot id with a forged signature
    forged = amara.replace(amara.split(".")[4], "A" * 43)
    out = handle_reply(bot, reply(shared_fixtures, "talon_android.eml", sender=MEMBER,
                                  top="Agree", to=forged))
    assert out is not None and "which ballot" in out.answer
    assert stances(bot, pid, 2) == {}


def test_a_stranger_gets_no_answer(bot: Bot, shared_fixtures: Path) -> None:
    pid = _round_two(bot)
    amara = ballot_ids(bot, pid)[MEMBER]
    out = handle_reply(bot, reply(shared_fixtures, "talon_gmail.eml",
                                  sender="stranger@elsewhere.example", top="Agree", to=amara))
    assert out is not None and "roster" in out.answer  # the dispatcher's refusal...
    assert answers(bot, "stranger@elsewhere.example") == []  # ...is never emailed
    assert stances(bot, pid, 2) == {}


def test_an_unreadable_reply_is_answered_in_the_voters_language(
        bot: Bot, shared_fixtures: Path) -> None:
    pid = _round_two(bot)
    ids = ballot_ids(bot, pid)
    for sender, top, words in [
            (MEMBER_FR, "Je ne sais pas encore, d'accord ou pas ?", "d'accord, je m'abstiens"),
            (MEMBER_ES, "¿Qué pasa si bloqueo?", "de acuerdo, me abstengo"),
            (MEMBER, "Agree or disagree, I'm not sure.", "agree, abstain, disagree, block")]:
        handle_reply(bot, reply(shared_fixtures, "talon_gmail.eml", sender=sender, top=top,
                                to=ids[sender]))
        [answer] = answers(bot, sender)
        assert words in " ".join(answer.text.split()), answer.text
        assert answer.in_reply_to and ("Auto-Submitted", "auto-replied") in answer.headers
    assert stances(bot, pid, 2) == {}


def test_plain_sentences_are_read_with_their_reason(bot: Bot, shared_fixtures: Path) -> None:
    """Issue 22: what a person plainly wrote is read, above real clients'
    quoted history; a block's condition is its reason."""
    pid = _round_two(bot)
    ids = ballot_ids(bot, pid)
    for sender, top in [(MEMBER_FR, "Pour l'instant je m'abstiens."),
                        (MEMBER_ES, "Si no cambia el plazo, bloqueo."),
                        (MEMBER, "I don't agree, the costs fall on the smallest members.")]:
        handle_reply(bot, reply(shared_fixtures, "talon_gmail.eml", sender=sender, top=top,
                                to=ids[sender]))
    got = {k: v[:2] for k, v in stances(bot, pid, 2).items()}
    assert sorted(got.values()) == [("abstain", "email"), ("block", "email"),
                                    ("disagree", "email")]
    [block] = [v for v in stances(bot, pid, 2).values() if v[0] == "block"]
    assert block[2].startswith("Si no cambia el plazo, bloqueo.")


def test_a_reply_to_an_old_text_is_refused_with_the_new_text(
        bot: Bot, shared_fixtures: Path) -> None:
    pid = _round_two(bot)
    old = ballot_ids(bot, pid)[MEMBER]
    out = ConsoleSession(dispatch=bot.dispatch, email=SECRETARIAT).feed(
        f"poll edit {pid} We adopt v3 of the protocol, with a tropical annex.")
    assert "text version 2" in out
    assert set(ballot_ids(bot, pid, version=2)) >= {MEMBER, MEMBER_FR}  # asked again
    handle_reply(bot, reply(shared_fixtures, "talon_gmail.eml", sender=MEMBER, top="Agree",
                            to=old))
    assert stances(bot, pid, 2) == {}
    [answer] = answers(bot, MEMBER)
    assert "earlier text" in answer.text and "tropical annex" in answer.text
    # the answer is itself a ballot on the new text: replying to it counts
    assert answer.message_id is not None
    handle_reply(bot, reply(shared_fixtures, "talon_outlook.eml", sender=MEMBER, top="Agree",
                            to=answer.message_id))
    assert [v[0] for v in stances(bot, pid, 2).values()] == ["agree"]


def test_imap_reader_counts_a_message_delivered_twice_once(
        make_bot, db_url: str, shared_fixtures: Path) -> None:
    need(DOVECOT is not None, "dovecot is not installed (apt-get install dovecot-imapd)")
    with dovecot() as imap:
        bot: Bot = make_bot(db_url, imap=imap.settings())
        pid = _round_two(bot)
        mid = ballot_ids(bot, pid)[MEMBER]
        msg = reply(shared_fixtures, "talon_android.eml", sender=MEMBER,
                    top="Block\nNot yet.", to=mid)
        imap.append(msg)
        imap.append(msg)  # the same message, delivered twice (same Message-ID)
        reader = ImapReader(bot, bot.settings.imap)
        outcomes = reader.poll_once()
        assert [o.dispatched for o in outcomes] == [True, False]
        assert list(stances(bot, pid, 2).values()) == [("block", "email", "Not yet.")]
        imap.append(reply(shared_fixtures, "talon_gmail.eml", sender=MEMBER,
                          top="Sounds fine to me", to=mid))
        [o] = reader.poll_once()
        assert "could not read a stance" in o.answer
        assert imap.unseen() == 0


def test_no_verdict_from_our_server_records_nothing(make_bot: Callable[..., Bot], db_url: str,
                                                    shared_fixtures: Path) -> None:
    """Fails closed (issue 22): a forged From with no Authentication-Results,
    or with one the sender wrote naming another server, records nothing, and
    the roster address (not the message's Reply-To) is told."""
    bot = make_bot(db_url)
    pid = _round_two(bot)
    mid = ballot_ids(bot, pid)[MEMBER]
    bare = reply(shared_fixtures, "talon_gmail.eml", sender=MEMBER, top="Block\nNo.", to=mid,
                 auth=None)
    bare["Reply-To"] = "attacker@evil.example"
    out = handle_reply(bot, bare)
    assert out is not None and "could not verify that you sent it" in out.answer
    forged = reply(shared_fixtures, "talon_outlook.eml", sender=MEMBER, top="Block\nNo.",
                   to=mid, auth="mx.google.com; spf=pass smtp.mailfrom=terrasoil.example; "
                                "dkim=pass header.d=terrasoil.example; dmarc=pass")
    out = handle_reply(bot, forged)
    assert out is not None and "could not verify" in out.answer
    assert stances(bot, pid, 2) == {}
    told = answers(bot, MEMBER)
    assert len(told) == 2 and all(e.to == (MEMBER,) for e in told)
    assert answers(bot, "attacker@evil.example") == []
    # our server's header below a sender-written one still counts (top of ours)
    both = reply(shared_fixtures, "talon_hotmail.eml", sender=MEMBER, top="Agree", to=mid,
                 auth="mx.alliance.example; dkim=pass header.d=terrasoil.example")
    both["Authentication-Results"] = "mx.google.com; dmarc=fail"
    handle_reply(bot, both)
    assert [v[0] for v in stances(bot, pid, 2).values()] == ["agree"]


def test_a_server_that_adds_no_verdict_can_be_trusted_by_setting(
        make_bot: Callable[..., Bot], sqlite_url: str, shared_fixtures: Path) -> None:
    bot = make_bot(sqlite_url, mail={"trust_unauthenticated": True})
    pid = _round_two(bot)
    mid = ballot_ids(bot, pid)[MEMBER]
    handle_reply(bot, reply(shared_fixtures, "talon_gmail.eml", sender=MEMBER, top="Agree",
                            to=mid, auth=None))
    assert [v[0] for v in stances(bot, pid, 2).values()] == ["agree"]
