"""Must show: a source down during a rebuild keeps the draft; an empty review
is not sent (and the week is not locked); ``--feeds`` is for one run only;
sources are checked when added; numbers run in reading order."""

from __future__ import annotations

import json
import re

from sqlalchemy import select
from typer.testing import CliRunner

from bot.digest.service import build
from digests.archive import find_digest, selected
from storage.base import utcnow
from storage.models import DigestFeed, OutboxMessage
from tests.digests.conftest import LOOPBACK, LOOPBACK_TOML
from tests.digests.weekfeeds import rows, week_bounds, write_week

WEEK = "2026-W47"


def _cli(tmp_path, url, feed_dir=None):
    from bot.cli import app
    from bot.digest.cli import register_cli

    if not any(g.name == "feeds" for g in app.registered_groups):
        register_cli(app)
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'database_url = "{url}"\nsecret_key = "k"\n'
                   f'[mail]\noutbox_dir = "{tmp_path / "outbox"}"\n' + LOOPBACK_TOML
                   + (f'[digest]\nfeed_dir = "{feed_dir}"\n' if feed_dir else ""))
    runner = CliRunner()
    return lambda *args: runner.invoke(app, ["-c", str(cfg), *args])


def test_source_down_during_rebuild_keeps_the_draft(make_bot, db_url, week_server):
    start, end = week_bounds(WEEK, utcnow())
    names = write_week(week_server.folder, start=start, end=end)
    urls = [week_server.url(n) for n in names]
    bot = make_bot(db_url, digest={"feeds": urls, "items": 10}, outbound=LOOPBACK)
    first = build(session_factory=bot.session_factory, settings=bot.settings, week=WEEK)
    assert first.items == 10 and not first.failed
    with bot.session_factory() as s:
        d = find_digest(s, WEEK)
        before = [i.canonical_url for i in selected(d)]
        from_down = {i.canonical_url for i in d.items
                     if any(src.feed_url == urls[0] for src in i.sources)}
        # numbered in reading order: grouped by topic, 1..n from the top
        assert [i.position for i in selected(d)] == list(range(1, 11))
        numbers = [int(n) for n in re.findall(r"^(\d+)\. ", d.text, flags=re.M)]
        assert numbers == list(range(1, 11))
    assert from_down
    (week_server.folder / names[0]).unlink()  # that source is down now
    again = build(session_factory=bot.session_factory, settings=bot.settings, week=WEEK)
    assert [r["url"] for r in again.failed] == [urls[0]] and "404" in str(again.failed[0])
    assert "last fetch" in str(again.failed[0]["reason"])
    with bot.session_factory() as s:
        d = find_digest(s, WEEK)
        assert [i.canonical_url for i in selected(d)] == before
        assert from_down <= {i.canonical_url for i in d.items}
        assert any(r["status"] == "failed" for r in d.report)
    # Every source down and no cached copy left: the stored draft's items stay.
    for n in names[1:]:
        (week_server.folder / n).unlink()
    with bot.session_factory() as s, s.begin():
        for f in s.scalars(select(DigestFeed)):
            f.cached_entries = []
    third = build(session_factory=bot.session_factory, settings=bot.settings, week=WEEK)
    assert third.items == 10 and len(third.failed) == len(names) and third.kept >= 10
    with bot.session_factory() as s:
        assert [i.canonical_url for i in selected(find_digest(s, WEEK))] == before


def test_empty_review_is_not_sent(make_bot, sqlite_url, week_server, tmp_path):
    start, end = week_bounds(WEEK, utcnow())
    off = [str(r["id"]) for r in rows() if not r["in_scope"]]
    urls = [week_server.url(n) for n in write_week(week_server.folder, start=start, end=end,
                                                   only=off)]
    bot = make_bot(sqlite_url, digest={"feeds": urls}, outbound=LOOPBACK)
    out = build(session_factory=bot.session_factory, settings=bot.settings, week=WEEK,
                send=True)
    assert out.refused_empty and out.status == "draft" and out.items == 0
    with bot.session_factory() as s:
        assert not s.scalars(select(OutboxMessage)).all()
        assert find_digest(s, WEEK).status == "draft"
    run = _cli(tmp_path, sqlite_url)
    res = run("digest", "build", "--week", WEEK, "--send")
    assert res.exit_code == 3 and "nothing was sent" in res.output
    assert "--allow-empty" in res.output
    res = run("digest", "build", "--week", WEEK, "--send", "--allow-empty")
    assert res.exit_code == 0 and "sent, 0 items" in res.output


def test_run_only_feeds_and_checked_sources(make_bot, sqlite_url, week_server, tmp_path,
                                            monkeypatch):
    start, end = week_bounds(WEEK, utcnow())
    names = write_week(week_server.folder, start=start, end=end)
    bot = make_bot(sqlite_url, outbound=LOOPBACK)
    build(session_factory=bot.session_factory, settings=bot.settings, week=WEEK,
          feeds=[week_server.url(names[0])])
    with bot.session_factory() as s:
        assert s.scalars(select(DigestFeed)).all() == []  # this run only: nothing saved
    run = _cli(tmp_path, sqlite_url, feed_dir=week_server.folder)
    for bad, why in [("ftp://example.org/x.xml", "ftp:// sources are not supported"),
                     ("gopher://example.org/x", "gopher:// sources are not supported"),
                     ("/no/such/feed.xml", "no such file")]:
        res = run("feeds", "add", bad)
        assert res.exit_code == 2 and why in res.output and "http(s)" in res.output, res.output
        res = run("digest", "build", "--week", WEEK, "--feeds", bad)
        assert res.exit_code == 2 and why in res.output
    monkeypatch.chdir(week_server.folder)
    res = run("feeds", "add", names[1])  # relative path: stored absolute
    assert res.exit_code == 0, res.output
    res = run("feeds", "add", "http://127.0.0.1:9/closed.xml")  # unreachable: refused
    assert res.exit_code == 1 and "--no-check" in res.output
    opml = tmp_path / "f.opml"
    opml.write_text(f'<opml><body>\n<outline xmlUrl="{week_server.url(names[2])}"/>\n'
                    '<outline xmlUrl="ftp://example.org/y.xml"/>\n\n'
                    '<outline xmlUrl="missing.xml"/>\n</body></opml>')
    res = run("feeds", "import", str(opml))
    assert res.exit_code == 1 and "1 added, 2 refused" in res.output
    assert "line 3:" in res.output and "line 5:" in res.output
    with bot.session_factory() as s:
        stored = set(s.scalars(select(DigestFeed.url)))
    assert stored == {str(week_server.folder / names[1]), week_server.url(names[2])}
    assert run("feeds", "remove", names[1]).exit_code == 0
    res = run("feeds", "check")
    assert res.exit_code == 0 and "ok" in res.output


def test_show_json_and_bad_week(make_bot, sqlite_url, week_server, tmp_path):
    start, end = week_bounds(WEEK, utcnow())
    urls = [week_server.url(n) for n in write_week(week_server.folder, start=start, end=end)]
    bot = make_bot(sqlite_url, digest={"feeds": urls}, outbound=LOOPBACK)
    build(session_factory=bot.session_factory, settings=bot.settings, week=WEEK)
    run = _cli(tmp_path, sqlite_url)
    res = run("digest", "show", WEEK, "--format", "json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert [i["number"] for i in data["items"]] == list(range(1, len(data["items"]) + 1))
    first = data["items"][0]
    assert first["topic"]["key"] and first["topic"]["label"] and first["why"]
    assert first["published_at"].endswith("+00:00") and first["sources"]
    # the week's biggest story, carried by three sources in two languages, is in
    big = [i for i in data["items"] if len(i["sources"]) >= 3]
    assert big and big[0]["topic"]["key"] == "credit_integrity"
    res = run("digest", "show", "2026-47")
    assert res.exit_code == 2 and "2026-W47" in res.output
