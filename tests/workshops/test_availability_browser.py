"""The availability page in a real browser: Debian's chromium driven by
Selenium through chromium-driver, headless. A person opens their signed link,
sees the slots in their own zone with the zone named, answers by clicking and
by keyboard (Tab, arrow keys, Space), at 375 px and at desktop width; the
answers are stored against the slots' UTC instants. A tampered or expired link
gets a page that says why."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import Bot
from bot.members import person_by_email
from bot.web import create_web_app
from bot.workshops import tokens
from storage.models import WorkshopAvailability, WorkshopSlot
from tests.adapters.email.servers import http_app
from tests.browser import chromium
from tests.conftest import CHAIR, MEMBER_ES
from tests.workshops.helpers import YEAR, new_workshop

#: Paris 15:00 in March (CET) and April (CEST): UTC 14:00 and 13:00
SLOTS = (f"{YEAR}-03-11 15:00", f"{YEAR}-04-08 15:00")
UTC_STARTS = (datetime(YEAR, 3, 11, 14, tzinfo=UTC), datetime(YEAR, 4, 8, 13, tzinfo=UTC))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as driver:
        yield driver


def _link(bot: Bot, wid: int, email: str, *, days: float = 5) -> str:
    with bot.session_factory() as s:
        person = person_by_email(s, email)
        assert person is not None
        pid = person.id
    t = tokens.mint(key=bot.settings.signing_key(), purpose="availability", person_id=pid,
                    workshop_id=wid, expires_at=datetime.now(UTC) + timedelta(days=days))
    return f"/workshops/{wid}/availability?t={t}"


def _stored(bot: Bot, email: str) -> dict[datetime, str]:
    with bot.session_factory() as s:
        person = person_by_email(s, email)
        assert person is not None
        rows = s.execute(select(WorkshopSlot.starts_at, WorkshopAvailability.answer).join(
            WorkshopAvailability, WorkshopAvailability.slot_id == WorkshopSlot.id).where(
            WorkshopAvailability.person_id == person.id)).all()
    return {(t if t.tzinfo else t.replace(tzinfo=UTC)): a for t, a in rows}


def _fits(driver: Any, width: int) -> None:
    """Nothing scrolls sideways and every answer is on screen and big enough to tap."""
    overflow = driver.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px at {width}px"
    for label in driver.find_elements("css selector", "fieldset label"):
        r = label.rect
        assert r["x"] >= 0 and r["x"] + r["width"] <= width, (label.text, r)
        assert r["height"] >= 44, (label.text, r)


def _answer(driver: Any, base: str, url: str, *, width: int) -> list[str]:
    """Open ``url`` at ``width`` px; click "yes" on the first slot, then by
    keyboard only: Tab to the second slot's answers, arrow to the second
    choice, Tab to the button, Space to send. Returns the rows' texts."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    driver.set_window_size(width, 900)
    driver.get(base + url)
    assert driver.execute_script("return window.innerWidth") <= width
    _fits(driver, width)
    rows = driver.find_elements("css selector", "tr[data-slot]")
    assert [r.get_attribute("data-utc") for r in rows] == [t.isoformat() for t in UTC_STARTS]
    first, second = rows
    first.find_elements("css selector", "label")[0].click()  # by pointer
    assert first.find_elements("css selector", "input")[0].is_selected()
    keys = ActionChains(driver)
    keys.send_keys(Keys.TAB).perform()  # leaves the first group for the second
    focused = driver.switch_to.active_element
    assert focused.get_attribute("name") == f"slot-{second.get_attribute('data-slot')}"
    outline = driver.execute_script(
        "return getComputedStyle(document.activeElement.nextElementSibling).outlineStyle")
    assert outline != "none", "the focused answer is not visibly marked"
    keys.send_keys(Keys.SPACE).perform()
    assert second.find_elements("css selector", "input")[0].is_selected()
    keys.send_keys(Keys.ARROW_RIGHT).perform()  # moves to and checks the second choice
    assert second.find_elements("css selector", "input")[1].is_selected()
    keys.send_keys(Keys.TAB).perform()
    assert driver.switch_to.active_element.tag_name == "button"
    texts = [r.find_element("css selector", "td.when").text for r in rows]
    keys.send_keys(Keys.SPACE).perform()  # sends the form
    from selenium.webdriver.support.wait import WebDriverWait

    status = WebDriverWait(driver, 15).until(
        lambda d: d.find_elements("css selector", "[role=status]"))[0]
    assert status.is_displayed() and "2" in status.text, status.text
    _fits(driver, width)
    # the page as sent back shows what was stored
    again = driver.find_elements("css selector", "tr[data-slot]")
    assert [len([i for i in r.find_elements("css selector", "input") if i.is_selected()])
            for r in again] == [1, 1]
    return texts


def test_availability_page_in_chromium(browser: Any, make_bot: Callable[..., Bot],
                                       sqlite_url: str) -> None:
    bot = make_bot(sqlite_url)
    wid = new_workshop(bot, slots=SLOTS)
    with http_app(create_web_app(bot)) as base:
        # Helen, Australia/Sydney, English, on a 375 px phone
        texts = _answer(browser, base, _link(bot, wid, CHAIR), width=375)
        body = browser.find_element("tag name", "body").text
        assert "Times are shown in your time zone, Australia/Sydney." in body
        # 14:00 UTC is 01:00 the next day in Sydney (AEDT); 13:00 UTC is 23:00 (AEST)
        assert "12 Mar" in texts[0] and "01:00 AEDT (Australia/Sydney)" in texts[0]
        assert "8 Apr" in texts[1] and "23:00 AEST (Australia/Sydney)" in texts[1]
        assert _stored(bot, CHAIR) == {UTC_STARTS[0]: "yes", UTC_STARTS[1]: "ifneedbe"}
        # Mateo, America/Bogota, Spanish, on a desktop
        texts = _answer(browser, base, _link(bot, wid, MEMBER_ES), width=1280)
        assert "America/Bogota" in browser.find_element("css selector", "#zone-note").text
        assert "09:00" in texts[0] and "08:00" in texts[1] and "(America/Bogota)" in texts[0]
        # a tampered and an expired link: a page that says why
        good = _link(bot, wid, MEMBER_ES)
        browser.get(base + good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB"))
        refused = browser.find_element("css selector", ".refused")
        assert refused.get_attribute("data-code") == "tampered"
        assert "changed or cut short" in refused.text
        browser.get(base + _link(bot, wid, MEMBER_ES, days=-1))
        refused = browser.find_element("css selector", ".refused")
        # in Mateo's language: the token's signature held, so it names him
        assert refused.get_attribute("data-code") == "expired" and "caducado" in refused.text
        assert not browser.find_elements("css selector", "form")
    chair, mateo = _stored(bot, CHAIR), _stored(bot, MEMBER_ES)
    assert set(chair) == set(mateo) == set(UTC_STARTS)
    assert chair == mateo == {UTC_STARTS[0]: "yes", UTC_STARTS[1]: "ifneedbe"}


def test_rsvp_link_confirms_in_chromium(browser: Any, make_bot: Callable[..., Bot],
                                        sqlite_url: str) -> None:
    """The invite email's RSVP link: the page's own POST is accepted by a real
    browser (under ``Referrer-Policy: no-referrer`` it sent ``Origin: null``
    and was refused as cross-origin)."""
    from selenium.webdriver.support.wait import WebDriverWait

    from tests.workshops.helpers import confirmed_workshop, outbox_emails, rsvps

    bot = make_bot(sqlite_url)
    wid = confirmed_workshop(bot)
    mail = next(m for _k, m in outbox_emails(bot, f"workshop:{wid}:invite:") if m.to == (CHAIR,))
    link = next(line.split(": ", 1)[1] for line in mail.text.splitlines()
                if line.startswith("Tentative: "))
    with http_app(create_web_app(bot)) as base:
        browser.set_window_size(375, 800)
        browser.get(link.replace("http://127.0.0.1:8000", base))
        assert rsvps(bot, wid) == {}  # opening the link answers nothing
        browser.find_element("tag name", "button").click()
        done = WebDriverWait(browser, 15).until(
            lambda d: d.find_elements("css selector", ".done, .refused"))[0]
        assert "tentative" in done.text and done.get_attribute("class") == "done", done.text
    with bot.session_factory() as s:
        person = person_by_email(s, CHAIR)
        assert person is not None
        pid = person.id
    assert rsvps(bot, wid) == {pid: ("tentative", "web")}
