"""Issue 22, pages: limits before parsing, one Origin rule for every POST,
security headers on every page and calendar feed, the availability link of a
person who left the group, the RSVP page of a cancelled workshop."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import delete, select

from bot.app import Bot
from bot.web import SECURITY_HEADERS, create_web_app
from bot.workshops import tokens
from storage.models import Membership, WorkshopAvailability, WorkshopSlot
from tests.adapters.email.servers import http_app
from tests.conftest import CHAIR, MEMBER, OBSERVER_FR, SECRETARIAT
from tests.workshops.helpers import confirmed_workshop, new_workshop, outbox_emails, rsvps, say

ORIGIN = {"Origin": "http://127.0.0.1:8000"}


@pytest.fixture
def served(bot: Bot) -> Iterator[tuple[str, httpx.Client]]:
    with http_app(create_web_app(bot)) as base, httpx.Client(base_url=base, timeout=30) as c:
        yield base, c


def _pid(bot: Bot, email: str) -> int:
    from bot.members import person_by_email

    with bot.session_factory() as s:
        p = person_by_email(s, email)
        assert p is not None
        return p.id


def _avail(bot: Bot, wid: int, email: str) -> tuple[str, str]:
    t = tokens.mint(key=bot.settings.signing_key(), purpose="availability",
                    person_id=_pid(bot, email), workshop_id=wid,
                    expires_at=datetime.now(UTC) + timedelta(days=5))
    return f"/workshops/{wid}/availability?t={t}", t


def _rsvp(bot: Bot, wid: int) -> tuple[str, str]:
    mail = next(m for _k, m in outbox_emails(bot, f"workshop:{wid}:invite:") if m.to == (CHAIR,))
    link = next(line.split(": ", 1)[1] for line in mail.text.splitlines()
                if line.startswith("Tentative: "))
    path = link.replace("http://127.0.0.1:8000", "")
    return path, parse_qs(urlsplit(path).query)["t"][0]


def _raw_post(base: str, path: str, head: dict[str, str], chunks: Iterator[bytes]) -> str:
    """POST over a raw socket; returns the status line. Stops sending as soon
    as the server answers (or closes)."""
    url = urlsplit(base)
    with socket.create_connection((url.hostname or "", url.port or 80), timeout=10) as sock:
        lines = [f"POST {path} HTTP/1.1", f"Host: {url.netloc}",
                 "Content-Type: application/x-www-form-urlencoded", *(
                     f"{k}: {v}" for k, v in head.items())]
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        sock.settimeout(0.001)
        sent = 0
        for chunk in chunks:
            try:
                sock.sendall(chunk)
                sent += len(chunk)
                if sock.recv(1, socket.MSG_PEEK):
                    break
            except (TimeoutError, BlockingIOError):
                continue
            except OSError:  # the server closed: it answered already
                break
        sock.settimeout(10)
        answer = sock.recv(4096).decode("latin-1")
    assert sent < 8 << 20, sent  # far from the whole body
    return answer.split("\r\n", 1)[0]


def test_a_64_mb_post_is_refused_413_before_it_is_read(bot: Bot, served) -> None:
    base, _c = served
    wid = new_workshop(bot)
    size = 64 << 20
    piece = b"slot-1=yes&" * 6000

    def body() -> Iterator[bytes]:
        yield b"t=not-a-valid-token&form=availability&"  # an invalid token first
        for _ in range(size // len(piece)):
            yield piece

    for path in (f"/workshops/{wid}/availability", f"/workshops/{wid}/rsvp",
                 "/polls/1/vote", "/sprints/1/join", "/sprints/offers/1"):
        # declared
        status = _raw_post(base, path, {"Content-Length": str(size), **ORIGIN}, body())
        assert " 413 " in status, (path, status)

        # streamed (chunked, no Content-Length)
        def chunked() -> Iterator[bytes]:
            for part in body():
                yield f"{len(part):x}\r\n".encode() + part + b"\r\n"

        # Streamed, the refusal is whichever limit the first bytes the server
        # got cross: the body's size (413) or, when a busy server hands the
        # form parser a short first read, the form's field count (400, see
        # bot.web.read_form). Either way far less than the body was read.
        status = _raw_post(base, path, {"Transfer-Encoding": "chunked", **ORIGIN}, chunked())
        assert " 413 " in status or " 400 " in status, (path, status)


def test_form_fields_are_counted_and_sized(bot: Bot, served) -> None:
    _base, c = served
    wid = new_workshop(bot)
    _url, token = _avail(bot, wid, OBSERVER_FR)
    many = "&".join(f"slot-{i}=yes" for i in range(600)) + f"&t={token}&form=availability"
    r = c.post(f"/workshops/{wid}/availability", content=many, headers={
        **ORIGIN, "Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 400
    long = {"t": token, "form": "availability", "slot-1": "y" * 9000}
    assert c.post(f"/workshops/{wid}/availability", data=long, headers=ORIGIN).status_code == 400
    with bot.session_factory() as s:
        assert s.scalars(select(WorkshopAvailability)).all() == []


def test_workshop_posts_need_an_origin(bot: Bot, served) -> None:
    """One Origin rule: a POST with neither Origin nor Referer is refused, as on
    the sprint and vote pages (the workshop pages accepted it)."""
    _base, c = served
    wid = confirmed_workshop(bot)
    path, token = _rsvp(bot, wid)
    bare = c.post(f"/workshops/{wid}/rsvp", data={"t": token, "form": "rsvp"})
    assert bare.status_code == 403 and rsvps(bot, wid) == {}
    null = c.post(f"/workshops/{wid}/rsvp", data={"t": token, "form": "rsvp"},
                  headers={"Origin": "null"})
    assert null.status_code == 403 and rsvps(bot, wid) == {}
    referer = c.post(f"/workshops/{wid}/rsvp", data={"t": token, "form": "rsvp"},
                     headers={"Referer": f"http://127.0.0.1:8000{path}"})
    assert referer.status_code == 200 and rsvps(bot, wid)
    wid2 = new_workshop(bot)
    _url, token = _avail(bot, wid2, OBSERVER_FR)
    with bot.session_factory() as s:
        slot = s.scalar(select(WorkshopSlot.id).where(WorkshopSlot.workshop_id == wid2))
    form = {"t": token, "form": "availability", f"slot-{slot}": "yes"}
    assert c.post(f"/workshops/{wid2}/availability", data=form).status_code == 403
    with bot.session_factory() as s:
        assert s.scalars(select(WorkshopAvailability)).all() == []


def test_every_page_and_feed_carries_the_security_headers(bot: Bot, served) -> None:
    _base, c = served
    wid = confirmed_workshop(bot)
    avail, _t = _avail(bot, new_workshop(bot), OBSERVER_FR)
    rsvp, _t = _rsvp(bot, wid)
    say(bot, MEMBER, "workshop feed")
    responses = {p: c.get(p) for p in (avail, rsvp, "/workshops/feed.ics", "/polls/1/vote?t=x",
                                       "/sprints/1/join?t=x", "/healthz", "/static/convene.css",
                                       "/workshops/feed/nope.ics", "/no/such/page")}
    responses["post"] = c.post(f"/workshops/{wid}/rsvp", data={"t": "x"}, headers=ORIGIN)
    for name, r in responses.items():
        for key, value in SECURITY_HEADERS.items():
            assert r.headers.get(key) == value, (name, key)
    csp = SECURITY_HEADERS["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert "script-src" not in csp and "default-src 'none'" in csp
    for name in (avail, rsvp, "/polls/1/vote?t=x", "/sprints/1/join?t=x"):
        page = responses[name].text
        assert not re.search(r"<script|<style|\sstyle=|\son\w+=", page, re.I), name
        assert 'href="/static/convene.css"' in page, name
    assert responses["/static/convene.css"].headers["content-type"].startswith("text/css")


def test_availability_link_of_someone_who_left_the_group(bot: Bot, served) -> None:
    """The POST was refused but the GET showed the slots: both are refused now."""
    _base, c = served
    wid = new_workshop(bot)
    url, token = _avail(bot, wid, OBSERVER_FR)
    assert c.get(url).status_code == 200
    with bot.session_factory() as s, s.begin():
        s.execute(delete(Membership).where(Membership.person_id == _pid(bot, OBSERVER_FR)))
    page = c.get(url)
    assert page.status_code == 403
    assert "ne faites plus partie du groupe" in page.text  # in her language
    assert "slot-" not in page.text and "11 mars" not in page.text
    with bot.session_factory() as s:
        slot = s.scalar(select(WorkshopSlot.id).where(WorkshopSlot.workshop_id == wid))
    posted = c.post(f"/workshops/{wid}/availability", headers=ORIGIN,
                    data={"t": token, "form": "availability", f"slot-{slot}": "yes"})
    assert posted.status_code == 403


def test_rsvp_page_of_a_cancelled_workshop_says_so(bot: Bot, served) -> None:
    _base, c = served
    wid = confirmed_workshop(bot)
    path, _token = _rsvp(bot, wid)
    assert "Confirm" in c.get(path).text
    assert "cancelled" in say(bot, SECRETARIAT, f"workshop cancel {wid}")
    page = c.get(path)
    assert page.status_code == 200
    assert "was cancelled" in page.text
    assert "Confirm" not in page.text and "<form" not in page.text
