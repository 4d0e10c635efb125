"""The email renderer: one Message with spans, a picture and an attachment,
rendered as email (HTML and text) and compared with the stored output in
tests/core/golden/ (set UPDATE_GOLDEN=1 to rewrite it after a deliberate change)."""

from __future__ import annotations

import base64
import os
from email.message import EmailMessage
from pathlib import Path

from bot.email_render import WIDTH, render_email
from bot.mail import build_mime
from bot.types import (
    Actions,
    Attachment,
    Button,
    Code,
    Divider,
    Emphasis,
    Field,
    Header,
    Image,
    Link,
    LinkButton,
    Mention,
    Message,
    Preformatted,
    Section,
    SmallPrint,
    Strong,
    Time,
)

GOLDEN = Path(__file__).parent / "golden"
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAE"
                       "hQGAhKmMIQAAAABJRU5ErkJggg==")
ICS = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"

MESSAGE = Message(
    text="Proposal #12: Shared baseline",
    accent="warning",
    blocks=(
        Header("Proposal #12: <Shared> baseline"),
        Section(("The alliance adopts ", Strong("one"), " baseline, ", Emphasis("for now"),
                 "; type ", Code("vote 12 agree"), " or read ",
                 Link("https://alliance.example/annex?a=1&b=2", "the annex"), ". Asked by ",
                 Mention(3, "Claire Dubois"), ", closes ",
                 Time(1767261600, "2026-01-01 10:00 Europe/Paris"), ". A long sentence that "
                 "goes on well past seventy-eight columns so that the text part must wrap it "
                 "<script>alert(1)</script>."),
                fields=(Field("Round", "2 (email)"), Field("Quorum", ("3 of ", Strong("5"))))),
        Image("", "Tally: Agree 1 · Block 1", png=PNG),
        Preformatted("Agree    ██████······ 1\nBlock    ██████······ 1"),
        Actions((Button("Agree", "poll.stance", "12:2:agree", style="primary"),
                 Button("Block", "poll.stance", "12:2:block", style="danger"),
                 Button("Closed", "poll.stance", "12:1:agree", disabled=True),
                 LinkButton("Open the register", "https://alliance.example/register"))),
        SmallPrint("Or reply with agree, abstain, disagree or block on the first line."),
        Divider(),
    ),
    attachments=(Attachment("invite.ics", "text/calendar; method=REQUEST", ICS),),
)
LINKS = {("poll.stance", "12:2:agree"): "https://alliance.example/polls/12/vote?t=AAA",
         ("poll.stance", "12:2:block"): "https://alliance.example/polls/12/vote?t=BBB"}


def _golden(name: str, got: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(got, encoding="utf-8")
    assert got == path.read_text(encoding="utf-8")


def test_the_same_message_as_email_matches_the_golden_files() -> None:
    email = render_email(MESSAGE, to=("amara@terrasoil.example",), subject="[poll #12/2] x",
                         links=LINKS, domain="alliance.example")
    _golden("message.txt", email.text)
    _golden("message.html", email.html or "")
    assert max(len(line) for line in email.text.split("\n") if "http" not in line) <= WIDTH
    assert "<script>" not in (email.html or "") and "&lt;script&gt;" in (email.html or "")
    assert "<style" not in (email.html or "")  # inlined
    mime = build_mime(email, sender="ballots@alliance.example")
    assert [p.get_content_type() for p in mime.walk()] == [
        # RFC 6047 (iMIP) as Outlook sends it: the calendar is the last alternative.
        "multipart/alternative", "text/plain", "multipart/related",
        "text/html", "image/png", "text/calendar"]
    png = next(p for p in mime.walk() if p.get_content_type() == "image/png")
    assert isinstance(png, EmailMessage) and png.get_content() == PNG
    assert f'src="cid:{str(png["Content-ID"]).strip("<>")}"' in (email.html or "")
    ics = next(p for p in mime.walk() if p.get_content_type() == "text/calendar")
    assert ics.get_param("method") == "REQUEST"  # an alternative part, not an attachment
