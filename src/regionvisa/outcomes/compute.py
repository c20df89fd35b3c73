"""The pilot outcome report's indicators, pure Polars over the records' columns: no I/O.

Groups (docs/indicators.md, "Pilot outcome report"):
- **pilot**: people whose first programme grant was granted in [since, on]; one group per
  programme, region and base visa of that grant; the group's date is that grant's `granted_on`.
- **comparison**: people with no programme grant known by `on` whose first grant of the base visa
  (D-2 or E-7) was granted in [since, on]; one group per region (of that grant) and visa. The
  same period and the same national records as the pilot.

Indicators per group:
- retention at 6/12/24 months: the share of holders whose address in force that many calendar
  months after their date lies in the group's region, among those whose checkpoint is on or
  before `on` (`mobility.compute.retention`, with the region as the area);
- KIIP participation: the share with a KIIP enrolment on or before `on`;
- employment (E-7 only): the share employed on `on`, the median annual wage of the jobs in force
  on `on` that report one, and the share of those below the wage floor in force (the programme's,
  else the national E-7 floor; the comparison group is held to the national floor).
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from regionvisa.mobility import compute as mobility

BASE_VISAS = ("D-2", "E-7")
GROUP_KEYS = ("group", "program_id", "region", "visa")
MONTHS = mobility.RETENTION_MONTHS


def members(statuses: pl.DataFrame, *, since: dt.date, on: dt.date) -> pl.DataFrame:
    """One row per member: person_id, group ('pilot' or 'comparison'), program_id (null for the
    comparison), region, visa and `granted_on` (the member's date)."""
    known = statuses.filter(pl.col("granted_on") <= on)
    held = known.filter(pl.col("program_id").is_not_null())
    pilot = (
        held.sort("person_id", "granted_on")
        .group_by("person_id", maintain_order=True)
        .first()
        .filter((pl.col("granted_on") >= since) & pl.col("visa").is_in(BASE_VISAS))
        .select("person_id", group=pl.lit("pilot"), program_id="program_id", region="region", visa="visa",
                granted_on="granted_on")
    )  # fmt: skip
    comparison = (
        known.filter(pl.col("visa").is_in(BASE_VISAS) & ~pl.col("person_id").is_in(held["person_id"].implode()))
        .sort("person_id", "visa", "granted_on")
        .group_by("person_id", "visa", maintain_order=True)
        .first()
        .filter(pl.col("granted_on") >= since)
        .select("person_id", group=pl.lit("comparison"), program_id=pl.lit(None, pl.String), region="region",
                visa="visa", granted_on="granted_on")
    )  # fmt: skip
    return pl.concat([pilot, comparison]).sort("group", "region", "visa", "person_id")


def _key(frame: pl.DataFrame) -> pl.Expr:
    return pl.concat_str(["group", pl.col("program_id").fill_null(""), "region", "visa"], separator="|")


def retention(people: pl.DataFrame, addresses: pl.DataFrame, *, on: dt.date) -> pl.DataFrame:
    """Per group: holders, and for 6/12/24 months the eligible holders and the share in the region."""
    keyed = people.with_columns(key=_key(people))
    grants = keyed.select("person_id", program_id="key", granted_on="granted_on")
    areas = keyed.select(program_id="key", region="region", residence_area=pl.concat_list("region")).unique(
        "program_id"
    )
    areas = areas.with_columns(valid_from=pl.lit(None, pl.Date), valid_to=pl.lit(None, pl.Date))
    cohorts = mobility.retention(grants, addresses, areas, on=on)
    aggs = [pl.col("holders").sum()]
    for m in MONTHS:
        kept = pl.col(f"in_area_{m}m")
        aggs += [
            pl.col("holders").filter(kept.is_not_null()).sum().alias(f"eligible_{m}m"),
            kept.sum().alias(f"retained_{m}m"),
        ]
    table = cohorts.group_by(key="program_id").agg(aggs)
    shares = [
        pl.when(pl.col(f"eligible_{m}m") > 0)
        .then(pl.col(f"retained_{m}m") / pl.col(f"eligible_{m}m"))
        .alias(f"retention_{m}m")
        for m in MONTHS
    ]
    return table.with_columns(shares).drop([f"retained_{m}m" for m in MONTHS])


def kiip(people: pl.DataFrame, kiip_records: pl.DataFrame, *, on: dt.date) -> pl.DataFrame:
    """Per group: the share of members with a KIIP enrolment on or before `on`."""
    enrolled = kiip_records.filter(pl.col("enrolled_on") <= on).select("person_id").unique()
    return (
        people.with_columns(key=_key(people))
        .join(enrolled.with_columns(enrolled=pl.lit(True)), on="person_id", how="left")
        .group_by("key")
        .agg(kiip_participation=pl.col("enrolled").fill_null(False).mean())
    )


def employment(
    people: pl.DataFrame, jobs: pl.DataFrame, floors: pl.DataFrame, *, on: dt.date, national_floor: int | None
):
    """Per E-7 group: employed share on `on`, median wage of jobs in force, share below the floor.
    `floors` has program_id and floor_krw (the programme's floor in force on `on`)."""
    e7 = people.filter(pl.col("visa") == "E-7").with_columns(key=_key(people.filter(pl.col("visa") == "E-7")))
    current = jobs.filter((pl.col("start_date") <= on) & (pl.col("end_date").is_null() | (pl.col("end_date") >= on)))
    employed = current.select("person_id").unique().with_columns(employed=pl.lit(True))
    floor = e7.join(floors, on="program_id", how="left").with_columns(
        floor_krw=pl.col("floor_krw").fill_null(pl.lit(national_floor, pl.Int64))
    )
    wages = floor.join(current.filter(pl.col("annual_wage_krw").is_not_null()), on="person_id", how="inner")
    share = (
        floor.join(employed, on="person_id", how="left")
        .group_by("key")
        .agg(employed_share=pl.col("employed").fill_null(False).mean())
    )
    paid = wages.group_by("key").agg(
        median_wage_krw=pl.col("annual_wage_krw").median(),
        below_floor_share=(pl.col("annual_wage_krw") < pl.col("floor_krw")).mean(),
    )
    return share.join(paid, on="key", how="left")


def takeup(people: pl.DataFrame, ledgers: pl.DataFrame, *, since: dt.date, on: dt.date) -> pl.DataFrame:
    """Per programme and month from `since` to `on`: new pilot holders, cumulative, the quota of the
    ledgers whose period covers the month's end (allocated + adjustments), and the comparison
    group's new holders of the same region and visa that month."""
    months = pl.date_range(since.replace(day=1), on, interval="1mo", eager=True).dt.month_end().alias("month_end")
    new = people.with_columns(month_end=pl.col("granted_on").dt.month_end())
    pilot = new.filter(pl.col("group") == "pilot")
    programmes = pilot.select("program_id", "region", "visa").unique()
    grid = programmes.join(pl.DataFrame(months), how="cross")
    counts = pilot.group_by("program_id", "month_end").agg(new_holders=pl.len())
    comparison = (
        new.filter(pl.col("group") == "comparison").group_by("region", "visa", "month_end").agg(comparison_new=pl.len())
    )
    quota = (
        grid.join(ledgers, on="program_id", how="inner")
        .filter((pl.col("period_start") <= pl.col("month_end")) & (pl.col("period_end") >= pl.col("month_end")))
        .group_by("program_id", "month_end")
        .agg(quota=(pl.col("allocated") + pl.col("adjustments")).sum())
    )
    return (
        grid.join(counts, on=["program_id", "month_end"], how="left")
        .join(quota, on=["program_id", "month_end"], how="left")
        .join(comparison, on=["region", "visa", "month_end"], how="left")
        .with_columns(pl.col("new_holders", "comparison_new").fill_null(0).cast(pl.Int64))
        .sort("program_id", "month_end")
        .with_columns(cumulative=pl.col("new_holders").cum_sum().over("program_id"))
        .with_columns(
            takeup=pl.when(pl.col("quota") > 0).then(pl.col("cumulative") / pl.col("quota")),
            month=pl.col("month_end").dt.strftime("%Y-%m"),
        )
        .select("program_id", "region", "visa", "month", "new_holders", "cumulative", "quota", "takeup",
                "comparison_new")
    )  # fmt: skip


def indicators(
    statuses: pl.DataFrame,
    addresses: pl.DataFrame,
    kiip_records: pl.DataFrame,
    jobs: pl.DataFrame,
    floors: pl.DataFrame,
    *,
    since: dt.date,
    on: dt.date,
    national_floor: int | None,
    people: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One row per group (pilot programme × region × visa, comparison region × visa); `people` is
    `members(statuses, ...)` when the caller has it already (it is computed once per report)."""
    people = members(statuses, since=since, on=on) if people is None else people
    groups = people.with_columns(key=_key(people)).select("key", *GROUP_KEYS).unique("key")
    return (
        groups.join(retention(people, addresses, on=on), on="key", how="left")
        .join(kiip(people, kiip_records, on=on), on="key", how="left")
        .join(employment(people, jobs, floors, on=on, national_floor=national_floor), on="key", how="left")
        .drop("key")
        .sort("region", "visa", "group", "program_id", descending=[False, False, True, False], nulls_last=True)
    )
