"""Observers never hold a stance, by any path: chat command, button, reason
form, a member's link edited to point at them, a link signed for them, an
email reply, a direct web POST, a linked Slack account."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from email.message import EmailMessage

import httpx
from sqlalchemy import select

from adapters.console import ConsoleSession
from adapters.email.imap import handle_reply
from bot.app import Bot
from bot.polls import ballots
from bot.polls.tokens import mint
from bot.types import Actor, ButtonPress, Conversation, FormSubmission
from bot.web import create_web_app
from storage.base import utcnow
from storage.models import EmailAddress
from tests.adapters.email.servers import http_app
from tests.conftest import AUTH_PASS, MEMBER, MEMBER_FR, OBSERVER, OBSERVER_FR, SECRETARIAT
from tests.polls.helpers import YES, all_stances, fail_round_one, open_round_two, origin


def _edit_person(token: str, person_id: int) -> str:
    """Change the person in a signed token's payload, keeping its signature."""
    payload, _, signature = token.partition(".")
    pad = "=" * (-len(payload) % 4)
    data = json.loads(base64.urlsafe_b64decode(payload + pad))
    data["person"] = person_id
    raw = base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode())
    return f"{raw.decode().rstrip('=')}.{signature}"


def test_observers_hold_no_stance_by_any_path(bot: Bot) -> None:
    pid = fail_round_one(bot, secretariat=SECRETARIAT, block_by=MEMBER_FR)
    # round 1 is over; watch the stance count from here, in round 2 and round 1
    before = all_stances(bot)
    open_round_two(bot, secretariat=SECRETARIAT, pid=pid)
    with bot.session_factory() as s:
        ids = dict(s.execute(select(EmailAddress.address, EmailAddress.person_id)).all())
    key = bot.settings.signing_key()
    exp = utcnow() + timedelta(hours=24)
    refusals: list[str] = []

    # 1. chat command, in both observers' languages
    for who in (OBSERVER, OBSERVER_FR):
        refusals.append(ConsoleSession(dispatch=bot.dispatch, email=who).feed(
            f"vote {pid} agree"))
    # 2. a button (the value names the open round)
    tom = Actor("console", "", OBSERVER)
    where = Conversation("console", "", "t")
    refusals += [r.message.text for r in bot.dispatch(
        ButtonPress("poll.stance", f"{pid}:2:agree", tom, where, "obs-button"))]
    # 3. the reason form
    refusals += [r.message.text for r in bot.dispatch(FormSubmission(
        "poll.reason", (("reason", "no"),), tom, where, "obs-form", context=f"{pid}:2:block"))]
    # 4. a linked Slack account
    bot.identify(Actor("slack", "T1", "U_TOM"), OBSERVER)
    refusals += [r.message.text for r in bot.dispatch(ButtonPress(
        "poll.stance", f"{pid}:2:agree", Actor("slack", "T1", "U_TOM"),
        Conversation("slack", "T1", "C1"), "obs-slack"))]
    # 5. a direct dispatch as the web platform
    refusals += [r.message.text for r in bot.dispatch(ButtonPress(
        "poll.stance", f"{pid}:2:agree", Actor("web", "", OBSERVER),
        Conversation("web", "", "vote-link"), "obs-web"))]
    assert len(refusals) == 6
    assert all("does not allow" in r or "ne le permet pas" in r for r in refusals), refusals

    with http_app(create_web_app(bot)) as base, \
            httpx.Client(base_url=base, timeout=30, headers=origin(bot)) as web:
        member_token = mint(key=key, person_id=ids[MEMBER], poll_id=pid, round_no=2,
                            stance="agree", expires_at=exp)
        # 6. a member's link edited to point at the observer
        edited = _edit_person(member_token, ids[OBSERVER])
        assert edited != member_token
        r = web.post(f"/polls/{pid}/vote", data={"t": edited, **YES})
        assert r.status_code == 400 and 'data-code="tampered"' in r.text
        # 7. a link properly signed for the observer: GET and POST
        obs_token = mint(key=key, person_id=ids[OBSERVER], poll_id=pid, round_no=2,
                         stance="agree", expires_at=exp)
        assert web.get(f"/polls/{pid}/vote", params={"t": obs_token}).status_code == 403
        r = web.post(f"/polls/{pid}/vote", data={"t": obs_token, **YES})
        assert r.status_code == 403 and "role does not allow" in r.text
        # 8. a direct web POST without a token
        r = web.post(f"/polls/{pid}/vote", data={"reason": "x", **YES})
        assert r.status_code == 400

    # 9. an email reply from the observer, to a ballot properly signed and
    # recorded as sent to him (as if sent before a demotion)
    mid = ballots.message_id(key=key, person_id=ids[OBSERVER], poll_id=pid, round_no=2,
                             version=1, kind="b", domain="alliance.example")
    with bot.session_factory() as s, s.begin():
        ballots.record(s, ballots.BallotRef(ids[OBSERVER], pid, 2, 1, mid))
    msg = EmailMessage()
    msg["From"] = "Tom Becker <Tom.Becker@agrifinance.example>"
    msg["Subject"] = f"Re: [poll #{pid}/2] Proposal"
    msg["In-Reply-To"] = mid
    msg["Message-ID"] = "<obs-reply-1@agrifinance.example>"
    msg["Authentication-Results"] = AUTH_PASS
    msg.set_content("Agree\n\nFrom the lenders' side this is fine.\n")
    outcome = handle_reply(bot, msg)
    assert outcome is not None and "does not allow" in outcome.answer

    assert all_stances(bot) == before  # zero stances by observers, on any path
