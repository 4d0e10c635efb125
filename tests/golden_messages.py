"""Core Messages shared by every adapter's golden tests (Slack, terminal,
email, Discord): the same Message must render right on each."""

from __future__ import annotations

from bot.types import (
    Actions,
    Attachment,
    Button,
    Code,
    Emphasis,
    Field,
    Header,
    Image,
    Link,
    Mention,
    Message,
    Option,
    Preformatted,
    Section,
    Select,
    SmallPrint,
    Strong,
    Time,
)

#: A 1x1 PNG (the smallest valid image).
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201a5f6"
    "4e6b0000000049454e44ae426082")

ICS = (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Convene//test//EN\r\n"
       b"METHOD:REQUEST\r\nEND:VCALENDAR\r\n")

#: A hostile title: Slack's channel ping and link syntax, Discord's everyone ping,
#: Markdown and HTML, all of which must stay inert text everywhere.
HOSTILE = "<!channel> <https://evil.example|click> @everyone *bold* <b>x</b> & co"

RICH = Message(
    text=f"Workshop: {HOSTILE}",
    accent="warning",
    blocks=(
        Header(f"Q1 workshop {HOSTILE}"),
        Section(("Starts ", Time(1796144400, "1 Dec 2026 17:00 Europe/Paris"), ". ",
                 Strong(HOSTILE), " led by ", Mention(7, "Amara Okafor"), "; type ",
                 Code("rsvp 3 yes"), " or read ",
                 Link("https://alliance.example/w/3?a=1&b=2", "the agenda"), ". ",
                 Emphasis("Observers welcome."), " ",
                 Link("javascript:alert(1)", "not a link")),
                fields=(Field("Length", "90 min"), Field("Zone", (Strong("Europe/Paris"),)))),
        Preformatted("Yes      ███··· 3\nNo       █····· 1 <&>"),
        Actions((Button("Yes", "workshop.rsvp", "3:yes", "primary"),
                 Button("Full", "workshop.rsvp", "3:waitlist", disabled=True),
                 Select("workshop.slots", "Slots that suit you",
                        (Option("Tue 09:00", "s1"), Option("Wed 15:00", "s2")),
                        multi=True, max_selected=2, initial=("s2",)))),
        SmallPrint(("Sent to ", Strong("members"), " and observers")),
        Image("", "Availability grid: Wed 15:00 suits 9 of 11", png=PNG),
    ),
    attachments=(Attachment("invite.ics", "text/calendar; method=REQUEST", ICS,
                            "Add to your calendar"),),
)
