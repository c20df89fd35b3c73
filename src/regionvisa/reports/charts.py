"""Report charts as inline SVG strings, drawn with matplotlib's Agg canvas.

Figures are built as `matplotlib.figure.Figure` objects on a `FigureCanvasAgg`, never through
pyplot: nothing is registered in pyplot's global figure list, so a long-running web worker
cannot leak figures, and the caller's backend is left alone; a figure is freed as soon as its SVG text is returned
(clearing it explicitly costs more than drawing it).

Text is drawn with NanumGothic (see `fonts`) and stored as glyph paths, so Korean shows the
same in a browser without Korean fonts, in WeasyPrint and in the PDF. Every SVG's ids carry a
caller-given prefix, because a report inlines many SVGs in one HTML document and matplotlib
reuses the same glyph and clip-path ids in each.

All texts (titles, axis labels, legend entries) are passed in by the caller already translated.

Drawing is the slow part of a report page (a second or more for an evaluation's charts), and a
chart is a pure function of its arguments: each SVG is kept in memory and in a file cache keyed
by the function, its arguments and this module's source (`_cached`), so a page shows a chart it
has drawn before, on any worker and after a restart, without drawing it again.
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
import re
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import matplotlib
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from regionvisa.config import get_settings
from regionvisa.reports import fonts

# Okabe–Ito: distinguishable with the common colour-vision deficiencies, and in greyscale print.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999")
INK = "#222222"
GRID = "#dddddd"


def colour(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


@lru_cache
def _register_fonts() -> str:
    for bold in (False, True):
        font_manager.fontManager.addfont(str(fonts.font_path(bold)))
    return fonts.FAMILY


@contextmanager
def _style() -> Iterator[None]:
    """Report style for one chart, without touching the process-wide rcParams."""
    family = _register_fonts()
    with matplotlib.rc_context(
        {
            "font.family": family,
            "font.size": 8,
            "axes.unicode_minus": False,
            "axes.edgecolor": "#888888",
            "axes.labelcolor": INK,
            "xtick.color": INK,
            "ytick.color": INK,
            "svg.fonttype": "none",
            "svg.hashsalt": "regionvisa-report",
        }
    ):
        yield


def _figure(width_in: float, height_in: float, *, layout: str | None = "constrained") -> Figure:
    fig = Figure(figsize=(width_in, height_in), layout=layout)
    FigureCanvasAgg(fig)
    return fig


_ID = re.compile(r'\bid="([^"]+)"')


def _to_svg(fig: Figure, prefix: str) -> str:
    """The figure as an SVG element for inlining: no XML prolog, no date, ids prefixed."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None}, transparent=True)
    svg = buf.getvalue()
    svg = svg[svg.index("<svg") :]
    ids = set(_ID.findall(svg))
    if ids:
        svg = _ID.sub(lambda m: f'id="{prefix}-{m.group(1)}"', svg)
        svg = re.sub(
            r'(href="#|url\(#)([^")]+)',
            lambda m: f"{m.group(1)}{prefix}-{m.group(2)}" if m.group(2) in ids else m.group(0),
            svg,
        )
    return svg


def _clean_axes(ax, *, grid_axis: str = "x") -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.grid(axis=grid_axis, color=GRID, linewidth=0.6)
    ax.set_axisbelow(True)


_SOURCE = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]
_MEMORY: dict[str, str] = {}
_MEMORY_LIMIT = 512


def _cache_dir() -> Path:

    return get_settings().upload_dir.parent / "cache" / "charts"


def _cached(draw):
    """Keep `draw`'s SVG by (function, arguments, source of this module): in memory, then on disk."""

    @functools.wraps(draw)
    def wrapper(*args, **kwargs):
        key = hashlib.sha256(repr((draw.__name__, _SOURCE, matplotlib.__version__, args, sorted(kwargs.items())))
                             .encode("utf-8")).hexdigest()  # fmt: skip
        if key in _MEMORY:
            return _MEMORY[key]
        folder = _cache_dir()
        path = folder / f"{key}.svg"
        try:
            svg = path.read_text(encoding="utf-8")
        except OSError:
            svg = draw(*args, **kwargs)
            try:  # written whole, then renamed: a reader never sees half a chart
                folder.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    fh.write(svg)
                os.replace(tmp, path)
            except OSError:  # a read-only or full disk: the chart is still shown
                pass
        if len(_MEMORY) >= _MEMORY_LIMIT:
            _MEMORY.clear()
        _MEMORY[key] = svg
        return svg

    return wrapper


@_cached
def breakdown_chart(
    bars: Sequence[tuple[str, Sequence[float | None], float]],
    series: Sequence[str],
    *,
    xlabel: str,
    prefix: str = "breakdown",
) -> str:
    """Stacked horizontal bars, one per region (first row on top): each indicator's part of the score.

    bars: (region label, contribution per series (None = missing), score). The parts add up to the
    score, so the length of a bar is the score and each segment is what one indicator brought.
    """
    n = len(bars)
    with _style():
        fig = _figure(7.0, max(2.2, 0.24 * n + 1.2))
        ax = fig.add_subplot()
        ys = list(range(n))[::-1]
        left = [0.0] * n
        for j, name in enumerate(series):
            widths = [(parts[j] or 0.0) for _, parts, _ in bars]
            ax.barh(ys, widths, left=left, height=0.68, color=colour(j), label=name, edgecolor="white", linewidth=0.4)
            left = [a + b for a, b in zip(left, widths, strict=True)]
        for y, (_, _, score) in zip(ys, bars, strict=True):
            ax.text(score + 0.8, y, f"{score:.1f}", va="center", ha="left", fontsize=7, color=INK)
        ax.set_yticks(ys, [label for label, _, _ in bars])
        ax.set_xlim(0, 105)
        ax.set_ylim(-0.6, n - 0.4)
        ax.set_xlabel(xlabel)
        _clean_axes(ax)
        fig.legend(loc="outside lower center", ncols=min(3, len(series)), frameon=False, fontsize=7)
        return _to_svg(fig, prefix)


@_cached
def region_chart(
    parts: Sequence[float | None],
    maxima: Sequence[float],
    *,
    missing_text: str,
    prefix: str,
) -> str:
    """One region's breakdown: a bar per indicator (its colour as in the breakdown chart) over a grey
    bar showing the most that indicator can bring (its weight share of 100)."""
    k = len(parts)
    with _style():
        # Small multiples: fixed margins and no tick labels (the bars carry their values), which keeps
        # 17 of them cheap to draw.
        fig = _figure(2.25, 0.2 * k + 0.1, layout=None)
        ax = fig.add_axes((0.01, 0.02, 0.98, 0.96))
        ys = list(range(k))[::-1]
        ax.barh(ys, maxima, height=0.72, color="#eeeeee", edgecolor="#cccccc", linewidth=0.4)
        for i, (y, part) in enumerate(zip(ys, parts, strict=True)):
            if part is None:
                ax.text(0.5, y, missing_text, va="center", ha="left", fontsize=6.5, color="#666666")
                continue
            ax.barh([y], [part], height=0.72, color=colour(i))
            ax.text(maxima[i] + 0.6, y, f"{part:.1f}", va="center", ha="left", fontsize=6.5, color=INK)
        top = max(maxima) if maxima else 1.0
        ax.set_xlim(0, top * 1.28)
        ax.set_ylim(-0.6, k - 0.4)
        ax.set_axis_off()
        return _to_svg(fig, prefix)


@_cached
def rank_interval_chart(
    rows: Sequence[tuple[str, int, int, int, int]],
    n_ranks: int,
    *,
    xlabel: str,
    interval_label: str,
    median_label: str,
    rank_label: str,
    prefix: str = "ranks",
) -> str:
    """One row per region (first row on top): the 5–95 % rank interval as a bar, the median rank as a
    dot and the published rank as a diamond. rows: (label, rank, median, low, high)."""
    n = len(rows)
    with _style():
        fig = _figure(7.0, max(2.2, 0.24 * n + 1.1))
        ax = fig.add_subplot()
        ys = list(range(n))[::-1]
        for y, (_, _, _, lo, hi) in zip(ys, rows, strict=True):
            ax.plot([lo - 0.25, hi + 0.25], [y, y], color=PALETTE[4], linewidth=6, solid_capstyle="round")
        ax.scatter([r[2] for r in rows], ys, s=22, color=PALETTE[0], zorder=3)
        ax.scatter([r[1] for r in rows], ys, s=26, marker="D", facecolors="none", edgecolors=PALETTE[5], zorder=4)
        ax.set_yticks(ys, [r[0] for r in rows])
        ax.set_xticks(range(1, n_ranks + 1))
        ax.set_xlim(0.4, n_ranks + 0.6)
        ax.set_ylim(-0.6, n - 0.4)
        ax.set_xlabel(xlabel)
        _clean_axes(ax)
        handles = [
            Line2D([0], [0], color=PALETTE[4], linewidth=6, label=interval_label),
            Line2D([0], [0], marker="o", linestyle="", color=PALETTE[0], label=median_label),
            Line2D(
                [0], [0], marker="D", linestyle="", markerfacecolor="none", markeredgecolor=PALETTE[5], label=rank_label
            ),
        ]
        fig.legend(handles=handles, loc="outside lower center", ncols=3, frameon=False, fontsize=7)
        return _to_svg(fig, prefix)


@_cached
def sensitivity_chart(
    factors: Sequence[str],
    first_order: Sequence[float | None],
    total_order: Sequence[float | None],
    *,
    first_label: str,
    total_label: str,
    xlabel: str,
    prefix: str = "sobol",
) -> str:
    """Sobol indices of the ranking, a pair of bars per factor: how much of the rank variation each
    uncertain choice explains alone (first order) and with its interactions (total)."""
    k = len(factors)
    with _style():
        fig = _figure(7.0, 0.34 * k + 1.0)
        ax = fig.add_subplot()
        ys = list(range(k))[::-1]
        first = [max(v or 0.0, 0.0) for v in first_order]  # estimates can dip just below 0
        total = [max(v or 0.0, 0.0) for v in total_order]
        ax.barh([y + 0.18 for y in ys], first, height=0.34, color=PALETTE[0], label=first_label)
        ax.barh([y - 0.18 for y in ys], total, height=0.34, color=PALETTE[1], label=total_label)
        ax.set_yticks(ys, list(factors))
        ax.set_xlim(0, max(1.0, *total, *first) * 1.05 if k else 1.0)
        ax.set_xlabel(xlabel)
        _clean_axes(ax)
        fig.legend(
            handles=[Patch(color=PALETTE[0], label=first_label), Patch(color=PALETTE[1], label=total_label)],
            loc="outside lower center",
            ncols=2,
            frameon=False,
            fontsize=7,
        )
        return _to_svg(fig, prefix)
