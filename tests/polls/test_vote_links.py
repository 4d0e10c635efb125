"""Vote links: GET only shows a confirmation; POST casts; every refusal says why."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from bot.app import Bot
from bot.polls.tokens import mint
from bot.web import create_web_app
from storage.base import utcnow
from storage.models import Proposal
from tests.adapters.email.servers import http_app
from tests.conftest import CHAIR, MEMBER, MEMBER_FR, OBSERVER, SECRETARIAT
from tests.polls.helpers import YES, fail_round_one, open_round_two, origin, stances

AMARA_ID, CLAIRE_ID, TOM_ID = 1, 2, 5


def _ids(bot: Bot) -> dict[str, int]:
    from sqlalchemy import select

    from storage.models import EmailAddress

    with bot.session_factory() as s:
        return {a: pid for a, pid in s.execute(select(EmailAddress.address,
                                                      EmailAddress.person_id)).all()}


@pytest.fixture
def web(bot: Bot) -> Iterator[httpx.Client]:
    """The HTTP app (health + the email plugin's vote pages) on a loopback port."""
    with http_app(create_web_app(bot)) as base, \
            httpx.Client(base_url=base, timeout=30, headers=origin(bot)) as client:
        yield client


def _token(bot: Bot, person: int, pid: int, stance: str = "agree", *, round_no: int = 2,
           hours: float = 24) -> str:
    return mint(key=bot.settings.signing_key(), person_id=person, poll_id=pid,
                round_no=round_no, stance=stance, expires_at=utcnow() + timedelta(hours=hours))


def test_get_confirms_and_casts_nothing_post_casts_once(bot: Bot, web: httpx.Client) -> None:
    pid = fail_round_one(bot, secretariat=SECRETARIAT, block_by=MEMBER_FR)
    open_round_two(bot, secretariat=SECRETARIAT, pid=pid)
    ids = _ids(bot)
    tok = _token(bot, ids[MEMBER], pid)
    page = web.get(f"/polls/{pid}/vote", params={"t": tok})
    assert page.status_code == 200 and 'method="post"' in page.text
    assert "Confirm: Agree" in page.text
    assert stances(bot, pid, 2) == {}  # a scanner following the link casts nothing
    done = web.post(f"/polls/{pid}/vote", data={"t": tok, **YES})
    assert done.status_code == 200 and "Stance recorded" in done.text
    assert stances(bot, pid, 2)[f"p:{ids[MEMBER]}"] == ("agree", "web", "")
    again = web.post(f"/polls/{pid}/vote", data={"t": tok, **YES})  # replayed
    assert again.status_code == 409 and "already used" in again.text
    assert len(stances(bot, pid, 2)) == 1
    # a block link asks for a reason, in the voter's language
    tok_fr = _token(bot, ids[MEMBER_FR], pid, "block")
    page = web.get(f"/polls/{pid}/vote", params={"t": tok_fr})
    assert "required" in page.text and 'lang="fr"' in page.text
    no_reason = web.post(f"/polls/{pid}/vote", data={"t": tok_fr, **YES})
    assert no_reason.status_code == 422
    ok = web.post(f"/polls/{pid}/vote", data={"t": tok_fr, "reason": "<b>Trop tôt</b>", **YES})
    assert ok.status_code == 200
    assert stances(bot, pid, 2)[f"p:{ids[MEMBER_FR]}"] == ("block", "web", "<b>Trop tôt</b>")
    # everything on a page is escaped (here a title with markup)
    with bot.session_factory() as s, s.begin():
        prop = s.get(Proposal, pid)
        assert prop is not None
        prop.title = "<img src=x onerror=alert(1)>"
    page = web.get(f"/polls/{pid}/vote", params={"t": _token(bot, ids[CHAIR], pid)})
    assert "<img src=x" not in page.text and "&lt;img src=x onerror=alert(1)&gt;" in page.text


def test_refusals_say_why(bot: Bot, web: httpx.Client) -> None:
    pid = fail_round_one(bot, secretariat=SECRETARIAT, block_by=MEMBER_FR)
    open_round_two(bot, secretariat=SECRETARIAT, pid=pid)
    other = fail_round_one(bot, secretariat=SECRETARIAT, block_by=MEMBER_FR)
    ids = _ids(bot)
    good = _token(bot, ids[MEMBER], pid)
    # tampered: one character of the signed payload changed
    bad = good[:5] + ("A" if good[5] != "A" else "B") + good[6:]
    for method in ("get", "post"):
        kwargs = {"params": {"t": bad}} if method == "get" else {"data": {"t": bad, **YES}}
        r = getattr(web, method)(f"/polls/{pid}/vote", **kwargs)
        assert r.status_code == 400 and "not valid" in r.text and 'data-code="tampered"' in r.text
    # expired
    old = _token(bot, ids[MEMBER], pid, hours=-1)
    r = web.post(f"/polls/{pid}/vote", data={"t": old, **YES})
    assert r.status_code == 410 and "expired" in r.text
    # another poll's link used on this poll's page
    r = web.post(f"/polls/{other}/vote", data={"t": good, **YES})
    assert r.status_code == 400 and f"belongs to another proposal (#{pid})" in r.text
    # a link of round 1 (not the open round)
    r = web.post(f"/polls/{pid}/vote", data={"t": _token(bot, ids[MEMBER], pid, round_no=1), **YES})
    assert r.status_code == 410 and "closed" in r.text
    # a token signed with another key
    forged = mint(key="not-our-key", person_id=ids[MEMBER], poll_id=pid, round_no=2,
                  stance="agree", expires_at=utcnow() + timedelta(hours=1))
    assert web.post(f"/polls/{pid}/vote", data={"t": forged, **YES}).status_code == 400
    # escaped: markup in the token parameter never reaches the page as markup
    r = web.get(f"/polls/{pid}/vote", params={"t": "<script>alert(1)</script>"})
    assert "<script>" not in r.text
    assert stances(bot, pid, 2) == {}


def test_replay_after_round_close_and_chair_member_link(bot: Bot, web: httpx.Client) -> None:
    pid = fail_round_one(bot, secretariat=SECRETARIAT, block_by=MEMBER_FR)
    open_round_two(bot, secretariat=SECRETARIAT, pid=pid)
    ids = _ids(bot)
    r = web.post(f"/polls/{pid}/vote", data={"t": _token(bot, ids[CHAIR], pid, "abstain"), **YES})
    assert r.status_code == 200  # the chair is also a member of the alliance
    tom = web.post(f"/polls/{pid}/vote", data={"t": _token(bot, ids[OBSERVER], pid), **YES})
    assert tom.status_code == 403 and "role does not allow" in tom.text
    assert set(stances(bot, pid, 2)) == {f"p:{ids[CHAIR]}"}
