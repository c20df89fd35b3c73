"""Each person's residence over time, as spans: pure computation over columns, no I/O.

Whether a person is a foreign resident on a day D, where, and under which status depends only on
the records known on D (`records.frames.residents_frame`): statuses granted by D, movements dated
by D, address reports reported and in force by D. That answer can change only on a day some
record becomes known or a status starts or ends, so it is evaluated once per such change point
and held constant until the next one. A span is a run of change points with the same answer:
`[start_date, end_date)` (end open while it lasts) with its region, status and nationality.

The counts of residents on any day are then sums of +1 at each span's start and −1 at its end,
which `stats.summary` keeps per day, month and year so an "as of" count is a short sum.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

SPAN_SCHEMA: dict[str, pl.DataType] = {
    "person_id": pl.String,
    "start_date": pl.Date,
    "end_date": pl.Date,
    "region": pl.String,
    "status": pl.String,
    "nationality": pl.String,
}

DELTA_SCHEMA: dict[str, pl.DataType] = {
    "grain": pl.String,
    "period": pl.Date,
    "region": pl.String,
    "kind": pl.String,
    "value": pl.String,
    "n": pl.Int64,
}

# kind of a count: by status ("s") or by nationality ("n"), each per region
KINDS = ("s", "n")
ILLEGAL = "illegal"
# a resident none of whose statuses has begun yet (granted ahead of its start): not an illegal stay
PENDING = "pending"
UNKNOWN_NATIONALITY = ""


def _points(statuses: pl.DataFrame, movements: pl.DataFrame, addresses: pl.DataFrame) -> pl.DataFrame:
    """Every (person_id, c) where the answer may change."""
    one_day = pl.duration(days=1)
    parts = [
        statuses.select("person_id", pl.col("granted_on").alias("c")),
        statuses.select("person_id", pl.col("valid_from").alias("c")),
        statuses.select("person_id", (pl.col("valid_to") + one_day).alias("c")),
        movements.select("person_id", pl.col("date").alias("c")),
        addresses.select("person_id", pl.max_horizontal("effective_date", "reported_date").alias("c")),
    ]
    return pl.concat([p.with_columns(pl.col("c").cast(pl.Date)) for p in parts]).unique().sort("person_id", "c")


def _last_of(*keys: str) -> pl.Expr:
    """In a frame sorted so that equal `keys` are adjacent: whether a row is the last of its keys
    (what group_by(keys, maintain_order=True).last() keeps, without grouping)."""
    differs = [pl.col(k).ne_missing(pl.col(k).shift(-1)) for k in keys]
    return pl.any_horizontal(differs) | (pl.int_range(pl.len()) == pl.len() - 1)


def _cum_max_date_per_person(column: str) -> pl.Expr:
    """The running maximum of a date column within each person, in a frame sorted by person: one
    running maximum over the whole frame of (person's ordinal, day), whose ordinal part only grows."""
    ordinal = (pl.col("person_id").ne_missing(pl.col("person_id").shift(1))).cum_sum().cast(pl.Int64)
    day = pl.col(column).cast(pl.Int32).cast(pl.Int64) + 2**31  # non-negative, below 2**32
    running = (ordinal * 2**32 + day).cum_max()
    return ((running % 2**32) - 2**31).cast(pl.Int32).cast(pl.Date)


def _carry(points: pl.DataFrame, events: pl.DataFrame, at: str, values: list[str]) -> pl.DataFrame:
    """For each point, `values` of the person's latest event with `at` ≤ c (null when none):
    events and points in one frame ordered by day, events first on a tie, filled forward."""
    ev = events.select("person_id", pl.col(at).alias("c"), *values, pl.lit(0, pl.Int8).alias("_pt"))
    pt = points.select("person_id", "c", *[pl.lit(None, events.schema[v]).alias(v) for v in values],
                       pl.lit(1, pl.Int8).alias("_pt"))  # fmt: skip
    both = pl.concat([ev, pt]).sort("person_id", "c", "_pt")
    # filled forward over the whole frame, each value kept where it came from the same person
    # (the frame is sorted by person): the same as filling forward within each person
    source = [
        pl.when(pl.col(v).is_not_null()).then(pl.col("person_id")).forward_fill().alias(f"_of_{v}") for v in values
    ]
    filled = both.with_columns(*source, *[pl.col(v).forward_fill() for v in values])
    kept = [pl.when(pl.col(f"_of_{v}") == pl.col("person_id")).then(pl.col(v)).alias(v) for v in values]
    return filled.filter(pl.col("_pt") == 1).select("person_id", "c", *kept)


def resident_points(
    people: pl.DataFrame, statuses: pl.DataFrame, movements: pl.DataFrame, addresses: pl.DataFrame
) -> pl.DataFrame:
    """The answer at each change point: person_id, c, region, status, nationality (region null
    where the person is not a resident from c on)."""
    points = _points(statuses, movements, addresses)
    known = points.join(statuses, on="person_id", how="inner").filter(pl.col("granted_on") <= pl.col("c"))
    latest = (
        known.sort("person_id", "c", "valid_from", "granted_on", "visa")
        .filter(_last_of("person_id", "c"))
        .select("person_id", "c", pl.col("region").alias("status_region"))
    )
    covering = (
        known.filter((pl.col("valid_from") <= pl.col("c")) & (pl.col("valid_to") >= pl.col("c")))
        .sort("person_id", "c", "valid_from", "granted_on", "visa")
        .filter(_last_of("person_id", "c"))
        .select("person_id", "c", pl.col("visa").alias("current_visa"))
    )
    # whether any status had begun by c: without one covering c, that is an illegal stay (§4.8)
    begun = (
        known.filter(pl.col("valid_from") <= pl.col("c"))
        .select("person_id", "c", pl.lit(True).alias("begun"))
        .unique(["person_id", "c"])
    )
    moves = movements.group_by("person_id", "date").agg((pl.col("direction") == "exit").any().alias("is_exit"))
    last_move = _carry(points, moves, "date", ["is_exit"])
    known_at = pl.max_horizontal("effective_date", "reported_date").cast(pl.Date)
    reports = (
        addresses.with_columns(known_at.alias("known_at"))
        .sort("person_id", "known_at", "effective_date")
        .with_columns(_cum_max_date_per_person("effective_date").alias("in_force"))
        .filter(_last_of("person_id", "known_at"))
        .select("person_id", "known_at", "in_force")
        .join(
            addresses.select("person_id", pl.col("effective_date").alias("in_force"), "area_code"),
            on=["person_id", "in_force"],
            how="left",
        )
        .select("person_id", "known_at", pl.col("area_code").str.slice(0, 2).alias("address_region"))
    )
    address = _carry(points, reports, "known_at", ["address_region"])
    # _carry keeps the points' rows in their order (sorted, one per person and day): side by side
    answer = (
        points.with_columns(last_move.get_column("is_exit"), address.get_column("address_region"))
        .join(latest, on=["person_id", "c"], how="left")
        .join(covering, on=["person_id", "c"], how="left")
        .join(begun, on=["person_id", "c"], how="left")
        .join(people.select("person_id", "nationality"), on="person_id", how="left")
    )
    resident = pl.col("status_region").is_not_null() & (pl.col("is_exit").is_null() | ~pl.col("is_exit"))
    return answer.select(
        "person_id",
        "c",
        pl.when(resident).then(pl.coalesce("address_region", "status_region")).alias("region"),
        status_of(pl.col("current_visa"), pl.col("begun")).alias("status"),
        pl.col("nationality").fill_null(UNKNOWN_NATIONALITY),
    ).sort("person_id", "c")


def status_of(current_visa: pl.Expr, begun: pl.Expr) -> pl.Expr:
    """A resident's status on a day: the visa of the status covering it; else `illegal` when a
    status had begun by then (it has ended: the §4.8 illegal stay, grace 0 days), else `pending`
    (only statuses that start later). The one definition of the statistics' illegal stays."""
    return (
        pl.when(current_visa.is_not_null())
        .then(current_visa)
        .when(begun.fill_null(False))
        .then(pl.lit(ILLEGAL))
        .otherwise(pl.lit(PENDING))
    )


def _person_codes(frames: tuple[pl.DataFrame, ...]) -> tuple[pl.Series, tuple[pl.DataFrame, ...]]:
    """The frames with person_id replaced by its rank among the sorted ids (UInt32), and the ids.

    Every sort, join and window below is keyed on the person; on integers they take about half
    the time they take on text. The ranks keep the ids' order, so sorting by them sorts by id."""
    ids = pl.concat([f.get_column("person_id").cast(pl.String) for f in frames]).unique().sort()
    enum = pl.Enum(ids.drop_nulls())
    coded = tuple(f.with_columns(pl.col("person_id").cast(pl.String).cast(enum).to_physical()) for f in frames)
    return ids.drop_nulls(), coded


def spans(
    people: pl.DataFrame, statuses: pl.DataFrame, movements: pl.DataFrame, addresses: pl.DataFrame
) -> pl.DataFrame:
    """Each person's residence spans (SPAN_SCHEMA), from their complete records."""
    ids, (people, statuses, movements, addresses) = _person_codes((people, statuses, movements, addresses))
    pts = resident_points(people, statuses, movements, addresses)
    if pts.height == 0:
        return pl.DataFrame(schema=SPAN_SCHEMA)
    pts = pts.with_columns(pl.col("person_id").cast(pl.UInt32))
    value = (
        pl.when(pl.col("region").is_null())
        .then(pl.lit(None, pl.String))
        .otherwise(pl.col("region") + "|" + pl.col("status"))
    )
    pts = pts.with_columns(value.alias("_v"))
    # sorted by person and day: the previous (next) row is the person's when its person_id is
    same_person = pl.col("person_id").eq(pl.col("person_id").shift(1))
    same = pl.col("_v").eq_missing(pl.col("_v").shift(1)) & same_person
    runs = pts.filter(~same.fill_null(False))  # the first point of each run
    next_same = pl.col("person_id").eq(pl.col("person_id").shift(-1)).fill_null(False)
    runs = runs.with_columns(pl.when(next_same).then(pl.col("c").shift(-1)).alias("end_date"))
    out = runs.filter(pl.col("region").is_not_null()).select(
        "person_id",
        pl.col("c").alias("start_date"),
        "end_date",
        "region",
        "status",
        "nationality",
    )
    return out.with_columns(ids.gather(out.get_column("person_id")).alias("person_id")).cast(SPAN_SCHEMA)


def _starts(day: pl.Expr) -> dict[str, pl.Expr]:
    return {"d": day, "m": day.dt.truncate("1mo"), "y": day.dt.truncate("1y")}


def deltas(span_frame: pl.DataFrame, *, sign: int = 1) -> pl.DataFrame:
    """The count changes the spans make (DELTA_SCHEMA): +1 at each start, −1 at each end, per day,
    month and year, by status and by nationality, each per region; zero sums dropped."""
    if span_frame.height == 0:
        return pl.DataFrame(schema=DELTA_SCHEMA)
    ups = span_frame.select(pl.col("start_date").alias("day"), "region", "status", "nationality",
                            pl.lit(sign, pl.Int64).alias("n"))  # fmt: skip
    downs = span_frame.filter(pl.col("end_date").is_not_null()).select(
        pl.col("end_date").alias("day"), "region", "status", "nationality", pl.lit(-sign, pl.Int64).alias("n")
    )
    moves = pl.concat([ups, downs])
    parts = []
    for kind, column in (("s", "status"), ("n", "nationality")):
        by_day = moves.group_by("day", "region", column).agg(pl.col("n").sum())
        for grain, start in _starts(pl.col("day")).items():
            parts.append(
                by_day.select(
                    pl.lit(grain).alias("grain"),
                    start.alias("period"),
                    "region",
                    pl.lit(kind).alias("kind"),
                    pl.col(column).alias("value"),
                    "n",
                )
            )
    return (
        pl.concat(parts)
        .group_by("grain", "period", "region", "kind", "value")
        .agg(pl.col("n").sum())
        .filter(pl.col("n") != 0)
        .cast(DELTA_SCHEMA)
        .sort("grain", "period", "region", "kind", "value")
    )


def periods_until(on: dt.date) -> tuple[dt.date, dt.date]:
    """(first day of `on`'s year, first day of its month): the bounds an as-of sum reads."""
    return dt.date(on.year, 1, 1), dt.date(on.year, on.month, 1)
