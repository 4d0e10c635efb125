"""Pictures people would rather look at than read, as PNG bytes (Pillow).

Every adapter can show a PNG (a chat file upload, an inline CID image in
email); SVG is shown by almost none of them. Charts here are
drawn with Pillow's default bitmap-free font so they need no font files, and
each returns ``bytes`` of a PNG image: ``image/png``.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from PIL import Image, ImageDraw, ImageFont

#: Colours by meaning, shared by every chart (RGB).
COLOURS = {
    "agree": (46, 184, 134), "abstain": (160, 160, 160), "disagree": (218, 160, 56),
    "block": (212, 53, 28), "yes": (46, 184, 134), "ifneedbe": (240, 200, 80),
    "no": (212, 53, 28), "none": (235, 235, 235), "text": (30, 30, 30),
    "grid": (210, 210, 210), "background": (255, 255, 255), "accent": (29, 112, 184),
}


@dataclass(frozen=True, slots=True)
class Bar:
    """One row of a bar chart: ``label``, ``value`` (>= 0) and a colour key of
    :data:`COLOURS` (or an RGB triple)."""

    label: str
    value: float
    colour: str | tuple[int, int, int] = "accent"


@cache
def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has no sized default font
        return ImageFont.load_default()


def _rgb(colour: str | tuple[int, int, int]) -> tuple[int, int, int]:
    return COLOURS[colour] if isinstance(colour, str) else colour


def _png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG", compress_level=6)
    return buf.getvalue()


def bar_chart(bars: Sequence[Bar], *, title: str = "", width: int = 480,
              total: float | None = None) -> bytes:
    """A horizontal bar chart as PNG bytes.

    ``total``: the value a full-width bar stands for (default: the largest
    value, at least 1). Labels and values are drawn at the left and right of
    each bar.
    """
    font, small = _font(15), _font(13)
    row, pad, label_w, value_w = 28, 12, 120, 48
    height = pad * 2 + row * len(bars) + (row if title else 0)
    img = Image.new("RGB", (width, max(height, row + 2 * pad)), COLOURS["background"])
    draw = ImageDraw.Draw(img)
    y = pad
    if title:
        draw.text((pad, y), title, fill=COLOURS["text"], font=font)
        y += row
    full = max(total or 0, max((b.value for b in bars), default=0), 1)
    span = width - 2 * pad - label_w - value_w
    for b in bars:
        draw.text((pad, y + 5), b.label[:18], fill=COLOURS["text"], font=small)
        x0 = pad + label_w
        draw.rectangle((x0, y + 4, x0 + span, y + row - 6), fill=COLOURS["none"])
        w = round(span * max(b.value, 0) / full)
        if w > 0:
            draw.rectangle((x0, y + 4, x0 + w, y + row - 6), fill=_rgb(b.colour))
        value = f"{b.value:g}"
        draw.text((x0 + span + 8, y + 5), value, fill=COLOURS["text"], font=small)
        y += row
    return _png(img)


def grid_chart(*, columns: Sequence[str], rows: Sequence[str],
               cells: Sequence[Sequence[str]], title: str = "",
               cell_width: int = 64) -> bytes:
    """A grid of coloured cells as PNG bytes (an availability grid: one row per
    person or summary line, one column per candidate slot).

    ``cells[r][c]`` is a colour key of :data:`COLOURS` (``yes``, ``ifneedbe``,
    ``no``, ``none``). Raises ValueError when the shape does not match.
    """
    if len(cells) != len(rows) or any(len(r) != len(columns) for r in cells):
        raise ValueError("cells must have one row per row label and one cell per column")
    font, small = _font(15), _font(12)
    pad, row_h, label_w, head_h = 10, 24, 150, 40
    width = pad * 2 + label_w + cell_width * len(columns)
    height = pad * 2 + head_h + row_h * len(rows) + (row_h if title else 0)
    img = Image.new("RGB", (width, height), COLOURS["background"])
    draw = ImageDraw.Draw(img)
    y = pad
    if title:
        draw.text((pad, y), title, fill=COLOURS["text"], font=font)
        y += row_h
    for c, col in enumerate(columns):
        x = pad + label_w + c * cell_width
        for i, part in enumerate(col.split("\n")[:2]):
            draw.text((x + 3, y + 2 + 16 * i), part[:10], fill=COLOURS["text"], font=small)
    y += head_h
    for r, label in enumerate(rows):
        draw.text((pad, y + 5), label[:22], fill=COLOURS["text"], font=small)
        for c, key in enumerate(cells[r]):
            x = pad + label_w + c * cell_width
            draw.rectangle((x + 2, y + 2, x + cell_width - 2, y + row_h - 2),
                           fill=_rgb(key if key in COLOURS else "none"),
                           outline=COLOURS["grid"])
        y += row_h
    return _png(img)
