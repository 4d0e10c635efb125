"""The real iTIP replies in ../shared/fixtures/itip, delivered to a real IMAP
server (a private dovecot started here) and read by the email adapter
(adapters/email/imap.py -> InboundEmail -> ``reply:calendar``), update the
right person's RSVP; replies from an address that was not invited change
nothing. Whole .eml files are delivered byte for byte; a bare .ics is sent as
the only text/calendar part of a mail from the address that answered, as the
calendar clients themselves do."""

from __future__ import annotations

from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import update

from adapters.email.imap import ImapReader
from bot.app import Bot
from bot.members import person_by_email
from bot.workshops.ical import parse_replies
from storage.models import Workshop
from tests.adapters.email.servers import DOVECOT, dovecot
from tests.conftest import AUTH_PASS, SECRETARIAT, SHARED_FIXTURES, need
from tests.workshops.helpers import confirmed_workshop, inbound_from_file, rsvps

ITIP = SHARED_FIXTURES / "itip"
#: file, the address that answered, the answer in the file
REPLIES = [
    ("ccs-calendarserver_good_reply", "xyzzy@example.com", "accepted"),
    ("tine20_invitation_reply_external_accepted.ics", "mail@corneliusweiss.de", "accepted"),
    ("tine20_google_confirm.ics", "mail@corneliusweiss.de", "accepted"),
    ("nylas_invite_w_rsvps2.ics", "test1@example.com", "tentative"),
    ("nylas_invite_w_rsvps_4.ics", "karim@example.com", "declined"),
    ("tine20_calendar_reply_declined.eml", "tine20admin@caldav.net", "declined"),
    ("zpushcontrib_meeting_reply_rim.txt", "user1@domain1.tld", "accepted"),
]
MAILBOX = "calendar@alliance.example"


def _roster(tmp_path: Path) -> Path:
    lines = ["email,name,organisation,role,group,language,timezone",
             f"{SECRETARIAT},James Wilson,Alliance Secretariat,secretariat,Alliance,en,"
             "Europe/London",
             "outsider@else.example,Out Sider,Elsewhere,member,Alliance,en,UTC"]
    lines += [f"{s},{s.split('@')[0]},Org {s.split('@')[1]},member,Alliance,en,Australia/Sydney"
              for s in dict.fromkeys(s for _f, s, _a in REPLIES)]
    path = tmp_path / "roster.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def _as_mail(name: str, sender: str, *, n: int) -> bytes:
    """The bytes delivered: a whole .eml as it is; a bare .ics in a mail."""
    data = (ITIP / name).read_bytes()
    if not data.lstrip().upper().startswith(b"BEGIN:VCALENDAR"):
        # what the receiving server prepends on delivery
        return f"Authentication-Results: {AUTH_PASS}\r\n".encode() + data
    msg = EmailMessage()
    msg["Authentication-Results"] = AUTH_PASS
    msg["From"] = sender
    msg["To"] = MAILBOX
    msg["Subject"] = "Accepted: Soil carbon"
    msg["Message-ID"] = f"<itip-{n}-{name}@client.example>"
    msg.set_content("Answer attached.")
    msg.add_attachment(data, maintype="text", subtype="calendar",
                       params={"method": "REPLY", "charset": "UTF-8"}, filename="reply.ics")
    return bytes(msg)


def _uid(name: str, sender: str) -> str:
    event = inbound_from_file(ITIP / name, sender=sender)
    # (Thunderbird sends the same REPLY twice: inline and as invite.ics)
    [uid] = {r.uid for p in event.parts for r in parse_replies(p.data)}
    return uid


def _person(bot: Bot, address: str) -> int:
    with bot.session_factory() as s:
        p = person_by_email(s, address)
        assert p is not None
        return p.id


def test_real_replies_through_dovecot_update_the_right_rsvp(
        make_bot: Callable[..., Bot], db_url: str, tmp_path: Path) -> None:
    need(DOVECOT is not None, "dovecot is not installed (apt-get install dovecot-imapd)")
    need(ITIP.is_dir(), f"shared fixtures not found at {ITIP}")
    with dovecot(user=MAILBOX) as imap:
        bot = make_bot(db_url, roster=_roster(tmp_path), imap=imap.settings())
        # one invited (confirmed) workshop per UID the real replies answer
        by_uid: dict[str, int] = {}
        for name, sender, _a in REPLIES:
            uid = _uid(name, sender)
            if uid not in by_uid:
                wid = confirmed_workshop(bot)
                with bot.session_factory() as s, s.begin():
                    s.execute(update(Workshop).where(Workshop.id == wid).values(uid=uid))
                by_uid[uid] = wid
        # first the replies sent by addresses that were not invited
        imap.append(_as_mail("nylas_invite_w_rsvps_4.ics", "nobody@unknown.example", n=1))
        imap.append(_as_mail("tine20_google_confirm.ics", "outsider@else.example", n=2))
        reader = ImapReader(bot, bot.settings.imap)
        outcomes = reader.poll_once()
        assert len(outcomes) == 2 and imap.unseen() == 0
        assert "roster" in outcomes[0].answer, outcomes[0].answer
        assert "someone else" in outcomes[1].answer, outcomes[1].answer
        assert all(rsvps(bot, wid) == {} for wid in by_uid.values())
        # then every real reply, each from the address that answered
        for n, (name, sender, _a) in enumerate(REPLIES):
            imap.append(_as_mail(name, sender, n=10 + n))
        outcomes = reader.poll_once()
        assert [o.event.actor.user_id for o in outcomes] == [s for _n, s, _a in REPLIES]
        assert all(o.dispatched and "workshop #" in o.answer.lower() for o in outcomes), \
            [o.answer for o in outcomes]
        assert imap.unseen() == 0
    want: dict[int, dict[int, tuple[str, str]]] = {wid: {} for wid in by_uid.values()}
    for name, sender, answer in REPLIES:
        want[by_uid[_uid(name, sender)]][_person(bot, sender)] = (answer, "email")
    assert {wid: rsvps(bot, wid) for wid in by_uid.values()} == want
    # the two Google answers to the same Exchange invite landed on one workshop
    assert max(len(v) for v in want.values()) == 2
