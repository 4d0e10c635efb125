"""Every signed-link page in a real browser (Debian's chromium, headless) at
375 px and 1280 px: one stylesheet, no sideways scrolling, the person's
language, the facts needed to decide, and a way back where a step failed.

Screenshots are written to ``tests/.artifacts/screens/`` (git-ignored) as
``<page>-<width>.png`` so a person can look at them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.app import Bot
from bot.members import person_by_email
from bot.polls.tokens import mint as vote_token
from bot.sprints.tokens import mint as sprint_token
from bot.web import create_web_app
from bot.workshops import tokens as ws_tokens
from storage.base import utcnow
from tests.adapters.email.servers import free_port, http_app
from tests.browser import chromium
from tests.conftest import MEMBER, MEMBER_ES, MEMBER_FR, SECRETARIAT
from tests.polls.helpers import fail_round_one, open_round_two, origin
from tests.sprints.helpers import offers, open_sprint
from tests.sprints.helpers import say as sprint_say
from tests.workshops.helpers import confirmed_workshop, new_workshop

SCREENS = Path(__file__).resolve().parent.parent / ".artifacts" / "screens"
WIDTHS = (375, 1280)
PRIYA = "priya.nair@carbonledger.example"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as driver:
        yield driver


def _pid(bot: Bot, email: str) -> int:
    with bot.session_factory() as s:
        person = person_by_email(s, email)
        assert person is not None
        return person.id


def _pages(bot: Bot) -> dict[str, tuple[str, str]]:
    """name -> (path with its signed link, the language the page must be in)."""
    key = bot.settings.signing_key()
    later = utcnow() + timedelta(days=3)
    poll = fail_round_one(bot, secretariat=SECRETARIAT, block_by=MEMBER_FR)
    open_round_two(bot, secretariat=SECRETARIAT, pid=poll)
    fr = _pid(bot, MEMBER_FR)
    block = vote_token(key=key, person_id=fr, poll_id=poll, round_no=2, stance="block",
                       expires_at=later, version=1)
    agree = vote_token(key=key, person_id=_pid(bot, MEMBER_ES), poll_id=poll, round_no=2,
                       stance="agree", expires_at=later, version=1)
    finding = new_workshop(bot)
    confirmed = confirmed_workshop(bot, when=f"{datetime.now(UTC).year + 1}-05-12 15:00")
    avail = ws_tokens.mint(key=key, purpose="availability", person_id=_pid(bot, MEMBER_ES),
                           workshop_id=finding, expires_at=later)
    rsvp = ws_tokens.mint(key=key, purpose="rsvp", person_id=fr, workshop_id=confirmed,
                          answer="accepted", expires_at=later)
    sid = open_sprint(bot, capacity=1)
    sprint_say(bot, MEMBER, f"sprint join {sid}")
    sprint_say(bot, PRIYA, f"sprint join {sid}")
    sprint_say(bot, MEMBER, f"sprint leave {sid}")
    offer = offers(bot, sid)[-1]
    offer_t = sprint_token(key=key, purpose="offer", person_id=_pid(bot, PRIYA),
                           target=offer.id, expires_at=later)
    join_t = sprint_token(key=key, purpose="join", person_id=fr, target=sid, expires_at=later)
    return {
        "vote-block-fr": (f"/polls/{poll}/vote?t={block}", "fr"),
        "vote-agree-es": (f"/polls/{poll}/vote?t={agree}", "es"),
        "vote-refused-fr": (f"/polls/{poll}/vote?t={block[:-3]}AAA", "en"),
        "availability-es": (f"/workshops/{finding}/availability?t={avail}", "es"),
        "rsvp-fr": (f"/workshops/{confirmed}/rsvp?t={rsvp}", "fr"),
        "sprint-offer-en": (f"/sprints/offers/{offer.id}?t={offer_t}", "en"),
        "sprint-join-fr": (f"/sprints/{sid}/join?t={join_t}", "fr"),
        "sprint-refused-fr": (f"/sprints/{sid}/join?t={join_t[:-2]}xx", "en"),
    }


def _check(driver: Any, base: str, name: str, path: str, lang: str) -> None:
    for width in WIDTHS:
        driver.set_window_size(width, 1000)
        driver.get(base + path)
        assert driver.execute_script("return document.documentElement.lang") == lang, name
        sheet = driver.execute_script(
            "return getComputedStyle(document.querySelector('main')).maxWidth")
        assert sheet not in ("", "none"), f"{name}: the stylesheet did not load"
        overflow = driver.execute_script(
            "return document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {width}px"
        for el in driver.find_elements("css selector", "textarea, button, input, table"):
            r = el.rect
            if r["width"]:
                assert r["x"] >= 0 and r["x"] + r["width"] <= width, (name, el.tag_name, r)
        SCREENS.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(SCREENS / f"{name}-{width}.png"))


def test_every_signed_link_page_reads_at_375_and_1280(browser: Any, make_bot: Any,
                                                       sqlite_url: str) -> None:
    port = free_port()
    # The pages' own origin is the public URL, so the browser's form posts pass
    # the same-origin check as they would in production.
    bot: Bot = make_bot(sqlite_url, http={"base_url": f"http://127.0.0.1:{port}"})
    pages = _pages(bot)
    with http_app(create_web_app(bot), port=port) as base:
        for name, (path, lang) in pages.items():
            _check(browser, base, name, path, lang)
        # the facts a person needs to decide
        browser.get(base + pages["sprint-offer-en"][0])
        text = browser.find_element("css selector", "main").text
        assert "Dates" in text and "Sign-ups close" in text and "held until" in text
        browser.get(base + pages["sprint-join-fr"][0])
        assert "Les inscriptions ferment" in browser.find_element("css selector", "main").text \
            or "inscriptions" in browser.find_element("css selector", "main").text
        # a block sent without a reason comes back to its form, flagged, not a dead end
        browser.set_window_size(375, 1000)
        browser.get(base + pages["vote-block-fr"][0])
        browser.execute_script("document.getElementById('reason').removeAttribute('required')")
        browser.find_element("css selector", "button[type=submit]").click()
        from selenium.webdriver.support.wait import WebDriverWait

        error = WebDriverWait(browser, 15).until(
            lambda d: d.find_elements("css selector", "#reason-error"))[0]
        assert error.is_displayed() and "raison" in error.text.lower()
        area = browser.find_element("id", "reason")
        assert area.get_attribute("aria-invalid") == "true"
        overflow = browser.execute_script(
            "return document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0
        browser.save_screenshot(str(SCREENS / "vote-block-retry-fr-375.png"))
        area.send_keys("Le budget n'est pas chiffré.")
        browser.find_element("css selector", "button[type=submit]").click()
        done = WebDriverWait(browser, 15).until(
            lambda d: d.find_elements("css selector", ".done"))[0]
        assert done.is_displayed()


def test_a_block_without_a_reason_is_asked_again_not_refused(bot: Bot) -> None:
    key = bot.settings.signing_key()
    poll = fail_round_one(bot, secretariat=SECRETARIAT, block_by=MEMBER_FR)
    open_round_two(bot, secretariat=SECRETARIAT, pid=poll)
    block = vote_token(key=key, person_id=_pid(bot, MEMBER_ES), poll_id=poll, round_no=2,
                       stance="block", expires_at=utcnow() + timedelta(days=1), version=1)
    with http_app(create_web_app(bot)) as base, \
            httpx.Client(base_url=base, headers=origin(bot)) as web:
        r = web.post(f"/polls/{poll}/vote", data={"t": block, "confirm": "yes",
                                                  "reason": "  "})
        assert r.status_code == 422
        assert "data-code" not in r.text  # not the refusal page
        assert 'aria-invalid="true"' in r.text and 'name="t"' in r.text
        assert 'lang="es"' in r.text
        css = web.get("/static/convene.css")
        assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
        assert "max-width" in css.text
        assert 'href="/static/convene.css"' in r.text and "<style" not in r.text
