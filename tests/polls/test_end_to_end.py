"""The whole process, end to end, with real parts: the terminal adapter, a real
SMTP server (aiosmtpd), a real IMAP server (dovecot), the HTTP app (uvicorn)
and the `convene` CLI. Round 1 in chat fails; round 2 by signed links and by
replies built from real mail clients' messages fails too; the chair gets the
objection brief and determines; the register exports it."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import httpx
from sqlalchemy import select

from adapters.console import ConsoleSession
from adapters.email.imap import ImapReader
from bot.app import Bot
from bot.polls.jobs import run as run_jobs
from bot.web import create_web_app
from storage.models import EmailAddress
from tests.adapters.email.servers import DOVECOT, dovecot, free_port, http_app, smtpd
from tests.conftest import CHAIR, MEMBER, MEMBER_ES, MEMBER_FR, OBSERVER, SECRETARIAT, need
from tests.email_replies import written_above
from tests.polls.helpers import YES, audits, later, origin, proposal, stances

PRIYA = "priya.nair@carbonledger.example"
LINK = re.compile(r"^(Agree|Abstain|Disagree|Block|D'accord|S'abstenir|Pas d'accord|Bloquer|"
                  r"De acuerdo|Abstenerse|En desacuerdo|Bloquear)[^:]*: (http\S+)$", re.M)


def body(m: EmailMessage) -> str:
    part = m.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


def reply_from_fixture(fixtures: Path, name: str, *, sender: str, top: str,
                       ballot: EmailMessage) -> EmailMessage:
    """A reply built from a real client's message: our stance lines written above
    its own text and quoted history, sent by ``sender`` in answer to ``ballot``."""
    msg = written_above(fixtures, name, top)
    msg["From"] = sender
    msg["To"] = str(ballot["Reply-To"])
    msg["Subject"] = "Re: " + str(ballot["Subject"])
    msg["In-Reply-To"] = str(ballot["Message-ID"])
    msg["Message-ID"] = f"<{name}.{abs(hash(sender))}@client.example>"
    return msg


def test_end_to_end(make_bot: Callable[..., Bot], db_url: str, shared_fixtures: Path,
                    tmp_path: Path) -> None:
    need(DOVECOT is not None, "dovecot is not installed (apt-get install dovecot-imapd)")
    port = free_port()
    with smtpd() as smtp, dovecot() as imap:
        bot = make_bot(db_url, smtp=smtp.settings(), imap=imap.settings(),
                       http={"host": "127.0.0.1", "port": port},
                       polls={"reply_address": imap.user})
        web_app = create_web_app(bot)
        with http_app(web_app, port=port) as base, \
                httpx.Client(base_url=base, headers=origin(bot)) as web:
            _run(bot, smtp, imap, web, shared_fixtures, db_url, tmp_path)


def _run(bot: Bot, smtp, imap, web: httpx.Client, fixtures: Path, db_url: str,
         tmp_path: Path) -> None:
    console = {who: ConsoleSession(dispatch=bot.dispatch, email=who)
               for who in (MEMBER, MEMBER_FR, MEMBER_ES, PRIYA, CHAIR, SECRETARIAT, OBSERVER)}
    worker = bot.new_worker()

    # --- round 1, in chat -----------------------------------------------------------
    sec = console[SECRETARIAT]
    sec.feed("poll new")
    for answer in ("Shared soil-carbon baseline", "The alliance publishes one baseline.",
                   "Alliance", later(72).strftime("%Y-%m-%d %H:%M"), "", "live"):
        out = sec.feed(answer)
    assert "Proposal #1 is open for stances in Alliance; it closes " in out
    assert "[1] Agree" in console[MEMBER].feed("poll show 1")
    console[MEMBER].feed("1")                                    # the Agree button
    claire = console[MEMBER_FR]
    claire.feed("poll show 1")
    claire.feed("4")                                             # Block: asks for a reason
    claire.feed("Le protocole ignore les sols tropicaux.")
    console[MEMBER_ES].feed("vote 1 disagree Falta presupuesto")
    out = sec.feed("poll close 1")
    assert "Round 1 of proposal #1 is closed: consensus not reached." in out
    assert proposal(bot, 1).state == "failed"

    # --- round 2, by email: ballots through aiosmtpd --------------------------------
    assert "5 ballots queued" in sec.feed("poll email-round 1")
    worker.drain()
    ballots = {str(m["To"]): m for m in smtp.messages if "[poll #1/2]" in str(m["Subject"])}
    assert set(ballots) == {MEMBER, MEMBER_FR, MEMBER_ES, PRIYA, CHAIR}
    amara_ballot = body(ballots[MEMBER])
    assert "Block by Claire Dubois: Le protocole ignore les sols tropicaux." in amara_ballot
    assert "Disagree by Mateo Rojas: Falta presupuesto" in amara_ballot
    links = dict(LINK.findall(amara_ballot))
    assert set(links) == {"Agree", "Abstain", "Disagree", "Block"}

    # links: GET shows a confirmation and casts nothing; POST casts
    page = web.get(links["Agree"])
    assert page.status_code == 200 and stances(bot, 1, 2) == {}
    token = links["Agree"].split("t=", 1)[1]
    assert web.post("/polls/1/vote", data={"t": token, **YES}).status_code == 200
    mateo_links = dict(LINK.findall(
        body(ballots[MEMBER_ES])))
    assert set(mateo_links) == {"De acuerdo", "Abstenerse", "En desacuerdo", "Bloquear"} or \
        set(mateo_links) == {"Agree", "Abstain", "Disagree", "Block"}
    abstain = next(v for k, v in mateo_links.items() if k in ("Abstain", "Abstenerse"))
    assert web.post("/polls/1/vote",
                    data={"t": abstain.split("t=", 1)[1], **YES}).status_code == 200

    # replies, built from real clients' messages, into the real IMAP mailbox
    replies = [
        ("talon_gmail.eml", MEMBER_ES, "De acuerdo"),            # changes his link stance
        ("talon_android.eml", MEMBER, "Agree\nSame as my link."),
        ("mailparserreply_email_fr_wrap.txt", MEMBER_FR,
         "Bloque\nLe protocole ignore toujours les sols tropicaux."),
        ("talon_outlook.eml", PRIYA, "Disagree\nThe costs fall on the smallest members."),
        ("talon_apple_mail_2.eml", CHAIR, "Abstain"),             # the last unit: early close
        ("talon_hotmail.eml", OBSERVER, "Agree"),                 # an observer
        ("talon_reply-quotations-share-block.eml", "stranger@elsewhere.example", "Agree"),
    ]
    for name, sender, top in replies:
        ballot = ballots.get(sender, ballots[MEMBER])
        imap.append(reply_from_fixture(fixtures, name, sender=sender, top=top, ballot=ballot))
    reader = ImapReader(bot, bot.settings.imap)
    outcomes = reader.poll_once()
    assert len(outcomes) == 7 and imap.unseen() == 0
    assert reader.poll_once() == []                               # read once
    by_sender = {o.event.actor.user_id: o for o in outcomes}
    # the observer has no ballot of his own: a reply to someone else's is refused
    assert "sent to someone else" in by_sender[OBSERVER].answer
    assert "not in the alliance roster" in by_sender["stranger@elsewhere.example"].answer
    worker.drain()
    answers = {str(m["To"]): m for m in smtp.messages
               if str(m["Subject"]).strip().startswith("Re:")}
    assert "sent to someone else" in body(answers[OBSERVER])
    assert "stranger@elsewhere.example" not in answers            # no backscatter
    assert "Su postura sobre la propuesta" in body(answers[MEMBER_ES])  # his language

    with bot.session_factory() as s:
        ids = dict(s.execute(select(EmailAddress.address, EmailAddress.person_id)).all())
    got = stances(bot, 1, 2)
    assert {k: v[0] for k, v in got.items()} == {
        f"p:{ids[MEMBER]}": "agree", f"p:{ids[MEMBER_FR]}": "block",
        f"p:{ids[MEMBER_ES]}": "agree", f"p:{ids[PRIYA]}": "disagree",
        f"p:{ids[CHAIR]}": "abstain"}
    # reasons unwrapped, without quotes and sign-offs
    assert got[f"p:{ids[MEMBER_FR]}"][2] == \
        "Le protocole ignore toujours les sols tropicaux.\n\nBonjour Anna,\n\n" \
        "Merci pour votre message. Les conditions me semblent correctes, je serai " \
        "disponible la semaine prochaine."
    assert "wrote" not in got[f"p:{ids[PRIYA]}"][2]
    # one stance per voter across channels; the last one (by email) counts
    assert got[f"p:{ids[MEMBER_ES]}"][1] == "email"
    assert [a.channel for a in audits(bot) if a.detail["voter"] == f"p:{ids[MEMBER_ES]}"
            and a.detail["round"] == 2] == ["web", "email"]

    # --- every unit had a stance: round 2 closed early, escalated to the chair -------
    assert proposal(bot, 1).state == "escalated"
    assert run_jobs(bot, now=later(24 * 4)) == (0, 0)
    worker.drain()
    brief = next(m for m in smtp.to(CHAIR) if "Objection brief" in str(m["Subject"]))
    text = body(brief)
    assert "Round 1 (chat)" in text and "Round 2 (email)" in text
    assert "Block by Claire Dubois: Le protocole ignore toujours les sols tropicaux." in text
    assert "Disagree by Priya Nair: The costs fall on the smallest members." in text
    out = console[MEMBER].feed("poll determine 1 upheld no")
    assert "does not allow" in out
    out = console[CHAIR].feed("poll determine 1 upheld Adopt it with a tropical-soil annex.")
    assert "recorded and announced: upheld by the chair" in out
    p = proposal(bot, 1)
    assert (p.state, p.outcome) == ("decided", "upheld")
    worker.drain()
    assert any("Outcome" in str(m["Subject"]) for m in smtp.to(OBSERVER))

    # --- the decision register, from the CLI and in chat ---------------------------
    assert "#1 Shared soil-carbon baseline: upheld by the chair" in console[OBSERVER].feed(
        "decisions")
    env = dict(os.environ, CONVENE_DATABASE_URL=db_url,
               CONVENE_SECRET_KEY="an-end-to-end-test-key-of-enough-length")
    env.pop("CONVENE_CONFIG", None)
    cmd = [sys.executable, "-c", "from bot.cli import main; main()", "decisions", "export"]
    js = subprocess.run([*cmd, "--format", "json"], capture_output=True, text=True, env=env,
                        cwd=tmp_path, timeout=120, check=True)
    [record] = json.loads(js.stdout)
    assert record["id"] == 1 and record["outcome"] == "upheld" and record["text_version"] == 1
    assert [r["counts"] for r in record["rounds"]] == [
        {"agree": 1, "abstain": 0, "disagree": 1, "block": 1},
        {"agree": 2, "abstain": 1, "disagree": 1, "block": 1}]
    assert {(d["round"], d["stance"], d["name"]) for d in record["dissent"]} == {
        (1, "block", "Claire Dubois"), (1, "disagree", "Mateo Rojas"),
        (2, "block", "Claire Dubois"), (2, "disagree", "Priya Nair")}
    assert record["determination_note"] == "Adopt it with a tropical-soil annex."
    assert record["discussion"] == ""  # created in a direct terminal conversation
    out = subprocess.run([*cmd, "--format", "csv"], capture_output=True, text=True, env=env,
                         cwd=tmp_path, timeout=120, check=True)
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert rows[0]["id"] == "1" and rows[0]["outcome"] == "upheld"
    assert "2 email: agree 2 abstain 1 disagree 1 block 1 -> not_reached" in rows[0]["tallies"]
