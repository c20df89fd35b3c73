"""Processing times from the application history, over columns (Polars; no I/O).

Definitions (docs/indicators.md, "Processing times"):
- A **spell** is one stay of an application in one state: it starts at the history row that moved
  the application into the state and ends at the next row. Final states (issued, rejected,
  withdrawn, cancelled) have no spell. A spell still under way on the reference instant is
  *open*; its length so far counts in the backlog, not in the medians.
- **Time in a state** per programme and region: the median and 90th percentile (linear
  interpolation) of the lengths, in days, of the closed spells in that state that ended on or
  before the reference instant.
- **Total time**: from submission to issue, for issued applications.
- **Backlog**: the open applications (not in a final state) by days since submission, in the bands
  the standards declare.
- **At risk**: an open application whose expected issue date (submission + the programme's median
  total time, or the declared default when the programme has fewer completed applications than
  the minimum sample) falls after the first declared date on or after its submission; *missed*
  when that declared date has already passed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl

FINAL_STATES = ("issued", "rejected", "withdrawn", "cancelled")
TIMED_STATES = ("submitted", "screened", "recommended", "returned", "approved")
DAY_SECONDS = 86_400.0

EVENT_SCHEMA = {"application_id": pl.Int64, "to_status": pl.String, "at": pl.Datetime("us")}
APPLICATION_SCHEMA = {
    "application_id": pl.Int64,
    "program_id": pl.String,
    "region": pl.String,
    "status": pl.String,
    "submitted_at": pl.Datetime("us"),
}
DECLARED_SCHEMA = {"program_id": pl.String, "declared_on": pl.Date, "label_ko": pl.String, "label_en": pl.String}
SUMMARY_SCHEMA = {
    "program_id": pl.String,
    "region": pl.String,
    "state": pl.String,
    "spells": pl.UInt32,
    "median_days": pl.Float64,
    "p90_days": pl.Float64,
    "open": pl.UInt32,
}


def _days(expr: pl.Expr) -> pl.Expr:
    return expr.dt.total_microseconds().cast(pl.Float64) / (DAY_SECONDS * 1_000_000)


def spells(events: pl.DataFrame, *, now: dt.datetime) -> pl.DataFrame:
    """One row per stay of an application in a non-final state: entered, left (null while under
    way at `now`), days, open. Rows after `now` are not yet history and are ignored."""
    ordered = (
        events.lazy()
        .filter(pl.col("at") <= now)
        .sort(["application_id", "at"], maintain_order=True)
        .with_columns(left_at=pl.col("at").shift(-1).over("application_id"))
        .filter(~pl.col("to_status").is_in(FINAL_STATES))
        .select(
            "application_id",
            pl.col("to_status").alias("state"),
            pl.col("at").alias("entered_at"),
            "left_at",
        )
        .with_columns(
            open=pl.col("left_at").is_null(),
            days=_days(pl.coalesce("left_at", pl.lit(now, dtype=pl.Datetime("us"))) - pl.col("entered_at")),
        )
    )
    return ordered.collect()


def state_summary(spell_rows: pl.DataFrame, applications: pl.DataFrame) -> pl.DataFrame:
    """Per programme, region and state: closed spells, their median and 90th percentile in days,
    and the applications in the state now (open spells)."""
    joined = spell_rows.lazy().join(
        applications.lazy().select("application_id", "program_id", "region"), on="application_id"
    )
    closed = pl.col("days").filter(~pl.col("open"))
    return (
        joined.group_by("program_id", "region", "state")
        .agg(
            spells=(~pl.col("open")).sum().cast(pl.UInt32),
            median_days=closed.median(),
            p90_days=closed.quantile(0.9, interpolation="linear"),
            open=pl.col("open").sum().cast(pl.UInt32),
        )
        .with_columns(order=pl.col("state").replace_strict(TIMED_STATES, range(len(TIMED_STATES)), default=99))
        .sort("program_id", "region", "order")
        .drop("order")
        .collect()
        .cast(SUMMARY_SCHEMA)
    )


def totals(events: pl.DataFrame, applications: pl.DataFrame, *, now: dt.datetime) -> pl.DataFrame:
    """Per issued application: days from submission to its (first) issue on or before `now`."""
    issued = (
        events.lazy()
        .filter((pl.col("to_status") == "issued") & (pl.col("at") <= now))
        .group_by("application_id")
        .agg(issued_at=pl.col("at").min())
    )
    return (
        applications.lazy()
        .join(issued, on="application_id")
        .select(
            "application_id", "program_id", "region", total_days=_days(pl.col("issued_at") - pl.col("submitted_at"))
        )
        .collect()
    )


def total_summary(total_rows: pl.DataFrame) -> pl.DataFrame:
    """Per programme and region: issued applications and the median and 90th percentile of their
    total days."""
    return (
        total_rows.group_by("program_id", "region")
        .agg(
            issued=pl.len().cast(pl.UInt32),
            median_days=pl.col("total_days").median(),
            p90_days=pl.col("total_days").quantile(0.9, interpolation="linear"),
        )
        .sort("program_id", "region")
    )


def band_labels(bands: Sequence[int]) -> list[str]:
    """`0-6`, `7-13`, …, `90+` for bounds (7, 14, 30, 60, 90): days since submission."""
    lows = [0, *bands]
    return [f"{lo}-{hi - 1}" for lo, hi in zip(lows, bands, strict=False)] + [f"{bands[-1]}+"]


def open_applications(applications: pl.DataFrame, *, now: dt.datetime) -> pl.DataFrame:
    """The applications submitted by `now` and not in a final state, with their age in days."""
    return applications.filter((pl.col("submitted_at") <= now) & ~pl.col("status").is_in(FINAL_STATES)).with_columns(
        age_days=_days(pl.lit(now, dtype=pl.Datetime("us")) - pl.col("submitted_at"))
    )


def backlog(open_rows: pl.DataFrame, *, bands: Sequence[int]) -> pl.DataFrame:
    """Open applications per programme, region and age band (every band present, zeros kept)."""
    labels = band_labels(bands)
    # The band of an age: how many bounds it has reached (a bound belongs to the band it opens).
    reached = pl.lit(pl.Series(list(bands), dtype=pl.Float64)).search_sorted(pl.col("age_days"), side="right")
    banded = open_rows.with_columns(band=reached.replace_strict(range(len(labels)), labels, return_dtype=pl.String))
    counts = banded.group_by("program_id", "region", "band").agg(applications=pl.len().cast(pl.UInt32))
    keys = open_rows.select("program_id", "region").unique()
    grid = keys.join(pl.DataFrame({"band": labels}), how="cross")
    return (
        grid.join(counts, on=["program_id", "region", "band"], how="left")
        .with_columns(
            pl.col("applications").fill_null(0),
            order=pl.col("band").replace_strict(labels, range(len(labels))),
        )
        .sort("program_id", "region", "order")
        .drop("order")
    )


def expected_days(total_rows: pl.DataFrame, *, programs: Sequence[str], default: float, minimum_sample: int):
    """Per programme: the median total days when it has at least `minimum_sample` issued
    applications, else `default`; and which of the two was used."""
    own = total_rows.group_by("program_id").agg(n=pl.len(), median=pl.col("total_days").median())
    return (
        pl.DataFrame({"program_id": list(programs)}, schema={"program_id": pl.String})
        .join(own, on="program_id", how="left")
        .with_columns(
            from_sample=pl.col("n").fill_null(0) >= minimum_sample,
        )
        .with_columns(
            expected_days=pl.when(pl.col("from_sample")).then(pl.col("median")).otherwise(pl.lit(float(default))),
        )
        .select("program_id", "expected_days", "from_sample")
    )


def at_risk(open_rows: pl.DataFrame, expected: pl.DataFrame, declared: pl.DataFrame, *, now: dt.datetime):
    """Open applications whose expected issue date falls after the first declared date on or after
    their submission (programmes without declared dates have none at risk); `missed` when that
    date has passed. Sorted by the declared date, then the expected delay, longest first."""
    if open_rows.is_empty() or declared.is_empty():
        return _empty_risk()
    today = now.date()
    rows = (
        open_rows.with_columns(submitted_on=pl.col("submitted_at").dt.date())
        .join(expected, on="program_id", how="left")
        .sort("submitted_on")
    )
    targets = declared.sort("declared_on")
    matched = rows.join_asof(
        targets,
        left_on="submitted_on",
        right_on="declared_on",
        by="program_id",
        strategy="forward",
        check_sortedness=False,
    ).filter(pl.col("declared_on").is_not_null())
    expected_on = pl.col("submitted_at") + pl.duration(seconds=pl.col("expected_days") * DAY_SECONDS)
    return (
        matched.with_columns(expected_on=expected_on.dt.date())
        .with_columns(
            late_days=(pl.col("expected_on") - pl.col("declared_on")).dt.total_days(),
            missed=pl.col("declared_on") < today,
        )
        .filter((pl.col("late_days") > 0) | pl.col("missed"))
        .select(
            "application_id",
            "program_id",
            "region",
            "status",
            "submitted_on",
            pl.col("age_days").round(1),
            "declared_on",
            "label_ko",
            "label_en",
            "expected_on",
            "late_days",
            "missed",
        )
        .sort(["declared_on", "late_days"], descending=[False, True])
    )


def _empty_risk() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            "application_id": pl.Int64,
            "program_id": pl.String,
            "region": pl.String,
            "status": pl.String,
            "submitted_on": pl.Date,
            "age_days": pl.Float64,
            "declared_on": pl.Date,
            "label_ko": pl.String,
            "label_en": pl.String,
            "expected_on": pl.Date,
            "late_days": pl.Int64,
            "missed": pl.Boolean,
        }
    )
