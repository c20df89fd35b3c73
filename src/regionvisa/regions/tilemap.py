"""The 17 regions as a tile grid: one equal square each, placed roughly where the region lies.

Equal tiles keep small regions (Sejong, Gwangju) as visible as large ones, which a choropleth
of real shapes would not. Pure: returns tiles with colours; templates draw them as SVG.
"""

from __future__ import annotations

from dataclasses import dataclass

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


def bins(values: list[float], n: int = len(PALETTE)) -> list[float]:
    """Equal-interval break points between the smallest and largest value."""
    low, high = min(values), max(values)
    step = (high - low) / n if high > low else 1.0
    return [low + step * i for i in range(1, n)]


def tile_grid(
    values: dict[str, float | None], labels: dict[str, str], fmt=lambda v: f"{v:.1f}"
) -> tuple[list[Tile], list[tuple[str, str]], int, int]:
    """Tiles, legend entries (colour, range text), width and height of the drawing."""
    present = [v for v in values.values() if v is not None]
    breaks = bins(present) if present else []
    tiles = []
    for code, (col, row) in TILE_POSITIONS.items():
        value = values.get(code)
        if value is None:
            index, fill, text_fill, value_text = -1, "#f0f0f0", "#111111", "–"
        else:
            index = sum(value > b for b in breaks)
            fill, text_fill, value_text = PALETTE[index], TEXT_ON[index], fmt(value)
        tiles.append(
            Tile(
                code=code,
                x=col * (TILE + GAP),
                y=row * (TILE + GAP),
                size=TILE,
                fill=fill,
                text_fill=text_fill,
                label=labels.get(code, code),
                value_text=value_text,
                bin=index,
            )
        )
    legend = []
    if present:
        edges = [min(present), *breaks, max(present)]
        legend = [(PALETTE[i], f"{fmt(edges[i])} – {fmt(edges[i + 1])}") for i in range(len(PALETTE))]
    width = 4 * (TILE + GAP) - GAP
    height = 6 * (TILE + GAP) - GAP
    return tiles, legend, width, height
