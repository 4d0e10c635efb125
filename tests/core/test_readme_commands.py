"""The README tested (issue 20): every ``convene ...`` command README.md shows
(lines of its code blocks that start with ``convene `` or pipe into it, and
inline code that starts with ``convene ``) is run, in the README's order,
against one scratch instance: a SQLite file, a convene.toml and an outbox in
tmp, run from the project root so ``examples/...`` and ``../shared/fixtures/...``
resolve as they do for a reader. A command that does not work as written fails.

How each is run, with nothing skipped:

- every command but ``convene serve`` runs in this process (typer's runner),
  a shell pattern expanded as the shell would, ``printf '...' |`` as its input,
  and ``convene chat --as X`` without a pipe with the input ``whoami``;
- ``convene serve`` runs as a real process on a free loopback port until it
  answers ``/healthz``, then is stopped;
- a synopsis is run in each of its forms: ``a|b|c`` as each alternative, and
  ``[...]`` both with every optional part and with none; its placeholders take
  values from PLACEHOLDERS (a feed file of the fixtures, an OPML file listing
  them, a folder in tmp, the id of a sprint or workshop made before);
- ``convene ...`` (the README's way of saying "any convene command") is the one
  text that is not a command, and the test checks it is exactly that.

Exit code 0 is expected, except ``digest build`` on the fixture feeds: some are
malformed on purpose, and the README says exit code 1 means "a source failed".
"""

from __future__ import annotations

import glob
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from bot.app import Bot
from tests.cli import invoke
from tests.conftest import ROOT
from tests.smtp_helpers import free_port

README = ROOT / "README.md"
FEEDS = ROOT.parent / "shared" / "fixtures" / "feeds"
FEED = FEEDS / "rssparser_guardian.rss"
FEED2 = FEEDS / "rssparser_rss-1.rss"


def readme_commands(text: str) -> list[tuple[str, str | None]]:
    """``(command after "convene ", piped input or None)`` in the README's order."""
    found: list[tuple[int, str, str | None]] = []
    for block in re.finditer(r"```[a-z]*\n(.*?)```", text, re.S):
        offset = block.start(1)
        for line in block.group(1).splitlines(keepends=True):
            code = re.sub(r"\s+#.*$", "", line.strip())
            piped = re.fullmatch(r"printf (?P<q>'[^']*') \| convene (?P<cmd>.+)", code)
            if piped:
                stdin = shlex.split(piped.group("q"))[0].encode().decode("unicode_escape")
                found.append((offset, piped.group("cmd"), stdin))
            elif code.startswith("convene "):
                found.append((offset, code.removeprefix("convene "), None))
            offset += len(line)
    outside = re.sub(r"```.*?```", lambda m: " " * len(m.group(0)), text, flags=re.S)
    for m in re.finditer(r"`(convene [^`]+)`", outside):
        found.append((m.start(), " ".join(m.group(1).split()).removeprefix("convene "), None))
    return [(cmd, stdin) for _, cmd, stdin in sorted(found, key=lambda f: f[0])]


def _top_level_split(text: str, sep: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in text:
        depth += ch == "["
        depth -= ch == "]"
        if ch == sep and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    return [*parts, cur]


def forms(synopsis: str) -> list[str]:
    """Every form of a synopsis: ``a|b`` alternatives, ``[...]`` with and without."""
    parts = _top_level_split(synopsis, "|")
    if len(parts) > 1:
        # "decisions export --format csv|json": values of an option; "workshops
        # list|show ID": subcommands of the group named first
        words = parts[0].split()
        cut = len(words) - 1 if len(words) > 1 and words[-2].startswith("--") else 1
        head, first = " ".join(words[:cut]), " ".join(words[cut:])
        variants = [f"{head} {alt.strip()}" for alt in (first, *parts[1:])]
    else:
        variants = [synopsis]
    out: list[str] = []
    for v in variants:
        full, bare = v, v
        while "[" in full:
            full = re.sub(r"\[([^\[\]]*)\]", r"\1", full)
        while "[" in bare:
            bare = re.sub(r"\s*\[[^\[\]]*\]", "", bare)
        out += [full] if full == bare else [full, bare]
    return out


def _expand(form: str, values: dict[str, str]) -> list[str]:
    form = form.replace("URL_OR_PATH ...", f"URL_OR_PATH {FEED2}")
    words: list[str] = []
    for word in shlex.split(form):
        key = "ID" if word == "ID" else word
        if key in values or (key == "ID"):
            word = values[f"ID:{form.split()[0]}"] if key == "ID" else values[key]
        matched = sorted(glob.glob(word, root_dir=ROOT)) if "*" in word else [word]
        assert matched, f"{word} matches no file"
        words += matched
    assert not [w for w in words if re.fullmatch(r"[A-Z_.]{2,}", w)], (form, words)
    return words


def _serve(tmp_path: Path, env: dict[str, str | None], port: int) -> None:
    import os

    proc_env = {k: v for k, v in os.environ.items() if not k.startswith("CONVENE_")}
    proc_env.update({k: v for k, v in env.items() if v is not None})
    proc = subprocess.Popen([sys.executable, "-c", "from bot.cli import main; main()",
                             "serve"], cwd=ROOT, env=proc_env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            try:
                assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code \
                    == 200
                return
            except httpx.TransportError:
                assert time.monotonic() < deadline, "convene serve did not answer /healthz"
                time.sleep(0.2)
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


def test_readme_extraction_sees_every_kind_of_command() -> None:
    found = readme_commands(README.read_text(encoding="utf-8"))
    texts = [c for c, _ in found]
    assert "..." in texts and "serve" in texts
    assert "digest build --week 2026-W47 --feeds ../shared/fixtures/feeds/*" in texts
    assert ("chat --as lucie.martin@ong-terres.example", "whoami\nmembers\n") in found
    assert forms("feeds add|list") == ["feeds add", "feeds list"]
    assert forms("workshops show ID|export ID [-o FILE.ics]") == [
        "workshops show ID", "workshops export ID -o FILE.ics", "workshops export ID"]
    assert forms("digest build [--week W] [--send [--allow-empty]]") == [
        "digest build --week W --send --allow-empty", "digest build"]


def test_every_readme_command_works_as_written(
        tmp_path: Path, make_bot: Callable[..., Bot], sqlite_url: str) -> None:
    from tests.sprints.helpers import propose
    from tests.workshops.helpers import confirmed_workshop

    port = free_port()
    config = tmp_path / "convene.toml"
    config.write_text(f'database_url = "{sqlite_url}"\n'
                      f'secret_file = "{tmp_path / "secret"}"\n'
                      f'[http]\nport = {port}\n[mail]\noutbox_dir = "{tmp_path / "out"}"\n',
                      encoding="utf-8")
    env: dict[str, str | None] = {"CONVENE_CONFIG": str(config), "COLUMNS": "200"}
    bot = make_bot(sqlite_url)
    sprint = propose(bot)
    workshop = confirmed_workshop(bot)
    opml = tmp_path / "feeds.opml"
    opml.write_text('<?xml version="1.0"?><opml version="2.0"><head><title>f</title></head>'
                    f'<body><outline type="rss" xmlUrl="{FEED}"/>'
                    f'<outline type="rss" xmlUrl="{FEED2}"/></body></opml>', encoding="utf-8")
    values = {"URL_OR_PATH": str(FEED), "FILE.opml": str(opml), "DIR": str(tmp_path / "out"),
              "FILE.ics": str(tmp_path / "w.ics"), "ID:sprints": str(sprint),
              "ID:workshops": str(workshop)}
    ran: list[str] = []
    for synopsis, stdin in readme_commands(README.read_text(encoding="utf-8")):
        if synopsis == "...":
            continue  # "convene ..." stands for every command, checked above
        for form in forms(synopsis):
            args = _expand(form, values)
            ran.append(" ".join(args))
            if args == ["serve"]:
                _serve(tmp_path, env, port)
                continue
            if args[0] == "chat" and stdin is None:
                stdin = "whoami\n"
            out = invoke(tmp_path, *args, stdin=stdin or "", env=env, cwd=ROOT)
            said = f"convene {' '.join(args)}\n{out.stdout}\n{out.stderr}"
            if args[:2] == ["digest", "build"] and any("shared/fixtures" in a for a in args):
                assert out.exit_code in (0, 1), said
                assert "2026-W47: " in out.stdout and "Usage:" not in out.stderr, said
            else:
                assert out.exit_code == 0, said
            assert "Traceback" not in said and "Error" not in out.stderr, said
            if args[0] == "chat":
                assert "Lucie Martin" in out.stdout or "Tom Becker" in out.stdout, said
    assert len(ran) > 25 and "serve" in ran, ran
    assert any(r.startswith("digest build --week 2026-W47 --feeds") and r.count(".xml") > 3
               for r in ran), ran


@pytest.mark.parametrize("bad", ["digest build nowhere.xml"])
def test_sources_without_feeds_are_refused_with_the_form(tmp_path: Path, bad: str) -> None:
    out = invoke(tmp_path, *bad.split())
    assert out.exit_code == 2 and "--feeds URL_OR_PATH" in out.stderr, out.stderr
