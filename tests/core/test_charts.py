"""The pictures: drawn by matplotlib with every glyph of the readers' names,
a legend, the reader's language and numbers, and money measured per currency.

Golden images are compared with a tolerance (matplotlib.testing.compare's RMS),
not byte for byte, so a FreeType or matplotlib patch release does not fail the
suite while a changed layout, colour or missing legend does. Regenerate them
after an intended change with ``CONVENE_REGEN_GOLDEN=1 pytest tests/core/test_charts.py``.
"""

from __future__ import annotations

import io
import os
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from matplotlib.font_manager import FontProperties, findfont
from matplotlib.ft2font import FT2Font
from matplotlib.testing.compare import compare_images
from PIL import Image

from bot import charts
from bot.charts import Progress, Segment, grid_chart, progress_chart, stacked_bar
from bot.i18n import translator
from bot.polls.render import png_chart
from bot.polls.stances import Tally
from bot.sprints import render as sprint_render
from bot.workshops.render import grid_image

GOLDEN = Path(__file__).parent / "golden" / "charts"
#: Names of the alliance's people as they write them (fr, es, pt, and a few more).
NAMES = ["Sofía García", "François Lefèvre", "João Conceição", "Íñigo Núñez Peña",
         "Maëlle Œuvray", "Ångström Øberg", "Zoë Brontë", "Ñusta Quispe Huamán"]
WORDS = ["Disponibilités", "Disponibilidad", "€", "£", "¥", "₹", "₽", "Clôture", "año",
         "« Réunion »", "d’accord", "Ἀθήνα", "Москва"]


def _missing_glyphs(text: str) -> set[str]:
    font = FT2Font(findfont(FontProperties(family=charts.FONT), fallback_to_default=False))
    return {ch for ch in text if not ch.isspace() and font.get_char_index(ord(ch)) == 0}


def test_the_chart_font_has_every_glyph_of_french_spanish_and_portuguese_names() -> None:
    assert not _missing_glyphs("".join(NAMES + WORDS))
    # The check itself can fail: DejaVu Sans has no CJK ideographs.
    assert _missing_glyphs("東京") == {"東", "京"}


def _no_glyph_warnings(draw: Any) -> bytes:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        png = draw()
    missing = [str(w.message) for w in seen if "missing from" in str(w.message)]
    assert not missing, missing
    return png


def test_drawing_accented_names_and_currency_signs_warns_of_no_missing_glyph() -> None:
    png = _no_glyph_warnings(lambda: grid_chart(
        columns=["lun. 7 déc.\n14:00", "mar. 8 déc.\n09:30"], rows=NAMES,
        cells=[["yes", "no"]] * len(NAMES),
        legend=[("yes", "oui"), ("no", "non")], title="Disponibilités (heures : Europe/Paris)"))
    assert png.startswith(b"\x89PNG")
    _no_glyph_warnings(lambda: progress_chart(
        [Progress("EUR", 3000.5, 3000, "3 000,50 € sur 3 000,00 €")], title="Minimum"))
    # ... and a glyph the font lacks is caught (the warning this test looks for exists).
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        stacked_bar([Segment("東京", 1, "agree")], total=1)
    assert any("missing from" in str(w.message) for w in seen)


def _golden(name: str, png: bytes, tmp_path: Path, *, tol: float = 6) -> None:
    expected = GOLDEN / f"{name}.png"
    if os.environ.get("CONVENE_REGEN_GOLDEN"):
        expected.parent.mkdir(parents=True, exist_ok=True)
        expected.write_bytes(png)
    assert expected.exists(), f"no golden image {expected}: run with CONVENE_REGEN_GOLDEN=1"
    actual = tmp_path / f"{name}.png"
    actual.write_bytes(png)
    with Image.open(io.BytesIO(png)) as got, Image.open(expected) as want:
        assert got.size == want.size, (got.size, want.size)
    diff = compare_images(str(expected), str(actual), tol=tol)
    assert diff is None, diff


def _tally() -> Tally:
    return Tally(proposal_id=3, round_no=1, counts={"agree": 3, "abstain": 1, "disagree": 1,
                                                    "block": 1}, eligible=9,
                 quorum_percent=50, rule="consensus")


@pytest.mark.parametrize("lang", ["fr", "es"])
def test_tally_golden(lang: str, tmp_path: Path) -> None:
    _golden(f"tally-{lang}", png_chart(_tally(), translator(lang)), tmp_path)


def _slots() -> list[datetime]:
    start = datetime(2026, 12, 7, 13, 0, tzinfo=UTC)
    return [start + timedelta(days=d, hours=h) for d in range(3) for h in (0, 5)]


def test_availability_grid_golden_in_french(tmp_path: Path) -> None:
    rows = [(name, ["yes", "ifneedbe", "no", "none", "yes", "no"][i % 6:] +
             ["yes", "ifneedbe", "no", "none", "yes", "no"][:i % 6])
            for i, name in enumerate(NAMES[:5])]
    image = grid_image(translator("fr"), slots=_slots(), zone="Europe/Paris", rows=rows)
    assert "5" in image.alt and "Europe/Paris" in image.alt
    _golden("availability-fr", image.png, tmp_path)


def test_availability_grid_speaks_the_readers_language(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    def spy(**kwargs: Any) -> bytes:
        seen.update(kwargs)
        return b"png"

    monkeypatch.setattr("bot.workshops.render.grid_chart", spy)
    grid_image(translator("fr"), slots=_slots(), zone="America/Bogota",
               rows=[("Sofía García", ["yes"] * 6)])
    assert seen["columns"][0] == "lun. 7 déc.\n08:00"  # 13:00 UTC in Bogotá, in French
    assert seen["title"].startswith("Disponibilités")
    assert [label for _k, label in seen["legend"]] == ["oui", "si besoin", "non",
                                                       "pas encore de réponse"]
    grid_image(translator("es"), slots=_slots(), zone="America/Bogota",
               rows=[("Sofía García", ["yes"] * 6)])
    assert seen["columns"][0] == "lun, 7 dic\n8:00"  # CLDR: Spanish hours unpadded


def _sprint(**kw: Any) -> Any:
    base = {"currency": "EUR", "minimum_minor": 300_000, "goal_minor": 0}
    base.update(kw)
    return SimpleNamespace(**base)


def _colours(png: bytes) -> set[tuple[int, int, int]]:
    with Image.open(io.BytesIO(png)) as img:
        return {c[1][:3] for c in img.convert("RGB").getcolors(1 << 20) or []}


def test_funding_measures_the_sprints_currency_against_its_minimum(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """EUR pledges that met the minimum fill the bar in the 'reached' colour;
    COP and USD are named under it, not drawn on the euro's scale; amounts are
    written as the reader writes them (no 5e+06, no 3000.5)."""
    calls: list[dict[str, Any]] = []
    real = sprint_render.progress_chart

    def spy(rows: Any, **kw: Any) -> bytes:
        calls.append({"rows": rows, **kw})
        return real(rows, **kw)

    monkeypatch.setattr(sprint_render, "progress_chart", spy)
    pledged = {"EUR": 300_050, "COP": 500_000_000, "USD": 120_000}
    png = sprint_render.funding_chart(translator("fr"), _sprint(), pledged)
    (row,) = calls[0]["rows"]
    assert row.label == "EUR" and row.value >= row.target
    assert row.text == "3\u202f000,50\xa0€ sur 3\u202f000,00\xa0€"
    assert calls[0]["title"] == "Minimum"
    note = calls[0]["note"]
    assert "500\u202f000\u202f000\xa0$CO" in note and "1\u202f200,00\xa0$US" in note
    assert "e+" not in note and "non converti" in note
    reached = charts.COLOURS["agree"]
    assert reached in _colours(png)

    calls.clear()
    short = sprint_render.funding_chart(translator("es"), _sprint(), {"EUR": 100_000})
    assert calls[0]["rows"][0].text == "1.000,00\xa0€ de 3.000,00\xa0€"
    assert calls[0]["note"] == ""
    assert reached not in _colours(short) and charts.COLOURS["accent"] in _colours(short)


def test_funding_golden_in_french(tmp_path: Path) -> None:
    png = sprint_render.funding_chart(translator("fr"), _sprint(),
                                      {"EUR": 300_050, "COP": 500_000_000, "USD": 120_000})
    _golden("funding-fr", png, tmp_path)


def test_the_same_chart_is_the_same_bytes() -> None:
    assert png_chart(_tally(), translator("en")) == png_chart(_tally(), translator("en"))


def test_bad_shapes_are_refused() -> None:
    with pytest.raises(ValueError):
        grid_chart(columns=["a"], rows=["x", "y"], cells=[["yes"]], legend=[])
    with pytest.raises(ValueError):
        stacked_bar([Segment("a", 3)], total=2)
    with pytest.raises(ValueError):
        progress_chart([Progress("EUR", 1, 0, "")])
