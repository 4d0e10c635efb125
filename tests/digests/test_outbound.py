"""Issue 22: the press review fetched anything (SSRF). Every fetch goes through
the guarded client (digests/outbound.py): internal addresses are refused when
a source is stored (``feeds add``, with or without ``--no-check``) and at
connect time, on every redirect, whatever the name resolved to before.

These tests connect only to servers they start on 127.0.0.1; host names are
resolved by the policy's injected resolver, never by DNS."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.digest.service import build
from digests.fetch import fetch_sources
from digests.outbound import FetchPolicy, literal_address, static_refusal
from digests.sources import FeedSource, SourceError, check_source
from tests.digests.conftest import LOOPBACK

RSS = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>Internal</title>'
       b"<item><title>secret admin page</title><link>https://a.example/1</link></item>"
       b"</channel></rss>")

REFUSED = [
    "http://127.0.0.1:5432/", "http://[::1]:22/", "http://169.254.169.254/latest/meta-data/",
    "http://[fd00:ec2::254]/", "http://10.1.2.3/feed", "http://192.168.1.1/feed",
    "http://172.16.0.1/", "http://0.0.0.0/", "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/", "http://2130706433/", "http://0x7f000001/", "http://127.1/",
    "http://0177.0.0.1/", "http://metadata.google.internal/computeMetadata/v1/",
    "http://localhost:8000/", "http://224.0.0.1/", "http://240.0.0.1/", "http://[::]/",
    "http://100.64.0.1/", "http://[fe80::1]/", "http://[64:ff9b::7f00:1]/",
]


class Server:
    """A loopback HTTP server: ``routes`` path -> (status, headers, body); ``hits``."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, dict[str, str], bytes]] = {}
        self.hits: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                server.hits.append(self.path)
                status, headers, body = server.routes.get(self.path, (404, {}, b""))
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"


@pytest.fixture
def servers() -> Iterator[tuple[Server, Server]]:
    made = (Server(), Server())
    yield made
    for s in made:
        s.httpd.shutdown()
        s.httpd.server_close()


def _resolver(table: dict[str, list[str]]):
    calls: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        calls.append(host)
        return table[host]

    resolve.calls = calls  # type: ignore[attr-defined]
    return resolve


@pytest.mark.parametrize("url", REFUSED)
def test_internal_addresses_are_refused_when_stored(url: str) -> None:
    assert static_refusal(url, FetchPolicy()) is not None
    with pytest.raises(SourceError, match="internal addresses"):
        check_source(url, policy=FetchPolicy())


def test_public_addresses_and_allow_listed_hosts_are_stored() -> None:
    for url in ("https://www.example.org/feed", "http://93.184.216.34/rss",
                "https://[2606:4700::1111]/feed"):
        assert check_source(url, policy=FetchPolicy()) == url
    allowed = FetchPolicy(allow_hosts=("10.20.0.0/16", "Feeds.Intranet.example"))
    assert static_refusal("http://10.20.3.4/rss", allowed) is None
    assert static_refusal("http://feeds.intranet.example/rss", allowed) is None
    assert static_refusal("http://10.21.0.1/rss", allowed) is not None
    assert literal_address("2130706433") == literal_address("127.0.0.1")


def test_feeds_add_refuses_internal_addresses_even_without_check(tmp_path: Path,
                                                                 sqlite_url: str) -> None:
    from bot.cli import app
    from bot.digest.cli import register_cli

    if not any(g.name == "feeds" for g in app.registered_groups):
        register_cli(app)
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'database_url = "{sqlite_url}"\nsecret_key = "k"\n')
    runner = CliRunner()
    for url in ("http://169.254.169.254/", "http://2130706433/", "http://[::ffff:127.0.0.1]/",
                "http://metadata.google.internal/", "http://[fd00:ec2::254]/"):
        res = runner.invoke(app, ["-c", str(cfg), "feeds", "add", url, "--no-check"])
        assert res.exit_code == 2 and "internal addresses" in res.output, res.output
    opml = tmp_path / "f.opml"
    opml.write_text('<opml><body>\n<outline xmlUrl="http://169.254.169.254/latest"/>\n'
                    '<outline xmlUrl="http://[::1]:22/"/>\n'
                    '<outline xmlUrl="https://feeds.example.org/rss"/>\n</body></opml>')
    res = runner.invoke(app, ["-c", str(cfg), "feeds", "import", str(opml), "--no-check"])
    assert res.exit_code == 1 and "1 added, 2 refused" in res.output, res.output
    assert "line 2:" in res.output and "line 3:" in res.output
    listed = runner.invoke(app, ["-c", str(cfg), "feeds", "list"]).output
    assert "169.254" not in listed and "2130706433" not in listed and "::1" not in listed
    assert "feeds.example.org" in listed


def test_loopback_server_is_refused_unless_allow_listed(servers) -> None:
    inner, _ = servers
    inner.routes["/feed"] = (200, {"Content-Type": "application/rss+xml"}, RSS)
    src = FeedSource(inner.url("/feed"))
    [refused] = fetch_sources([src], policy=FetchPolicy())
    assert refused.status == "failed" and "loopback" in str(refused.error)
    assert inner.hits == []  # never connected
    [ok] = fetch_sources([src], policy=FetchPolicy(allow_hosts=("127.0.0.1",)))
    assert ok.status == "ok" and ok.body == RSS and inner.hits == ["/feed"]


def test_public_feed_redirecting_to_loopback_is_refused(servers) -> None:
    public, inner = servers
    inner.routes["/admin"] = (200, {}, RSS)
    for target in (inner.url("/admin"), inner.url("/admin", "localhost"),
                   inner.url("/admin", "2130706433"), inner.url("/admin", "[::ffff:127.0.0.1]"),
                   inner.url("/admin", "sneaky.example")):
        public.routes["/feed"] = (302, {"Location": target}, b"")
        # "news.example" stands for a public site (its server here is on loopback and
        # allow-listed by name); "sneaky.example" resolves to loopback at fetch time.
        policy = FetchPolicy(allow_hosts=("news.example",), resolve=_resolver(
            {"news.example": ["127.0.0.1"], "sneaky.example": ["127.0.0.1"]}))
        [r] = fetch_sources([FeedSource(public.url("/feed", "news.example"))], policy=policy)
        assert r.status == "failed", target
        assert "internal addresses" in str(r.error), r.error
    assert inner.hits == []  # the loopback service was never reached
    assert public.hits == ["/feed"] * 5


def test_dns_answer_checked_at_connect_time(servers) -> None:
    """A name that looked public when stored resolves to loopback when fetched:
    the connection is refused (the address connected to is the one checked)."""
    inner, _ = servers
    inner.routes["/feed"] = (200, {}, RSS)
    answers = iter([["93.184.216.34"], ["127.0.0.1"]])
    policy = FetchPolicy(resolve=lambda host, port: next(answers))
    url = inner.url("/feed", "rebind.example")
    assert check_source(url, policy=policy) == url  # stored: no lookup then
    [r] = fetch_sources([FeedSource(url)], policy=FetchPolicy(
        resolve=_resolver({"rebind.example": ["93.184.216.34", "127.0.0.1"]})))
    assert r.status == "failed" and "loopback" in str(r.error)
    assert inner.hits == []


def test_redirects_are_capped(servers) -> None:
    loop, _ = servers
    loop.routes["/a"] = (302, {"Location": "/a"}, b"")
    [r] = fetch_sources([FeedSource(loop.url("/a"))],
                        policy=FetchPolicy(allow_hosts=("127.0.0.1",), max_redirects=3))
    assert r.status == "failed" and r.error == "too many redirects"
    assert len(loop.hits) == 4


def test_local_feed_files_only_from_the_feed_folder(tmp_path: Path) -> None:
    inside, outside = tmp_path / "feeds", tmp_path / "elsewhere"
    inside.mkdir()
    outside.mkdir()
    (inside / "a.xml").write_bytes(RSS)
    (outside / "b.xml").write_bytes(RSS)
    policy = FetchPolicy(feed_dir=inside)
    assert check_source(str(inside / "a.xml"), policy=policy) == str(inside / "a.xml")
    with pytest.raises(SourceError, match="outside"):
        check_source(str(outside / "b.xml"), policy=policy)
    with pytest.raises(SourceError, match="outside"):
        check_source(str(inside / ".." / "elsewhere" / "b.xml"), policy=policy)
    with pytest.raises(SourceError, match="feed_dir"):
        check_source(str(inside / "a.xml"), policy=FetchPolicy())
    ok, bad = fetch_sources([FeedSource(str(inside / "a.xml")),
                             FeedSource(str(outside / "b.xml"))], policy=policy)
    assert ok.status == "ok" and bad.status == "failed" and "outside" in str(bad.error)


def test_build_refuses_a_loopback_feed_without_the_allow_list(make_bot, sqlite_url,
                                                              servers) -> None:
    inner, _ = servers
    inner.routes["/feed"] = (200, {}, RSS)
    # A configured feed is stored unchecked: the connection is what refuses it.
    bot = make_bot(sqlite_url, digest={"feeds": [inner.url("/feed")]})
    out = build(session_factory=bot.session_factory, settings=bot.settings, week="2026-W47")
    assert out.reports[0]["status"] == "failed"
    assert "loopback" in str(out.reports[0]["reason"])
    assert inner.hits == []
    bot = make_bot(sqlite_url, outbound=LOOPBACK)
    out = build(session_factory=bot.session_factory, settings=bot.settings, week="2026-W47",
                feeds=[inner.url("/feed")])
    assert out.reports[0]["status"] in ("ok", "bozo") and inner.hits == ["/feed"]
