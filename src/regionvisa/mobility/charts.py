"""The mobility pages' pictures, pure functions of their inputs: the flow map (the tile grid of
`regions.tilemap` with an arrow per origin → destination pair, drawn by the template as SVG) and
the retention chart of a programme (matplotlib SVG, through `reports.charts`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from regionvisa.reports.charts import INK, _cached, _clean_axes, _figure, _style, _to_svg, colour

ARROWS = 12  # the largest pairs drawn; the table lists them all


@dataclass(frozen=True)
class Arrow:
    origin: str
    destination: str
    moves: int
    path: str  # SVG path data: a curve between the two tiles' centres
    width: float
    title: str


def arrows(
    pairs: Sequence[tuple[str, str, int]], tiles: dict[str, tuple[float, float]], title, *, limit: int = ARROWS
) -> list[Arrow]:
    """The `limit` largest pairs (origin, destination, moves) as curved arrows between tile centres
    (`tiles`: code → (x, y)); A → B and B → A bend to opposite sides, so both show. `title(o, d, n)`
    gives each arrow's accessible text."""
    drawn = sorted((p for p in pairs if p[0] in tiles and p[1] in tiles and p[0] != p[1]), key=lambda p: -p[2])
    drawn = drawn[:limit]
    top = max((n for _, _, n in drawn), default=1)
    out = []
    for origin, destination, moves in drawn:
        (x1, y1), (x2, y2) = tiles[origin], tiles[destination]
        dx, dy = x2 - x1, y2 - y1
        length = math.hypot(dx, dy) or 1.0
        bend = 0.18 * length
        cx, cy = (x1 + x2) / 2 - dy / length * bend, (y1 + y2) / 2 + dx / length * bend
        # end short of the destination's centre, so the arrowhead sits on the tile
        ex, ey = x2 - (x2 - cx) / math.hypot(x2 - cx, y2 - cy) * 18, y2 - (y2 - cy) / math.hypot(x2 - cx, y2 - cy) * 18
        out.append(
            Arrow(
                origin=origin,
                destination=destination,
                moves=moves,
                path=f"M{x1:.1f},{y1:.1f} Q{cx:.1f},{cy:.1f} {ex:.1f},{ey:.1f}",
                width=round(1.5 + 6.5 * moves / top, 1),
                title=title(origin, destination, moves),
            )
        )
    return out


@_cached
def retention_chart(
    cohorts: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    *,
    ylabel: str,
    xlabel: str,
    prefix: str,
) -> str:
    """One programme: for each cohort month (x), the share of its holders living in the programme's
    area N months after their grant (y, in %), a line per N (`series`: label, values; None where
    the month has not come yet)."""
    with _style():
        fig = _figure(7.0, 2.8)
        ax = fig.add_subplot()
        xs = list(range(len(cohorts)))
        drawn = False
        for i, (label, values) in enumerate(series):
            points = [(x, v) for x, v in zip(xs, values, strict=True) if v is not None]
            if points:
                drawn = True
                ax.plot(
                    [p[0] for p in points],
                    [p[1] for p in points],
                    marker="o",
                    markersize=3,
                    linewidth=1.4,
                    color=colour(i),
                    label=label,
                )
        step = max(1, len(cohorts) // 12)
        ax.set_xticks(xs[::step], list(cohorts)[::step], rotation=45, ha="right")
        ax.set_ylim(0, 105)
        ax.set_xlim(-0.5, max(len(cohorts) - 0.5, 0.5))
        ax.set_ylabel(ylabel, color=INK)
        ax.set_xlabel(xlabel, color=INK)
        _clean_axes(ax, grid_axis="y")
        if drawn:
            fig.legend(loc="outside lower center", ncols=len(series), frameon=False, fontsize=7)
        return _to_svg(fig, prefix)
