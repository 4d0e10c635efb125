"""The offer and sign-up link pages on a real HTTP server: GET changes
nothing, POST needs its form field and the same origin, links work once, and
tampered, expired, used and cancelled links get a page that says why, in the
language of the person a validly signed token names. Tokens never reach a log."""

from __future__ import annotations

import logging
from datetime import timedelta

import httpx
import pytest
from markupsafe import escape

from bot.app import Bot
from bot.i18n import translator
from bot.members import person_by_email
from bot.sprints.links import use_offer
from bot.sprints.tokens import mint
from bot.tokens import LinkRefused
from bot.web import create_web_app
from storage.base import utcnow
from tests.adapters.email.servers import http_app
from tests.clock import freeze
from tests.conftest import CHAIR, MEMBER, MEMBER_ES, MEMBER_FR, OBSERVER_FR, SECRETARIAT
from tests.sprints.helpers import emails_to, offers, open_sprint, say, status_of

PRIYA = "priya.nair@carbonledger.example"


def _link(bot: Bot, email: str, part: str) -> tuple[str, str]:
    (mail,) = emails_to(bot, email, part)
    url = next(w for w in mail.payload["text"].split() if "?t=" in w)
    path, _, token = url.partition("?t=")
    return path.split("8000", 1)[1], token


def _pid(bot: Bot, email: str) -> int:
    with bot.session_factory() as s:
        person = person_by_email(s, email)
        assert person is not None
        return person.id


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
    pid = _pid(bot, PRIYA)
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
    sid = open_sprint(bot)
    pid = _pid(bot, MEMBER_FR)
    token = mint(key=bot.settings.signing_key(), purpose="join", person_id=pid, target=sid,
                 expires_at=utcnow() - timedelta(days=1))
    with http_app(create_web_app(bot)) as base, httpx.Client(base_url=base, timeout=30) as web:
        r = web.get(f"/sprints/{sid}/join", params={"t": token})
        assert r.status_code == 410 and 'lang="fr"' in r.text
        forged = web.get(f"/sprints/{sid}/join", params={"t": token[:-3] + "AAA"})
        assert forged.status_code == 400 and 'lang="en"' in forged.text


def _refused(r: httpx.Response, status: int, code: str, lang: str) -> None:
    """A refusal page with ``status`` and ``code``, all of it in ``lang``."""
    assert r.status_code == status and f'data-code="{code}"' in r.text, (r.status_code, r.text)
    title = translator(lang).gettext("This link cannot be used")
    assert f'<html lang="{lang}">' in r.text and f"<h1>{escape(title)}</h1>" in r.text, r.text
    if lang != "en":
        assert "This link cannot be used" not in r.text


def test_every_refusal_of_a_signed_link_is_in_its_persons_language(bot: Bot) -> None:
    sid = open_sprint(bot, capacity=1)
    for email in (MEMBER, MEMBER_ES, MEMBER_FR):
        say(bot, email, f"sprint join {sid}")
    say(bot, MEMBER, f"sprint leave {sid}")  # the seat is offered to Mateo (es)
    path, token_es = _link(bot, MEMBER_ES, ":offer:")
    oid = offers(bot, sid)[-1].id
    fr, es = _pid(bot, MEMBER_FR), _pid(bot, MEMBER_ES)
    key, later = bot.settings.signing_key(), utcnow() + timedelta(days=3)

    def offer_link(pid: int, target: int) -> str:
        return mint(key=key, purpose="offer", person_id=pid, target=target, expires_at=later)

    def join_link(pid: int, target: int) -> str:
        return mint(key=key, purpose="join", person_id=pid, target=target, expires_at=later)

    with pytest.raises(LinkRefused) as refused:  # the core's own check of the choice
        use_offer(bot, token=token_es, offer_id=oid, choice="maybe")
    assert refused.value.code == "tampered" and refused.value.person_id == es
    sid2 = open_sprint(bot, capacity=3)
    say(bot, MEMBER_ES, f"sprint join {sid2}")
    with http_app(create_web_app(bot)) as base, httpx.Client(base_url=base, timeout=30) as web:
        same = {"origin": base}
        forged = token_es[:-3] + ("AAA" if not token_es.endswith("AAA") else "BBB")
        _refused(web.get(path, params={"t": forged}), 400, "tampered", "en")
        _refused(web.post(path, data={"t": forged, "choice": "accept"},
                          headers={"origin": "https://evil.example"}), 403, "cross-site", "en")
        _refused(web.post(path, data={"t": token_es, "choice": "accept"},
                          headers={"origin": "https://evil.example"}), 403, "cross-site", "es")
        _refused(web.post(path, data={"t": token_es}, headers=same), 400, "tampered", "es")
        # someone else's offer; a link of another offer; an offer that does not exist
        _refused(web.get(path, params={"t": offer_link(fr, oid)}), 403, "not-allowed", "fr")
        _refused(web.get(path, params={"t": offer_link(es, oid + 1000)}), 400, "tampered", "es")
        _refused(web.get(f"/sprints/offers/{oid + 1000}",
                         params={"t": offer_link(es, oid + 1000)}), 400, "tampered", "es")
        assert status_of(bot, sid, MEMBER_ES) == "offered"
        r = web.post(path, data={"t": token_es, "choice": "decline"}, headers=same)
        assert r.status_code == 200 and 'lang="es"' in r.text, r.text
        # the link used again; another link to the answered offer
        _refused(web.post(path, data={"t": token_es, "choice": "accept"}, headers=same),
                 409, "used", "es")
        _refused(web.get(path, params={"t": offer_link(es, oid)}), 409, "used", "es")
        # the seat passed on to Claire (fr); the sprint is cancelled
        path_fr, token_fr = _link(bot, MEMBER_FR, ":offer:")
        say(bot, SECRETARIAT, f"sprint cancel {sid} postponed")
        _refused(web.post(path_fr, data={"t": token_fr, "choice": "accept"}, headers=same),
                 410, "cancelled", "fr")
        # sign-up links: a cancelled sprint, another sprint's link, a sprint that does not
        # exist, an observer, someone already in, a link used twice
        _refused(web.get(f"/sprints/{sid}/join", params={"t": join_link(fr, sid)}),
                 410, "cancelled", "fr")
        _refused(web.get(f"/sprints/{sid2}/join", params={"t": join_link(fr, sid)}),
                 400, "tampered", "fr")
        _refused(web.get(f"/sprints/{sid2 + 1000}/join",
                         params={"t": join_link(es, sid2 + 1000)}), 400, "tampered", "es")
        _refused(web.get(f"/sprints/{sid2}/join",
                         params={"t": join_link(_pid(bot, OBSERVER_FR), sid2)}),
                 403, "not-allowed", "fr")
        _refused(web.get(f"/sprints/{sid2}/join", params={"t": join_link(es, sid2)}),
                 409, "used", "es")
        once = join_link(fr, sid2)
        r = web.post(f"/sprints/{sid2}/join", data={"t": once, "choice": "join"}, headers=same)
        assert r.status_code == 200 and 'lang="fr"' in r.text, r.text
        _refused(web.post(f"/sprints/{sid2}/join", data={"t": once, "choice": "join"},
                          headers=same), 409, "used", "fr")
        _refused(web.post(f"/sprints/{sid2}/join", data={"t": once[:-3] + "AAA",
                                                         "choice": "join"}, headers=same),
                 400, "tampered", "en")
