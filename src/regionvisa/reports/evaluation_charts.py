"""Charts of a hierarchical framework (§4.5 "Groups and transforms"), as inline SVG.

Drawn like the other report charts (`reports.charts`: matplotlib figures on the Agg canvas, never
pyplot, NanumGothic as glyph paths, ids prefixed): the framework's structure as a tree with each
node's weight share, and every region's group scores as a table of shaded cells.
All texts are passed in already translated.
"""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.colors import LinearSegmentedColormap

from regionvisa.reports.charts import INK, PALETTE, _figure, _style, _to_svg

_SHADES = LinearSegmentedColormap.from_list("scores", ["#f4f8fb", PALETTE[0]])


def structure_chart(
    nodes: Sequence[tuple[str, int, str, bool]],
    *,
    title: str,
    values: Sequence[float | None] | None = None,
    missing_text: str = "–",
    prefix: str = "structure",
) -> str:
    """The framework as an indented tree, top level first: nodes are (label, depth, share text,
    is_group) in depth-first order; lines join each node to its parent group. With `values`
    (one region's normalised value or group score per node) each node also gets a bar of it."""
    n = len(nodes)
    with _style():
        fig = _figure(7.0, 0.26 * n + 0.7, layout=None)
        ax = fig.add_axes((0.02, 0.02, 0.96, 0.96))
        ys = [n - i for i in range(n)]
        ax.text(0.0, n + 1, title, fontsize=8.5, color=INK, va="center")
        ax.plot([0.0, 0.0], [n + 0.6, n + 0.4], color="#888888", linewidth=0.8)
        parents: dict[int, float] = {0: n + 0.6}
        for k, ((label, depth, share, is_group), y) in enumerate(zip(nodes, ys, strict=True)):
            x = 0.35 * depth
            top = parents.get(depth, y + 0.5)
            ax.plot([x, x], [top, y], color="#888888", linewidth=0.8)
            ax.plot([x, x + 0.25], [y, y], color="#888888", linewidth=0.8)
            ax.text(
                x + 0.3,
                y,
                label,
                va="center",
                fontsize=8 if is_group else 7.5,
                color=PALETTE[0] if is_group else INK,
            )
            ax.text(5.0 if values is not None else 6.9, y, share, va="center", ha="right", fontsize=7.5, color=INK)
            if values is not None:
                value = values[k]
                ax.barh([y], [1.5], left=5.2, height=0.5, color="#eeeeee")
                if value is None:
                    ax.text(5.25, y, missing_text, va="center", fontsize=7, color="#666666")
                else:
                    ax.barh([y], [1.5 * max(0.0, min(value, 100.0)) / 100.0], left=5.2, height=0.5,
                            color=PALETTE[0] if is_group else PALETTE[4])  # fmt: skip
                    ax.text(6.95, y, f"{value:.1f}", va="center", ha="right", fontsize=7.5, color=INK)
            if is_group:
                parents[depth + 1] = y
            parents[depth] = y
        ax.set_xlim(-0.1, 7.0)
        ax.set_ylim(0.4, n + 1.4)
        ax.set_axis_off()
        return _to_svg(fig, prefix)


def group_scores_chart(
    regions: Sequence[str],
    columns: Sequence[str],
    values: Sequence[Sequence[float | None]],
    *,
    missing_text: str,
    prefix: str = "group-scores",
) -> str:
    """One row per region (first on top) and one column per group then the composite score:
    each cell shaded by its score (0–100) and labelled with it; a group without a value shows
    `missing_text`."""
    n, k = len(regions), len(columns)
    with _style():
        fig = _figure(7.0, 0.2 * n + 0.9)
        ax = fig.add_subplot()
        grid = [[float("nan") if v is None else float(v) for v in row] for row in values]
        ax.imshow(grid, cmap=_SHADES, vmin=0, vmax=100, aspect="auto")
        for i, row in enumerate(values):
            for j, v in enumerate(row):
                text = missing_text if v is None else f"{v:.1f}"
                dark = v is not None and v > 62
                ax.text(j, i, text, ha="center", va="center", fontsize=7, color="white" if dark else INK)
        ax.set_yticks(range(n), list(regions))
        ax.set_xticks(range(k), list(columns), rotation=0)
        ax.xaxis.tick_top()
        ax.tick_params(length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        return _to_svg(fig, prefix)
