"""The monthly statistics in the bulletin's breakdowns (출입국·외국인정책 통계월보), over columns
(Polars; no I/O). Definitions: docs/indicators.md, "Monthly statistics".

- **Stock** at a month end: the foreign residents on that day (`records.frames.resident_regions`:
  a status granted by then, last movement not an exit; the region of the latest address in force,
  else of the latest status). Each is counted under the **status of stay** covering the day, else
  (an illegal stay, or a status not yet begun) under the last status granted; the district is the
  5-digit area code of the latest address in force (none when the address gives only a region).
- **Illegal stay** (불법체류) as in §4.8: a status had begun but none covers the day. Illegal
  stayers are included in every stock and marked in their own column, as the bulletin shows them.
- **Flows**: entries and exits recorded in the month and from 1 January to the month end, under
  the status of stay held on the day of the movement (the latest status granted by then).
"""

from __future__ import annotations

import calendar
import datetime as dt

import polars as pl

from regionvisa.records.frames import covering_visas, resident_regions

UNKNOWN_DISTRICT = "-----"


def month_end(month: str) -> dt.date:
    """The last day of `YYYY-MM`."""
    year, number = (int(part) for part in month.split("-"))
    return dt.date(year, number, calendar.monthrange(year, number)[1])


def residents_detail(
    people: pl.DataFrame,
    statuses: pl.DataFrame,
    movements: pl.DataFrame,
    addresses: pl.DataFrame,
    on: dt.date,
) -> pl.DataFrame:
    """One row per resident on `on`: person_id, nationality, region, district, visa, illegal.
    The frames hold what was known on `on`; addresses also in force by then."""
    residents = resident_regions(statuses, movements, addresses)
    covering = covering_visas(statuses, on)
    latest = (
        statuses.sort(["person_id", "valid_from", "granted_on"])
        .group_by("person_id", maintain_order=True)
        .agg(latest_visa=pl.col("visa").last(), begun=(pl.col("valid_from") <= on).any())
    )
    district = (
        addresses.sort(["person_id", "effective_date"])
        .group_by("person_id", maintain_order=True)
        .last()
        .select(
            "person_id",
            pl.when(pl.col("area_code").str.len_chars() == 5)
            .then(pl.col("area_code"))
            .otherwise(pl.lit(UNKNOWN_DISTRICT))
            .alias("district"),
        )
    )
    return (
        residents.join(covering, on="person_id", how="left")
        .join(latest, on="person_id", how="left")
        .join(district, on="person_id", how="left")
        .join(people.select("person_id", "nationality"), on="person_id", how="left")
        .select(
            "person_id",
            "nationality",
            "region",
            pl.col("district").fill_null(UNKNOWN_DISTRICT),
            pl.coalesce("covering_visa", "latest_visa").alias("visa"),
            (pl.col("covering_visa").is_null() & pl.col("begun").fill_null(False)).alias("illegal"),
        )
    )


def _wide(detail: pl.DataFrame, *, rows: list[str], columns: str, order: list[str]) -> pl.DataFrame:
    """Counts of residents per `rows` × `columns` (every column in `order`, zeros kept), then the
    row total and its illegal stayers."""
    counts = detail.group_by(*rows, columns).len()
    wide = counts.pivot(on=columns, index=rows, values="len").fill_null(0)
    for name in order:
        if name not in wide.columns:
            wide = wide.with_columns(pl.lit(0, dtype=pl.UInt32).alias(name))
    totals = detail.group_by(*rows).agg(total=pl.len(), illegal=pl.col("illegal").sum())
    return (
        wide.join(totals, on=rows)
        .select(*rows, "total", "illegal", *order)
        .with_columns(pl.col(["total", "illegal", *order]).cast(pl.Int64))
        .sort(rows)
    )


def by_status_and_region(detail: pl.DataFrame, regions: list[str]) -> pl.DataFrame:
    """Residents per status of stay (rows) and region (columns), with each row's illegal stayers."""
    return _wide(detail, rows=["visa"], columns="region", order=regions)


def by_district(detail: pl.DataFrame, visas: list[str]) -> pl.DataFrame:
    """Residents per district (with its region) and status of stay."""
    return _wide(detail, rows=["region", "district"], columns="visa", order=visas)


def by_nationality(detail: pl.DataFrame, visas: list[str]) -> pl.DataFrame:
    """Residents per nationality and status of stay."""
    return _wide(
        detail.with_columns(pl.col("nationality").fill_null("---")), rows=["nationality"], columns="visa", order=visas
    )


def flows(statuses: pl.DataFrame, movements: pl.DataFrame, *, month_start: dt.date, end: dt.date) -> pl.DataFrame:
    """Entries and exits per status of stay in the month and in the year to `end`."""
    year_start = dt.date(end.year, 1, 1)
    moves = movements.filter((pl.col("date") >= year_start) & (pl.col("date") <= end)).sort("date")
    held = statuses.select("person_id", "visa", pl.col("granted_on").alias("date")).sort("date")
    tagged = moves.join_asof(held, on="date", by="person_id", strategy="backward", check_sortedness=False)
    in_month = pl.col("date") >= month_start
    return (
        tagged.with_columns(pl.col("visa").fill_null("---"))
        .group_by("visa")
        .agg(
            entries_month=((pl.col("direction") == "entry") & in_month).sum(),
            exits_month=((pl.col("direction") == "exit") & in_month).sum(),
            entries_year=(pl.col("direction") == "entry").sum(),
            exits_year=(pl.col("direction") == "exit").sum(),
        )
        .with_columns(pl.all().exclude("visa").cast(pl.Int64))
        .sort("visa")
    )


def summary(detail: pl.DataFrame, previous: pl.DataFrame, flow: pl.DataFrame) -> dict[str, int]:
    """The headline figures: stock, illegal stays, change on the previous month end, and the flows."""
    return {
        "residents": detail.height,
        "illegal": int(detail["illegal"].sum()),
        "residents_previous_month": previous.height,
        "change": detail.height - previous.height,
        **{name: int(flow[name].sum()) for name in ("entries_month", "exits_month", "entries_year", "exits_year")},
    }
