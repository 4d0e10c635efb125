"""Each capability's messages, rendered for a French and a Spanish person (in
chat on the terminal and in the emails queued for them), read as their language:
no ISO timestamp, no ``.`` decimal, no count that disagrees with its noun, no
hand-made agreement and no English word outside the catalogs
(:mod:`tests.locale_checks`).

Not read here: the commands a person types back (``vote 3 ...``, ``workshop
slots 3``), which are the product's command words in every language.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from adapters.console import ConsoleSession
from bot.app import Bot
from bot.i18n import translator
from bot.mail import OutgoingEmail
from bot.types import is_safe_url
from digests.render import ItemView, render_digest
from digests.taxonomy import load_taxonomy
from storage.models import OutboxMessage
from tests.conftest import (
    MEMBER,
    MEMBER_ES,
    MEMBER_FR,
    OBSERVER_FR,
    SECRETARIAT,
    SECRETARIAT_ES,
)
from tests.locale_checks import problems
from tests.polls.helpers import fail_round_one, new_poll, open_round_two
from tests.sprints.helpers import open_sprint
from tests.workshops.helpers import YEAR

READER = {"fr": MEMBER_FR, "es": MEMBER_ES}
#: Typed by someone (titles, names, texts): not the product's words.
TYPED = ("Protocole v2", "Protocolo v2", "Low-cost soil probes", "Build and compare",
         "**cheap** probes", "Carbone des sols", "Amara Okafor", "James Wilson", "Helen Cho",
         "Claire Dubois", "Mateo Rojas", "Sofía García", "Lucie Martin", "Tom Becker",
         "Priya Nair", "TerraSoil Analytics", "Institut Sol Vivant", "Suelos Vivos",
         "Alliance Secretariat", "Pacific Soil Institute", "Carbon Ledger Labs",
         "AgriFinance Partners", "ONG Terres Communes", "Alliance", "Measurement Working Group",
         "Sols vivants", "Adopt the soil protocol v2", "We adopt **v2** of the sampling protocol.",
         "Not before the field trials end")
#: What a person types back: a command and its arguments, or a backticked synopsis.
COMMAND = re.compile(r"`[^`]*`|\b(?:vote|poll|sprint|workshop|digest|decisions|interests|"
                     r"whoami|help|home)(?: [\w|\[\].:@,-]+)*")


def _read(text: str, language: str) -> list[str]:
    for typed in TYPED:
        text = text.replace(typed, " ")
    return problems(COMMAND.sub(" ", text), language)


def _emails_to(bot: Bot, address: str) -> list[str]:
    with bot.session_factory() as s:
        rows = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "email")
                         .order_by(OutboxMessage.id)).all()
        mails = [OutgoingEmail.from_payload(r.payload) for r in rows]
    return [f"{m.subject}\n{m.text}" for m in mails if address in m.to]


def _polls(bot: Bot, say: Callable[[str, str], str], me: str) -> list[str]:
    pid = new_poll(bot, SECRETARIAT, title="Protocole v2", text="Protocolo v2.")
    out = [say(me, f"poll show {pid}"), say(me, "poll list"),
           say(me, f"vote {pid} bloqueo"), say(me, f"vote {pid} bloquer caro, trop cher"),
           say(OBSERVER_FR, f"poll comment {pid} Avis."), say(me, f"poll show {pid}"),
           say(me, "home")]
    pid2 = fail_round_one(bot, secretariat=SECRETARIAT, block_by=MEMBER, days=3)
    open_round_two(bot, secretariat=SECRETARIAT, pid=pid2)
    out += [say(me, f"poll show {pid2}"), say(me, "decisions")]
    return out


def _sprints(bot: Bot, say: Callable[[str, str], str], me: str) -> list[str]:
    sid = open_sprint(bot, capacity=1, org_cap=1, currency="EUR", goal="5000",
                      minimum="3000", funding_days=8)
    say(MEMBER, f"sprint join {sid}")  # the only seat: the reader waits
    return [say(me, f"sprint show {sid}"), say(me, "sprint list"),
            say(me, f"sprint join {sid}"), say(me, f"sprint position {sid}"),
            say(me, f"sprint pledge {sid} 1500,50 EUR"), say(me, f"sprint show {sid}"),
            say(me, f"sprint leave {sid}"), say(me, f"sprint join {sid}"), say(me, "home")]


def _workshops(bot: Bot, say: Callable[[str, str], str], me: str) -> list[str]:
    out = say(SECRETARIAT, "workshop series new Carbone des sols | Europe/Paris | 15:00 | 90 | "
              "soil_measurement | | quarterly | https://meet.example/soil")
    sid = int(out.split("#", 1)[1].split()[0])
    wid = int(say(SECRETARIAT, f"workshop open {sid} {YEAR}-Q1").split("#", 1)[1].split()[0])
    for when in (f"{YEAR}-03-11 15:00", f"{YEAR}-03-12 08:00"):
        say(SECRETARIAT, f"workshop slot add {wid} {when}")
    seen = [say(me, f"workshop slots {wid}"), say(me, f"workshop answer {wid} 1 yes"),
            say(me, f"workshop show {wid}")]
    say(OBSERVER_FR, f"workshop answer {wid} 1 yes")  # an observer counts half: 1,5
    seen += [say(me, f"workshop recommend {wid}"),
             say(SECRETARIAT_ES, f"workshop ledger {wid}") if me == MEMBER_ES else ""]
    say(SECRETARIAT, f"workshop confirm {wid}")
    seen += [say(me, f"workshop rsvp {wid} accept"), say(me, f"workshop show {wid}"),
             say(me, f"workshop agenda add {wid} Bilan"), say(me, f"workshop agenda {wid}"),
             say(me, "workshop list"), say(me, "home"),
             say(SECRETARIAT_ES, f"workshop attendees {wid}") if me == MEMBER_ES else ""]
    return seen


def _core(bot: Bot, say: Callable[[str, str], str], me: str) -> list[str]:
    return [say(me, "whoami"), say(me, "home"), say(me, "help"), say(me, "nonsense")]


CAPABILITIES = {"polls": _polls, "sprints": _sprints, "workshops": _workshops, "core": _core}


@pytest.mark.parametrize("language", ["fr", "es"])
@pytest.mark.parametrize("capability", sorted(CAPABILITIES))
def test_chat_and_email_read_in_the_readers_language(bot: Bot, capability: str,
                                                     language: str) -> None:
    me = READER[language]

    def say(who: str, line: str) -> str:
        return ConsoleSession(dispatch=bot.dispatch, email=who).feed(line)

    seen = CAPABILITIES[capability](bot, say, me)
    seen += _emails_to(bot, me)
    assert any(seen), capability
    found = [f"{p}" for text in seen for p in _read(text, language)]
    assert not found, f"{capability}, {language}:\n" + "\n".join(found)


def _item(k: int) -> ItemView:
    return ItemView(position=k, title=f"Sols vivants {k}", url=f"https://a.example/{k}",
                    summary="Sols vivants.", language="fr", topic="soil_measurement",
                    matched=("soil carbon",), published_at=datetime(2026, 11, 18, 9, tzinfo=UTC))


@pytest.mark.parametrize("language", ["fr", "es"])
@pytest.mark.parametrize("count", [1, 3])
def test_the_press_review_reads_in_the_readers_language(language: str, count: int) -> None:
    tr = translator(language)
    r = render_digest(items=[_item(k) for k in range(1, count + 1)], week="2026-W47",
                      taxonomy=load_taxonomy(), language=language, gettext=tr.gettext,
                      ngettext=tr.ngettext, alliance="Alliance",
                      is_safe_link=is_safe_url)
    html_text = re.sub(r"<[^>]+>", " ", r.html.split("<body", 1)[-1])
    for text in (r.subject, r.text, r.summary, html_text):
        found = _read(text.replace("soil carbon", " "), language)
        assert not found, "\n".join(found) + "\n---\n" + text
