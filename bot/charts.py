"""Pictures people would rather look at than read, as PNG bytes (matplotlib, Agg).

Every adapter can show a PNG (a chat file upload, an inline CID image in email,
a chat attachment); SVG is shown by almost none of them. The charts are drawn
by matplotlib's Agg backend with its bundled DejaVu Sans font, which covers
Latin (every accent of French, Spanish and Portuguese names), Greek and
Cyrillic and the currency signs, so no glyph is drawn as a missing-glyph box.

This module knows no domain and no locale: callers give it words and numbers
already translated and formatted for the reader (Babel), and it lays them out
with a legend. Each function returns ``bytes`` of a PNG image (``image/png``),
byte-for-byte the same for the same input (no timestamp in the file).

matplotlib is imported on the first chart, not with this module: a process
that never draws (the press review's build) does not pay its memory.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: Colours by meaning, shared by every chart (RGB, 0-255).
COLOURS: dict[str, tuple[int, int, int]] = {
    "agree": (46, 184, 134), "abstain": (160, 160, 160), "disagree": (218, 160, 56),
    "block": (212, 53, 28), "yes": (46, 184, 134), "ifneedbe": (240, 200, 80),
    "no": (212, 53, 28), "none": (235, 235, 235), "text": (30, 30, 30),
    "grid": (210, 210, 210), "background": (255, 255, 255), "accent": (29, 112, 184),
    "muted": (110, 110, 110),
}

#: The font every chart uses: bundled with matplotlib, so present on every machine.
FONT = "DejaVu Sans"
_DPI = 100
#: matplotlib's text engine keeps process-wide font caches; one chart at a time.
_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class Segment:
    """One part of a stacked bar: ``label`` (for the legend, already
    translated, e.g. ``"D'accord : 3"``), ``value`` (>= 0, in the bar's unit)
    and a colour key of :data:`COLOURS` (or an RGB triple)."""

    label: str
    value: float
    colour: str | tuple[int, int, int] = "accent"


@dataclass(frozen=True, slots=True)
class Progress:
    """One row of a progress chart: ``label`` (left of the bar), ``value`` and
    ``target`` (same unit, ``target`` > 0), ``text`` (right of the bar, already
    formatted for the reader, e.g. ``"3 000,50 € sur 3 000,00 €"``), and
    ``colour`` while short of the target (the bar turns ``reached_colour``
    once ``value >= target``)."""

    label: str
    value: float
    target: float
    text: str
    colour: str | tuple[int, int, int] = "accent"
    reached_colour: str | tuple[int, int, int] = "agree"


def _rgb(colour: str | tuple[int, int, int]) -> tuple[float, float, float]:
    r, g, b = COLOURS[colour] if isinstance(colour, str) else colour
    return (r / 255, g / 255, b / 255)


def _figure(width_px: int, height_px: int) -> tuple[Figure, Any]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_px / _DPI, height_px / _DPI), dpi=_DPI,
                 facecolor=_rgb("background"))
    return fig, FigureCanvasAgg(fig)


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    # No "Software" or date chunk: the same chart is the same bytes.
    fig.savefig(buf, format="png", dpi=_DPI, metadata={"Software": None})
    return buf.getvalue()


def _rc() -> Any:  # matplotlib types rc keys as a Literal of every key
    return {"font.family": "sans-serif", "font.sans-serif": [FONT], "font.size": 10,
            "text.color": _rgb("text"), "axes.edgecolor": _rgb("grid"),
            "svg.hashsalt": "convene", "axes.unicode_minus": True,
            # People's words are text, never TeX: "$CO" (Colombian pesos) is not maths.
            "text.parse_math": False, "text.usetex": False}


def _bare(ax: Axes) -> None:
    for side in ("top", "right", "left", "bottom"):
        ax.spines[side].set_visible(False)
    ax.set_xticks([])
    ax.set_yticks([])


def stacked_bar(segments: Sequence[Segment], *, total: float, title: str = "",
                caption: str = "", width: int = 560) -> bytes:
    """One horizontal bar split into ``segments`` (a tally: agree, abstain, ...),
    ``total`` wide (the eligible voting units: what is not filled is "not yet
    answered"), a legend naming each segment with its label, and ``caption``
    under it (e.g. "4 of 5 voting units"). PNG bytes.

    Raises ValueError for a negative value or a ``total`` below the segments' sum.
    """
    if any(s.value < 0 for s in segments):
        raise ValueError("segment values must be >= 0")
    filled = sum(s.value for s in segments)
    if total < filled:
        raise ValueError("total must be at least the sum of the segments")
    import matplotlib
    from matplotlib.patches import Patch

    with _LOCK, matplotlib.rc_context(_rc()):
        legend_rows = -(-len(segments) // 3)
        height = 70 + 22 * legend_rows + (24 if caption else 0)
        fig, _ = _figure(width, height)
        ax = fig.add_axes((0.03, 1 - 58 / height, 0.94, 26 / height))
        left = 0.0
        for s in segments:
            if s.value:
                ax.barh(0, s.value, left=left, height=1, color=_rgb(s.colour),
                        edgecolor="white", linewidth=1)
            left += s.value
        if total > filled:
            ax.barh(0, total - filled, left=filled, height=1, color=_rgb("none"),
                    edgecolor="white", linewidth=1)
        ax.set_xlim(0, max(total, 1))
        ax.set_ylim(-0.5, 0.5)
        _bare(ax)
        if title:
            fig.text(0.03, 1 - 20 / height, title, fontsize=11, fontweight="bold")
        handles = [Patch(facecolor=_rgb(s.colour), label=s.label) for s in segments]
        fig.legend(handles=handles, loc="upper left",
                   bbox_to_anchor=(0.02, 1 - 64 / height), ncol=min(len(handles), 3),
                   frameon=False, fontsize=9, handlelength=1.2, columnspacing=1.5)
        if caption:
            fig.text(0.03, 8 / height, caption, fontsize=9, color=_rgb("muted"))
        return _png(fig)


def grid_chart(*, columns: Sequence[str], rows: Sequence[str],
               cells: Sequence[Sequence[str]], legend: Sequence[tuple[str, str]],
               title: str = "") -> bytes:
    """A grid of coloured cells (an availability grid: one row per person or
    summary line, one column per candidate slot) with a legend. PNG bytes.

    ``columns``: the slots' labels, already in the reader's language and zone
    (a ``\\n`` splits a label over two lines); ``rows``: people's names as
    written; ``cells[r][c]``: a colour key of :data:`COLOURS` (``yes``,
    ``ifneedbe``, ``no``, ``none``); ``legend``: ``(colour key, label)`` pairs
    in the order shown. Raises ValueError when the shape does not match.
    """
    if len(cells) != len(rows) or any(len(r) != len(columns) for r in cells):
        raise ValueError("cells must have one row per row label and one cell per column")
    import matplotlib
    from matplotlib.patches import Patch, Rectangle

    n_rows, n_cols = max(len(rows), 1), max(len(columns), 1)
    label_w, cell_w, row_h, head_h, foot_h, top_h = 170, 84, 24, 44, 40, 30 if title else 8
    width = label_w + cell_w * n_cols + 16
    height = top_h + head_h + row_h * n_rows + foot_h
    with _LOCK, matplotlib.rc_context(_rc()):
        fig, _ = _figure(width, height)
        ax = fig.add_axes((label_w / width, foot_h / height, cell_w * n_cols / width,
                           row_h * n_rows / height))
        for r, row in enumerate(cells):
            for c, key in enumerate(row):
                ax.add_patch(Rectangle((c + 0.04, n_rows - r - 1 + 0.06), 0.92, 0.88,
                                       facecolor=_rgb(key if key in COLOURS else "none"),
                                       edgecolor=_rgb("grid"), linewidth=0.6))
        ax.set_xlim(0, n_cols)
        ax.set_ylim(0, n_rows)
        for side in ("top", "right", "left", "bottom"):
            ax.spines[side].set_visible(False)
        ax.set_yticks([n_rows - r - 0.5 for r in range(len(rows))], labels=list(rows),
                      fontsize=9)
        ax.xaxis.tick_top()
        ax.set_xticks([c + 0.5 for c in range(len(columns))], labels=list(columns),
                      fontsize=8)
        ax.tick_params(length=0, pad=3)
        if title:
            fig.text(8 / width, 1 - 20 / height, title, fontsize=11, fontweight="bold")
        fig.legend(handles=[Patch(facecolor=_rgb(k), edgecolor=_rgb("grid"), label=label)
                            for k, label in legend],
                   loc="lower left", bbox_to_anchor=(0.0, 0.0), ncol=max(len(legend), 1),
                   frameon=False, fontsize=9, handlelength=1.2)
        return _png(fig)


def progress_chart(rows: Sequence[Progress], *, title: str = "", note: str = "",
                   width: int = 560) -> bytes:
    """One bar per row measured against its own ``target`` (a funding minimum
    in its own currency: amounts in different units are never drawn on one
    scale), a marker at the target, the row's ``text`` beside it, and ``note``
    under the bars (e.g. the pledges in other currencies, which are not
    converted). PNG bytes. Raises ValueError for a target <= 0.
    """
    if any(r.target <= 0 for r in rows):
        raise ValueError("every target must be > 0")
    import matplotlib

    n = max(len(rows), 1)
    top, row_h, foot = 34 if title else 10, 34, 30 if note else 10
    height = top + row_h * n + foot
    with _LOCK, matplotlib.rc_context(_rc()):
        fig, _ = _figure(width, height)
        ax = fig.add_axes((0.2, foot / height, 0.42, row_h * n / height))
        for i, r in enumerate(rows):
            y = n - i - 1
            share = r.value / r.target
            ax.barh(y, 1.0, height=0.55, color=_rgb("none"))
            ax.barh(y, min(share, 1.0), height=0.55,
                    color=_rgb(r.reached_colour if share >= 1 else r.colour))
            fig.text(0.64, (foot + row_h * (y + 0.5)) / height, r.text, fontsize=9,
                     va="center")
        ax.axvline(1.0, color=_rgb("text"), linewidth=1.2)
        ax.set_xlim(0, 1.02)
        ax.set_ylim(-0.5, n - 0.5)
        _bare(ax)
        ax.set_yticks([n - i - 1 for i in range(len(rows))], labels=[r.label for r in rows],
                      fontsize=10)
        ax.tick_params(length=0)
        if title:
            fig.text(0.02, 1 - 22 / height, title, fontsize=11, fontweight="bold")
        if note:
            fig.text(0.02, 10 / height, note, fontsize=9, color=_rgb("muted"), wrap=True)
        return _png(fig)
