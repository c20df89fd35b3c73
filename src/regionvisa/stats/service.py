"""Foreign-resident statistics computed from the records (not from the published tables).

National aggregates are public. A region's own page and API (its statistics, and its residents
for those who read records) take the reader (`actor=`) and scope through `readable_region`, the
one region rule of the statistics: a region's statistics belong to that region.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import polars as pl
from sqlalchemy.engine import Engine

from regionvisa.accounts.policy import authorize, can, scope_region
from regionvisa.core.actor import Actor
from regionvisa.core.errors import NotFound
from regionvisa.records.columnar import records_fingerprint
from regionvisa.records.frames import residents_on
from regionvisa.regions.service import region_codes, regions_frame
from regionvisa.stats import regional

READ = "stats.read"

GroupBy = Literal["region", "nationality", "status", "month"]
MAIN_STATUSES = ("E-9", "D-2", "F-5", "F-6", "E-7", "F-4", "H-2")


def _resident_counts(residents: pl.DataFrame, by: str) -> pl.DataFrame:
    return residents.group_by(by).agg(pl.len().alias("residents")).sort(by)


def region_table(residents: pl.DataFrame) -> pl.DataFrame:
    """One row per region: residents, share of population, and the count holding each status."""
    regions = regions_frame().select("code", "name_ko", "name_en", "population_2024")
    status_label = (
        pl.when(pl.col("status").is_in(MAIN_STATUSES) | (pl.col("status") == "illegal"))
        .then(pl.col("status"))
        .otherwise(pl.lit("other"))
    )
    wide = (
        residents.with_columns(status_label.alias("label"))
        .group_by("region", "label")
        .agg(pl.len().alias("n"))
        .pivot(on="label", index="region", values="n")
    )
    labels = [*MAIN_STATUSES, "other", "illegal"]
    for label in labels:
        if label not in wide.columns:
            wide = wide.with_columns(pl.lit(0, dtype=pl.UInt32).alias(label))
    table = (
        regions.join(wide.rename({"region": "code"}), on="code", how="left")
        .with_columns([pl.col(label).fill_null(0).cast(pl.Int64) for label in labels])
        .with_columns(pl.sum_horizontal(labels).alias("residents"))
        .with_columns((pl.col("residents") / pl.col("population_2024") * 100).round(2).alias("share_pct"))
        .select("code", "name_ko", "name_en", "population_2024", "residents", "share_pct", *labels)
        .sort("code")
    )
    return table.rename({"code": "region"})


def resident_stats(engine: Engine, *, by: GroupBy, at: dt.date) -> pl.DataFrame:
    """Residents on `at` grouped by region (with the status breakdown), nationality or status;
    `month` gives the month-end resident count for the twelve months up to `at`."""
    with engine.connect() as conn:
        if by == "month":
            return monthly_residents(engine, at=at)
        residents = residents_on(conn, at)
    if by == "region":
        return region_table(residents)
    return (
        _resident_counts(residents, by)
        .with_columns((pl.col("residents") / max(residents.height, 1) * 100).round(2).alias("share_pct"))
        .sort("residents", descending=True)
    )


def monthly_residents(engine: Engine, *, at: dt.date, months: int = 12) -> pl.DataFrame:
    ends = []
    year, month = at.year, at.month
    for _ in range(months):
        first_next = dt.date(year + (month == 12), month % 12 + 1, 1)
        ends.append(min(first_next - dt.timedelta(days=1), at))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    rows = []
    with engine.connect() as conn:
        for end in sorted(ends):
            residents = residents_on(conn, end)
            rows.append(
                {
                    "month": end.strftime("%Y-%m"),
                    "at": end,
                    "residents": residents.height,
                    "illegal": int((residents["status"] == "illegal").sum()),
                }
            )
    return pl.DataFrame(rows)


def records_present(engine: Engine) -> bool:
    with engine.connect() as conn:
        return bool(conn.exec_driver_sql("SELECT EXISTS (SELECT 1 FROM person)").scalar())


def export(df: pl.DataFrame, path) -> None:
    """CSV or XLSX by suffix; XLSX keeps Korean text and number formats."""
    suffix = str(path).lower().rsplit(".", 1)[-1]
    from regionvisa.reports.files import write_csv_safe, write_xlsx_safe

    if suffix == "csv":
        write_csv_safe(df, path)
    elif suffix == "xlsx":
        write_xlsx_safe(df, path, worksheet="stats", autofit=True)
    else:
        raise ValueError(f"{path}: unknown export type (expected .csv or .xlsx)")


def data_as_of(engine: Engine) -> dt.date:
    """The latest date the records speak of (capped at today), the default for 'as of' views."""
    today = dt.date.today()
    with engine.connect() as conn:
        latest = conn.exec_driver_sql("SELECT MAX(reported_date) FROM address_report").scalar()
    if latest is None:
        return today
    if isinstance(latest, str):
        latest = dt.date.fromisoformat(latest[:10])
    return min(latest, today)


_CACHE: dict[tuple, tuple[float, pl.DataFrame]] = {}
CACHE_TTL_SECONDS = 120.0


def cached_resident_stats(engine: Engine, *, by: GroupBy, at: dt.date) -> pl.DataFrame:
    """Statistics are read far more often than records change: keep each answer for a while,
    keyed by the records' fingerprint."""
    import time

    key = (str(engine.url), by, at, records_fingerprint(engine))
    hit = _CACHE.get(key)
    if hit and time.monotonic() - hit[0] < CACHE_TTL_SECONDS:
        return hit[1]
    table = resident_stats(engine, by=by, at=at)
    if len(_CACHE) > 256:
        _CACHE.clear()
    _CACHE[key] = (time.monotonic(), table)
    return table


def national_overview(engine: Engine, *, at: dt.date | None = None) -> tuple[dt.date, pl.DataFrame]:
    """The home page table (cached like every statistic)."""
    at = at or data_as_of(engine)
    return at, cached_resident_stats(engine, by="region", at=at)


def clear_overview_cache() -> None:
    _CACHE.clear()


# --------------------------------------------------------------------------- one region, for a reader


def readable_region(actor: Actor, code: str) -> str:
    """`code` when `actor` may read the region's statistics: 403 outside their scope, 404 for a
    code that is no region."""
    authorize(actor, READ, code)
    if code not in region_codes():
        raise NotFound(what="region")
    return code


def landing_region(*, actor: Actor, requested: str = "") -> str:
    """The region the region picker leads to: a regional official's own, whatever they asked for;
    for a national reader the one asked for, or the first region."""
    own = scope_region(actor, None, action=READ)
    return own or (requested if requested in region_codes() else region_codes()[0])


def region_statistics(engine: Engine, *, actor: Actor, code: str, at: dt.date | None = None) -> dict:
    """One region's residents by status and nationality on `at` (default: the records' latest date)."""
    readable_region(actor, code)
    at = at or data_as_of(engine)
    return {**regional.region_detail(engine, code, at), "at": at.isoformat()}


def region_residents(
    engine: Engine, *, actor: Actor, code: str, at: dt.date, offset: int, limit: int
) -> tuple[int, list[dict]] | None:
    """A page of the region's residents (no names, no passports) when `actor` may read its people's
    records (`records.read` for the region), else None: the page then shows statistics only."""
    readable_region(actor, code)
    if not can(actor, "records.read", code):
        return None
    return regional.residents_page(engine, code, at, offset=offset, limit=limit)
