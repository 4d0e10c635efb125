"""Only members sign up, lead and pledge: every role on every path (chat
command, button, select, form, signed link on the web page, a direct web
event, a linked Slack account, the CLI), with a sentence saying why."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx
import pytest
from typer.testing import CliRunner

from bot.app import Bot
from bot.sprints.tokens import mint
from bot.types import Actor, ButtonPress, Conversation, FormSubmission
from bot.web import create_web_app
from storage.base import utcnow
from storage.models import Role
from tests.adapters.email.servers import http_app
from tests.conftest import MEMBER, OBSERVER, SECRETARIAT
from tests.sprints.helpers import WHERE, add_members, counts, offers, open_sprint, say

Path_ = Callable[[Bot, str, int, int], str]


def _pid(bot: Bot, email: str) -> int:
    from bot.members import person_by_email

    with bot.session_factory() as s:
        p = person_by_email(s, email)
        assert p is not None
        return p.id


def _event(bot: Bot, ev: object) -> str:
    return "\n".join(r.message.text for r in bot.dispatch(ev))  # type: ignore[arg-type]


def _actor(email: str) -> Actor:
    return Actor("console", "", email)


def p_command(bot: Bot, email: str, sid: int, _o: int) -> str:
    return say(bot, email, f"sprint join {sid}")


def p_command_lead(bot: Bot, email: str, sid: int, _o: int) -> str:
    return say(bot, email, f"sprint join {sid} lead")


def p_button(bot: Bot, email: str, sid: int, _o: int) -> str:
    return _event(bot, ButtonPress("sprint.join", f"{sid}:contributor", _actor(email), WHERE,
                                   uuid.uuid4().hex))


def p_select_lead(bot: Bot, email: str, sid: int, _o: int) -> str:
    return _event(bot, ButtonPress("sprint.join", f"{sid}:lead", _actor(email), WHERE,
                                   uuid.uuid4().hex))


def p_pledge_command(bot: Bot, email: str, sid: int, _o: int) -> str:
    return say(bot, email, f"sprint pledge {sid} 100 EUR")


def p_pledge_button(bot: Bot, email: str, sid: int, _o: int) -> str:
    return _event(bot, ButtonPress("sprint.pledge", str(sid), _actor(email), WHERE,
                                   uuid.uuid4().hex))


def p_pledge_form(bot: Bot, email: str, sid: int, _o: int) -> str:
    return _event(bot, FormSubmission("sprint.pledge", (("amount", "100"), ("currency", "EUR")),
                                      _actor(email), WHERE, uuid.uuid4().hex, context=str(sid)))


def p_web_platform(bot: Bot, email: str, sid: int, _o: int) -> str:
    return _event(bot, ButtonPress("sprint.join", f"{sid}:contributor", Actor("web", "", email),
                                   Conversation("web", "", "sprint-link"), uuid.uuid4().hex))


def p_slack(bot: Bot, email: str, sid: int, _o: int) -> str:
    uid = "U" + uuid.uuid4().hex[:8]
    assert bot.identify(Actor("slack", "T1", uid), email)
    return _event(bot, ButtonPress("sprint.join", f"{sid}:contributor", Actor("slack", "T1", uid),
                                   Conversation("slack", "T1", "C1"), uuid.uuid4().hex))


def p_join_link(bot: Bot, email: str, sid: int, _o: int) -> str:
    token = mint(key=bot.settings.signing_key(), purpose="join", person_id=_pid(bot, email),
                 target=sid, expires_at=utcnow().replace(year=utcnow().year + 1))
    web = bot.adapters["test.web"]
    assert isinstance(web, httpx.Client)
    r = web.post(f"/sprints/{sid}/join", data={"t": token, "choice": "join"},
                 headers={"origin": str(web.base_url).rstrip("/")})
    return f"{r.status_code} {r.text}"


def p_offer_link(bot: Bot, email: str, sid: int, offer_id: int) -> str:
    token = mint(key=bot.settings.signing_key(), purpose="offer", person_id=_pid(bot, email),
                 target=offer_id, expires_at=utcnow().replace(year=utcnow().year + 1))
    web = bot.adapters["test.web"]
    assert isinstance(web, httpx.Client)
    r = web.post(f"/sprints/offers/{offer_id}", data={"t": token, "choice": "accept"},
                 headers={"origin": str(web.base_url).rstrip("/")})
    return f"{r.status_code} {r.text}"


PATHS: list[Path_] = [p_command, p_command_lead, p_button, p_select_lead, p_pledge_command,
                      p_pledge_button, p_pledge_form, p_web_platform, p_slack, p_join_link,
                      p_offer_link]
REFUSED = ("does not allow", "only members", "not-allowed")


@pytest.mark.parametrize("role", ["observer", "secretariat", "chair"])
def test_only_members_sign_up_lead_and_pledge(bot: Bot, role: str) -> None:
    people = {"observer": OBSERVER, "secretariat": SECRETARIAT}
    email = people.get(role) or add_members(bot, 1, role=Role.CHAIR, prefix="chair")[0]
    sid = open_sprint(bot, capacity=1, minimum="500", currency="EUR")
    say(bot, MEMBER, f"sprint join {sid}")
    other = add_members(bot, 1)[0]
    say(bot, other, f"sprint join {sid}")
    say(bot, MEMBER, f"sprint leave {sid}")
    (offer,) = offers(bot, sid)  # the other member's offer
    before = counts(bot)
    with http_app(create_web_app(bot)) as base, httpx.Client(base_url=base, timeout=30) as web:
        bot.adapters["test.web"] = web
        for path in PATHS:
            text = path(bot, email, sid, offer.id)
            assert any(r in text for r in REFUSED), (role, path.__name__, text)
            assert "went wrong" not in text
    assert counts(bot) == before  # 0 sign-ups, 0 pledges by them
    # observers may follow
    if role == "observer":
        assert "You follow sprint" in say(bot, email, f"sprint follow {sid}")
    # and no CLI command signs anyone up
    from bot.cli import _add_plugin_commands, app

    _add_plugin_commands()
    result = CliRunner().invoke(app, ["sprints", "join", str(sid), email])
    assert result.exit_code != 0 and "No such command" in result.output


def test_members_may_on_every_path(bot: Bot) -> None:
    email = add_members(bot, 1)[0]
    with http_app(create_web_app(bot)) as base, httpx.Client(base_url=base, timeout=30) as web:
        bot.adapters["test.web"] = web
        for path in PATHS[:-1]:
            sid = open_sprint(bot, capacity=2, minimum="500", currency="EUR")
            text = path(bot, email, sid, 0)
            assert not any(r in text for r in REFUSED), (path.__name__, text)
            assert "went wrong" not in text, text
    signed, pledged = counts(bot)
    assert signed == 7 and pledged == 2  # 7 sign-up paths, 2 pledge paths (+1 form shown)
