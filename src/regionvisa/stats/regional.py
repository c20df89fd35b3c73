"""One region's residents and statistics, for the region page and the region-scoped API.

Callers pass a region that the permission policy has already scoped (`scope_region`); this
module only filters. Counts come from the summaries (`stats.summary.counts_on`) and the residents
list from the residence spans, one page at a time; names and passport numbers are never read.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
from sqlalchemy.engine import Engine

from regionvisa.regions.service import regions_frame
from regionvisa.stats import summary

TOP_NATIONALITIES = 15


def clear_cache() -> None:
    """Nothing is cached here any more (the summaries are read directly); kept for its callers."""


def _rows(counts: pl.DataFrame, column: str) -> list[dict]:
    table = counts.select(pl.col("value").alias(column), pl.col("n").alias("residents"))
    return table.sort(["residents", column], descending=[True, False]).to_dicts()


def region_detail(*, engine: Engine, region: str, at: dt.date) -> dict:
    """The region's residents on `at` by status and by nationality (the top ones, then other)."""
    with engine.connect() as conn:
        by_status_rows = _rows(summary.counts_on(conn=conn, on=at, kind="s", region=region), "status")
        by_nat = _rows(summary.counts_on(conn=conn, on=at, kind="n", region=region), "nationality")
    info = regions_frame().filter(pl.col("code") == region).row(0, named=True)
    total = sum(r["residents"] for r in by_status_rows)
    top = by_nat[:TOP_NATIONALITIES]
    rest = sum(r["residents"] for r in by_nat) - sum(r["residents"] for r in top)
    if rest:
        top.append({"nationality": "other", "residents": rest})
    for rows in (top, by_status_rows):
        for r in rows:
            r["share_pct"] = round(r["residents"] / total * 100, 2) if total else 0.0
    return {
        "region": region,
        "name_ko": info["name_ko"],
        "name_en": info["name_en"],
        "at": at,
        "population_2024": info["population_2024"],
        "residents": total,
        "share_pct": round(total / info["population_2024"] * 100, 2) if info["population_2024"] else None,
        "by_status": by_status_rows,
        "by_nationality": top,
    }


def residents_page(
    *, engine: Engine, region: str | None, at: dt.date, offset: int, limit: int, after: str | None = None
) -> tuple[int, list[dict]]:
    """(residents on `at` in the region or the nation, one page of them by person_id; after the
    person `after` when given, the keyset way to any depth)."""
    with engine.connect() as conn:
        counts = summary.counts_on(conn=conn, on=at, kind="s", region=region)
        people = summary.residents_page(conn=conn, region=region, on=at, offset=offset, limit=limit, after=after)
    return int(counts["n"].sum()), people
