"""One filter keeps every capability's link tokens out of the HTTP access log."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from bot.app import Bot
from bot.web import REDACT, RedactTokens

ACCESS = '%s - "%s %s HTTP/%s" %d'


@pytest.mark.parametrize(("path", "logged"), [
    ("/polls/3/vote?t=eyJwZXJzb24iOjF9.aBc.dEf&x=1", "/polls/3/vote?t=REDACTED&x=1"),
    ("/polls/3/vote/eyJwZXJzb24iOjF9.aBc.dEf", "/polls/3/vote/REDACTED"),
    ("/sprints/offers/3?t=SECRET.x&y=1", "/sprints/offers/3?t=REDACTED&y=1"),
    ("/sprints/4/join?t=SECRET.x", "/sprints/4/join?t=REDACTED"),
    ("/workshops/3/availability?t=SECRET.sig", "/workshops/3/availability?t=REDACTED"),
    ("/workshops/3/rsvp?at=1&t=SECRET.sig", "/workshops/3/rsvp?at=1&t=REDACTED"),
    ("/workshops/feed/SECRET.sig.ics", "/workshops/feed/REDACTED.ics"),
    ("/workshops/feed.ics", "/workshops/feed.ics"),
    ("/healthz", "/healthz"),
])
def test_tokens_are_redacted_from_access_lines(path: str, logged: str) -> None:
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, ACCESS,
                               ("127.0.0.1:5", "GET", path, "1.1", 200), None)
    assert RedactTokens().filter(record)
    assert record.getMessage() == f'127.0.0.1:5 - "GET {logged} HTTP/1.1" 200'
    assert "SECRET" not in record.getMessage() and "eyJ" not in record.getMessage()


def test_a_token_in_the_message_itself_is_redacted() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1,
                               "GET /sprints/offers/3?t=SECRET.x", None, None)
    REDACT.filter(record)
    assert record.getMessage() == "GET /sprints/offers/3?t=REDACTED"


def test_every_capability_installs_the_one_filter_once(make_bot: Callable[..., Bot],
                                                       sqlite_url: str) -> None:
    access = logging.getLogger("uvicorn.access")
    bot = make_bot(sqlite_url, roster=None)
    prefixes = {str(getattr(r, "path", "")).split("/")[1]
                for r in bot.registry.make_web_routes(bot)}
    assert {"polls", "workshops", "sprints"} <= prefixes  # each installed its pages
    assert [f for f in access.filters if isinstance(f, RedactTokens)] == [REDACT]
