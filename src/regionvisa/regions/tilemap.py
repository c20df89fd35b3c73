"""The 17 regions as a tile grid: one equal square each, placed roughly where the region lies.

Equal tiles keep small regions (Sejong, Gwangju) as visible as large ones, which a choropleth
of real shapes would not. Pure: returns tiles with colours and the legend's classes; templates
draw them as SVG.

The legend's classes are built from the values themselves (`classes`): each class runs from the
smallest to the largest value it holds, so classes never overlap, never run backwards and always
cover every value; labels carry as many decimals as it takes to tell neighbouring classes apart,
formatted by Babel in the page's language.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from babel.numbers import format_decimal

from regionvisa.web import i18n

# (column, row) of each region code on a 4 × 6 grid, north at the top.
TILE_POSITIONS: dict[str, tuple[int, int]] = {
    "11": (1, 0), "51": (2, 0),
    "28": (0, 1), "41": (1, 1), "43": (2, 1), "47": (3, 1),
    "44": (0, 2), "36": (1, 2), "30": (2, 2), "27": (3, 2),
    "52": (1, 3), "48": (2, 3), "31": (3, 3),
    "29": (0, 4), "46": (1, 4), "26": (3, 4),
    "50": (0, 5),
}  # fmt: skip

# Sequential blues, light to dark; white or dark text is chosen for contrast on each.
PALETTE = ("#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c")
TEXT_ON = ("#111111", "#111111", "#111111", "#ffffff", "#ffffff")
TILE = 88
GAP = 6
LABEL_FONT = 13  # px, the largest a tile's name is drawn at
LABEL_ROOM = TILE - 10  # px of a tile's width a name may take
MAX_DECIMALS = 6


@dataclass(frozen=True)
class Tile:
    code: str
    x: int
    y: int
    size: int
    fill: str
    text_fill: str
    label: str
    value_text: str
    bin: int
    name: str = ""  # the full name, for the tile's tooltip and accessible title
    font_size: float = LABEL_FONT


@dataclass(frozen=True)
class LegendClass:
    """One legend entry: the smallest and largest value of the class (equal for a single value)."""

    low: float
    high: float


def classes(values: list[float], n: int = len(PALETTE)) -> list[LegendClass]:
    """At most `n` classes over the finite `values`, by quantiles of the values.

    Each class is the run of sorted distinct values between two quantile cuts, shown from its
    smallest to its largest member, so consecutive classes are strictly increasing and disjoint,
    and every value falls in exactly one. With `n` or fewer distinct values each gets its own class.
    """
    distinct = np.unique(np.asarray([v for v in values if v is not None and math.isfinite(v)], dtype=float))
    if distinct.size == 0:
        return []
    if distinct.size <= n:
        return [LegendClass(float(v), float(v)) for v in distinct]
    # split the distinct values into n runs of (nearly) equal size: quantiles of the values'
    # ranks, so one extreme value cannot squeeze all the others into one colour
    groups = np.array_split(distinct, n)
    return [LegendClass(float(g[0]), float(g[-1])) for g in groups if g.size]


def class_of(value: float, found: list[LegendClass]) -> int:
    """The index of the class holding `value` (the last class whose lower end is ≤ value)."""
    lows = np.asarray([c.low for c in found])
    return max(int(np.searchsorted(lows, value, side="right")) - 1, 0)


def decimals_for(found: list[LegendClass], at_least: int = 0) -> int:
    """The fewest decimals (from `at_least`) at which every class end keeps its own label."""
    ends = sorted({v for c in found for v in (c.low, c.high)})
    for digits in range(at_least, MAX_DECIMALS + 1):
        rounded = [round(v, digits) for v in ends]
        if len(set(rounded)) == len(rounded):
            return digits
    return MAX_DECIMALS


def number(value: float, digits: int, lang: str | None = None) -> str:
    """`value` with exactly `digits` decimals, grouped, in the language's number format."""
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=lang or i18n.current_language.get())


def legend_entries(
    found: list[LegendClass], *, digits: int, suffix: str = "", lang: str | None = None
) -> list[tuple[str, str]]:
    """(colour, text) per class; a single-value class shows one number."""
    colours = PALETTE if len(found) == len(PALETTE) else _spread(len(found))
    out = []
    for colour, c in zip(colours, found, strict=True):
        low = number(c.low, digits, lang) + suffix
        text = low if c.low == c.high else f"{low} – {number(c.high, digits, lang)}{suffix}"
        out.append((colour, text))
    return out


def _spread(k: int) -> tuple[str, ...]:
    """`k` colours of the palette spread from lightest to darkest (fewer classes than colours)."""
    if k <= 1:
        return PALETTE[-1:] if k else ()
    return tuple(PALETTE[round(i * (len(PALETTE) - 1) / (k - 1))] for i in range(k))


def label_font(label: str) -> float:
    """The font size at which `label` fits a tile's width (Latin letters ≈ 0.6 em, Hangul ≈ 1 em)."""
    ems = sum(1.0 if ord(ch) > 0x1100 else 0.6 for ch in label)
    return round(min(LABEL_FONT, LABEL_ROOM / max(ems, 1.0)), 1)


def tile_grid(
    values: dict[str, float | None],
    labels: dict[str, str],
    fmt: Callable[[float], str] | None = None,
    *,
    names: dict[str, str] | None = None,
    suffix: str = "",
    lang: str | None = None,
    min_decimals: int = 0,
) -> tuple[list[Tile], list[tuple[str, str]], int, int]:
    """Tiles, legend entries (colour, range text), width and height of the drawing.

    `labels` are the short names drawn on the tiles, `names` the full names for their titles.
    Tile values use `fmt` when given, else the legend's precision and `suffix`.
    """
    finite = {c: v for c, v in values.items() if v is not None and math.isfinite(v)}
    found = classes(list(finite.values()))
    digits = decimals_for(found, min_decimals) if found else min_decimals
    colours = PALETTE if len(found) == len(PALETTE) else _spread(len(found))
    show = fmt or (lambda v: number(v, digits, lang) + suffix)
    tiles = []
    for code, (col, row) in TILE_POSITIONS.items():
        value = finite.get(code)
        if value is None:
            index, fill, text_fill, value_text = -1, "#f0f0f0", "#111111", "–"
        else:
            index = class_of(value, found)
            fill = colours[index]
            text_fill = TEXT_ON[PALETTE.index(fill)]
            value_text = show(value)
        label = labels.get(code, code)
        tiles.append(
            Tile(
                code=code,
                x=col * (TILE + GAP),
                y=row * (TILE + GAP),
                size=TILE,
                fill=fill,
                text_fill=text_fill,
                label=label,
                value_text=value_text,
                bin=index,
                name=(names or {}).get(code, label),
                font_size=label_font(label),
            )
        )
    legend = legend_entries(found, digits=digits, suffix=suffix, lang=lang)
    width = 4 * (TILE + GAP) - GAP
    height = 6 * (TILE + GAP) - GAP
    return tiles, legend, width, height
