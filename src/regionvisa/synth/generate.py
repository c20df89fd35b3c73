"""Pure generation of the synthetic national dataset: NumPy arrays in, one Polars frame per table out.

Nothing here touches a database or the clock. Every random draw comes from streams spawned from
one `SeedSequence(seed)` in a fixed order, so the same (residents, seed, as_of) gives
byte-identical frames. Work is done on whole arrays; the only Python loops run over the 17
regions, the 15 pilot programmes, the 12 statuses or a handful of layers, never over people.

Who is in the data:
- `residents` foreign residents on `as_of` in the sense the statistics use (a status granted on
  or before the date, last movement up to the date not an exit); exactly ILLEGAL_SHARE of them
  (rounded) hold no status covering the date and are illegal stayers;
- DEPARTED_SHARE x residents former residents whose last movement is an exit.
Counts that the tests check (regions, statuses, illegal stayers, pilot holders) are fixed by
largest-remainder apportionment rather than sampled, so they hold at any size.

The steps live by record kind: `plan` (codes and fixed counts), `population` (people and the
`person` table), `statuses` (`status_grant`), `residence` (`movement`, `address_report`) and
`activities` (`kiip_record`, `employment`), on the shared helpers of `arrays`. Each step is a
function of the `Builder`, whose person-level arrays (index i = one person) the steps fill in
the order `Builder.build` calls them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections.abc import Iterator

import numpy as np
import polars as pl

from regionvisa.synth import activities, population, residence, statuses
from regionvisa.synth import profiles as pf
from regionvisa.synth.arrays import dates, day
from regionvisa.synth.plan import Plan, plan_dataset, profile_tables

TABLES = ("person", "status_grant", "address_report", "movement", "kiip_record", "employment")
COLUMNS = {
    "person": ["person_id", "name", "nationality", "birth_date", "sex", "passport_no"],
    "status_grant": ["person_id", "visa", "subtype", "program_id", "region", "valid_from", "valid_to", "granted_on"],
    "address_report": ["person_id", "area_code", "effective_date", "reported_date"],
    "movement": ["person_id", "direction", "date", "port"],
    "kiip_record": ["person_id", "level", "enrolled_on", "completed_on"],
    "employment": [
        "person_id",
        "employer_id",
        "employer_region",
        "start_date",
        "end_date",
        "annual_wage_krw",
        "occupation_code",
    ],
}


def _check_args(residents: int, as_of: dt.date) -> None:
    if not isinstance(residents, int | np.integer) or residents < 100:
        raise ValueError(f"residents must be an integer of at least 100 (got {residents!r})")
    if residents > 99_999_999 / (1 + pf.DEPARTED_SHARE):
        raise ValueError(f"residents {residents:,} would not fit 8-digit person ids")
    if not dt.date(2025, 10, 1) <= as_of <= dt.date(2030, 12, 31):
        raise ValueError(f"as_of must lie between 2025-10-01 and 2030-12-31 (got {as_of}): the 2025 pilot must "
                         "have run for a while before the reference date")  # fmt: skip


def generate_dataset(residents: int, seed: int, as_of: dt.date = pf.AS_OF) -> dict[str, pl.DataFrame]:
    """The six records tables for `residents` foreign residents on `as_of`, reproducible from `seed`.

    Columns are exactly the table columns (no autoincrement `id`); rows are sorted by person
    and date, the order in which they load fastest.
    """
    tables = dict(generate_tables(residents, seed, as_of))
    return {name: tables[name] for name in TABLES}


def generate_tables(residents: int, seed: int, as_of: dt.date = pf.AS_OF) -> Iterator[tuple[str, pl.DataFrame]]:
    """The same frames as `generate_dataset`, each yielded as soon as it is finished (a loader
    can write one table while the next is generated). The order is not that of TABLES."""
    _check_args(residents, as_of)
    plan = plan_dataset(int(residents))
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(10)]
    return Builder(plan, streams, as_of).build()


class Builder:
    """Builds the frames step by step over person-level arrays (index i = one person)."""

    def __init__(self, plan: Plan, streams: list[np.random.Generator], as_of: dt.date):
        self.plan = plan
        self.rng_pop, self.rng_chain, self.rng_pilot, self.rng_move, self.rng_addr = streams[:5]
        self.rng_kiip, self.rng_emp, self.rng_person, self.rng_nat, self.rng_order = streams[5:]
        self.as_of = day(as_of)
        self.w0 = day(pf.WINDOW_START)
        self.pilot_start = day(pf.PILOT_START)
        self.codes = plan.region_codes
        self.nreg = len(self.codes)
        self.share = plan.region_residents / plan.region_residents.sum()
        self.dur_pad, self.dur_w, self.grant_count, self.prev, self.behaviour = profile_tables()

    def build(self) -> Iterator[tuple[str, pl.DataFrame]]:
        """All six frames, yielded one by one. Each table is finished, and its arrays let go,
        before the next is built, so peak memory stays near the size of the output (each step
        has its own random stream, so the order of the steps does not change the data)."""
        population.population(self)
        # person numbers are a seeded shuffle, so an id says nothing about kind or region
        number = self.rng_order.permutation(self.np_).astype(np.int64) + 1
        ids = ("P" + pl.Series(np.arange(1, self.np_ + 1)).cast(pl.String).str.zfill(8)).alias("person_id")

        def finish(name: str, frame: pl.DataFrame) -> pl.DataFrame:
            return frame.with_columns(ids.gather(frame["_n"] - 1).alias("person_id")).select(COLUMNS[name])

        nat = population.nationalities(self)
        layers = statuses.statuses(self)
        # people first: protecting their passport numbers is the longest single staging job
        people = population.people(self, nat)
        people = people.with_columns(ids.gather(number - 1).alias("person_id")).select(COLUMNS["person"])
        yield "person", people.sort("person_id")
        del people, nat
        moves = residence.movements(self)
        frame = pl.DataFrame(
            {
                "_n": number[moves["person"]],
                "direction": pl.Series(["entry", "exit"]).gather(moves["direction"]),
                "date": dates(moves["date"]),
                "port": pl.Series(list(pf.PORTS)).gather(moves["port"]),
            }
        ).sort("_n", "date", "direction")
        del moves
        yield "movement", finish("movement", frame)
        addr = residence.addresses(self)
        frame = pl.DataFrame(
            {
                "_n": number[addr["person"]],
                "area_code": pl.Series(self.area_codes).gather(addr["area"]),
                "effective_date": dates(addr["eff"]),
                "reported_date": dates(addr["reported"]),
            }
        ).sort("_n", "effective_date")
        del addr
        yield "address_report", finish("address_report", frame)
        yield "status_grant", finish("status_grant", statuses.status_frame(self, layers, number))
        del layers
        self.address_region = None
        kiip = activities.kiip(self)
        frame = pl.DataFrame(
            {
                "_n": number[kiip["person"]],
                "level": kiip["level"].astype(np.int64),
                "enrolled_on": dates(kiip["enrolled"]),
                "completed_on": dates(kiip["completed"]),
            }
        ).sort("_n", "level")
        del kiip
        yield "kiip_record", finish("kiip_record", frame)
        emp = activities.employment(self)
        region_s = pl.Series(list(self.codes))
        frame = pl.DataFrame(
            {
                "_n": number[emp["person"]],
                "_region": region_s.gather(emp["region"]),
                "_kind": emp["employer_kind"],
                "_other": pl.Series(emp["employer"]).cast(pl.String).str.zfill(6),
                "_prime": pl.Series(emp["prime"]).cast(pl.String).str.zfill(2),
                "_contractor": pl.Series(emp["contractor"]).cast(pl.String).str.zfill(4),
                "start_date": dates(emp["start"]),
                "end_date": dates(emp["end"]),
                "annual_wage_krw": emp["wage"],
                "occupation_code": pl.Series([*emp["occupation_codes"], None], dtype=pl.String).gather(
                    np.where(emp["occupation"] < 0, len(emp["occupation_codes"]), emp["occupation"])
                ),
            }
        )
        # employers: B<region><number> (other), B<region>P<prime> (a prime employer) and
        # B<region>P<prime>S<number> (a contractor of that prime)
        prime = pl.format("B{}P{}", "_region", "_prime")
        frame = frame.with_columns(
            pl.when(pl.col("_kind") == 2)
            .then(pl.format("{}S{}", prime, "_contractor"))
            .when(pl.col("_kind") == 1)
            .then(prime)
            .otherwise(pl.format("B{}{}", "_region", "_other"))
            .alias("employer_id"),
            pl.col("_region").alias("employer_region"),
        ).sort("_n", "start_date")
        del emp
        yield "employment", finish("employment", frame)


def dataset_checksums(frames: dict[str, pl.DataFrame]) -> dict[str, str]:
    """SHA-256 per table over its rows sorted on every column and written as CSV (ISO dates,
    empty nulls), so the digest depends on content only, not on row order or memory layout."""
    out = {}
    for name in TABLES:
        frame = frames[name]
        ordered = frame.sort(frame.columns, nulls_last=True)
        digest = hashlib.sha256()
        digest.update(",".join(ordered.columns).encode())
        for start in range(0, max(ordered.height, 1), 500_000):
            buf = io.BytesIO()
            ordered.slice(start, 500_000).write_csv(buf, include_header=False, null_value="", date_format="%Y-%m-%d")
            digest.update(buf.getvalue())
        out[name] = digest.hexdigest()
    return out
