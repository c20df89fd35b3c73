"""One region's residents and statistics, for the region page and the region-scoped API.

Callers pass a region that the permission policy has already scoped (`scope_region`); this
module only filters. Names and passport numbers are never read.
"""

from __future__ import annotations

import datetime as dt
import time

import polars as pl
from sqlalchemy.engine import Engine

from regionvisa.records.frames import residents_on
from regionvisa.regions.service import regions_frame

_CACHE: dict[tuple[str, dt.date], tuple[float, pl.DataFrame]] = {}
TTL_SECONDS = 120.0
TOP_NATIONALITIES = 15


def residents(engine: Engine, at: dt.date) -> pl.DataFrame:
    """Every resident on `at` (person_id, nationality, region, status), cached briefly."""
    key = (str(engine.url), at)
    hit = _CACHE.get(key)
    if hit and time.monotonic() - hit[0] < TTL_SECONDS:
        return hit[1]
    with engine.connect() as conn:
        frame = residents_on(conn, at)
    _CACHE.clear()  # one date at a time: the frame can be large
    _CACHE[key] = (time.monotonic(), frame)
    return frame


def clear_cache() -> None:
    _CACHE.clear()


def region_detail(engine: Engine, region: str, at: dt.date) -> dict:
    frame = residents(engine, at).filter(pl.col("region") == region)
    info = regions_frame().filter(pl.col("code") == region).row(0, named=True)
    total = frame.height
    by_status = (
        frame.group_by("status")
        .agg(pl.len().alias("residents"))
        .sort(["residents", "status"], descending=[True, False])
    )
    by_nat = (
        frame.group_by("nationality")
        .agg(pl.len().alias("residents"))
        .sort(["residents", "nationality"], descending=[True, False])
    )
    top = by_nat.head(TOP_NATIONALITIES).to_dicts()
    rest = int(by_nat["residents"].sum()) - sum(r["residents"] for r in top)
    if rest:
        top.append({"nationality": "other", "residents": rest})
    for rows in (top, by_status_rows := by_status.to_dicts()):
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
    engine: Engine, region: str | None, at: dt.date, *, offset: int, limit: int
) -> tuple[int, list[dict]]:
    frame = residents(engine, at)
    if region is not None:
        frame = frame.filter(pl.col("region") == region)
    return frame.height, frame.slice(offset, limit).to_dicts()
