"""The compliance engine: every finding for every person on a reference date (DESIGN §4.8).

Pure Polars over record frames keyed by table name (`status_grant`, `address_report`,
`movement`, `kiip_record`, `employment`), so the same code runs on hand-built test frames, on
a synthetic dataset in memory and on what the service reads from the database. Everything is
joins, group-bys, window functions and interval arithmetic over columns; there is no Python
loop over people or records, and no day-by-day expansion.

A run first cuts every frame down to what was known on the reference date (`visible`), so the
answer as of a past date does not change when later records arrive.

Conventions:
* Dates are whole days; an interval [s, e) is half-open, so its length is e − s days.
* `days` of a finding counts both ends: end_date − start_date + 1, or DATE − start_date + 1
  while the finding is ongoing (end_date null).
* An area code is a 2-digit region or a 5-digit district. A code is inside a residence area
  when the area lists it, or lists its region (first two digits). A 2-digit code is therefore
  outside an area that names only districts: a report that says only "Busan" does not show
  the holder lives in the named district.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import polars as pl

from regionvisa.compliance.rules import RuleSettings
from regionvisa.rules.periods import add_months_expr, obligation_period_end

CONTRACT_COLUMNS = ["person_id", "rule", "program_id", "start_date", "end_date", "days"]
FINDING_SCHEMA: dict[str, pl.DataType] = {
    "person_id": pl.String(),
    "rule": pl.String(),
    "program_id": pl.String(),
    "start_date": pl.Date(),
    "end_date": pl.Date(),
    "days": pl.Int64(),
    "severity": pl.String(),
    "evidence": pl.String(),
    "region": pl.String(),
}

# The record columns the engine reads, per table (a subset of records.frames.SCHEMAS).
INPUT_SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "status_grant": {
        "person_id": pl.String(),
        "visa": pl.String(),
        "program_id": pl.String(),
        "region": pl.String(),
        "valid_from": pl.Date(),
        "valid_to": pl.Date(),
        "granted_on": pl.Date(),
    },
    "address_report": {
        "person_id": pl.String(),
        "area_code": pl.String(),
        "effective_date": pl.Date(),
        "reported_date": pl.Date(),
    },
    "movement": {"person_id": pl.String(), "direction": pl.String(), "date": pl.Date()},
    "kiip_record": {"person_id": pl.String(), "level": pl.Int64(), "enrolled_on": pl.Date(), "completed_on": pl.Date()},
    "employment": {
        "person_id": pl.String(),
        "employer_id": pl.String(),
        "employer_region": pl.String(),
        "start_date": pl.Date(),
        "end_date": pl.Date(),
        "annual_wage_krw": pl.Int64(),
        "occupation_code": pl.String(),
    },
}

# The column that decides whether a record was known on the reference date (§4.8); the same
# as records.frames.KNOWN_BY, repeated here so the engine needs no database import.
VISIBLE_BY = {
    "status_grant": "granted_on",
    "address_report": "reported_date",
    "movement": "date",
    "kiip_record": "enrolled_on",
    "employment": "start_date",
}

PROGRAMME_SCHEMA: dict[str, pl.DataType] = {
    "program_id": pl.String(),
    "region": pl.String(),
    "residence_area": pl.List(pl.String()),
    "obligation_months": pl.Int64(),
    "kiip_deadline_months": pl.Int64(),
    "includes_employment": pl.Boolean(),
    "version": pl.Int64(),
    "valid_from": pl.Date(),
    "valid_to": pl.Date(),
    # E-7 programmes' employment conditions, dated: the wage floor and the occupation list
    "wage_floors": pl.List(pl.Struct({"since": pl.Date(), "krw": pl.Int64()})),
    "occupation_lists": pl.List(pl.Struct({"since": pl.Date(), "codes": pl.List(pl.String())})),
}

# Optional frame of every job in force on DATE at an employer where a programme holder works (the
# service reads it so the employers' foreign staff can be counted; without it, `employment` is used).
STAFF = "employment_staff"

EMPLOYER_SCHEMA: dict[str, pl.DataType] = {
    "employer_id": pl.String(),
    "region": pl.String(),
    "holders": pl.Int64(),
    "foreign_staff": pl.Int64(),
    "share": pl.Float64(),
    "flagged": pl.Boolean(),
}

# Optional frame of statuses that only give findings their region (the service reads the
# statuses of people with a late report and nothing else this way).
REGION_ONLY = "status_grant_region_only"

FAR = dt.date(9999, 12, 31)  # stands for "no end" in interval arithmetic


def empty_findings() -> pl.DataFrame:
    return pl.DataFrame(schema=FINDING_SCHEMA)


def _table(frames: Mapping[str, pl.DataFrame], table: str) -> pl.DataFrame:
    """The columns the engine reads, typed; a missing table is an empty one."""
    schema = INPUT_SCHEMAS[table]
    df = frames.get(table)
    if df is None:
        return pl.DataFrame(schema=schema)
    return df.select([(pl.col(c) if c in df.columns else pl.lit(None)).cast(t).alias(c) for c, t in schema.items()])


def visible(frames: Mapping[str, pl.DataFrame], on: dt.date) -> dict[str, pl.DataFrame]:
    """Each table as it stood on `on`: only records known by then (§4.8)."""
    return {table: _table(frames, table).filter(pl.col(VISIBLE_BY[table]) <= on) for table in INPUT_SCHEMAS}


def programmes_frame(programmes: pl.DataFrame | None) -> pl.DataFrame:
    """Programme obligations typed as the engine expects.

    One row per programme version. `includes_employment` defaults to false, `version` to 1;
    `valid_from`/`valid_to` (the version's validity) may be null, meaning "any date".
    """
    if programmes is None or programmes.height == 0:
        return pl.DataFrame(schema=PROGRAMME_SCHEMA)
    defaults = {"includes_employment": False, "version": 1}
    cols = []
    for c, t in PROGRAMME_SCHEMA.items():
        if c in programmes.columns:
            cols.append(pl.col(c).cast(t))
        else:
            cols.append(pl.lit(defaults.get(c)).cast(t).alias(c))
    return programmes.select(cols).with_columns(
        pl.col("includes_employment").fill_null(False), pl.col("version").fill_null(1)
    )


def programme_regions(programmes: pl.DataFrame) -> pl.DataFrame:
    """program_id → region (a programme keeps its region across versions)."""
    return programmes_frame(programmes).group_by("program_id").agg(pl.col("region").first().alias("programme_region"))


def resolve_versions(statuses: pl.DataFrame, programmes: pl.DataFrame) -> pl.DataFrame:
    """Each programme status joined to the design version that governs it.

    The governing version is the one whose validity covers the grant date (the highest such
    version); when none covers it, the highest version. A status naming no known programme
    drops out. Columns: the status's, then the programme's obligation fields.
    """
    progs = programmes_frame(programmes).rename(
        {"region": "programme_region", "valid_from": "p_from", "valid_to": "p_to"}
    )
    keyed = _programme_statuses(statuses).with_row_index("_status")
    return (
        keyed.join(progs, on="program_id", how="inner")
        .with_columns(
            (
                (pl.col("p_from").is_null() | (pl.col("p_from") <= pl.col("granted_on")))
                & (pl.col("p_to").is_null() | (pl.col("p_to") >= pl.col("granted_on")))
            ).alias("_covers")
        )
        .sort(["_status", "_covers", "version"])
        .group_by("_status", maintain_order=True)
        .last()
        .drop("_status", "_covers", "p_from", "p_to")
    )


def plus_days(date: pl.Expr, days: pl.Expr | int) -> pl.Expr:
    return date + pl.duration(days=days)


def days_between(a: pl.Expr, b: pl.Expr) -> pl.Expr:
    """b − a in days."""
    return (b - a).dt.total_days()


def iso_date(expr: pl.Expr) -> pl.Expr:
    return expr.dt.to_string("%Y-%m-%d")


def inside_area(code: pl.Expr, area: pl.Expr) -> pl.Expr:
    """Whether an area code lies in a residence area (a list of 2- or 5-digit codes)."""
    return area.list.contains(code) | area.list.contains(code.str.slice(0, 2))


def _findings(df: pl.DataFrame, rule: str, settings: RuleSettings) -> pl.DataFrame:
    """Shape rule output (person_id, program_id, start_date, end_date, evidence) as findings."""
    end_or_on = pl.coalesce(pl.col("end_date"), pl.lit(settings.on))
    return df.select(
        pl.col("person_id").cast(pl.String),
        pl.lit(rule).alias("rule"),
        pl.col("program_id").cast(pl.String),
        pl.col("start_date").cast(pl.Date),
        pl.col("end_date").cast(pl.Date),
        (days_between(pl.col("start_date"), end_or_on) + 1).cast(pl.Int64).alias("days"),
        pl.lit(settings.severity.get(rule)).cast(pl.String).alias("severity"),
        pl.col("evidence").cast(pl.String),
        pl.lit(None, pl.String).alias("region"),
    )


def last_movements(movements: pl.DataFrame, key: str = "person_id") -> pl.DataFrame:
    """Per person (or other `key`): the date of their last movement and whether it is an exit.

    An entry and an exit on the same last day count as an exit, as in `records.frames`.
    Hash aggregation, no sort: the last entry and the last exit are found separately.
    """
    return (
        movements.group_by(key)
        .agg(
            pl.col("date").filter(pl.col("direction") == "entry").max().alias("last_entry"),
            pl.col("date").filter(pl.col("direction") == "exit").max().alias("last_exit"),
        )
        .with_columns(
            pl.max_horizontal("last_entry", "last_exit").alias("last_date"),
            (
                pl.col("last_exit").is_not_null() & (pl.col("last_exit") >= pl.col("last_entry").fill_null(dt.date.min))
            ).alias("last_is_exit"),
        )
    )


def _prefer_programme_latest(statuses: pl.DataFrame, order: list[str]) -> pl.DataFrame:
    """One status per person: the greatest by `order`, a programme status winning ties."""
    return (
        statuses.with_columns(pl.col("program_id").is_not_null().alias("_has_program"))
        .sort(["person_id", *order, "_has_program", "valid_from"])
        .group_by("person_id", maintain_order=True)
        .last()
        .drop("_has_program")
    )


def illegal_stay(statuses: pl.DataFrame, movements: pl.DataFrame, settings: RuleSettings) -> pl.DataFrame:
    """Had a status, none covers DATE (beyond the grace days), and the last movement is an entry or none.

    Starts the day after the latest valid_to among statuses that had begun by DATE; ongoing.
    Statuses that only begin after DATE are ignored: they neither cover DATE nor end a stay.
    """
    on = settings.on
    had = statuses.filter(pl.col("valid_from") <= on)
    latest = _prefer_programme_latest(had, ["valid_to"]).filter(plus_days(pl.col("valid_to"), settings.grace_days) < on)
    if latest.height == 0:
        return empty_findings()
    moves = last_movements(movements.join(latest.select("person_id"), on="person_id", how="semi"))
    found = latest.join(moves, on="person_id", how="left").filter(
        pl.col("last_is_exit").is_null() | ~pl.col("last_is_exit")
    )
    last_move = (
        pl.when(pl.col("last_date").is_null())
        .then(pl.lit("none"))
        .otherwise(pl.format("entry {}", iso_date(pl.col("last_entry"))))
    )
    return _findings(
        found.with_columns(
            plus_days(pl.col("valid_to"), 1).alias("start_date"),
            pl.lit(None, pl.Date).alias("end_date"),
            pl.format(
                "status_grant[{} {}..{}]; last movement[{}]",
                pl.col("visa"),
                iso_date(pl.col("valid_from")),
                iso_date(pl.col("valid_to")),
                last_move,
            ).alias("evidence"),
        ),
        "illegal_stay",
        settings,
    )


def _programme_statuses(statuses: pl.DataFrame) -> pl.DataFrame:
    return statuses.filter(pl.col("program_id").is_not_null())


def late_address_report(addresses: pl.DataFrame, statuses: pl.DataFrame, settings: RuleSettings) -> pl.DataFrame:
    """Reported more than `max_days` after the move: runs from effective + max_days + 1 to reported.

    program_id is that of a programme status whose validity covers the move (the latest granted).
    """
    limit = settings.max_days
    late = addresses.filter(days_between(pl.col("effective_date"), pl.col("reported_date")) > limit).with_row_index(
        "_report"
    )
    if late.height == 0:
        return empty_findings()
    covering = (
        late.select("_report", "person_id", "effective_date")
        .join(
            _programme_statuses(statuses).select("person_id", "program_id", "valid_from", "valid_to", "granted_on"),
            on="person_id",
            how="inner",
        )
        .filter((pl.col("valid_from") <= pl.col("effective_date")) & (pl.col("valid_to") >= pl.col("effective_date")))
        .sort(["_report", "granted_on", "program_id"])
        .group_by("_report", maintain_order=True)
        .last()
        .select("_report", "program_id")
    )
    return _findings(
        late.join(covering, on="_report", how="left").with_columns(
            plus_days(pl.col("effective_date"), limit + 1).alias("start_date"),
            pl.col("reported_date").alias("end_date"),
            pl.format(
                "address_report[{} effective {} reported {}]",
                pl.col("area_code"),
                iso_date(pl.col("effective_date")),
                iso_date(pl.col("reported_date")),
            ).alias("evidence"),
        ),
        "late_address_report",
        settings,
    )


def obligations(statuses: pl.DataFrame, programmes: pl.DataFrame, on: dt.date) -> pl.DataFrame:
    """One row per programme status with its obligation window, clipped to DATE.

    The period is [granted_on, granted_on + obligation_months) in calendar months (a grant on
    31 January with 1 month runs to 28 or 29 February exclusive; `rules.periods`, the same
    period issuance gives the status); `window_end` (exclusive) is
    the earlier of its end and DATE + 1. Statuses naming a programme not in `programmes` are
    left out (the service reports them).
    """
    return (
        resolve_versions(statuses, programmes)
        .with_columns(obligation_period_end(pl.col("granted_on"), pl.col("obligation_months")).alias("period_end"))
        .with_columns(pl.min_horizontal("period_end", pl.lit(on + dt.timedelta(days=1))).alias("window_end"))
        .sort(["person_id", "granted_on", "program_id", "valid_from"])
        .with_row_index("obligation")
    )


def _outside_intervals(
    obl: pl.DataFrame, addresses: pl.DataFrame, employment: pl.DataFrame, on: dt.date
) -> pl.DataFrame:
    """Half-open intervals [s, e) inside each obligation window that count as days outside.

    Address intervals: each report is in force from its effective_date until the next
    report's; days before the first report are not covered by any interval, so never count.
    Employment intervals (programmes that include employment): a job with an employer outside
    the area, from start_date to end_date inclusive (open-ended when end_date is empty).
    """
    keys = obl.select("obligation", "person_id", "granted_on", "window_end", "residence_area", "includes_employment")
    in_force = (
        addresses.filter(pl.col("effective_date") <= on)
        .join(keys.select("person_id").unique(), on="person_id", how="semi")
        .sort(["person_id", "effective_date"])
        .with_columns(pl.col("effective_date").shift(-1).over("person_id").fill_null(FAR).alias("next_effective"))
    )
    by_address = (
        keys.join(in_force, on="person_id", how="inner")
        .filter(~inside_area(pl.col("area_code"), pl.col("residence_area")))
        .select(
            "obligation",
            pl.max_horizontal("effective_date", "granted_on").alias("s"),
            pl.min_horizontal("next_effective", "window_end").alias("e"),
            pl.format(
                "address_report[{} effective {} reported {}]",
                pl.col("area_code"),
                iso_date(pl.col("effective_date")),
                iso_date(pl.col("reported_date")),
            ).alias("item"),
        )
    )
    by_job = (
        keys.filter(pl.col("includes_employment"))
        .join(employment, on="person_id", how="inner")
        .filter(~inside_area(pl.col("employer_region"), pl.col("residence_area")))
        .select(
            "obligation",
            pl.max_horizontal("start_date", "granted_on").alias("s"),
            pl.min_horizontal(plus_days(pl.col("end_date"), 1).fill_null(FAR), "window_end").alias("e"),
            pl.format(
                "employment[{} in {} from {}]",
                pl.col("employer_id"),
                pl.col("employer_region"),
                iso_date(pl.col("start_date")),
            ).alias("item"),
        )
    )
    return pl.concat([by_address, by_job]).filter(pl.col("e") > pl.col("s"))


def merge_intervals(intervals: pl.DataFrame, key: str) -> pl.DataFrame:
    """Union of possibly overlapping [s, e) intervals per key, with their items joined.

    A new spell starts where an interval begins after everything before it has ended
    (running maximum of the ends), so overlapping address and job days count once.
    """
    return (
        intervals.sort([key, "s", "e"])
        .with_columns(pl.col("e").cum_max().shift(1).over(key).alias("_reach"))
        .with_columns(
            (pl.col("_reach").is_null() | (pl.col("s") > pl.col("_reach")))
            .cast(pl.Int64)
            .cum_sum()
            .over(key)
            .alias("_spell")
        )
        .group_by([key, "_spell"])
        .agg(pl.col("s").min(), pl.col("e").max(), pl.col("item").str.join("; "))
        .drop("_spell")
        .sort([key, "s"])
    )


def residence_spells(
    statuses: pl.DataFrame, addresses: pl.DataFrame, employment: pl.DataFrame, programmes: pl.DataFrame, on: dt.date
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Obligation windows up to DATE, and their merged outside spells with running totals."""
    obl = obligations(statuses, programmes, on).filter(pl.col("window_end") > pl.col("granted_on"))
    if obl.height == 0:
        return obl, pl.DataFrame()
    spells = merge_intervals(_outside_intervals(obl, addresses, employment, on), "obligation").with_columns(
        days_between(pl.col("s"), pl.col("e")).alias("length")
    )
    spells = spells.with_columns(pl.col("length").cum_sum().over("obligation").alias("total")).with_columns(
        (pl.col("total") - pl.col("length")).alias("before")
    )
    return obl, spells


def residence_obligation(
    statuses: pl.DataFrame,
    addresses: pl.DataFrame,
    employment: pl.DataFrame,
    programmes: pl.DataFrame,
    settings: RuleSettings,
) -> pl.DataFrame:
    """More than `max_days_outside` days outside the residence area within the obligation period.

    Interval arithmetic: outside spells are clipped to the obligation window, merged, measured
    and summed in date order; the finding starts on the day the running total first exceeds
    the limit, i.e. the (limit + 1)-th outside day, and is ongoing.
    """
    on, limit = settings.on, settings.max_days_outside
    obl, spells = residence_spells(statuses, addresses, employment, programmes, on)
    if obl.height == 0:
        return empty_findings()
    relied = (
        spells.filter(pl.col("before") <= limit)
        .group_by("obligation")
        .agg(pl.col("item").sort_by("s").str.join("; ").alias("items"))
    )
    crossing = spells.filter((pl.col("before") <= limit) & (pl.col("total") > limit)).select(
        "obligation", plus_days(pl.col("s"), limit - pl.col("before")).alias("start_date")
    )
    found = crossing.join(obl, on="obligation", how="inner").join(relied, on="obligation", how="left")
    return _findings(
        found.with_columns(
            pl.lit(None, pl.Date).alias("end_date"),
            pl.format(
                "status_grant[{} granted {}]; outside {}: {}",
                pl.col("program_id"),
                iso_date(pl.col("granted_on")),
                pl.col("residence_area").list.join(","),
                pl.col("items"),
            ).alias("evidence"),
        ),
        "residence_obligation",
        settings,
    )


def integration_obligation(
    statuses: pl.DataFrame, kiip: pl.DataFrame, programmes: pl.DataFrame, settings: RuleSettings
) -> pl.DataFrame:
    """No KIIP enrolment by granted_on + kiip_deadline_months, and DATE is past that deadline.

    Any KIIP record of the person counts, whatever its level, including one from before the
    grant. Starts the day after the deadline; ongoing.
    """
    on = settings.on
    due = (
        obligations(statuses, programmes.filter(pl.col("kiip_deadline_months").is_not_null()), on)
        .with_columns(add_months_expr(pl.col("granted_on"), pl.col("kiip_deadline_months")).alias("deadline"))
        .filter(pl.col("deadline") < on)
    )
    if due.height == 0:
        return empty_findings()
    first = kiip.group_by("person_id").agg(pl.col("enrolled_on").min().alias("first_enrolled"))
    found = due.join(first, on="person_id", how="left").filter(
        pl.col("first_enrolled").is_null() | (pl.col("first_enrolled") > pl.col("deadline"))
    )
    enrolled = (
        pl.when(pl.col("first_enrolled").is_null())
        .then(pl.lit("none"))
        .otherwise(pl.format("first enrolled {}", iso_date(pl.col("first_enrolled"))))
    )
    return _findings(
        found.with_columns(
            plus_days(pl.col("deadline"), 1).alias("start_date"),
            pl.lit(None, pl.Date).alias("end_date"),
            pl.format(
                "status_grant[{} granted {}]; kiip deadline {}; kiip_record[{}]",
                pl.col("program_id"),
                iso_date(pl.col("granted_on")),
                iso_date(pl.col("deadline")),
                enrolled,
            ).alias("evidence"),
        ),
        "integration_obligation",
        settings,
    )


def unreported_departure(statuses: pl.DataFrame, movements: pl.DataFrame, settings: RuleSettings) -> pl.DataFrame:
    """A status still covers DATE, yet the last movement is an exit more than `max_days_abroad` ago.

    Nothing in the feeds records a departure report, so a stay that is still in force while
    the person has been gone longer than any ordinary trip is a departure nobody reported.
    Starts on exit date + max_days_abroad + 1 (the first day over the limit); ongoing.
    """
    on, limit = settings.on, settings.max_days_abroad
    covering = _prefer_programme_latest(
        statuses.filter((pl.col("valid_from") <= on) & (pl.col("valid_to") >= on)), ["valid_from"]
    )
    moves = last_movements(movements.join(covering.select("person_id"), on="person_id", how="semi")).filter(
        pl.col("last_is_exit") & (days_between(pl.col("last_exit"), pl.lit(on)) > limit)
    )
    found = covering.join(moves, on="person_id", how="inner")
    return _findings(
        found.with_columns(
            plus_days(pl.col("last_exit"), limit + 1).alias("start_date"),
            pl.lit(None, pl.Date).alias("end_date"),
            pl.format(
                "status_grant[{} {}..{}]; movement[exit {}]",
                pl.col("visa"),
                iso_date(pl.col("valid_from")),
                iso_date(pl.col("valid_to")),
                iso_date(pl.col("last_exit")),
            ).alias("evidence"),
        ),
        "unreported_departure",
        settings,
    )


def _in_force(column: str, value: str, on: dt.date) -> pl.Expr:
    """The value of a dated list of {since, value} in force on `on` (null before the first)."""
    items = pl.col(column).list.eval(pl.element().filter(pl.element().struct.field("since") <= on))
    return items.list.last().struct.field(value)


def employment_conditions(
    statuses: pl.DataFrame, employment: pl.DataFrame, programmes: pl.DataFrame, settings: RuleSettings
) -> list[pl.DataFrame]:
    """The jobs of E-7 programme holders in force on DATE (started by then, not ended before) that
    break the programme's conditions in force on DATE (issue 19):

    * `wage_below_floor`: the reported annual wage is below the programme's wage floor;
    * `occupation_not_listed`: the reported occupation is not on the programme's list.

    A job without the value reported is not judged. The finding starts on the later of the job's
    start and the grant, and is ongoing while the job lasts.
    """
    on = settings.on
    if employment.height == 0:
        return [empty_findings(), empty_findings()]
    holders = (
        resolve_versions(statuses, programmes)
        .filter((pl.col("valid_from") <= on) & (pl.col("valid_to") >= on))  # the status covers DATE
        .with_columns(
            _in_force("wage_floors", "krw", on).alias("floor_krw"),
            _in_force("occupation_lists", "codes", on).alias("listed"),
        )
        .select("person_id", "program_id", "granted_on", "floor_krw", "listed")
    )
    jobs = employment.filter((pl.col("start_date") <= on) & (pl.col("end_date").is_null() | (pl.col("end_date") >= on)))
    held = holders.join(jobs, on="person_id", how="inner").with_columns(
        pl.max_horizontal("start_date", "granted_on").alias("start_date"),
        pl.lit(None, pl.Date).alias("end_date"),
    )
    job = pl.format("employment[{} from {}]", pl.col("employer_id"), iso_date(pl.col("start_date")))
    low = held.filter(pl.col("floor_krw").is_not_null() & (pl.col("annual_wage_krw") < pl.col("floor_krw")))
    off_list = held.filter(
        pl.col("listed").is_not_null()
        & pl.col("occupation_code").is_not_null()
        & ~pl.col("occupation_code").is_in(pl.col("listed"))
    )
    return [
        _findings(
            low.with_columns(
                pl.format("wage {} below floor {}; {}", pl.col("annual_wage_krw"), pl.col("floor_krw"), job).alias(
                    "evidence"
                )
            ),
            "wage_below_floor",
            settings,
        ),
        _findings(
            off_list.with_columns(
                pl.format(
                    "occupation {} not listed for {}; {}", pl.col("occupation_code"), pl.col("program_id"), job
                ).alias("evidence")
            ),
            "occupation_not_listed",
            settings,
        ),
    ]


def e7_holders(statuses: pl.DataFrame, on: dt.date) -> pl.DataFrame:
    """person_id, program_id and granted_on of everyone whose status covering `on` (the latest to
    begin, as `records.frames.covering_visas`) is a programme's E-7."""
    return (
        statuses.filter((pl.col("valid_from") <= on) & (pl.col("valid_to") >= on))
        .sort(["person_id", "valid_from", "granted_on"])
        .group_by("person_id", maintain_order=True)
        .last()
        .filter(pl.col("program_id").is_not_null() & (pl.col("visa") == "E-7"))
        .select("person_id", "program_id", "granted_on")
    )


def _jobs_on(employment: pl.DataFrame, on: dt.date) -> pl.DataFrame:
    return employment.filter((pl.col("start_date") <= on) & (pl.col("end_date").is_null() | (pl.col("end_date") >= on)))


def employers(statuses: pl.DataFrame, staff: pl.DataFrame, settings: RuleSettings) -> pl.DataFrame:
    """Per employer with a programme E-7 holder among its staff on DATE (EMPLOYER_SCHEMA):

    * `foreign_staff`: the distinct people with a job there in force on DATE (everyone in the
      records is a foreign resident);
    * `holders`: those of them whose status covering DATE is a programme's E-7;
    * `share` = holders / foreign_staff; `flagged` when share > max_holder_share and holders ≥
      min_holders. `region` is the employer's (its latest-starting job's `employer_region`).

    Sorted by region, then share (highest first), then employer.
    """
    on = settings.on
    jobs = _jobs_on(staff, on)
    holders = e7_holders(statuses, on).select("person_id", pl.lit(True).alias("_holder"))
    region = (
        jobs.sort(["employer_id", "start_date"])
        .group_by("employer_id", maintain_order=True)
        .last()
        .select("employer_id", pl.col("employer_region").alias("region"))
    )
    people = jobs.select("employer_id", "person_id").unique().join(holders, on="person_id", how="left")
    table = (
        people.group_by("employer_id")
        .agg(
            pl.col("_holder").fill_null(False).sum().cast(pl.Int64).alias("holders"),
            pl.len().cast(pl.Int64).alias("foreign_staff"),
        )
        .filter(pl.col("holders") > 0)
        .join(region, on="employer_id", how="left")
        .with_columns((pl.col("holders") / pl.col("foreign_staff")).alias("share"))
        .with_columns(
            ((pl.col("share") > settings.max_holder_share) & (pl.col("holders") >= settings.min_holders)).alias(
                "flagged"
            )
        )
    )
    return table.select([pl.col(c).cast(t) for c, t in EMPLOYER_SCHEMA.items()]).sort(
        ["region", "share", "employer_id"], descending=[False, True, False], nulls_last=True
    )


def employer_concentration(
    statuses: pl.DataFrame, staff: pl.DataFrame, table: pl.DataFrame, settings: RuleSettings
) -> pl.DataFrame:
    """`employer_concentration`: one finding per programme E-7 holder with a job in force on DATE
    at a flagged employer (`employers`), with the holder's programme. It starts on the later of
    the job's start and the grant and is ongoing; the evidence gives the employer's counts."""
    on = settings.on
    flagged = table.filter(pl.col("flagged"))
    if flagged.height == 0:
        return empty_findings()
    found = (
        _jobs_on(staff, on)
        .join(flagged.select("employer_id", "holders", "foreign_staff"), on="employer_id", how="inner")
        .join(e7_holders(statuses, on), on="person_id", how="inner")
        .sort(["person_id", "employer_id", "start_date"])
        .group_by(["person_id", "employer_id"], maintain_order=True)
        .first()
        .with_columns(
            pl.max_horizontal("start_date", "granted_on").alias("start_date"),
            pl.lit(None, pl.Date).alias("end_date"),
        )
    )
    return _findings(
        found.with_columns(
            pl.format(
                "employer {}: {} of {} foreign staff hold a programme E-7 status, above share {} (at least {}); "
                "employment[{} from {}]",
                pl.col("employer_id"),
                pl.col("holders"),
                pl.col("foreign_staff"),
                pl.lit(f"{settings.max_holder_share:g}"),
                pl.lit(settings.min_holders),
                pl.col("employer_id"),
                iso_date(pl.col("start_date")),
            ).alias("evidence")
        ),
        "employer_concentration",
        settings,
    )


def staff_frame(frames: Mapping[str, pl.DataFrame], on: dt.date) -> pl.DataFrame:
    """The jobs the employers' foreign staff are counted from: the service's STAFF frame when
    given (every job in force at a holder's employer), else the visible employment table."""
    extra = frames.get(STAFF)
    table = _table({"employment": extra}, "employment") if extra is not None else _table(frames, "employment")
    return table.filter(pl.col("start_date") <= on)


def employer_table(frames: Mapping[str, pl.DataFrame], settings: RuleSettings) -> pl.DataFrame:
    """`employers` over the record frames as they stood on `settings.on`."""
    statuses = _table(frames, "status_grant").filter(pl.col("granted_on") <= settings.on)
    return employers(statuses, staff_frame(frames, settings.on), settings)


def find_all(
    frames: Mapping[str, pl.DataFrame], programmes: pl.DataFrame | None, settings: RuleSettings
) -> pl.DataFrame:
    """Every finding as of `settings.on`, sorted by person, rule, start date and programme."""
    seen = visible(frames, settings.on)
    progs = programmes_frame(programmes)
    statuses, addresses, movements = seen["status_grant"], seen["address_report"], seen["movement"]
    parts = [
        illegal_stay(statuses, movements, settings),
        late_address_report(addresses, statuses, settings),
        residence_obligation(statuses, addresses, seen["employment"], progs, settings),
        integration_obligation(statuses, seen["kiip_record"], progs, settings),
        *employment_conditions(statuses, seen["employment"], progs, settings),
        unreported_departure(statuses, movements, settings),
    ]
    staff = staff_frame(frames, settings.on)
    parts.append(employer_concentration(statuses, staff, employers(statuses, staff, settings), settings))
    found = pl.concat([p.select(list(FINDING_SCHEMA)) for p in parts])
    extra = frames.get(REGION_ONLY)
    if extra is not None and extra.height:
        # statuses read only to place a finding in a region: never evaluated by the rules
        statuses = pl.concat([statuses, _table({"status_grant": extra}, "status_grant")]).filter(
            pl.col("granted_on") <= settings.on
        )
    return sort_findings(assign_regions(found, statuses, progs, settings.on))


def assign_regions(
    findings: pl.DataFrame, statuses: pl.DataFrame, programmes: pl.DataFrame, on: dt.date
) -> pl.DataFrame:
    """The region whose queue a finding belongs to.

    A programme finding belongs to the programme's region; any other to the region of the
    person's latest status that had begun by DATE (the status feed's `region`).
    """
    latest = (
        statuses.with_columns((pl.col("valid_from") <= on).alias("_begun"))
        .sort(["person_id", "_begun", "valid_from", "valid_to"])
        .group_by("person_id", maintain_order=True)
        .last()
        .select("person_id", pl.col("region").alias("status_region"))
    )
    return (
        findings.drop("region")
        .join(programme_regions(programmes), on="program_id", how="left")
        .join(latest, on="person_id", how="left")
        .with_columns(pl.coalesce("programme_region", "status_region").alias("region"))
        .select(list(FINDING_SCHEMA))
    )


def sort_findings(findings: pl.DataFrame) -> pl.DataFrame:
    return findings.sort(["person_id", "rule", "start_date", "program_id"], nulls_last=False)
