"""The offer and sign-up link pages on a real HTTP server: GET changes
nothing, POST needs its form field and the same origin, links work once, and
tampered, expired, used and cancelled links get a page that says why. Tokens
never reach a log."""

from __future__ import annotations

import logging
from datetime import timedelta

import httpx
import pytest

from bot.app import Bot
from bot.sprints.tokens import mint
from bot.web import create_web_app
from storage.base import utcnow
from tests.adapters.email.servers import http_app
from tests.clock import freeze
from tests.conftest import CHAIR, MEMBER, SECRETARIAT
from tests.sprints.helpers import emails_to, offers, open_sprint, say, status_of

PRIYA = "priya.nair@carbonledger.example"


def _link(bot: Bot, email: str, part: str) -> tuple[str, str]:
    (mail,) = emails_to(bot, email, part)
    url = next(w for w in mail.payload["text"].split() if "?t=" in w)
    path, _, token = url.partition("?t=")
    return path.split("8000", 1)[1], token


def test_offer_link_pages(bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    sid = open_sprint(bot, capacity=1)
    say(bot, MEMBER, f"sprint join {sid}")
    say(bot, PRIYA, f"sprint join {sid}")
    say(bot, CHAIR, f"sprint join {sid}")
    say(bot, MEMBER, f"sprint leave {sid}")
    path, token = _link(bot, PRIYA, ":offer:")
    with http_app(create_web_app(bot)) as base, httpx.Client(base_url=base, timeout=30) as web:
        same = {"origin": base}
        page = web.get(path, params={"t": token})
        assert page.status_code == 200 and "Accept the seat" in page.text
        assert status_of(bot, sid, PRIYA) == "offered"  # GET changed nothing
        bad = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
        r = web.post(path, data={"t": bad, "choice": "accept"}, headers=same)
        assert r.status_code == 400 and 'data-code="tampered"' in r.text
        r = web.post(path, data={"t": token, "choice": "accept"},
                     headers={"origin": "https://evil.example"})
        assert r.status_code == 403 and 'data-code="cross-site"' in r.text
        r = web.post(path, data={"t": token, "choice": "accept"})  # no Origin, no Referer
        assert r.status_code == 403 and 'data-code="cross-site"' in r.text
        r = web.post(path, data={"t": token}, headers=same)  # the choice is required
        assert r.status_code == 400
        assert status_of(bot, sid, PRIYA) == "offered"
        r = web.post(path, data={"t": token, "choice": "decline"}, headers=same)
        assert r.status_code == 200 and "Declined" in r.text, r.text
        assert status_of(bot, sid, PRIYA) == "declined"
        assert status_of(bot, sid, CHAIR) == "offered"  # passed on at once
        r = web.post(path, data={"t": token, "choice": "accept"}, headers=same)
        assert r.status_code == 409 and 'data-code="used"' in r.text
        # the next offer: expired, then (another sprint) cancelled
        path2, token2 = _link(bot, CHAIR, ":offer:")
        freeze(offers(bot, sid)[-1].expires_at + timedelta(seconds=1))
        r = web.get(path2, params={"t": token2})
        assert r.status_code == 410 and 'data-code="expired"' in r.text
        freeze(None)
        say(bot, SECRETARIAT, f"sprint cancel {sid} postponed")
        r = web.post(path2, data={"t": token2, "choice": "accept"}, headers=same)
        assert r.status_code == 410 and 'data-code="cancelled"' in r.text
        assert status_of(bot, sid, CHAIR) == "offered" and offers(bot, sid)[-1].status == "void"
    # everything the server side logged (the test's own HTTP client logs its URLs)
    logged = "\n".join(r.getMessage() for r in caplog.records
                       if not r.name.startswith(("httpx", "httpcore")))
    assert token not in logged and token2 not in logged


def test_join_link_works_once(bot: Bot) -> None:
    sid = open_sprint(bot, capacity=2)
    with bot.session_factory() as s:
        from bot.members import person_by_email

        pid = person_by_email(s, PRIYA).id  # type: ignore[union-attr]
    token = mint(key=bot.settings.signing_key(), purpose="join", person_id=pid, target=sid,
                 expires_at=utcnow() + timedelta(days=2))
    offer_purpose = mint(key=bot.settings.signing_key(), purpose="offer", person_id=pid,
                         target=sid, expires_at=utcnow() + timedelta(days=2))
    with http_app(create_web_app(bot)) as base, httpx.Client(base_url=base, timeout=30) as web:
        r = web.post(f"/sprints/{sid}/join", data={"t": offer_purpose, "choice": "join"},
                     headers={"origin": base})
        assert r.status_code == 400  # a token minted for another purpose
        r = web.post(f"/sprints/{sid}/join", data={"t": token, "choice": "join"},
                     headers={"referer": f"{base}/sprints/{sid}/join"})
        assert r.status_code == 200 and "You have seat 1" in r.text
        r = web.post(f"/sprints/{sid}/join", data={"t": token, "choice": "join"},
                     headers={"origin": base})
        assert r.status_code == 409
    assert status_of(bot, sid, PRIYA) == "seated"


def test_an_expired_link_says_so_in_its_persons_language(bot: Bot) -> None:
    from bot.members import person_by_email
    from tests.conftest import MEMBER_FR

    sid = open_sprint(bot)
    with bot.session_factory() as s:
        person = person_by_email(s, MEMBER_FR)
        assert person is not None
        pid = person.id
    token = mint(key=bot.settings.signing_key(), purpose="join", person_id=pid, target=sid,
                 expires_at=utcnow() - timedelta(days=1))
    with http_app(create_web_app(bot)) as base, httpx.Client(base_url=base, timeout=30) as web:
        r = web.get(f"/sprints/{sid}/join", params={"t": token})
        assert r.status_code == 410 and 'lang="fr"' in r.text
        forged = web.get(f"/sprints/{sid}/join", params={"t": token[:-3] + "AAA"})
        assert forged.status_code == 400 and 'lang="en"' in forged.text
