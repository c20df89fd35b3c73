"""Compliance runs against the database: read what the rules need, run the engine.

Reading is the expensive part at national scale (tens of millions of records; a value read
into Python costs far more than the engine spends on it), so the database first drops what
cannot produce a finding, and only the rest is read:

* programme holders (residence and integration obligations): all their visible records;
* people with a status but none covering DATE whose last movement is not an exit (illegal
  stay), and people with a running status whose last movement is an exit older than the
  unreported-departure limit: their statuses and movements, which is all those two rules
  look at;
* address reports late by more than the limit, for everyone (late_address_report is a rule
  about single reports), and the statuses of those reporters, used only to give each
  finding its region (engine.REGION_ONLY), never evaluated.

Each filter keeps a superset of what the engine would flag, and the engine then runs
unchanged on what was read, so the findings are exactly those of `engine.find_all` over all
records (tests check this on both databases). The reads share one transaction, so they see
one state of the database (`records.columnar.batch_reads`). Rows come back as Arrow columns on
PostgreSQL (the ADBC driver's binary COPY) and through the driver's cursor on SQLite, never
through SQLAlchemy rows, which would cost more than everything else together.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from regionvisa.compliance import engine as eng
from regionvisa.compliance.indicators import indicators, year_bounds
from regionvisa.compliance.risk import at_risk
from regionvisa.compliance.rules import RuleSettings, compliance_rules
from regionvisa.compliance.subjects import run_region
from regionvisa.config import get_settings
from regionvisa.core.actor import Actor
from regionvisa.core.errors import Invalid
from regionvisa.policyfiles import PolicyError, read_yaml, validation_errors
from regionvisa.programs.models import ProgramVersion
from regionvisa.records.columnar import ArrowReads, DriverReads, batch_reads
from regionvisa.records.frames import KNOWN_BY, read_known_all
from regionvisa.regions.parameters import national_values
from regionvisa.regions.service import regions_frame
from regionvisa.reports.files import write_csv_safe

Progress = Callable[[str, int, int], None]  # (phase, done, total)

PHASES = (
    "select people",
    "status_grant",
    "movement",
    "address_report",
    "late address reports",
    "kiip_record",
    "employment",
    "rules",
)
PEOPLE = "rv_compliance_people"
SPLIT = 2  # parts each large table is read in, at once, through Arrow
LATE = "rv_compliance_late"


class _ProgrammeObligations(BaseModel):
    """The obligation fields of a §4.1 programme design; other keys belong to `programs/`.

    `residence_includes_employment` is an optional design flag for F-2-R-style programmes; the
    national list in compliance.yaml (`residence_obligation.employment`) applies as well.
    """

    model_config = ConfigDict(extra="ignore")
    id: str = Field(min_length=1)
    version: int = Field(default=1, ge=1)
    region: str = Field(pattern=r"^\d{2}$")
    base_visa: str | None = None
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    residence_area: list[str] = Field(min_length=1)
    obligation_months: int = Field(ge=0, le=120)
    kiip_deadline_months: int | None = Field(default=None, ge=0, le=120)
    residence_includes_employment: bool = False
    parameters: dict[str, Any] = Field(default_factory=dict)

    @field_validator("residence_area")
    @classmethod
    def _codes(cls, codes: list[str]) -> list[str]:
        bad = [c for c in codes if not (isinstance(c, str) and c.isdigit() and len(c) in (2, 5))]
        if bad:
            raise ValueError(f"area codes are 2-digit regions or 5-digit districts, found {', '.join(map(repr, bad))}")
        return codes


def settings_in_force(rules, on: dt.date):
    """The rules' parameters on `on`; a date before the rules' first values is the caller's input
    error (422 on the date, in both languages), not a broken policy file."""
    try:
        return rules.settings_on(on)
    except PolicyError:
        first = max(min(p.values) for spec in rules.spec.rules.values() for p in spec.parameters.values())
        raise Invalid(
            code="no_rules_in_force",
            ko=f"{on.isoformat()}에는 시행 중인 준수 규칙이 없습니다. {first.isoformat()} 이후 날짜를 입력하십시오",
            en=f"no compliance rules were in force on {on.isoformat()}; give a date from {first.isoformat()} on",
            field="on",
        ) from None


def _design_rows(policy_dir: Path) -> list[_ProgrammeObligations]:
    rows, errors = [], []
    for path in sorted((policy_dir / "programs").rglob("*.yaml")):
        raw = read_yaml(path)
        if not isinstance(raw, dict):
            errors.append(f"{path}:(root): expected a programme mapping")
            continue
        try:
            rows.append(_ProgrammeObligations.model_validate(raw))
        except ValidationError as exc:
            errors.extend(validation_errors(path, exc))
    if errors:
        raise PolicyError(errors)
    return rows


def _stored_rows(engine: Engine) -> list[_ProgrammeObligations]:
    """Published (or since retired) programme versions in the database (programs/ domain)."""
    if "program_version" not in inspect(engine).get_table_names():
        return []
    with Session(engine) as session:
        versions = session.scalars(
            select(ProgramVersion)
            .where(ProgramVersion.status.in_(("published", "retired")))
            .order_by(ProgramVersion.program_id, ProgramVersion.version)
        ).all()
        return [_ProgrammeObligations.model_validate(v.design) for v in versions]


_OBLIGATIONS: dict[tuple, pl.DataFrame] = {}  # content key -> frame; the last few keys only


def _obligations_key(policy_dir: Path, engine: Engine | None) -> tuple:
    """What the obligations are computed from: every programme file's path, size and change time,
    and the published versions' ids and digests (a version's design never changes once published)."""
    files = tuple(
        (str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in sorted((policy_dir / "programs").rglob("*.yaml"))
    )
    stored: tuple = ()
    if engine is not None:
        if "program_version" in inspect(engine).get_table_names():
            with engine.connect() as conn:
                stored = tuple(
                    tuple(r)
                    for r in conn.execute(
                        text(
                            "SELECT program_id, version, status, digest FROM program_version "
                            "WHERE status IN ('published', 'retired') ORDER BY program_id, version"
                        )
                    )
                )
        stored = (str(engine.url), stored)
    return (str(policy_dir), files, stored)


def _dated(values: Any) -> list[tuple[dt.date, Any]]:
    """A dated parameter ({date: value}, dates possibly as text in stored designs) as sorted pairs."""
    if not isinstance(values, dict):
        return []
    return sorted((d if isinstance(d, dt.date) else dt.date.fromisoformat(str(d)), v) for d, v in values.items())


def _employment_conditions(p: _ProgrammeObligations, policy_dir: Path) -> dict[str, Any]:
    """An E-7 programme's dated wage floor (its own, else the national E-7 floor) and occupation
    list, in the engine's shape; other programmes have neither."""
    if p.base_visa != "E-7":
        return {"wage_floors": None, "occupation_lists": None}
    floors = _dated(p.parameters.get("annual_wage_floor_krw")) or _dated(
        national_values(policy_dir).get("national.e7_wage_floor_krw")
    )
    lists = _dated(p.parameters.get("occupations"))
    return {
        "wage_floors": [{"since": d, "krw": int(v)} for d, v in floors] or None,
        "occupation_lists": [{"since": d, "codes": [str(c) for c in v]} for d, v in lists] or None,
    }


def programme_obligations(policy_dir: Path | None = None, *, engine: Engine | None = None) -> pl.DataFrame:
    """The obligations of every programme version (`_programme_obligations`), kept while what they
    are computed from is unchanged: reading and validating every programme file and stored design
    took 100-230 ms, on every compliance case page."""
    policy_dir = policy_dir or get_settings().policy_dir
    key = _obligations_key(policy_dir, engine)
    found = _OBLIGATIONS.get(key)
    if found is None:
        found = _programme_obligations(policy_dir, engine=engine)
        if len(_OBLIGATIONS) >= 8:
            _OBLIGATIONS.clear()
        _OBLIGATIONS[key] = found
    return found


def _programme_obligations(policy_dir: Path | None = None, *, engine: Engine | None = None) -> pl.DataFrame:
    """Residence and KIIP obligations of every programme design version.

    Sources: the programme files under `policy/programs/`, and, with `engine`, the versions
    published in the database, which replace the files for every programme they cover (a
    version approved through the system is the one holders were granted under). One row per
    version: the engine picks, for each status, the version whose validity covers its grant
    date. Columns: program_id, region, residence_area (list), obligation_months,
    kiip_deadline_months (null when the programme sets none), includes_employment, version,
    valid_from, valid_to.
    """
    policy_dir = policy_dir or get_settings().policy_dir
    rows = _design_rows(policy_dir)
    if engine is not None:
        stored = _stored_rows(engine)
        covered = {r.id for r in stored}
        rows = [r for r in rows if r.id not in covered] + stored
    base_visas, programs = compliance_rules(policy_dir).employment_scope()
    unique = {(r.id, r.version): r for r in rows}
    return eng.programmes_frame(
        pl.DataFrame(
            [
                {
                    "program_id": p.id,
                    "region": p.region,
                    "residence_area": p.residence_area,
                    "obligation_months": p.obligation_months,
                    "kiip_deadline_months": p.kiip_deadline_months,
                    "includes_employment": p.residence_includes_employment
                    or p.base_visa in base_visas
                    or p.id in programs,
                    "version": p.version,
                    "valid_from": p.valid_from,
                    "valid_to": p.valid_to,
                    **_employment_conditions(p, policy_dir),
                }
                for _, p in sorted(unique.items())
            ],
            schema=eng.PROGRAMME_SCHEMA,
        )
    )


@dataclass
class ComplianceRun:
    on: dt.date
    findings: pl.DataFrame
    read_seconds: float
    engine_seconds: float
    people_read: int
    rows_read: dict[str, int] = field(default_factory=dict)
    unknown_programmes: list[str] = field(default_factory=list)
    holders: pl.DataFrame | None = None  # person_id of every programme holder (status granted by DATE)
    at_risk: pl.DataFrame | None = None  # risk.at_risk, when asked for
    employers: pl.DataFrame | None = None  # engine.employers: every employer with a programme E-7 holder

    def counts(self) -> dict[str, int]:
        counts = self.findings.group_by("rule").len().sort("rule")
        return dict(zip(counts["rule"], counts["len"], strict=True))


def _lit(day: dt.date) -> str:
    return f"'{day.isoformat()}'"


def _late_condition(dialect: str, max_days: int) -> str | None:
    """SQL for reported_date − effective_date > max_days, or None where it is not known."""
    if dialect == "sqlite":
        return f"julianday(reported_date) - julianday(effective_date) > {int(max_days)}"
    if dialect == "postgresql":
        return f"reported_date - effective_date > {int(max_days)}"
    return None


def select_people(*, reads: ArrowReads | DriverReads, settings: RuleSettings) -> tuple[int, int]:
    """Fill a temporary table with the people who can have a person-level finding.

    `holder` marks programme holders, whose every record is read. Returns (people, holders).
    """
    on = _lit(settings.on)
    cut = _lit(settings.on - dt.timedelta(days=settings.max_days_abroad))
    run = reads.execute
    run(f"DROP TABLE IF EXISTS {PEOPLE}")
    run(f"CREATE TEMPORARY TABLE {PEOPLE} (person_id VARCHAR(32) PRIMARY KEY, holder INTEGER NOT NULL)")
    run(
        f"INSERT INTO {PEOPLE} (person_id, holder) SELECT DISTINCT person_id, 1 FROM status_grant "
        f"WHERE program_id IS NOT NULL AND granted_on <= {on}"
    )
    begun = f"granted_on <= {on} AND valid_from <= {on}"
    # had a status, none covers DATE (a grace period only narrows this), and the last movement
    # up to DATE is not an exit (an entry on the day of the exit does not count as later):
    # illegal stay. Someone who left after their status ended can have no person-level finding.
    run(
        f"INSERT INTO {PEOPLE} (person_id, holder) SELECT person_id, 0 FROM ("
        f"SELECT person_id FROM status_grant WHERE {begun} GROUP BY person_id HAVING MAX(valid_to) < {on}"
        f") AS expired WHERE NOT EXISTS ("
        f"SELECT 1 FROM movement x WHERE x.person_id = expired.person_id AND x.direction = 'exit' "
        f"AND x.date <= {on} AND NOT EXISTS ("
        f"SELECT 1 FROM movement m WHERE m.person_id = x.person_id AND m.direction = 'entry' "
        f"AND m.date > x.date AND m.date <= {on})"
        f") ON CONFLICT (person_id) DO NOTHING"
    )
    # a status covers DATE, and the last movement up to DATE is an exit before
    # DATE − max_days_abroad: unreported departure.
    # An entry on the day of the exit does not count as later (the exit is taken as last).
    run(
        f"INSERT INTO {PEOPLE} (person_id, holder) SELECT DISTINCT person_id, 0 FROM movement x "
        f"WHERE x.direction = 'exit' AND x.date < {cut} AND NOT EXISTS ("
        f"SELECT 1 FROM movement m WHERE m.person_id = x.person_id AND m.date > x.date AND m.date <= {on}"
        f") AND EXISTS (SELECT 1 FROM status_grant g WHERE g.person_id = x.person_id AND g.granted_on <= {on} "
        f"AND g.valid_from <= {on} AND g.valid_to >= {on}) ON CONFLICT (person_id) DO NOTHING"
    )
    if reads.dialect == "postgresql":
        run(f"ANALYZE {PEOPLE}")  # temporary tables get no statistics otherwise, and bad plans
    people, holders = reads.one(f"SELECT COUNT(*), COALESCE(SUM(holder), 0) FROM {PEOPLE}")
    return int(people), int(holders)


def selected_people(*, statuses: pl.DataFrame, movements: pl.DataFrame, settings: RuleSettings) -> pl.DataFrame:
    """`select_people` over frames: person_id and holder (1 or 0) of everyone who can have a
    person-level finding, from the statuses granted and the movements dated by `settings.on`.

    The same three conditions as the SQL, for the databases whose columns are read whole as
    Arrow (PostgreSQL): programme holders; people none of whose begun statuses covers DATE and
    whose last movement is not an exit (an entry on the exit's day is not later); people with a
    status covering DATE whose last movement is an exit before DATE − max_days_abroad. One
    grouping per table: each person's facts, then one join.
    """
    on = settings.on
    cut = on - dt.timedelta(days=settings.max_days_abroad)
    begun = pl.col("valid_from") <= on
    status = (
        statuses.lazy()
        .group_by("person_id")
        .agg(
            pl.col("program_id").is_not_null().any().alias("holder"),
            pl.when(begun).then(pl.col("valid_to")).max().alias("begun_to"),  # null: nothing begun
            (begun & (pl.col("valid_to") >= on)).any().alias("covered"),
        )
    )
    exit_ = pl.col("direction") == "exit"
    moves = (
        movements.lazy()
        .group_by("person_id")
        .agg(
            pl.when(exit_).then(pl.col("date")).max().alias("last_exit"),
            pl.when(pl.col("direction") == "entry").then(pl.col("date")).max().alias("last_entry"),
            pl.col("date").max().alias("last_move"),
        )
    )
    last_exit, last_entry = pl.col("last_exit"), pl.col("last_entry")
    # gone: an exit with no entry after it, i.e. the latest exit is no earlier than the latest entry
    gone = (last_exit.is_not_null() & (last_entry.is_null() | (last_entry <= last_exit))).fill_null(False)
    overstay = (pl.col("begun_to") < on).fill_null(False) & ~gone
    # abroad: an exit before the cut with no movement of either direction after it
    abroad = ((last_exit == pl.col("last_move")) & (last_exit < cut)).fill_null(False)
    return (
        status.join(moves, on="person_id", how="left")
        .filter(pl.col("holder") | overstay | (pl.col("covered") & abroad))
        .select("person_id", pl.col("holder").cast(pl.Int64))
        .collect()
    )


def _select(table: str, on: dt.date, where: str) -> str:
    """The engine's columns of `table` as known on `on` (§4.8, as `records.frames`), filtered."""
    cols = ", ".join(f'"{c}"' for c in eng.INPUT_SCHEMAS[table])
    return f'SELECT {cols} FROM {table} WHERE "{KNOWN_BY[table]}" <= {_lit(on)} AND {where}'


def _staff_sql(on: dt.date, holders: str) -> str:
    """Every job in force on `on` at an employer where one of `holders` has a job in force: the
    foreign staff the employers' concentration is counted over (engine.STAFF)."""
    day = _lit(on)
    in_force = f"start_date <= {day} AND (end_date IS NULL OR end_date >= {day})"
    return _select(
        "employment",
        on,
        f"{in_force} AND employer_id IN (SELECT employer_id FROM employment WHERE {in_force} AND {holders})",
    )


def read_inputs(
    *, reads: ArrowReads | DriverReads, settings: RuleSettings, progress: Progress | None = None
) -> tuple[dict[str, pl.DataFrame], int]:
    """The record frames the engine needs as of `settings.on`, and how many people were selected.

    Through Arrow (PostgreSQL) the statuses and movements known by DATE are read whole, a column
    transfer far cheaper than the server's joins over them, and `selected_people` picks the people
    in Polars; through a driver cursor (SQLite) the database selects them (`select_people`) and
    only their rows are read. Either way the frames hold exactly the same rows.
    """
    step = iter(range(1, len(PHASES) + 1))

    def tick(phase: str) -> None:
        if progress:
            progress(phase, next(step), len(PHASES))

    on = settings.on
    if isinstance(reads, ArrowReads):
        return _read_whole(reads=reads, settings=settings, tick=tick)
    people, _ = select_people(reads=reads, settings=settings)
    tick("select people")
    anyone = f"person_id IN (SELECT person_id FROM {PEOPLE})"
    holders = f"person_id IN (SELECT person_id FROM {PEOPLE} WHERE holder = 1)"
    frames: dict[str, pl.DataFrame] = {}
    for table in ("status_grant", "movement"):
        frames[table] = reads.frame(_select(table, on, anyone), eng.INPUT_SCHEMAS[table])
        tick(table)
    schema = eng.INPUT_SCHEMAS["address_report"]
    addresses = reads.frame(_select("address_report", on, holders), schema)
    tick("address_report")
    late_sql = _late_condition(reads.dialect, settings.max_days)
    # one scan of the reports: the late ones go to a temporary table, read from there
    reads.execute(f"DROP TABLE IF EXISTS {LATE}")
    reads.execute(f"CREATE TEMPORARY TABLE {LATE} AS {_select('address_report', on, late_sql or 'true')}")
    late = reads.frame(f"SELECT {', '.join(schema)} FROM {LATE}", schema)
    if late_sql is None:
        late = late.filter((pl.col("reported_date") - pl.col("effective_date")).dt.total_days() > settings.max_days)
    frames["address_report"] = pl.concat([addresses, late]).unique(["person_id", "effective_date"], keep="first")
    # the statuses of people with only a late report give their finding its region
    extra = reads.frame(
        _select(
            "status_grant",
            on,
            f"person_id IN (SELECT person_id FROM {LATE}) "
            f"AND NOT EXISTS (SELECT 1 FROM {PEOPLE} p WHERE p.person_id = status_grant.person_id)",
        ),
        eng.INPUT_SCHEMAS["status_grant"],
    )
    frames[eng.REGION_ONLY] = extra
    tick("late address reports")
    for table in ("kiip_record", "employment"):
        frames[table] = reads.frame(_select(table, on, holders), eng.INPUT_SCHEMAS[table])
        tick(table)
    frames[eng.STAFF] = reads.frame(_staff_sql(on, holders), eng.INPUT_SCHEMAS["employment"])
    reads.execute(f"DROP TABLE IF EXISTS {PEOPLE}")
    reads.execute(f"DROP TABLE IF EXISTS {LATE}")
    return frames, people


def _read_whole(
    *, reads: ArrowReads, settings: RuleSettings, tick: Callable[[str], None]
) -> tuple[dict[str, pl.DataFrame], int]:
    """`read_inputs` through Arrow: statuses and movements whole, the selection in Polars; the
    reads run at once in sessions sharing one snapshot."""
    on = settings.on
    # programme holders, as select_people marks them: a small set the database finds by index
    holders = (
        f"person_id IN (SELECT person_id FROM status_grant WHERE program_id IS NOT NULL AND granted_on <= {_lit(on)})"
    )
    late = _late_condition(reads.dialect, settings.max_days)
    schema = eng.INPUT_SCHEMAS
    # the two large tables in SPLIT parts each (by id), so several server processes produce rows
    whole = {
        f"{table}/{part}": (_select(table, on, f"id % {SPLIT} = {part}"), schema[table])
        for table in ("status_grant", "movement")
        for part in range(SPLIT)
    }
    read = reads.frames(
        whole
        | {
            "address_report": (_select("address_report", on, holders), schema["address_report"]),
            "late": (_select("address_report", on, late), schema["address_report"]),
            "kiip_record": (_select("kiip_record", on, holders), schema["kiip_record"]),
            "employment": (_select("employment", on, holders), schema["employment"]),
            eng.STAFF: (_staff_sql(on, holders), schema["employment"]),
        }
    )
    statuses, movements = (
        pl.concat([read[f"{t}/{part}"] for part in range(SPLIT)]) for t in ("status_grant", "movement")
    )
    people = selected_people(statuses=statuses, movements=movements, settings=settings)
    tick("select people")
    frames: dict[str, pl.DataFrame] = {
        "status_grant": statuses.join(people, on="person_id", how="semi"),
        "movement": movements.join(people, on="person_id", how="semi"),
    }
    tick("status_grant")
    tick("movement")
    frames["address_report"] = pl.concat([read["address_report"], read["late"]]).unique(
        ["person_id", "effective_date"], keep="first"
    )
    tick("address_report")
    # the statuses of people with only a late report give their finding its region
    frames[eng.REGION_ONLY] = statuses.join(read["late"].select("person_id"), on="person_id", how="semi").join(
        people, on="person_id", how="anti"
    )
    tick("late address reports")
    for table in ("kiip_record", "employment"):
        frames[table] = read[table]
        tick(table)
    frames[eng.STAFF] = read[eng.STAFF]
    return frames, people.height


def run_compliance(
    *,
    engine: Engine,
    on: dt.date,
    policy_dir: Path | None = None,
    programmes: pl.DataFrame | None = None,
    progress: Progress | None = None,
    with_risk: bool = False,
) -> ComplianceRun:
    """Every finding as of `on`, with the time spent reading and computing.

    `with_risk` also lists the programme holders close to a limit (compliance.risk.at_risk): every
    holder's records are read in full anyway, so this costs no extra reading.
    """
    rules = compliance_rules(policy_dir)
    settings = settings_in_force(rules, on)
    programmes = programme_obligations(policy_dir, engine=engine) if programmes is None else programmes
    started = time.perf_counter()
    with batch_reads(engine=engine) as reads:
        frames, people = read_inputs(reads=reads, settings=settings, progress=progress)
    read_seconds = time.perf_counter() - started
    started = time.perf_counter()
    findings = eng.find_all(frames, programmes, settings)
    risk = at_risk(frames, programmes, settings, rules.at_risk_days()) if with_risk else None
    employers = eng.employer_table(frames, settings)
    engine_seconds = time.perf_counter() - started
    if progress:
        progress("rules", len(PHASES), len(PHASES))
    known = set(programmes["program_id"].to_list())
    named = frames["status_grant"]["program_id"].drop_nulls().unique().sort().to_list()
    return ComplianceRun(
        on=on,
        findings=findings,
        read_seconds=read_seconds,
        engine_seconds=engine_seconds,
        people_read=people,
        rows_read={t: f.height for t, f in frames.items()},
        unknown_programmes=[p for p in named if p not in known],
        holders=frames["status_grant"].filter(pl.col("program_id").is_not_null()).select("person_id").unique(),
        at_risk=risk,
        employers=employers,
    )


def findings(
    *, engine: Engine, actor: Actor, on: dt.date, region: str | None = None, rule: str | None = None
) -> tuple[str | None, pl.DataFrame]:
    """Every finding as of `on` that `actor` may read, with the region they were filtered by
    (a regional official's own region; 403 for another, before anything is read)."""
    region = run_region(actor, region)
    found = run_compliance(engine=engine, on=on).findings
    if region:
        found = found.filter(pl.col("region") == region)
    if rule:
        found = found.filter(pl.col("rule") == rule)
    return region, found


def write_findings_csv(findings: pl.DataFrame, out: Path | IO[bytes] | IO[str], *, details: bool = False) -> None:
    """The §4.8 CSV: exactly the contract columns, in order; `details` appends severity and evidence."""
    columns = eng.CONTRACT_COLUMNS + (["severity", "evidence"] if details else [])

    write_csv_safe(findings.select(columns), out, null_value="", date_format="%Y-%m-%d")


def compute_indicators(*, engine: Engine, year: int, policy_dir: Path | None = None) -> pl.DataFrame:
    """The compliance indicators of `year` for every region, from the records as of 31 December.

    Indicators need every resident (the denominators), so all visible records are read; this
    is an annual computation, not a per-request one.
    """
    _, year_end = year_bounds(year)
    with batch_reads(engine=engine) as reads:
        frames = read_known_all(reads=reads, tables={t: year_end for t in (*eng.INPUT_SCHEMAS, "person")})
    return indicators(
        frames,
        programme_obligations(policy_dir, engine=engine),
        regions_frame(),
        year,
        settings=settings_in_force(compliance_rules(policy_dir), year_end),
    )


def indicators_for(
    *, engine: Engine, actor: Actor, year: int, region: str | None = None
) -> tuple[str | None, pl.DataFrame]:
    """The year's compliance indicators that `actor` may read (as `findings`), with the region."""
    region = run_region(actor, region)
    table = compute_indicators(engine=engine, year=year)
    if region:
        table = table.filter(pl.col("region") == region)
    return region, table
