"""Must show: the HTML email at 375 px has no horizontal overflow (headless
Chromium, 375 and 800 px), the text part is wrapped at 78 columns, and HTML
turned into text keeps its paragraphs."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from datetime import UTC, datetime

from bot.types import is_safe_url
from digests.parse.normalise import plain_text
from digests.render import ItemView, SourceView, render_digest
from digests.taxonomy import load_taxonomy
from tests.conftest import need

LONG_URL = "https://news.example.org/2026/11/18/" + "soil-carbon-registry-suspends-" * 4 + "x"


def _render(n: int = 4) -> tuple[str, str]:
    topics = ["credit_integrity", "carbon_markets", "soil_finance", "co_benefits"]
    items = [ItemView(position=k + 1, title=f"Registry suspends issuance of soil carbon credits "
                      f"after an audit finds over-crediting in the Midwest, item {k + 1}",
                      url=LONG_URL, summary="Verra has suspended issuance for three projects."
                      "\n\nFindings: about 1.2 million credits are under review. " * 3,
                      language="en", topic=topics[k % 4], matched=("soil carbon credits",),
                      published_at=datetime(2026, 11, 18, tzinfo=UTC),
                      sources=(SourceView("Carbon Pulse", LONG_URL),
                               SourceView("Terre et sols", LONG_URL + "-fr")))
             for k in range(n)]
    r = render_digest(items=items, week="2026-W47", taxonomy=load_taxonomy(), language="en",
                      gettext=lambda m, **kw: m.format(**kw) if kw else m,
                      is_safe_link=is_safe_url, alliance="ISCIA")
    return r.html, r.text


def test_html_has_no_fixed_width_wider_than_a_phone():
    body, _ = _render()
    outside_mso = re.sub(r"<!--\[if mso\]>.*?<!\[endif\]-->", "", body, flags=re.S)
    assert not re.search(r'\swidth="(?!100%)\d+', outside_mso)
    for w in re.findall(r"(?<![-\w])width:\s*(\d+)px", outside_mso):
        assert int(w) <= 375, w
    assert "max-width: 600px" in outside_mso or "max-width:600px" in outside_mso
    assert 'class="preheader"' in body


def test_html_at_375_and_800_px_in_headless_chromium(tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    need(chromium is not None, "chromium is not installed (apt-get install chromium)")
    body, _ = _render(8)
    probe = ("<script>parent.document.body.setAttribute('data-w' + window.innerWidth, "
             "document.documentElement.scrollWidth)</script>")
    doc = body.replace("</body>", probe + "</body>")
    page = tmp_path / "page.html"
    page.write_text("<html><body>" + "".join(
        f'<iframe style="width:{w}px;height:4000px;border:0" '
        f'srcdoc="{html.escape(doc, quote=True)}"></iframe>' for w in (375, 800))
        + "</body></html>", encoding="utf-8")
    out = subprocess.run([str(chromium), "--headless", "--no-sandbox", "--disable-gpu",
                          "--window-size=1300,900", "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=120).stdout
    widths = {int(a): int(b) for a, b in re.findall(r'data-w(\d+)="(\d+)"', out)}
    assert set(widths) == {375, 800}, out[-500:]
    for viewport, scroll in widths.items():
        assert scroll <= viewport, f"{scroll} px of content in a {viewport} px window"


def test_text_part_wrapped_at_78_columns_with_paragraphs():
    _, text = _render()
    for line in text.splitlines():
        assert len(line) <= 78 or " " not in line.strip(), line  # only a lone long URL
    assert "Findings: about 1.2 million" in text
    assert "\n\n   Findings" in text  # the paragraph break survives


def test_html_to_text_keeps_paragraph_breaks():
    markup = "<p>Restored sites store more carbon.</p><p>Findings show gains.</p>a<br>b"
    assert plain_text(markup) == "Restored sites store more carbon. Findings show gains. a b"
    assert plain_text(markup, paragraphs=True) == (
        "Restored sites store more carbon.\n\nFindings show gains.\n\na\n\nb")
    assert "sitesFindings" not in plain_text("<p>Restored sites</p><p>Findings</p>")


def test_only_safe_links_become_links():
    """Issue 22: feed items with javascript: and data:text/html links appeared as
    href= in the press review. Only http(s) and mailto are linked now; the
    title and the source name stay, as text."""
    bad = ["javascript:alert(document.cookie)", "JaVaScRiPt:alert(1)",
           "data:text/html,<script>alert(1)</script>", " javascript:alert(1)", "vbscript:x"]
    items = [ItemView(position=n, title=f"Story {n}", url=url, summary="Soil carbon.",
                      language="en", topic="soil_carbon", matched=("soil carbon",),
                      published_at=datetime(2026, 11, 18, tzinfo=UTC),
                      sources=(SourceView("Evil feed", url),
                               SourceView("Good feed", "https://good.example/a")))
             for n, url in enumerate(bad, 1)]
    r = render_digest(items=items, week="2026-W47", taxonomy=load_taxonomy(), language="en",
                      gettext=lambda m, **kw: m.format(**kw) if kw else m,
                      is_safe_link=is_safe_url)
    hrefs = re.findall(r'href="([^"]*)"', r.html)
    assert hrefs and set(hrefs) == {"https://good.example/a"}
    for out in (r.html.lower(), r.text.lower()):
        assert "javascript:" not in out and "data:text/html" not in out
        assert "vbscript:" not in out
    for n in range(1, len(bad) + 1):
        assert f"Story {n}" in r.html and "Evil feed" in r.html
