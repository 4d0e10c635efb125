"""Every role on every path: observers answer availability, RSVP and add
agenda items by chat, button, the web pages, email and the platform's event;
they never manage or lead (refused with a sentence). The availability page:
the reader's zone named, answers stored against UTC instants, tampered,
expired and cross-origin posts refused, the token never logged."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select

from bot.app import Bot
from bot.types import Actor, Attendance, ButtonPress, Conversation
from bot.web import create_web_app
from bot.workshops import tokens
from storage.models import Person, Workshop, WorkshopAvailability, WorkshopSlot
from tests.adapters.email.servers import http_app
from tests.conftest import CHAIR, MEMBER, OBSERVER, OBSERVER_FR, SECRETARIAT
from tests.workshops.helpers import YEAR, confirmed_workshop, new_workshop, rsvps, say

REFUSED = "does not allow this"


def _pid(bot: Bot, email: str) -> int:
    from bot.members import person_by_email

    with bot.session_factory() as s:
        p = person_by_email(s, email)
        assert p is not None
        return p.id


def test_observer_on_every_chat_path(bot: Bot) -> None:
    wid = new_workshop(bot)
    with bot.session_factory() as s:
        slot = s.scalars(select(WorkshopSlot.id).where(WorkshopSlot.workshop_id == wid)).first()
    # allowed: availability by command and by button, agenda add, view
    assert "slot" in say(bot, OBSERVER, f"workshop answer {wid} {slot} yes")
    press = ButtonPress("workshop.avail", f"{wid}:{slot}:ifneedbe",
                        Actor("console", "", OBSERVER),
                        Conversation("console", "", "c", is_direct=True), "press-1")
    assert "slot" in bot.dispatch(press)[0].message.text
    assert "proposed" in say(bot, OBSERVER, f"workshop agenda add {wid} Finance session")
    assert "Workshop #" in say(bot, OBSERVER, f"workshop show {wid}")
    # refused: every manage and lead route
    for line in (f"workshop slot add {wid} {YEAR}-05-01 10:00", f"workshop confirm {wid}",
                 f"workshop cancel {wid}", f"workshop attendees {wid}", f"workshop lead {wid}",
                 f"workshop agenda order {wid} 1", f"workshop notes {wid} x",
                 "workshop series new X | UTC | 10:00 | 60",
                 f"workshop open 1 {YEAR}-Q3", "workshop ledger 1"):
        out = say(bot, OBSERVER, line)
        assert REFUSED in out, (line, out)
    # a member may lead, not manage
    assert "You lead" in say(bot, MEMBER, f"workshop lead {wid}")
    assert REFUSED in say(bot, MEMBER, f"workshop confirm {wid}")
    # a stranger gets a sentence, nothing else
    assert "roster" in say(bot, "nobody@else.example", f"workshop show {wid}")


def test_rsvp_by_chat_button_and_attendance_one_record(bot: Bot) -> None:
    wid = confirmed_workshop(bot)
    pid = _pid(bot, OBSERVER)
    assert "accept" in say(bot, OBSERVER, f"workshop rsvp {wid} accept")
    press = ButtonPress("workshop.rsvp", f"{wid}:tentative", Actor("console", "", OBSERVER),
                        Conversation("console", "", "c", is_direct=True), "press-2")
    bot.dispatch(press)
    assert rsvps(bot, wid)[pid] == ("tentative", "console")
    with bot.session_factory() as s:
        uid = s.scalar(select(Workshop.uid).where(Workshop.id == wid))
    assert uid is not None
    # a Discord "not interested any more" arrives as Attendance (email actor for the test)
    bot.dispatch(Attendance(uid=uid, attending=False, actor=Actor("console", "", OBSERVER),
                            where=Conversation("console", "", "c"), event_id="att-1"))
    assert rsvps(bot, wid) == {pid: ("declined", "console")}
    assert "stays" in say(bot, OBSERVER, f"workshop rsvp {wid} decline")
    # the secretariat sees the list with counts by role
    out = say(bot, SECRETARIAT, f"workshop attendees {wid}")
    assert "Tom Becker" in out and "observer" in out


@pytest.fixture
def client(bot: Bot) -> Iterator[httpx.Client]:
    """The HTTP app with the workshop pages, served by uvicorn on loopback."""
    with http_app(create_web_app(bot)) as base, httpx.Client(base_url=base,
                                                             timeout=30) as c:
        yield c


def _link(bot: Bot, wid: int, email: str, *, days: float = 5) -> str:
    t = tokens.mint(key=bot.settings.signing_key(), purpose="availability",
                    person_id=_pid(bot, email), workshop_id=wid,
                    expires_at=datetime.now(UTC) + timedelta(days=days))
    return f"/workshops/{wid}/availability?t={t}"


def test_availability_page(bot: Bot, client: httpx.Client,
                           caplog: pytest.LogCaptureFixture) -> None:
    wid = new_workshop(bot, slots=(f"{YEAR}-03-11 15:00", f"{YEAR}-03-12 09:00"))
    url = _link(bot, wid, OBSERVER_FR)  # Lucie, Europe/Paris, French
    page = client.get(url)
    assert page.status_code == 200 and "Europe/Paris" in page.text
    assert "11 mars" in page.text and "15:00 CET" in page.text
    with bot.session_factory() as s:
        slots = s.execute(select(WorkshopSlot.id, WorkshopSlot.starts_at).where(
            WorkshopSlot.workshop_id == wid).order_by(WorkshopSlot.starts_at)).all()
    token = parse_qs(urlsplit(url).query)["t"][0]
    form = {"t": token, "form": "availability", f"slot-{slots[0][0]}": "yes",
            f"slot-{slots[1][0]}": "no"}
    with caplog.at_level(logging.INFO):
        saved = client.post(f"/workshops/{wid}/availability", data=form,
                            headers={"Origin": "http://127.0.0.1:8000"})
    assert saved.status_code == 200 and "2 réponses enregistrées" in saved.text
    assert token not in caplog.text
    with bot.session_factory() as s:
        stored = dict(s.execute(select(WorkshopSlot.starts_at, WorkshopAvailability.answer)
                                .join(WorkshopAvailability,
                                      WorkshopAvailability.slot_id == WorkshopSlot.id)).all())
    assert stored == {datetime(YEAR, 3, 11, 14, tzinfo=UTC): "yes",
                      datetime(YEAR, 3, 12, 8, tzinfo=UTC): "no"}
    # cross-origin, tampered, expired, another workshop's
    evil = client.post(f"/workshops/{wid}/availability", data=form,
                       headers={"Origin": "https://evil.example"})
    assert evil.status_code == 403
    bad = client.get(url[:-3] + ("AAA" if not url.endswith("AAA") else "BBB"))
    assert bad.status_code == 400 and "changed or cut short" in bad.text
    old = client.get(_link(bot, wid, OBSERVER_FR, days=-1))
    assert old.status_code == 410 and "expired" in old.text
    other = client.get(url.replace(f"/workshops/{wid}/", f"/workshops/{wid + 1}/"))
    assert other.status_code == 400


def test_rsvp_link_from_the_email(bot: Bot, client: httpx.Client) -> None:
    wid = confirmed_workshop(bot)
    from tests.workshops.helpers import outbox_emails

    mail = next(m for _k, m in outbox_emails(bot, f"workshop:{wid}:invite:")
                if m.to == (CHAIR,))
    link = next(line.split(": ", 1)[1] for line in mail.text.splitlines()
                if line.startswith("Tentative: "))
    path = link.replace("http://127.0.0.1:8000", "")
    assert client.get(path).status_code == 200
    assert rsvps(bot, wid) == {}  # a GET (a mail scanner) answers nothing
    token = parse_qs(urlsplit(path).query)["t"][0]
    done = client.post(f"/workshops/{wid}/rsvp", data={"t": token, "form": "rsvp"})
    assert done.status_code == 200 and "tentative" in done.text
    assert rsvps(bot, wid) == {_pid(bot, CHAIR): ("tentative", "web")}


def test_feeds(bot: Bot, client: httpx.Client) -> None:
    from bot.workshops.feeds import feed_url, revoke

    wid = confirmed_workshop(bot)
    public = client.get("/workshops/feed.ics")
    assert public.status_code == 200 and b"meet.example" not in public.content
    assert f"workshop-{wid}@".encode() in public.content
    again = client.get("/workshops/feed.ics", headers={"If-None-Match": public.headers["etag"]})
    assert again.status_code == 304 and "last-modified" in public.headers
    with bot.session_factory() as s:
        url = feed_url(s, bot.settings, _pid(bot, MEMBER))
    mine = client.get(url.replace("http://127.0.0.1:8000", ""))
    assert mine.status_code == 200 and b"meet.example/soil" in mine.content
    with bot.session_factory() as s, s.begin():
        revoke(s, _pid(bot, MEMBER))
    assert client.get(url.replace("http://127.0.0.1:8000", "")).status_code == 410


def test_observer_person_exists(bot: Bot) -> None:
    with bot.session_factory() as s:
        assert s.scalar(select(Person.id).where(Person.name == "Tom Becker")) is not None


@pytest.mark.parametrize("who", [MEMBER, OBSERVER, SECRETARIAT, CHAIR])
def test_feed_command_every_role(bot: Bot, client: httpx.Client, who: str) -> None:
    """``workshop feed`` answers each role (observers attend) privately with
    their own signed URL, which serves their groups' workshops with join links;
    ``workshop feed new`` revokes it."""
    from bot.types import Command

    wid = confirmed_workshop(bot)
    # asked in a shared channel: the answer is still for the person alone
    replies = bot.dispatch(Command("workshop", "feed", Actor("console", "", who),
                                   Conversation("console", "", "general", is_direct=False),
                                   event_id=f"feed-{who}"))
    assert [r.audience for r in replies] == ["actor"]
    text = replies[0].message.text
    assert "personal" in text and "Subscribe" in text and "workshop feed new" in text
    url = next(w for w in text.split() if "/workshops/feed/" in w)
    token = url.rsplit("/", 1)[1].removesuffix(".ics")
    assert tokens.verify(token, key=bot.settings.signing_key(), purpose="feed",
                         now=datetime.now(UTC)).person_id == _pid(bot, who)
    served = client.get(url.replace("http://127.0.0.1:8000", ""))
    assert served.status_code == 200
    assert f"workshop-{wid}@".encode() in served.content
    assert b"meet.example/soil" in served.content  # the personal feed has join links
    renewed = say(bot, who, "workshop feed new")
    new_url = next(w for w in renewed.split() if "/workshops/feed/" in w)
    assert new_url != url
    assert client.get(url.replace("http://127.0.0.1:8000", "")).status_code == 410
    assert client.get(new_url.replace("http://127.0.0.1:8000", "")).status_code == 200


def test_feed_command_in_french(bot: Bot) -> None:
    from tests.conftest import MEMBER_FR

    assert "personnelle" in say(bot, MEMBER_FR, "workshop feed")


def test_refused_pages_in_the_persons_language(bot: Bot, client: httpx.Client) -> None:
    """A validly signed link that is refused (expired, another workshop's) says
    why in its person's language; a forged one in the default language. A
    revoked feed says so in its person's language too."""
    from bot.workshops.feeds import feed_url, revoke

    wid = new_workshop(bot)
    expired = client.get(_link(bot, wid, OBSERVER_FR, days=-1))
    assert expired.status_code == 410 and 'lang="fr"' in expired.text
    assert "Ce lien" in expired.text or "lien" in expired.text
    other = client.get(_link(bot, wid, OBSERVER_FR).replace(f"/workshops/{wid}/",
                                                            f"/workshops/{wid + 1}/"))
    assert other.status_code == 400 and 'lang="fr"' in other.text
    forged = client.get(f"/workshops/{wid}/availability?t=forged")
    assert forged.status_code == 400 and 'lang="en"' in forged.text
    with bot.session_factory() as s:
        url = feed_url(s, bot.settings, _pid(bot, OBSERVER_FR))
    with bot.session_factory() as s, s.begin():
        revoke(s, _pid(bot, OBSERVER_FR))
    gone = client.get(url.replace("http://127.0.0.1:8000", ""))
    assert gone.status_code == 410 and "remplacée" in gone.text
    assert gone.headers["content-language"] == "fr"
    bad = client.get("/workshops/feed/forged.ics")
    assert bad.status_code == 404 and "not valid" in bad.text
