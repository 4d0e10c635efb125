"""The vote-link edges: the POST needs the form's confirm field and our own
origin, a link for an older text is refused with the new one, refusals speak
the person's language, a database outage answers 503 with a sentence, and the
token never reaches the access log."""

from __future__ import annotations

import logging
from datetime import timedelta

import httpx
from sqlalchemy import select

from adapters.console import ConsoleSession
from bot.app import Bot
from bot.polls.tokens import mint
from bot.web import REDACT, create_web_app
from storage.base import utcnow
from storage.engine import make_engine, make_session_factory
from storage.models import EmailAddress
from tests.adapters.email.servers import http_app
from tests.conftest import MEMBER, MEMBER_FR, SECRETARIAT
from tests.polls.helpers import YES, fail_round_one, open_round_two, origin, stances


def _setup(bot: Bot) -> tuple[int, dict[str, int]]:
    pid = fail_round_one(bot, secretariat=SECRETARIAT, block_by=MEMBER_FR)
    open_round_two(bot, secretariat=SECRETARIAT, pid=pid)
    with bot.session_factory() as s:
        ids = dict(s.execute(select(EmailAddress.address, EmailAddress.person_id)).all())
    return pid, ids


def _token(bot: Bot, person: int, pid: int, stance: str = "agree", version: int = 1) -> str:
    return mint(key=bot.settings.signing_key(), person_id=person, poll_id=pid, round_no=2,
                stance=stance, expires_at=utcnow() + timedelta(hours=24), version=version)


def test_the_post_needs_confirmation_and_our_origin(make_bot, sqlite_url: str) -> None:
    bot: Bot = make_bot(sqlite_url)
    pid, ids = _setup(bot)
    tok = _token(bot, ids[MEMBER], pid)
    with http_app(create_web_app(bot)) as base, httpx.Client(base_url=base) as web:
        url = f"/polls/{pid}/vote"
        r = web.post(url, data={"t": tok, **YES})  # no Origin, no Referer
        assert r.status_code == 403 and 'data-code="cross-origin"' in r.text
        r = web.post(url, data={"t": tok, **YES}, headers={"Origin": "https://evil.example"})
        assert r.status_code == 403
        r = web.post(url, data={"t": tok}, headers=origin(bot))  # no confirm field
        assert r.status_code == 400 and 'data-code="unconfirmed"' in r.text
        r = web.post(url, headers=origin(bot))  # no body at all
        assert r.status_code == 400
        assert stances(bot, pid, 2) == {}
        page = web.get(url, params={"t": tok})
        assert 'name="confirm" value="yes"' in page.text
        assert page.headers["referrer-policy"] == "same-origin"  # Origin is sent on POST
        referer = {"Referer": bot.settings.http.public_url() + f"/polls/{pid}/vote"}
        assert web.post(url, data={"t": tok, **YES}, headers=referer).status_code == 200
        assert stances(bot, pid, 2)[f"p:{ids[MEMBER]}"][0] == "agree"


def test_a_link_for_an_old_text_is_refused_with_the_new_one_in_french(
        make_bot, sqlite_url: str) -> None:
    bot: Bot = make_bot(sqlite_url)
    pid, ids = _setup(bot)
    old = _token(bot, ids[MEMBER_FR], pid)
    ConsoleSession(dispatch=bot.dispatch, email=SECRETARIAT).feed(
        f"poll edit {pid} Nous adoptons la v3 avec une annexe tropicale.")
    with http_app(create_web_app(bot)) as base, \
            httpx.Client(base_url=base, headers=origin(bot)) as web:
        for r in (web.get(f"/polls/{pid}/vote", params={"t": old}),
                  web.post(f"/polls/{pid}/vote", data={"t": old, **YES})):
            assert r.status_code == 409 and 'data-code="old-version"' in r.text
            assert 'lang="fr"' in r.text and "a changé" in r.text
            assert "annexe tropicale" in r.text
        assert web.post(f"/polls/{pid}/vote",
                        data={"t": _token(bot, ids[MEMBER_FR], pid, version=2), **YES}
                        ).status_code == 200


def test_database_down_answers_503_with_a_sentence(make_bot, sqlite_url: str,
                                                   tmp_path) -> None:
    bot: Bot = make_bot(sqlite_url)
    pid, ids = _setup(bot)
    tok = _token(bot, ids[MEMBER], pid)
    gone = make_engine(f"sqlite:///{tmp_path}/no/such/dir/x.db")
    bot.session_factory = make_session_factory(gone)
    with http_app(create_web_app(bot)) as base, \
            httpx.Client(base_url=base, headers=origin(bot)) as web:
        for r in (web.get(f"/polls/{pid}/vote", params={"t": tok}),
                  web.post(f"/polls/{pid}/vote", data={"t": tok, **YES})):
            assert r.status_code == 503 and "database cannot be reached" in r.text
            assert "Traceback" not in r.text
    gone.dispose()


def test_the_token_is_redacted_from_the_access_log(make_bot, sqlite_url: str) -> None:
    make_bot(sqlite_url, roster=None)  # installing polls puts the filter on uvicorn.access
    assert REDACT in logging.getLogger("uvicorn.access").filters
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1,
                               '%s - "%s %s HTTP/%s" %d', ("127.0.0.1:5", "GET",
                               "/polls/3/vote?t=eyJwZXJzb24iOjF9.aBc.dEf&x=1", "1.1", 200),
                               None)
    assert REDACT.filter(record)
    line = record.getMessage()
    assert "eyJ" not in line and "/polls/3/vote?t=REDACTED&x=1" in line
