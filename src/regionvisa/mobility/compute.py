"""Movement and retention (DESIGN §4.9), pure Polars over the records' columns: no I/O.

- A person's region on a day is the region (first two digits of the area code) of the address in
  force that day: the latest report with `effective_date` on or before the day, among the reports
  known by the end of the period (`reported_date` on or before it).
- A move is a change of region between a person's consecutive address reports; it counts when its
  `effective_date` lies in the period. Its visa is that of the status grant covering the move date
  (the one that began last when several do; empty when none).
- Retention follows a programme's holders: a cohort is the programme's grants of one calendar
  month; `in_area_Nm` counts the holders whose address in force N calendar months after their
  grant lies in the programme's residence area.

Every step is a join or a group-by over whole columns, so a national year of records is a few
seconds; `tests/mobility` checks both against a plain reading of the definitions.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

FLOW_COLUMNS = ("region", "visa", "inflow", "outflow", "net", "residents_start", "residents_end")
RETENTION_MONTHS = (6, 12, 24)
RETENTION_COLUMNS = ("program_id", "region", "cohort", "holders", *(f"in_area_{m}m" for m in RETENTION_MONTHS))

FLOW_SCHEMA = {
    "region": pl.String,
    "visa": pl.String,
    "inflow": pl.Int64,
    "outflow": pl.Int64,
    "net": pl.Int64,
    "residents_start": pl.Int64,
    "residents_end": pl.Int64,
}
RETENTION_SCHEMA = {
    "program_id": pl.String,
    "region": pl.String,
    "cohort": pl.String,
    "holders": pl.Int64,
    **{f"in_area_{m}m": pl.Int64 for m in RETENTION_MONTHS},
}


OD_COLUMNS = ("origin", "destination", "visa", "moves")
OD_SCHEMA = {"origin": pl.String, "destination": pl.String, "visa": pl.String, "moves": pl.Int64}


def _reports(addresses: pl.DataFrame, known_by: dt.date) -> pl.LazyFrame:
    """The address reports known by `known_by` and in force by then, with their region, in each
    person's date order. Reports that take effect after `known_by` change nothing on or before it.
    `reported_date` may be left out when the caller has already kept only the reports known then."""
    lf = addresses.lazy()
    if "reported_date" in addresses.columns:
        lf = lf.filter(pl.col("reported_date") <= known_by)
    return (
        lf.filter(pl.col("effective_date") <= known_by)
        .select("person_id", "effective_date", region=pl.col("area_code").str.slice(0, 2), area=pl.col("area_code"))
        .sort("person_id", "effective_date")  # (person_id, effective_date) is the feed's natural key
    )


def _grant_rank(statuses: pl.DataFrame) -> pl.LazyFrame:
    """Grants with `rank`: the later a grant begins, the higher; among grants beginning the same
    day, the later row. The covering grant of highest rank gives a day its visa. Without a
    `program_id` column (read only for `--holders`), no grant is a holder's."""
    held = pl.col("program_id").is_not_null() if "program_id" in statuses.columns else pl.lit(False)
    return (
        statuses.lazy()
        .select("person_id", "visa", "valid_from", "valid_to", holder=held)
        .with_row_index("grant")
        .with_columns(rank=pl.col("valid_from").cast(pl.Int64) * (1 << 32) + pl.col("grant").cast(pl.Int64))
        .drop("grant")
    )


def covering_visa(statuses: pl.DataFrame, events: pl.DataFrame, *, day: str, holders: bool) -> pl.DataFrame:
    """`events` (person_id, `day`, …) with the `visa` of the grant covering the day ("" when none) and
    `holder` (a grant with a programme covers it). With `holders`, only the events of holders."""
    return _covering(_grant_rank(statuses), events.lazy(), day=day, holders=holders).collect()


def _covering(grants: pl.LazyFrame, events: pl.LazyFrame, *, day: str, holders: bool) -> pl.LazyFrame:
    keyed = events.with_row_index("event")
    covered = (
        keyed.select("event", "person_id", day)
        .join(grants, on="person_id", how="inner")
        .filter((pl.col("valid_from") <= pl.col(day)) & (pl.col(day) <= pl.col("valid_to")))
        .group_by("event")
        .agg(pl.col("visa").get(pl.col("rank").arg_max()), pl.col("holder").any())
    )
    out = (
        keyed.join(covered, on="event", how="left")
        .sort("event")
        .with_columns(pl.col("visa").fill_null(""), pl.col("holder").fill_null(False))
    )
    if holders:
        out = out.filter(pl.col("holder"))
    return out.drop("event")


def _regions_on(reports: pl.LazyFrame, people_day: dt.date) -> pl.LazyFrame:
    # in each person's date order, the last report by the day is the one before another person's rows
    return (
        reports.filter(pl.col("effective_date") <= people_day)
        .filter(_last_of_person())
        .select("person_id", "region", day=pl.lit(people_day))
    )


def _moves(reports: pl.LazyFrame, start: dt.date, end: dt.date) -> pl.LazyFrame:
    same_person = pl.col("person_id") == pl.col("person_id").shift(1)
    return (
        reports.with_columns(origin=pl.when(same_person).then(pl.col("region").shift(1)))
        .filter(
            pl.col("origin").is_not_null()
            & (pl.col("origin") != pl.col("region"))
            & pl.col("effective_date").is_between(start, end)
        )
        .select("person_id", "effective_date", "origin", destination=pl.col("region"))
    )


def _last_of_person() -> pl.Expr:
    """In a frame sorted by person, the rows after which another person's begin."""
    return (pl.col("person_id") != pl.col("person_id").shift(-1)).fill_null(True)


def _grants_on(grants: pl.LazyFrame, day: dt.date) -> pl.LazyFrame:
    """person_id → `visa` of the covering grant of highest rank on `day`, and `holder` (any grant
    covering it has a programme). `grants` is sorted by person, then rank, so both come from each
    person's last covering row and a running count: no grouping."""
    first = (pl.col("person_id") != pl.col("person_id").shift(1)).fill_null(True)
    held = pl.col("holder").cast(pl.UInt32)
    before_person = pl.when(first).then(held.cum_sum() - held).forward_fill()  # held by earlier people
    return (
        grants.filter((pl.col("valid_from") <= day) & (day <= pl.col("valid_to")))
        .with_columns(holder=(held.cum_sum() - before_person) > 0)
        .filter(_last_of_person())
        .select("person_id", "visa", "holder")
    )


def _residents_on(reports: pl.LazyFrame, grants: pl.LazyFrame, day: dt.date, *, holders: bool) -> pl.LazyFrame:
    """region, visa → people whose region is that region on `day` and whose status then has that visa."""
    people = (
        _regions_on(reports, day)
        .join(_grants_on(grants, day), on="person_id", how="left")
        .with_columns(pl.col("visa").fill_null(""), pl.col("holder").fill_null(False))
    )
    if holders:
        people = people.filter(pl.col("holder"))
    return people.group_by("region", "visa").agg(pl.len())


def _counted_moves(
    statuses: pl.DataFrame, reports: pl.LazyFrame, *, start: dt.date, end: dt.date, holders: bool
) -> pl.LazyFrame:
    """Each move counted in [start, end] (origin → destination on `day`) with its visa."""
    moves = _moves(reports, start, end).select("person_id", "origin", "destination", day=pl.col("effective_date"))
    return _covering(_grant_rank(statuses), moves, day="day", holders=holders)


def _pairs(moves: pl.LazyFrame) -> pl.LazyFrame:
    return moves.group_by("origin", "destination", "visa").agg(moves=pl.len()).sort("origin", "destination", "visa")


def od_counts(
    statuses: pl.DataFrame, addresses: pl.DataFrame, *, start: dt.date, end: dt.date, holders: bool = False
) -> pl.DataFrame:
    """Origin → destination pairs of the moves `flows` counts: `origin, destination, visa, moves`,
    sorted by origin, destination, visa. Each pair's moves add up to `flows`' inflow of the
    destination and outflow of the origin."""
    moves = _counted_moves(statuses, _reports(addresses, end), start=start, end=end, holders=holders)
    return _pairs(moves).collect().select(OD_COLUMNS).cast(OD_SCHEMA)


def flows(
    statuses: pl.DataFrame, addresses: pl.DataFrame, *, start: dt.date, end: dt.date, holders: bool = False
) -> pl.DataFrame:
    """`regionvisa flows --from start --to end [--holders]`: one row per region and visa with any count."""
    return flows_and_pairs(statuses, addresses, start=start, end=end, holders=holders)[0]


def flows_and_pairs(
    statuses: pl.DataFrame, addresses: pl.DataFrame, *, start: dt.date, end: dt.date, holders: bool = False
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`flows` and `od_counts` from one pass over the records: the moves joined with the grants,
    and each day's residents from both tables sorted by person (no event-by-event join)."""
    reports = _reports(addresses, end).collect().lazy()  # sorted once, read three times
    grants = _grant_rank(statuses).sort("person_id", "rank").collect().lazy()
    moves = _counted_moves(statuses, reports, start=start, end=end, holders=holders).collect().lazy()
    counts = ["inflow", "outflow", "residents_start", "residents_end"]
    parts = [
        moves.group_by(region="destination", visa="visa").agg(inflow=pl.len()),
        moves.group_by(region="origin", visa="visa").agg(outflow=pl.len()),
        _residents_on(reports, grants, start, holders=holders).rename({"len": "residents_start"}),
        _residents_on(reports, grants, end, holders=holders).rename({"len": "residents_end"}),
    ]
    parts = pl.collect_all(parts)
    table = pl.concat([p.select("region", "visa") for p in parts]).unique()
    for part in parts:
        table = table.join(part, on=["region", "visa"], how="left")
    table = (
        table.with_columns(pl.col(c).fill_null(0).cast(pl.Int64) for c in counts)
        .with_columns(net=pl.col("inflow") - pl.col("outflow"))
        .filter(pl.any_horizontal(pl.col(c) != 0 for c in counts))
        .select(FLOW_COLUMNS)
        .sort("region", "visa")
        .cast(FLOW_SCHEMA)
    )
    return table, _pairs(moves).collect().select(OD_COLUMNS).cast(OD_SCHEMA)


def retention(
    statuses: pl.DataFrame,
    addresses: pl.DataFrame,
    programmes: pl.DataFrame,
    *,
    on: dt.date,
    program_id: str | None = None,
) -> pl.DataFrame:
    """`regionvisa retention --on DATE [--program ID]`: one row per programme and cohort month.

    `programmes` has program_id, region, residence_area (list of 2- or 5-digit codes), valid_from
    and valid_to per design version (`compliance.service.programme_obligations`); a grant is held
    to the residence area of the version in force on its grant date (else the programme's latest).
    """
    grants = statuses.filter(pl.col("program_id").is_not_null() & (pl.col("granted_on") <= on))
    if program_id is not None:
        grants = grants.filter(pl.col("program_id") == program_id)
    grants = grants.select("person_id", "program_id", "granted_on").with_row_index("grant")
    versions = programmes.select("program_id", "region", "residence_area", "valid_from", "valid_to")
    in_force = (
        grants.join(versions, on="program_id", how="inner")
        .with_columns(
            covers=(pl.col("valid_from").is_null() | (pl.col("valid_from") <= pl.col("granted_on")))
            & (pl.col("valid_to").is_null() | (pl.col("granted_on") <= pl.col("valid_to")))
        )
        .sort("grant", "covers", "valid_from", descending=[False, True, True], nulls_last=True)
        .group_by("grant", maintain_order=True)
        .agg(pl.col("region").first(), pl.col("residence_area").first())
    )
    grants = grants.join(in_force, on="grant", how="inner").with_columns(
        cohort=pl.col("granted_on").dt.strftime("%Y-%m")
    )
    reports = _reports(addresses, on).select("person_id", "effective_date", "area").collect()
    columns = []
    for months in RETENTION_MONTHS:
        name = f"in_area_{months}m"
        checked = grants.with_columns(checkpoint=pl.col("granted_on").dt.offset_by(f"{months}mo"))
        located = (
            checked.select("grant", "person_id", "checkpoint")
            .join(reports, on="person_id", how="inner")
            .filter(pl.col("effective_date") <= pl.col("checkpoint"))
            .group_by("grant")
            .agg(pl.col("area").sort_by("effective_date").last())
        )
        checked = checked.join(located, on="grant", how="left").with_columns(
            inside=(
                pl.col("residence_area").list.contains(pl.col("area"))
                | pl.col("residence_area").list.contains(pl.col("area").str.slice(0, 2))
            ).fill_null(False)
        )
        per_cohort = checked.group_by("program_id", "cohort").agg(
            pl.when(pl.col("checkpoint").max() <= on).then(pl.col("inside").sum()).otherwise(None).alias(name)
        )
        columns.append(per_cohort)
    table = grants.group_by("program_id", "region", "cohort").agg(holders=pl.len())
    for part in columns:
        table = table.join(part, on=["program_id", "cohort"], how="left")
    return table.select(RETENTION_COLUMNS).sort("program_id", "cohort").cast(RETENTION_SCHEMA)
