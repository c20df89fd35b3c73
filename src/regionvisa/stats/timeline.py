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


def _carry(points: pl.DataFrame, events: pl.DataFrame, at: str, values: list[str]) -> pl.DataFrame:
    """For each point, `values` of the person's latest event with `at` ≤ c (null when none):
    events and points in one frame ordered by day, events first on a tie, filled forward."""
    ev = events.select("person_id", pl.col(at).alias("c"), *values, pl.lit(0, pl.Int8).alias("_pt"))
    pt = points.select("person_id", "c", *[pl.lit(None, events.schema[v]).alias(v) for v in values],
                       pl.lit(1, pl.Int8).alias("_pt"))  # fmt: skip
    both = pl.concat([ev, pt]).sort("person_id", "c", "_pt")
    filled = both.with_columns([pl.col(v).forward_fill().over("person_id") for v in values])
    return filled.filter(pl.col("_pt") == 1).drop("_pt")


def resident_points(
    people: pl.DataFrame, statuses: pl.DataFrame, movements: pl.DataFrame, addresses: pl.DataFrame
) -> pl.DataFrame:
    """The answer at each change point: person_id, c, region, status, nationality (region null
    where the person is not a resident from c on)."""
    points = _points(statuses, movements, addresses)
    known = points.join(statuses, on="person_id", how="inner").filter(pl.col("granted_on") <= pl.col("c"))
    latest = (
        known.sort("person_id", "c", "valid_from", "granted_on", "visa")
        .group_by("person_id", "c", maintain_order=True)
        .last()
        .select("person_id", "c", pl.col("region").alias("status_region"))
    )
    covering = (
        known.filter((pl.col("valid_from") <= pl.col("c")) & (pl.col("valid_to") >= pl.col("c")))
        .sort("person_id", "c", "valid_from", "granted_on", "visa")
        .group_by("person_id", "c", maintain_order=True)
        .last()
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
        .with_columns(pl.col("effective_date").cum_max().over("person_id").alias("in_force"))
        .group_by("person_id", "known_at", maintain_order=True)
        .last()
        .select("person_id", "known_at", "in_force")
        .join(
            addresses.select("person_id", pl.col("effective_date").alias("in_force"), "area_code"),
            on=["person_id", "in_force"],
            how="left",
        )
        .select("person_id", "known_at", pl.col("area_code").str.slice(0, 2).alias("address_region"))
    )
    address = _carry(points, reports, "known_at", ["address_region"])
    answer = (
        points.join(latest, on=["person_id", "c"], how="left")
        .join(covering, on=["person_id", "c"], how="left")
        .join(begun, on=["person_id", "c"], how="left")
        .join(last_move, on=["person_id", "c"], how="left")
        .join(address, on=["person_id", "c"], how="left")
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


def spans(
    people: pl.DataFrame, statuses: pl.DataFrame, movements: pl.DataFrame, addresses: pl.DataFrame
) -> pl.DataFrame:
    """Each person's residence spans (SPAN_SCHEMA), from their complete records."""
    pts = resident_points(people, statuses, movements, addresses)
    if pts.height == 0:
        return pl.DataFrame(schema=SPAN_SCHEMA)
    value = (
        pl.when(pl.col("region").is_null())
        .then(pl.lit(None, pl.String))
        .otherwise(pl.col("region") + "|" + pl.col("status"))
    )
    pts = pts.with_columns(value.alias("_v"))
    same = (pl.col("_v").eq_missing(pl.col("_v").shift(1).over("person_id"))) & pl.col("person_id").eq(
        pl.col("person_id").shift(1)
    )
    runs = pts.filter(~same.fill_null(False))  # the first point of each run
    runs = runs.with_columns(pl.col("c").shift(-1).over("person_id").alias("end_date"))
    return (
        runs.filter(pl.col("region").is_not_null())
        .select(
            "person_id",
            pl.col("c").alias("start_date"),
            "end_date",
            "region",
            "status",
            "nationality",
        )
        .cast(SPAN_SCHEMA)
    )


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
