"""The shape of the source tree: a core that names no platform, modules of one
concept (none past 450 lines), and import contracts that follow the installed
capabilities rather than a list kept by hand."""

from __future__ import annotations

import re
import tomllib

from tests.conftest import ROOT

#: Where the platform-neutral core and its storage live.
NEUTRAL = ("bot", "storage")
#: Migration files are history: they keep the names tables had when written.
HISTORY = ROOT / "storage" / "migrations" / "versions"
PLATFORM = re.compile(r"slack|discord", re.IGNORECASE)
#: Packages whose modules are held to MAX_LINES.
SOURCES = ("bot", "adapters", "digests", "storage")
MAX_LINES = 450


def _files(*tops: str, suffix: str = "") -> list:
    out = []
    for top in tops:
        for path in sorted((ROOT / top).rglob(f"*{suffix}")):
            if not path.is_file() or "__pycache__" in path.parts or path.suffix == ".pyc":
                continue
            if HISTORY in path.parents:
                continue
            out.append(path)
    return out


def test_the_core_and_storage_name_no_platform() -> None:
    hits = []
    for path in _files(*NEUTRAL):
        text = path.read_bytes().decode("utf-8", errors="replace")
        for n, line in enumerate(text.splitlines(), 1):
            if PLATFORM.search(line) or (n == 1 and PLATFORM.search(path.name)):
                hits.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()[:80]}")
        if PLATFORM.search(path.name):
            hits.append(f"{path.relative_to(ROOT)}: file name")
    assert hits == [], "platform names in the core:\n" + "\n".join(hits)


def test_no_module_past_the_limit() -> None:
    long = {str(p.relative_to(ROOT)): n for p in _files(*SOURCES, suffix=".py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}, f"modules past {MAX_LINES} lines (split them by concept): {long}"


def _pyproject() -> dict:
    with (ROOT / "pyproject.toml").open("rb") as fh:
        return tomllib.load(fh)


def test_the_independence_contract_is_the_installed_capabilities() -> None:
    project = _pyproject()
    capabilities = sorted(ref.split(":", 1)[0] for ref in
                          project["project"]["entry-points"]["convene.capabilities"].values())
    contracts = project["tool"]["importlinter"]["contracts"]
    [independence] = [c for c in contracts if c["type"] == "independence"]
    assert sorted(independence["modules"]) == capabilities
    # And adapters stay out of every capability, the new ones included.
    [adapters] = [c for c in contracts if c["type"] == "forbidden"
                  and c["source_modules"] == ["adapters"]]
    assert set(capabilities) <= set(adapters["forbidden_modules"])


def test_the_file_map_names_every_module() -> None:
    """docs/ARCHITECTURE.md's file map has a line for each module (and none
    for a module that is gone)."""
    doc = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    mapped = set(re.findall(r"^- `([\w/]+\.py)`: \S", doc, re.MULTILINE))
    modules = {str(p.relative_to(ROOT)) for p in _files(*SOURCES, suffix=".py")}
    assert sorted(modules - mapped) == [], "modules missing from the file map"
    assert sorted(mapped - modules) == [], "the file map names modules that are gone"
