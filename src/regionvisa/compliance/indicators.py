"""Evaluation indicators computed from the records, per region and year (docs/indicators.md).

Pure Polars over record frames, like the engine, so each definition can be checked on
hand-built records. The reference date of year Y is 31 December Y and the records are taken
as they stood that day, so an indicator of a closed year never changes afterwards.

Every rate comes with its numerator and denominator columns; a rate whose denominator is 0
is null (missing), never 0, so the evaluation's missing-data policy applies to it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import polars as pl

from regionvisa.compliance import engine as eng
from regionvisa.compliance.rules import RuleSettings, compliance_rules
from regionvisa.records.frames import residents_frame

INDICATOR_COLUMNS = [
    "region",
    "year",
    "holders",
    "holders_illegal",
    "illegal_stay_rate_holders",
    "residents",
    "residents_illegal",
    "illegal_stay_rate_residents",
    "holders_in_kiip",
    "integration_participation_rate",
    "cohort",
    "retained",
    "retention_rate",
    "population",
    "foreign_resident_share",
]

# Which column feeds which indicator id of an evaluation framework (policy/evaluation/*.yaml).
FRAMEWORK_IDS = {
    "illegal_stay_rate": "illegal_stay_rate_holders",
    "illegal_stay_rate_residents": "illegal_stay_rate_residents",
    "integration_participation_rate": "integration_participation_rate",
    "retention_rate": "retention_rate",
    "foreign_resident_share": "foreign_resident_share",
}


def year_bounds(year: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def _statuses_with_region(frames: Mapping[str, pl.DataFrame], on: dt.date) -> pl.DataFrame:
    """Visible statuses with their own region column (null when the frame has none)."""
    schema = {**eng.INPUT_SCHEMAS["status_grant"], "region": pl.String()}
    df = frames.get("status_grant")
    if df is None:
        return pl.DataFrame(schema=schema)
    cols = [(pl.col(c) if c in df.columns else pl.lit(None)).cast(t).alias(c) for c, t in schema.items()]
    return df.select(cols).filter(pl.col("granted_on") <= on)


def active_holders(statuses: pl.DataFrame, programmes: pl.DataFrame, year: int) -> pl.DataFrame:
    """(region, person_id) for every person holding a programme status valid at some time in the year.

    The region is the programme's (from its file), else the status's own region column.
    """
    first, last = year_bounds(year)
    return (
        statuses.filter(
            pl.col("program_id").is_not_null() & (pl.col("valid_from") <= last) & (pl.col("valid_to") >= first)
        )
        .join(programmes.select("program_id", pl.col("region").alias("programme_region")), on="program_id", how="left")
        .select(pl.coalesce("programme_region", "region").alias("region"), "person_id")
        .unique()
    )


def retention_cohort(statuses: pl.DataFrame, programmes: pl.DataFrame, year: int) -> pl.DataFrame:
    """(region, person_id, anniversary): programme grants whose 12-month anniversary falls in the year.

    The anniversary is granted_on + 12 calendar months; a person with several such grants in
    one region is counted once, at the earliest anniversary.
    """
    first, last = year_bounds(year)
    return (
        statuses.filter(pl.col("program_id").is_not_null())
        .join(programmes.select("program_id", pl.col("region").alias("programme_region")), on="program_id", how="left")
        .with_columns(
            pl.coalesce("programme_region", "region").alias("region"),
            pl.col("granted_on").dt.offset_by("12mo").alias("anniversary"),
        )
        .filter(pl.col("anniversary").is_between(first, last))
        .group_by("region", "person_id")
        .agg(pl.col("anniversary").min())
    )


def retained(cohort: pl.DataFrame, addresses: pl.DataFrame, movements: pl.DataFrame) -> pl.DataFrame:
    """The cohort rows whose holder lived in the region on the anniversary.

    Living there means the address in force that day (latest report effective on or before
    it) is in the region, and the last movement on or before it is not an exit.
    """
    keyed = cohort.with_row_index("_c")
    address = (
        keyed.join(addresses, on="person_id", how="inner")
        .filter(pl.col("effective_date") <= pl.col("anniversary"))
        .sort(["_c", "effective_date"])
        .group_by("_c", maintain_order=True)
        .last()
        .select("_c", pl.col("area_code").str.slice(0, 2).alias("address_region"))
    )
    moves = eng.last_movements(
        keyed.join(movements, on="person_id", how="inner").filter(pl.col("date") <= pl.col("anniversary")), key="_c"
    ).select("_c", "last_is_exit")
    return (
        keyed.join(address, on="_c", how="inner")
        .join(moves, on="_c", how="left")
        .filter((pl.col("address_region") == pl.col("region")) & ~pl.col("last_is_exit").fill_null(False))
        .drop("_c", "address_region", "last_is_exit")
    )


def _count(df: pl.DataFrame, name: str) -> pl.DataFrame:
    return df.group_by("region").agg(pl.col("person_id").n_unique().alias(name))


def _rate(num: str, den: str) -> pl.Expr:
    return pl.when(pl.col(den) > 0).then(pl.col(num) / pl.col(den)).otherwise(None)


def indicators(
    frames: Mapping[str, pl.DataFrame],
    programmes: pl.DataFrame,
    regions: pl.DataFrame,
    year: int,
    *,
    settings: RuleSettings | None = None,
) -> pl.DataFrame:
    """One row per region (every region in `regions`) with each indicator and its counts.

    `frames` are record frames keyed by table name; `person` is optional (nationality is not
    needed). `regions` needs `code` and `population_2024`. `settings` gives the illegal-stay
    grace in force on 31 December (default: the shipped compliance.yaml on that day).
    """
    _, year_end = year_bounds(year)
    settings = settings or compliance_rules().settings_on(year_end)
    if settings.on != year_end:
        raise ValueError(f"settings are for {settings.on}, indicators of {year} need {year_end}")
    programmes = eng.programmes_frame(programmes)
    seen = eng.visible(frames, year_end)
    statuses = _statuses_with_region(frames, year_end)

    illegal = eng.illegal_stay(seen["status_grant"], seen["movement"], settings).select("person_id").unique()
    holders = active_holders(statuses, programmes, year)
    people = frames.get("person")
    if people is None or "nationality" not in people.columns:
        people = statuses.select("person_id").unique().with_columns(pl.lit(None, pl.String).alias("nationality"))
    residents = residents_frame(
        people.select("person_id", "nationality"),
        statuses.select("person_id", "region", "valid_from", "valid_to", "granted_on", "visa"),
        seen["movement"],
        seen["address_report"].filter(pl.col("effective_date") <= year_end),
        year_end,
    ).select("region", "person_id")
    in_kiip = holders.join(seen["kiip_record"].select("person_id").unique(), on="person_id", how="semi")
    cohort = retention_cohort(statuses, programmes, year)
    kept = retained(cohort, seen["address_report"], seen["movement"])

    table = regions.select(
        pl.col("code").cast(pl.String).alias("region"), pl.col("population_2024").alias("population")
    )
    for part in (
        _count(holders, "holders"),
        _count(holders.join(illegal, on="person_id", how="semi"), "holders_illegal"),
        _count(residents, "residents"),
        _count(residents.join(illegal, on="person_id", how="semi"), "residents_illegal"),
        _count(in_kiip, "holders_in_kiip"),
        _count(cohort, "cohort"),
        _count(kept, "retained"),
    ):
        table = table.join(part, on="region", how="left")
    counts = ["holders", "holders_illegal", "residents", "residents_illegal", "holders_in_kiip", "cohort", "retained"]
    return (
        table.with_columns([pl.col(c).fill_null(0).cast(pl.Int64) for c in counts])
        .with_columns(
            pl.lit(year).alias("year"),
            _rate("holders_illegal", "holders").alias("illegal_stay_rate_holders"),
            _rate("residents_illegal", "residents").alias("illegal_stay_rate_residents"),
            _rate("holders_in_kiip", "holders").alias("integration_participation_rate"),
            _rate("retained", "cohort").alias("retention_rate"),
            _rate("residents", "population").alias("foreign_resident_share"),
        )
        .select(INDICATOR_COLUMNS)
        .sort("region")
    )


def for_framework(table: pl.DataFrame) -> dict[str, dict[str, float | None]]:
    """Region → {framework indicator id: raw value}, the table shape the evaluation takes."""
    return {row["region"]: {ind: row[col] for ind, col in FRAMEWORK_IDS.items()} for row in table.iter_rows(named=True)}
