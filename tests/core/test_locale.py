"""One way to say dates, numbers, plurals and stances, in the reader's language,
and only the product's words (issue 20): each stumble a French or Spanish
reader met, reproduced on the terminal, the web page or the CLI."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from bot.app import Bot
from bot.i18n import translator
from bot.polls.register import decisions, to_csv
from bot.types import is_safe_url
from bot.web import create_web_app
from digests.render import ItemView, render_digest
from digests.taxonomy import load_taxonomy
from storage.engine import make_engine, make_session_factory
from storage.models import EmailAddress, Proposal
from tests.adapters.email.servers import http_app
from tests.conftest import (
    CHAIR,
    MEMBER,
    MEMBER_ES,
    MEMBER_FR,
    OBSERVER_FR,
    SECRETARIAT,
    SECRETARIAT_ES,
)
from tests.locale_checks import ISO_MOMENT, assert_reads_as
from tests.polls.helpers import YES, fail_round_one, new_poll, open_round_two, stances
from tests.sprints.helpers import open_sprint

Chat = Callable[[str], object]


def feed(chat: Chat, who: str, line: str) -> str:
    return chat(who).feed(line)  # type: ignore[attr-defined, no-any-return]


# --- the one helper ---------------------------------------------------------------------

def test_translator_counts_numbers_moments_and_gender() -> None:
    from bot.formatting import Day, Moment
    from bot.i18n import negotiate

    fr, es, en = translator("fr"), translator("es"), translator("en")
    # CLDR/gettext plural rules: French 0 and 1 are singular, Spanish 0 is plural
    assert fr.ngettext("at most {n} seat", "at most {n} seats", 1) == "au plus 1 place"
    assert fr.ngettext("at most {n} seat", "at most {n} seats", 0) == "au plus 0 place"
    assert es.ngettext("at most {n} seat", "at most {n} seats", 0) == "como máximo 0 plazas"
    assert es.ngettext("at most {n} seat", "at most {n} seats", 1) == "como máximo 1 plaza"
    assert en.ngettext("at most {n} seat", "at most {n} seats", 1500) == "at most 1,500 seats"
    assert fr.ngettext("at most {n} seat", "at most {n} seats", 1500) == \
        "au plus 1\u202f500 places"
    # a float or Decimal parameter is a number of the reader's language
    assert fr.gettext("{can} can come", can=4.5).startswith("4,5")
    assert es.gettext("{x}", x=Decimal("1234.5")) == "1.234,5"
    assert en.gettext("{x}", x=2.0) == "2"
    # a moment parameter is written in the language of the sentence it fills
    noon = datetime(2026, 12, 20, 16, 0, tzinfo=UTC)
    assert fr.gettext("{when}", when=Moment(noon, "Europe/Paris")) == \
        "dim. 20 déc. 2026, 17:00 CET (Europe/Paris)"
    assert es.gettext("{when}", when=Moment(noon, "America/Bogota")) == \
        "dom 20 dic 2026, 11:00 UTC-05 (America/Bogota)"
    assert en.gettext("{d}", d=Day(noon.date())) == "Dec 20, 2026"
    # gender: a sprint is masculine where a proposal is feminine
    assert fr.gettext("open") == "ouverte" and fr.pgettext("sprint", "open") == "ouvert"
    assert es.pgettext("sprint", "open") == "abierto"
    # what a person typed is quoted as their language quotes, never as a Python repr
    assert fr.gettext("{word!r} is not a stance: use agree, abstain, disagree or block.",
                      word="peut-être").startswith("«\u202fpeut-être\u202f» n'est pas")
    assert en.gettext("{x!r}", x="d'accord") == "“d'accord”"
    assert negotiate("fr-CH, fr;q=0.9, en;q=0.8") == "fr"
    assert negotiate("de-DE, es;q=0.5") == "es" and negotiate("de") is None


# --- polls --------------------------------------------------------------------------------

def test_poll_times_read_like_workshop_times(bot: Bot, chat: Chat) -> None:
    pid = new_poll(bot, SECRETARIAT, title="Protocole v2", text="Protocolo v2, anexo 3.")
    fr = feed(chat, MEMBER_FR, f"poll show {pid}")
    es = feed(chat, MEMBER_ES, f"poll show {pid}")
    assert "Clôture" in fr and "(Europe/Paris)" in fr and "(America/Bogota)" in es
    for out, lang in ((fr, "fr"), (es, "es")):
        assert not ISO_MOMENT.search(out), out
        assert_reads_as(out, lang)


def test_stance_words_of_every_language_in_chat(bot: Bot, chat: Chat) -> None:
    pid = new_poll(bot, SECRETARIAT)
    out = feed(chat, MEMBER_FR, f"vote {pid} bloquer trop cher pour les petites fermes")
    assert "Bloquer" in out, out
    out = feed(chat, MEMBER_ES, f"vote {pid} en desacuerdo falta el anexo tropical")
    assert "En desacuerdo" in out, out
    out = feed(chat, MEMBER, f"vote {pid} Abstención")
    got = stances(bot, pid)
    assert sorted(s for s, _c, _r in got.values()) == ["abstain", "block", "disagree"]
    assert "trop cher pour les petites fermes" in [r for _s, _c, r in got.values()]
    # the hint and the refusal name the reader's words, which are read back
    show = feed(chat, MEMBER_FR, f"poll show {pid}")
    assert "vote 1 d'accord|abstention|désaccord|bloquer" in show.replace(str(pid), "1")
    refusal = feed(chat, MEMBER_ES, f"vote {pid} quizás")
    assert "apruebo, abstención, desacuerdo o bloqueo" in refusal
    ask = feed(chat, MEMBER_ES, f"vote {pid} bloqueo")
    assert f"vote {pid} bloqueo SU MOTIVO" in ask or "bloqueo" in ask.split("vote")[-1], ask


def _escalate(bot: Bot, pid: int) -> None:
    with bot.session_factory() as s, s.begin():
        p = s.get(Proposal, pid)
        assert p is not None
        p.state = "escalated"


def test_the_register_in_chat_names_stances_the_chairs_note_and_the_discussion(
        bot: Bot, chat: Chat) -> None:
    pid = fail_round_one(bot, secretariat=SECRETARIAT, block_by=MEMBER_FR)
    feed(chat, OBSERVER_FR, f"poll comment {pid} Les petites fermes n'ont pas de sondes.")
    _escalate(bot, pid)
    said = feed(chat, CHAIR, f"poll determine {pid} upheld Adopted with a tropical annex.")
    assert "is adopted despite the objections" in said and "Adopt the soil protocol v2" in said
    fr = feed(chat, MEMBER_FR, "decisions")
    assert "Bloquer de Claire Dubois (tour 1)" in fr, fr
    assert "Note de la présidence\u202f: Adopted with a tropical annex." in fr
    assert "Commentaire consultatif de Lucie Martin" in fr
    assert "console" not in fr and " block " not in fr
    es = feed(chat, MEMBER_ES, "decisions")
    assert "Bloquear de Claire Dubois (ronda 1)" in es and "Nota de la presidencia" in es
    with bot.session_factory() as s:
        [record] = decisions(s)
    assert record["discussion"] == [{"name": "Lucie Martin", "advisory": True,
                                     "text": "Les petites fermes n'ont pas de sondes."}]
    [row] = list(csv.DictReader(io.StringIO(to_csv([record]))))
    assert row["discussion"] == "Lucie Martin (advisory): Les petites fermes n'ont pas de sondes."


def test_a_refusal_before_the_link_is_checked_speaks_the_voters_language(
        make_bot: Callable[..., Bot], sqlite_url: str, tmp_path: Path) -> None:
    from bot.polls.tokens import mint
    from storage.base import utcnow

    bot = make_bot(sqlite_url)
    pid = fail_round_one(bot, secretariat=SECRETARIAT, block_by=MEMBER_FR)
    open_round_two(bot, secretariat=SECRETARIAT, pid=pid)
    with bot.session_factory() as s:
        fr_id = s.scalar(select(EmailAddress.person_id).where(
            EmailAddress.address == MEMBER_FR))
    assert fr_id is not None
    tok = mint(key=bot.settings.signing_key(), person_id=fr_id, poll_id=pid, round_no=2,
               stance="agree", expires_at=utcnow().replace(year=utcnow().year + 1))
    with http_app(create_web_app(bot)) as base, httpx.Client(base_url=base) as web:
        r = web.post(f"/polls/{pid}/vote", data={"t": tok, **YES})  # no Origin
        assert r.status_code == 403 and 'lang="fr"' in r.text
        assert "ne vient pas de la page de confirmation" in r.text or \
            "page de confirmation" in r.text, r.text
        assert "did not come from" not in r.text
        r = web.post(f"/polls/{pid}/vote", data={"t": "forged"},
                     headers={"Accept-Language": "es-CO,es;q=0.9"})
        assert 'lang="es"' in r.text and "did not come from" not in r.text
    # with the database down nobody can be looked up: the browser's language
    gone = make_engine(f"sqlite:///{tmp_path}/no/such/dir/x.db")
    bot.session_factory = make_session_factory(gone)
    with http_app(create_web_app(bot)) as base, httpx.Client(base_url=base) as web:
        r = web.get(f"/polls/{pid}/vote", params={"t": tok},
                    headers={"Accept-Language": "fr-FR,fr;q=0.9"})
        assert r.status_code == 503 and 'lang="fr"' in r.text, r.text
    gone.dispose()


# --- sprints --------------------------------------------------------------------------------

def test_a_sprint_reads_in_its_gender_with_local_dates_and_counts(bot: Bot, chat: Chat) -> None:
    sid = open_sprint(bot, capacity=1, org_cap=1)
    fr = feed(chat, MEMBER_FR, f"sprint show {sid}")
    assert "État: ouvert\n" in fr or "État: ouvert " in fr, fr
    assert "au plus 1 place" in fr and "au plus 1 places" not in fr
    es = feed(chat, MEMBER_ES, f"sprint show {sid}")
    assert "Estado: abierto" in es and "como máximo 1 plaza" in es and "1 plazas" not in es
    for out, lang in ((fr, "fr"), (es, "es")):
        assert not ISO_MOMENT.search(out), out
    listed = feed(chat, MEMBER_FR, "sprint list")
    assert "(ouvert)" in listed, listed


# --- workshops ------------------------------------------------------------------------------

def test_a_workshop_shows_its_topic_and_answers_in_the_products_words(
        bot: Bot, chat: Chat) -> None:
    from tests.workshops.helpers import YEAR, outbox_emails

    out = feed(chat, SECRETARIAT, "workshop series new Carbone des sols | Europe/Paris | 15:00 "
               "| 90 | soil_measurement | | quarterly | https://meet.example/soil")
    sid = int(out.split("#", 1)[1].split()[0])
    wid = int(feed(chat, SECRETARIAT, f"workshop open {sid} {YEAR}-Q1").split("#", 1)[1]
              .split()[0])
    feed(chat, SECRETARIAT, f"workshop slot add {wid} {YEAR}-03-11 15:00")
    shown = feed(chat, MEMBER_FR, f"workshop show {wid}")
    assert "Thème: Technologies de mesure du carbone des sols" in shown, shown
    assert "soil_measurement" not in shown
    feed(chat, SECRETARIAT, f"workshop confirm {wid}")
    feed(chat, MEMBER_FR, f"workshop rsvp {wid} accept")
    listed = feed(chat, SECRETARIAT_ES, f"workshop attendees {wid}")
    assert "Claire Dubois (Institut Sol Vivant): aceptar (en el chat)" in listed, listed
    assert "[console]" not in listed
    invites = outbox_emails(bot, f"workshop:{wid}:invite")
    # the calendar event's description, unfolded (RFC 5545 section 3.1)
    icals = [a.data.decode().replace("\r\n ", "") for _k, e in invites for a in e.attachments
             if a.filename.endswith(".ics")]
    assert icals and not any("soil_measurement" in t for t in icals)
    fr = [t for _k, e in invites for a in e.attachments if e.to == (MEMBER_FR,)
          for t in [a.data.decode().replace("\r\n ", "")]]
    assert any(re.search(r"DESCRIPTION[^:\r\n]*:Technologies de mesure du carbone des sols", t)
               for t in fr), fr


def test_the_workshop_cli_says_answers_not_a_dict(bot: Bot, chat: Chat,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.workshops.helpers import confirmed_workshop

    wid = confirmed_workshop(bot)
    feed(chat, MEMBER_FR, f"workshop rsvp {wid} accept")
    monkeypatch.setenv("CONVENE_DATABASE_URL", bot.settings.database_url)
    from bot.cli import _add_plugin_commands, app

    _add_plugin_commands()
    out = CliRunner().invoke(app, ["workshops", "show", str(wid)])
    assert out.exit_code == 0, out.output
    assert "accept 1, tentative 0, decline 0" in out.stdout, out.stdout
    assert "{" not in out.stdout and "seq=" not in out.stdout and "uid=" not in out.stdout


# --- the press review -----------------------------------------------------------------------

def _item(k: int) -> ItemView:
    return ItemView(position=k, title=f"Sols vivants {k}", url=f"https://a.example/{k}",
                    summary="Résumé.", language="fr", topic="soil_measurement", matched=(),
                    published_at=datetime(2026, 11, 18, 9, tzinfo=UTC))


@pytest.mark.parametrize(("lang", "one", "day"), [
    ("fr", "1 article\u202f;", "18 nov. 2026"), ("es", "1 artículo;", "18 nov 2026")])
def test_one_article_is_one_article_and_dates_are_local(lang: str, one: str, day: str) -> None:
    tr = translator(lang)
    r = render_digest(items=[_item(1)], week="2026-W47", taxonomy=load_taxonomy(),
                      language=lang, gettext=tr.gettext, ngettext=tr.ngettext,
                      is_safe_link=is_safe_url)
    assert r.summary.splitlines()[-1].startswith(one), r.summary
    assert day in r.text and "2026-11-18" not in r.text and "2026-11-18" not in r.html
    three = render_digest(items=[_item(k) for k in (1, 2, 3)], week="2026-W47",
                          taxonomy=load_taxonomy(), language=lang, gettext=tr.gettext,
                          ngettext=tr.ngettext, is_safe_link=is_safe_url)
    assert three.summary.splitlines()[-1].startswith("3 art"), three.summary


def test_digest_build_reports_a_feed_read_in_part_in_plain_words(
        make_bot: Callable[..., Bot], sqlite_url: str, shared_fixtures: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    bot = make_bot(sqlite_url)
    monkeypatch.setenv("CONVENE_DATABASE_URL", bot.settings.database_url)
    monkeypatch.setenv("CONVENE_SECRET_KEY", "a-locale-test-key-of-enough-length")
    from bot.cli import _add_plugin_commands, app

    _add_plugin_commands()
    feed_file = shared_fixtures / "feeds" / "feedjira_TechCrunch.xml"
    out = CliRunner().invoke(app, ["digest", "build", "--week", "2026-W47",
                                   "--feeds", str(feed_file)])
    said = out.output + (out.stderr if out.stderr_bytes is not None else "")
    assert "read with errors" in said, said
    assert "bozo" not in said


def test_the_preview_names_a_broken_source_without_the_parsers_words(
        make_bot: Callable[..., Bot], sqlite_url: str, shared_fixtures: Path) -> None:
    from adapters.console import ConsoleSession
    from bot.digest.service import build

    bot = make_bot(sqlite_url, digest={"feed_dir": str(shared_fixtures / "feeds")})
    broken = shared_fixtures / "feeds" / "feedparser_aaa_illformed.xml"
    build(session_factory=bot.session_factory, settings=bot.settings, feeds=[str(broken)])
    out = ConsoleSession(dispatch=bot.dispatch, email=SECRETARIAT_ES).feed("digest preview")
    assert "Fuentes que no se pudieron leer esta semana" in out, out
    assert "feedparser_aaa_illformed.xml" in out
    assert "SAXParseException" not in out and "malformed" not in out


def test_whoami_names_the_language_not_its_code(bot: Bot, chat: Chat) -> None:
    assert "Langue: français" in feed(chat, MEMBER_FR, "whoami")
    assert "Idioma: español" in feed(chat, MEMBER_ES, "whoami")


def test_the_dead_letter_notice_counts_one_message_as_one(bot: Bot) -> None:
    from bot.deadletter import notify_secretariat
    from bot.mail import OutgoingEmail
    from storage.models import OutboxMessage

    with bot.session_factory() as s, s.begin():
        assert notify_secretariat(s, [("chat:1", "chat", "HTTP 500")]) == 2
    with bot.session_factory() as s:
        mails = [OutgoingEmail.from_payload(r.payload) for r in s.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "email")).all()]
    subjects = {m.to[0]: m.subject for m in mails}
    assert subjects[SECRETARIAT] == "Convene could not deliver 1 message"
    assert subjects[SECRETARIAT_ES] == "Convene no pudo entregar 1 mensaje"
