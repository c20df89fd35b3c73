"""Foreign-resident statistics computed from the records (not from the published tables).

National aggregates are public. A region's own page and API (its statistics, and its residents
for those who read records) take the reader (`actor=`) and scope through `readable_region`, the
one region rule of the statistics: a region's statistics belong to that region.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import polars as pl
from sqlalchemy.engine import Connection, Engine

from regionvisa.accounts.policy import authorize, can, scope_region
from regionvisa.core.actor import Actor
from regionvisa.core.errors import NotFound
from regionvisa.regions.service import region_codes, regions_frame
from regionvisa.stats import regional, summary, timeline

READ = "stats.read"

GroupBy = Literal["region", "nationality", "status", "month"]
MAIN_STATUSES = ("E-9", "D-2", "F-5", "F-6", "E-7", "F-4", "H-2")


def region_table(counts: pl.DataFrame) -> pl.DataFrame:
    """One row per region: residents, share of population, and the count holding each status,
    from the residents per region and status (`stats.summary.counts_on`, kind "s")."""
    regions = regions_frame().select("code", "name_ko", "name_en", "population_2024")
    labels = [*MAIN_STATUSES, "other", timeline.ILLEGAL]  # `illegal`: as `illegal_stays_by_region`
    status_label = pl.when(pl.col("value").is_in(labels)).then(pl.col("value")).otherwise(pl.lit("other"))
    wide = (
        counts.with_columns(status_label.alias("label"))
        .group_by("region", "label")
        .agg(pl.col("n").sum())
        .pivot(on="label", index="region", values="n")
        if counts.height
        else pl.DataFrame(schema={"region": pl.String})
    )
    for label in labels:
        if label not in wide.columns:
            wide = wide.with_columns(pl.lit(0, dtype=pl.Int64).alias(label))
    table = (
        regions.join(wide.rename({"region": "code"}), on="code", how="left")
        .with_columns([pl.col(label).fill_null(0).cast(pl.Int64) for label in labels])
        .with_columns(pl.sum_horizontal(labels).alias("residents"))
        .with_columns((pl.col("residents") / pl.col("population_2024") * 100).round(2).alias("share_pct"))
        .select("code", "name_ko", "name_en", "population_2024", "residents", "share_pct", *labels)
        .sort("code")
    )
    return table.rename({"code": "region"})


def illegal_stays(counts: pl.DataFrame) -> dict[str, int]:
    """Illegal stays per region from the residents per region and status (kind "s")."""
    rows = counts.filter(pl.col("value") == timeline.ILLEGAL).group_by("region").agg(pl.col("n").sum())
    return dict(zip(rows["region"].to_list(), rows["n"].to_list(), strict=True))


def illegal_stays_by_region(*, engine: Engine, at: dt.date) -> dict[str, int]:
    """Illegal stays per region on `at` (regions with none left out): the one definition of that
    figure, shown by the overview, the region pages, the statistics API and the compliance
    dashboard (docs/indicators.md). Foreign residents on `at` (a status granted by then, last
    movement not an exit) whose statuses had begun but none covers `at` (the §4.8 rule, grace
    0 days), by the region where they live (latest address in force, else latest status); read
    from the summaries the imports keep (`stats.summary`)."""
    with engine.connect() as conn:
        return illegal_stays_on(conn=conn, at=at)


def illegal_stays_on(*, conn: Connection, at: dt.date) -> dict[str, int]:
    """`illegal_stays_by_region` inside the caller's connection (a session's transaction)."""
    return illegal_stays(summary.counts_on(conn=conn, on=at, kind="s"))


def _counts(engine: Engine, *, at: dt.date, kind: str, region: str | None = None) -> pl.DataFrame:
    with engine.connect() as conn:
        return summary.counts_on(conn=conn, on=at, kind=kind, region=region)


def _grouped(counts: pl.DataFrame, by: str) -> pl.DataFrame:
    """Residents per value (summed over regions), largest first, with their share."""
    table = counts.group_by("value").agg(pl.col("n").sum().alias("residents")).rename({"value": by})
    total = max(int(table["residents"].sum()) if table.height else 0, 1)
    return table.with_columns((pl.col("residents") / total * 100).round(2).alias("share_pct")).sort(
        ["residents", by], descending=[True, False]
    )


def resident_stats(*, engine: Engine, by: GroupBy, at: dt.date) -> pl.DataFrame:
    """Residents on `at` grouped by region (with the status breakdown), nationality or status;
    `month` gives the month-end resident count for the twelve months up to `at`. Read from the
    summaries the imports keep (`stats.summary`), never by recounting the records."""
    if by == "month":
        return monthly_residents(engine=engine, at=at)
    if by == "region":
        return region_table(_counts(engine, at=at, kind="s"))
    return _grouped(_counts(engine, at=at, kind="s" if by == "status" else "n"), by)


def monthly_residents(*, engine: Engine, at: dt.date, months: int = 12) -> pl.DataFrame:
    ends = []
    year, month = at.year, at.month
    for _ in range(months):
        first_next = dt.date(year + (month == 12), month % 12 + 1, 1)
        ends.append(min(first_next - dt.timedelta(days=1), at))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    rows = []
    with engine.connect() as conn:
        for end in sorted(ends):
            counts = summary.counts_on(conn=conn, on=end, kind="s")
            rows.append(
                {
                    "month": end.strftime("%Y-%m"),
                    "at": end,
                    "residents": int(counts["n"].sum()),
                    "illegal": int(counts.filter(pl.col("value") == "illegal")["n"].sum()),
                }
            )
    return pl.DataFrame(rows)


def records_present(*, engine: Engine) -> bool:
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


def data_as_of(*, engine: Engine) -> dt.date:
    """The latest date the records speak of (capped at today), the default for 'as of' views:
    the latest reported date, which the summaries keep."""
    today = dt.date.today()
    with engine.connect() as conn:
        latest = summary.state(conn=conn)[1]
    return today if latest is None else min(latest, today)


_CACHE: dict[tuple, tuple[float, pl.DataFrame]] = {}
CACHE_TTL_SECONDS = 120.0


def cached_resident_stats(*, engine: Engine, by: GroupBy, at: dt.date) -> pl.DataFrame:
    """Statistics are read far more often than records change: keep each answer for a while,
    keyed by the summaries' version (which every change of records moves)."""
    import time

    with engine.connect() as conn:
        version = summary.state(conn=conn)[0]
    key = (str(engine.url), by, at, version)
    hit = _CACHE.get(key)
    if hit and time.monotonic() - hit[0] < CACHE_TTL_SECONDS:
        return hit[1]
    table = resident_stats(engine=engine, by=by, at=at)
    if len(_CACHE) > 256:
        _CACHE.clear()
    _CACHE[key] = (time.monotonic(), table)
    return table


def national_overview(*, engine: Engine, at: dt.date | None = None) -> tuple[dt.date, pl.DataFrame]:
    """The home page table (cached like every statistic)."""
    at = at or data_as_of(engine=engine)
    return at, cached_resident_stats(engine=engine, by="region", at=at)


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


def region_statistics(*, engine: Engine, actor: Actor, code: str, at: dt.date | None = None) -> dict:
    """One region's residents by status and nationality on `at` (default: the records' latest date)."""
    readable_region(actor, code)
    at = at or data_as_of(engine=engine)
    return {**regional.region_detail(engine=engine, region=code, at=at), "at": at.isoformat()}


def region_residents(
    *, engine: Engine, actor: Actor, code: str, at: dt.date, offset: int, limit: int, after: str | None = None
) -> tuple[int, list[dict]] | None:
    """A page of the region's residents (no names, no passports) when `actor` may read its people's
    records (`records.read` for the region), else None: the page then shows statistics only.
    With `after` (a person_id) the page starts after that person (keyset paging; `offset` ignored)."""
    readable_region(actor, code)
    if not can(actor, "records.read", code):
        return None
    return regional.residents_page(engine=engine, region=code, at=at, offset=offset, limit=limit, after=after)
