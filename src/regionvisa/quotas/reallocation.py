"""Mid-year reallocation of unused quota places, pure: the rule file and the proposal.

A ledger in force on the reallocation date projects its use — the places reserved or used — to
the end of its period at its pace so far: projected use = ⌈use × period days / elapsed days⌉
(rounded up, so the projection never releases a place the pace would still need). A ledger whose
queue fits in its remaining places gives up `release_share` of the places it is projected to leave
unused, ⌊share × (capacity − projected use)⌋, but never so many that its own queue would no longer
fit, nor (with the ledger as it stands now) below what it has already reserved or used; a ledger
younger than `min_elapsed_days` gives up nothing (its pace says too little yet).

The releases form a national pool, which is granted to the ledgers with demand — a queue longer
than their remaining places — in proportion to their unmet demand (queue − remaining), each at
most its unmet demand, by the declared method (`quotas.apportion`, ties by the lower region code,
then programme id). What the pool cannot grant is not taken: when the demand is smaller than the
pool, the releases are cut back in proportion (Hamilton) to the places granted, so the national
total of places never changes.

The rule is policy data (`policy/quotas/reallocation.yaml`), dated like the other policy files:
every parameter is required, and a reallocation on DATE reads the values in force on DATE.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import numpy as np
import polars as pl
from pydantic import BaseModel, ConfigDict, Field, field_validator

from regionvisa.policyfiles import LocalText, PolicyError, ascending_dates, parse_model, read_yaml
from regionvisa.quotas.apportion import METHODS, ApportionError, apportion, first_divisor_of, hamilton

PARAMETERS = ("release_share", "min_elapsed_days", "method", "first_divisor", "queue_statuses")

# The columns the proposal is computed from, one row per ledger in force on the date.
INPUT_SCHEMA: dict[str, Any] = {
    "ledger_id": pl.Int64,
    "program_id": pl.String,
    "region": pl.String,
    "period": pl.String,
    "period_start": pl.Date,
    "period_end": pl.Date,
    "capacity": pl.Int64,  # on the date
    "reserved": pl.Int64,  # on the date
    "used": pl.Int64,  # on the date
    "committed_now": pl.Int64,  # reserved + used as the ledger stands now
    "capacity_now": pl.Int64,
    "queue": pl.Int64,  # applications waiting for a place
}


class DatedParameter(BaseModel):
    model_config = ConfigDict(extra="forbid")
    description: LocalText
    unit: Literal["share", "days", "method", "divisor", "statuses"]
    reference: str = Field(min_length=1)
    values: dict[dt.date, Any]

    @field_validator("values")
    @classmethod
    def _dated(cls, values: dict[dt.date, Any]) -> dict[dt.date, Any]:
        return ascending_dates(values)


class ReallocationFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reference: str = Field(min_length=1)
    parameters: dict[str, DatedParameter]


@dataclass(frozen=True)
class Rule:
    """The reallocation parameters in force on one date, checked."""

    source: str
    on: dt.date
    release_share: Fraction
    min_elapsed_days: int
    method: str
    first_divisor: Fraction
    queue_statuses: tuple[str, ...]

    def as_inputs(self) -> dict[str, Any]:
        """The parameters as the audit entry and the proposal show them."""
        return {
            "rule": self.source,
            "on": self.on.isoformat(),
            "release_share": str(Decimal(self.release_share.numerator) / self.release_share.denominator),
            "min_elapsed_days": self.min_elapsed_days,
            "method": self.method,
            "first_divisor": f"{float(self.first_divisor):g}",
            "queue_statuses": list(self.queue_statuses),
        }


def _check(name: str, value: Any, where: str, statuses: tuple[str, ...]) -> tuple[Any, str | None]:
    """(the value in the engine's form, or an error line) for one parameter value."""
    if name == "release_share":
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            return None, f"{where}: a share between 0 and 1, got {value!r}"
        try:
            share = Fraction(Decimal(str(value)))
        except ArithmeticError:
            return None, f"{where}: a share between 0 and 1, got {value!r}"
        return (share, None) if 0 <= share <= 1 else (None, f"{where}: a share between 0 and 1, got {value}")
    if name == "min_elapsed_days":
        ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 366
        return (value, None) if ok else (None, f"{where}: a whole number of days from 0 to 366, got {value!r}")
    if name == "method":
        ok = value in METHODS
        return (value, None) if ok else (None, f"{where}: one of {', '.join(METHODS)}, got {value!r}")
    if name == "first_divisor":
        try:
            return first_divisor_of(value), None
        except ApportionError as exc:
            return None, f"{where}: {exc.errors[0]}"
    if name == "queue_statuses":
        ok = isinstance(value, list) and value and all(v in statuses for v in value)
        if not ok:
            return None, f"{where}: a non-empty list of application statuses ({', '.join(statuses)}), got {value!r}"
        return tuple(value), None
    raise KeyError(name)


@dataclass(frozen=True)
class ReallocationRules:
    source: str
    spec: ReallocationFile

    @property
    def first_day(self) -> dt.date:
        """The first day on which every parameter has a value: reallocations start there."""
        return max(min(self.spec.parameters[name].values) for name in PARAMETERS)

    def on(self, day: dt.date, *, statuses: tuple[str, ...]) -> Rule:
        """Each parameter's value in force on `day`; a date before a parameter's first value is refused.
        `statuses` are the application statuses a queue may name."""
        values: dict[str, Any] = {}
        errors: list[str] = []
        for name in PARAMETERS:
            in_force = [v for d, v in self.spec.parameters[name].values.items() if d <= day]
            where = f"{self.source}:parameters.{name}.values"
            if not in_force:
                errors.append(f"{where}: no value in force on {day}")
                continue
            value, error = _check(name, in_force[-1], where, statuses)
            if error:
                errors.append(error)
            values[name] = value
        if errors:
            raise PolicyError(errors)
        return Rule(source=self.source, on=day, **values)


def load_rules(path: Path | str) -> ReallocationRules:
    """Parse a reallocation rule file; errors read `file:key.path: message`, all together."""
    path = Path(path)
    raw = read_yaml(path)
    if not isinstance(raw, dict):
        raise PolicyError([f"{path}:(root): expected a mapping with 'reference' and 'parameters'"])
    spec = parse_model(ReallocationFile, raw, path)
    errors = [
        f"{path}:parameters.{name}: unknown parameter (known: {', '.join(PARAMETERS)})"
        for name in spec.parameters
        if name not in PARAMETERS
    ]
    errors += [
        f"{path}:parameters.{name}: required (the reallocation reads it; no default)"
        for name in PARAMETERS
        if name not in spec.parameters
    ]
    if errors:
        raise PolicyError(errors)
    return ReallocationRules(source=path.name, spec=spec)


# ----------------------------------------------------------------------------- the proposal


@dataclass(frozen=True)
class Proposal:
    """One row per ledger in force (`rows`, a Polars frame) and the totals; `digest` names exactly
    these adjustments, so applying can refuse a proposal that changed since it was shown."""

    rule: Rule
    rows: pl.DataFrame
    pool: int
    granted: int
    digest: str

    def records(self) -> list[dict[str, Any]]:
        out = self.rows.to_dicts()
        for row in out:
            for key in ("period_start", "period_end"):
                row[key] = row[key].isoformat()
        return out


def _ceil_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return -(-a // b)


def propose(inputs: pl.DataFrame, rule: Rule) -> Proposal:
    """The reallocation of `inputs` (INPUT_SCHEMA, one row per ledger in force on `rule.on`)."""
    frame = inputs.select(list(INPUT_SCHEMA)).cast(INPUT_SCHEMA).sort("ledger_id")
    on = np.datetime64(rule.on, "D")
    start = frame["period_start"].to_numpy().astype("datetime64[D]")
    end = frame["period_end"].to_numpy().astype("datetime64[D]")
    period_days = (end - start).astype(np.int64) + 1
    elapsed = np.clip((on - start).astype(np.int64) + 1, 0, period_days)
    capacity = frame["capacity"].to_numpy()
    use = frame["reserved"].to_numpy() + frame["used"].to_numpy()
    queue = frame["queue"].to_numpy()
    remaining = capacity - use
    projected = np.where(elapsed > 0, _ceil_div(use * period_days, np.maximum(elapsed, 1)), use)
    unused = np.maximum(capacity - projected, 0)
    share = rule.release_share
    offered = (unused * share.numerator) // share.denominator
    now_free = frame["capacity_now"].to_numpy() - frame["committed_now"].to_numpy()
    donor = (elapsed >= rule.min_elapsed_days) & (queue <= remaining)
    release = np.where(donor, np.clip(np.minimum(offered, np.minimum(remaining - queue, now_free)), 0, None), 0)
    demand = np.maximum(queue - remaining, 0)
    pool = int(release.sum())

    grant = np.zeros(len(frame), dtype=np.int64)
    wanting = np.flatnonzero(demand > 0)
    if pool and len(wanting):
        requests = [
            {"region": r, "program": p, "requested": int(d)}
            for r, p, d in zip(
                frame["region"].gather(wanting), frame["program_id"].gather(wanting), demand[wanting], strict=True
            )
        ]
        shared = apportion(requests, pool, method=rule.method, first_divisor=rule.first_divisor)
        grant[wanting] = [row["granted"] for row in shared]
    granted = int(grant.sum())
    offered_release = release.copy()
    if granted < pool:  # take only what is granted: the releases shrink in proportion
        giving = np.flatnonzero(release > 0)
        release = np.zeros_like(release)
        release[giving] = hamilton([int(v) for v in offered_release[giving]], granted, list(range(len(giving))))
    adjustment = grant - release
    rows = frame.with_columns(
        pl.Series("period_days", period_days),
        pl.Series("elapsed_days", elapsed),
        pl.Series("use", use),
        pl.Series("remaining", remaining),
        pl.Series("projected_use", projected),
        pl.Series("projected_unused", unused),
        pl.Series("demand", demand),
        pl.Series("release", release),
        pl.Series("grant", grant),
        pl.Series("adjustment", adjustment),
        pl.Series("capacity_after", capacity + adjustment),
    ).with_columns(_explanations(rule, pool=pool, granted=granted, offered=pl.Series(offered_release)))
    pairs = [(int(i), int(a)) for i, a in zip(rows["ledger_id"], rows["adjustment"], strict=True) if a]
    return Proposal(rule=rule, rows=rows, pool=pool, granted=granted, digest=digest(rule, pairs))


def _explanations(rule: Rule, *, pool: int, granted: int, offered: pl.Series) -> list[pl.Expr]:
    """explanation_en / explanation_ko per ledger, built over the columns."""
    c = pl.col
    pace_en = pl.format(
        "use {} after {} of {} days → projected {} of {}, {} unused", c("use"), c("elapsed_days"),
        c("period_days"), c("projected_use"), c("capacity"), c("projected_unused"),
    )  # fmt: skip
    pace_ko = pl.format(
        "{}일 중 {}일 동안 {}석 사용 → 기말 예상 {}석 / {}석, 미사용 예상 {}석", c("period_days"),
        c("elapsed_days"), c("use"), c("projected_use"), c("capacity"), c("projected_unused"),
    )  # fmt: skip
    young = c("elapsed_days") < rule.min_elapsed_days
    wanting = c("demand") > 0
    offered_col = pl.lit(offered)
    cut_back = offered_col > c("release")
    share = rule.as_inputs()["release_share"]
    en = (
        pl.when(wanting)
        .then(pl.format("queue {} > remaining {}: demand {}, granted {} from the pool", c("queue"),
                        c("remaining"), c("demand"), c("grant")))
        .when(young)
        .then(pl.format("{} of {} days passed, fewer than {}: nothing released", c("elapsed_days"),
                        c("period_days"), pl.lit(rule.min_elapsed_days)))
        .when(cut_back)
        .then(pl.format("{}; {} released at {} of the unused, {} of them taken (the pool's demand was smaller)",
                        pace_en, offered_col, pl.lit(share), c("release")))
        .otherwise(pl.format("{}; {} released at {} of the unused (queue {})", pace_en, c("release"),
                             pl.lit(share), c("queue")))
    )  # fmt: skip
    ko = (
        pl.when(wanting)
        .then(pl.format("대기 {}명 > 잔여 {}석: 수요 {}석, 풀에서 {}석 배정", c("queue"), c("remaining"),
                        c("demand"), c("grant")))
        .when(young)
        .then(pl.format("{}일 중 {}일 경과, 기준 {}일 미만: 회수 없음", c("period_days"), c("elapsed_days"),
                        pl.lit(rule.min_elapsed_days)))
        .when(cut_back)
        .then(pl.format("{}; 미사용의 {} 비율로 {}석 회수 대상, 수요가 적어 {}석만 회수", pace_ko, pl.lit(share),
                        offered_col, c("release")))
        .otherwise(pl.format("{}; 미사용의 {} 비율로 {}석 회수 (대기 {}명)", pace_ko, pl.lit(share), c("release"),
                             c("queue")))
    )  # fmt: skip
    return [en.alias("explanation_en"), ko.alias("explanation_ko")]


def digest(rule: Rule, adjustments: list[tuple[int, int]]) -> str:
    """A short fingerprint of the rule and the per-ledger adjustments (ledger id, places)."""
    text = json.dumps({"rule": rule.as_inputs(), "adjustments": adjustments}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
