"""Must show: delivery to a real SMTP server, SMTP down then up, and two
concurrent ``convene digest build --send`` giving one email per recipient."""

from __future__ import annotations

import html as htmlmod
import os
import subprocess
import sys
from datetime import timedelta

from sqlalchemy import update

from adapters.email.smtp import SmtpMailTransport
from bot.compose import build_app
from bot.digest.service import build
from bot.settings import SmtpSettings
from digests.archive import find_digest, selected
from storage.base import utcnow
from storage.models import OutboxMessage
from tests.conftest import SECRETARIAT, SECRETARIAT_ES, make_settings
from tests.digests.weekfeeds import week_bounds, write_week


def _week_feeds(server):
    start, end = week_bounds("2026-W47", utcnow())
    return [server.url(n) for n in write_week(server.folder, start=start, end=end)]


def _smtp_bot(url, tmp_path, port):
    settings = make_settings(url, tmp_path, smtp={"host": "127.0.0.1", "port": port,
                                                  "security": "none", "timeout": 5})
    from bot.roster import import_roster_file
    from tests.conftest import EXAMPLES

    bot = build_app(settings, mail=SmtpMailTransport(SmtpSettings(
        host="127.0.0.1", port=port, security="none", timeout=5)))
    with bot.session_factory() as s, s.begin():
        import_roster_file(session=s, path=EXAMPLES / "roster.csv", alliance_name="Alliance")
    return bot


def test_smtp_delivery_and_outage(db_url, tmp_path, week_server, smtp_sink):
    bot = _smtp_bot(db_url, tmp_path, smtp_sink.port)
    feeds = _week_feeds(week_server)
    try:
        # SMTP is down during the send
        out = build(session_factory=bot.session_factory, settings=bot.settings,
                    week="2026-W47", feeds=feeds, send=True)
        assert out.sent_now and out.items > 0
        assert bot.new_worker().drain() == 0
        # it comes back; the retry is due
        smtp_sink.start()
        with bot.session_factory() as s, s.begin():
            s.execute(update(OutboxMessage).values(next_attempt_at=utcnow() - timedelta(1)))
        worker = bot.new_worker()
        assert worker.drain() == 2
        assert worker.drain() == 0
        # a second build --send of the same week sends nothing more
        again = build(session_factory=bot.session_factory, settings=bot.settings,
                      week="2026-W47", feeds=feeds, send=True)
        assert not again.sent_now and again.status == "sent"
        assert bot.new_worker().drain() == 0
        assert smtp_sink.by_recipient() == {SECRETARIAT: 1, SECRETARIAT_ES: 1}
        with bot.session_factory() as s:
            titles = [i.title for i in selected(find_digest(s, "2026-W47"))]
        for msg in smtp_sink.messages:
            assert msg.get_content_type() == "multipart/alternative"
            assert msg["Date"] and msg["Message-ID"]
            parts = {p.get_content_type(): p for p in msg.walk()}
            body = parts["text/html"].get_payload(decode=True).decode()
            for t in titles:
                assert htmlmod.escape(t, quote=False) in body or htmlmod.escape(t) in body, t
            assert "text/plain" in parts
        es = next(m for m in smtp_sink.messages if m["To"] == SECRETARIAT_ES)
        assert "Revista de prensa" in str(es["Subject"]) or "semana" in str(es["Subject"])
    finally:
        bot.engine.dispose()


def test_two_concurrent_cli_sends(db_url, tmp_path, week_server, smtp_sink):
    smtp_sink.start()
    bot = _smtp_bot(db_url, tmp_path, smtp_sink.port)
    bot.engine.dispose()
    cfg = tmp_path / "convene.toml"
    cfg.write_text(f'database_url = "{db_url}"\nsecret_key = "k"\n'
                   f'[mail]\noutbox_dir = "{tmp_path / "outbox"}"\n'
                   f'[smtp]\nhost = "127.0.0.1"\nport = {smtp_sink.port}\nsecurity = "none"\n'
                   '[digest]\nchannel = "console:press-review"\n')
    env = {**os.environ, "CONVENE_CONFIG": str(cfg)}
    cmd = [sys.executable, "-c", "from bot.cli import main; main()", "digest", "build",
           "--week", "2026-W47", "--send"]
    for url in _week_feeds(week_server):
        cmd += ["--feeds", url]
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    for p, (o, e) in zip(procs, outs, strict=True):
        assert p.returncode == 0, e.decode()[-2000:]
    assert smtp_sink.by_recipient() == {SECRETARIAT: 1, SECRETARIAT_ES: 1}
    text = b"".join(o for o, _ in outs).decode()
    assert text.count("(queued now)") == 1 and text.count("(already sent)") == 1
    chat = (tmp_path / "outbox" / "chat-press-review.txt").read_text()
    assert chat.count("--- digest:2026-W47") == 1
