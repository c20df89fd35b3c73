"""Composite score, ranks, grades and benefits (DESIGN §4.5), pure and vectorised.

The pipeline follows COINr: metadata (the framework) → missing-data treatment → normalise →
aggregate → rank → grade → benefit, and the result carries a `run` record with every step's
settings, the inputs, the framework (full definition + SHA-256) and package versions, so that
the same inputs and seed give byte-identical JSON.

Decisions the formulas leave open, fixed here and recorded in the run:

* Normalisation runs over the regions being evaluated that have a value for that indicator.
* minmax with all values equal gives 100 to every region (§4.5). zscore with all values equal
  (standard deviation 0) gives 50, the neutral z-score. rank with a single region gives 100.
* Scores are rounded to 9 decimals before ranking and grading, so float noise (1e-14) can
  neither split a tie nor drop a score that is exactly on a band boundary into the band below.
* Missing values (None or NaN): framework `missing.policy` `reweight` drops the indicator for
  that region and rescales the others' weights (Σw over available indicators); `exclude` leaves
  the region out of normalisation and scoring. A region with no value at all is always excluded.
  The result's `missing` section says what was done for each region.
* The aggregation and ranking primitives take a batch of weight vectors so the sensitivity
  analysis and the published run share one code path: with the same weights they agree bit for bit.
* Groups (§4.5 "Groups and transforms") aggregate bottom-up: a group's score is its own
  aggregate over its members with their weights, over the members that have a value for that
  region (so reweighting happens among siblings); a group with no member value has none and is
  reweighted away at its parent. Group scores are not rounded on the way up; the composite is.
  A framework without groups takes exactly the flat path it always took.
* Treatment (evaluation.treatment) runs before normalisation, in COINr's order: coverage
  screen, imputation, the missing-data policy for what is still missing, then transforms.
  Everything it changes is in the result's `treatment` section and the run's steps.

This module stays above 800 lines on purpose: the flat path, the group tree and the batched
aggregation primitives must share one set of rounding and weighting rules, and the published run
and the sensitivity draws call the same functions; split, they would drift apart.
"""

from __future__ import annotations

import json
import math
import platform
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from regionvisa.evaluation import treatment
from regionvisa.evaluation.framework import AGGREGATE_METHODS, MAX_DRAWS, Framework, parse_framework, sha256_json
from regionvisa.tabular import read_small_csv

SCORE_DECIMALS = 9
COVERAGE_REASON = treatment.COVERAGE_REASON
RUN_FORMAT = "regionvisa-evaluation-run/1"
_RANK_CHUNK = 8192
_TREE_CHUNK = 4096

Table = Mapping[str, Mapping[str, float | None]]


class IndicatorInputError(ValueError):
    """Bad indicator values; `errors` lists one readable line per problem."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("\n".join(errors))


# --------------------------------------------------------------------------------------------
# Normalisation


def normalise(
    values: Any, method: str, direction: int, low: float | None = None, high: float | None = None
) -> np.ndarray:
    """One indicator over the regions, to 0–100 (zscore is not clipped). NaN in, NaN out.

    Statistics (min, max, mean, std, order) use only the regions that have a value.
    """
    x = np.asarray(values, dtype=float)
    out = np.full(x.shape, np.nan)
    ok = ~np.isnan(x)
    v = x[ok]
    n = v.size
    if n == 0:
        return out
    if method == "minmax":
        lo, hi = v.min(), v.max()
        if hi == lo:
            r = np.full(n, 100.0)
        elif direction == 1:
            r = 100.0 * (v - lo) / (hi - lo)
        else:
            r = 100.0 * (hi - v) / (hi - lo)
    elif method == "goalposts":
        if low is None or high is None:
            raise ValueError("goalposts needs low and high")
        if direction == 1:
            r = 100.0 * np.clip((v - low) / (high - low), 0.0, 1.0)
        else:
            r = 100.0 * np.clip((high - v) / (high - low), 0.0, 1.0)
    elif method == "zscore":
        # Equality is checked on the values, not std == 0: np.std of equal values can be 1e-17.
        equal = v.max() == v.min()
        r = np.full(n, 50.0) if equal else 50.0 + 10.0 * direction * (v - v.mean()) / v.std()
    elif method == "rank":
        if n == 1:
            r = np.full(n, 100.0)
        else:
            # worse[j] = number of regions strictly worse than region j
            worse = (v[None, :] < v[:, None]) if direction == 1 else (v[None, :] > v[:, None])
            r = 100.0 * worse.sum(axis=1) / (n - 1)
    else:
        raise ValueError(f"unknown normalisation method {method!r}")
    out[ok] = r
    return out


def normalise_matrix(framework: Framework, raw: np.ndarray, method: str | None = None) -> np.ndarray:
    """Normalise every column of a regions × indicators matrix (of transformed values);
    `method` overrides every indicator's. Goalposts are transformed like the values."""
    out = np.empty_like(raw, dtype=float)
    for i, ind in enumerate(framework.indicators):
        spec = ind.normalise
        m = method or spec.method
        low, high = treatment.goalposts(ind) if m == "goalposts" else (None, None)
        out[:, i] = normalise(raw[:, i], m, ind.direction, low, high)
    return out


def normalise_stats(framework: Framework, raw: np.ndarray) -> dict[str, dict[str, Any]]:
    """The statistics each indicator's normalisation used, for the run record."""
    stats: dict[str, dict[str, Any]] = {}
    for i, ind in enumerate(framework.indicators):
        v = raw[:, i][~np.isnan(raw[:, i])]
        entry: dict[str, Any] = {"method": ind.normalise.method, "direction": ind.direction, "n": int(v.size)}
        if ind.normalise.method == "goalposts":
            entry.update(low=ind.normalise.low, high=ind.normalise.high)
            if ind.transform is not None and ind.transform.method == "log":
                low, high = treatment.goalposts(ind)
                entry.update(transformed_low=low, transformed_high=high)
        if v.size:
            entry.update(min=float(v.min()), max=float(v.max()), mean=float(v.mean()), std=float(v.std()))
        stats[ind.id] = entry
    return stats


# --------------------------------------------------------------------------------------------
# Aggregation, ranks, grades (batched over weight vectors)


def aggregate(
    normalised: np.ndarray, method_index: np.ndarray, weights: np.ndarray, mask: np.ndarray, method: str
) -> np.ndarray:
    """Scores for a batch: E weight vectors, each with its own choice of normalised matrix.

    normalised: (M, R, I) matrices, one per normalisation choice; method_index: (E,) which one
    each row uses; weights: (E, I); mask: (R, I) True where the value exists. Returns (E, R),
    rounded to SCORE_DECIMALS. The loop runs over indicators (a handful), never over draws, and
    sums in indicator order, so one row gives the same bits whatever the batch size.

    arithmetic: Σ wᵢ·nᵢ / Σ wᵢ; geometric: Π max(nᵢ, 1)^(wᵢ/Σw); sums over available indicators.
    """
    method_index = np.asarray(method_index)
    n_rows, n_ind = weights.shape
    n_reg = normalised.shape[1]
    den = np.zeros((n_rows, n_reg))
    for i in range(n_ind):
        den += weights[:, i, None] * mask[None, :, i]
    if method == "arithmetic":
        num = np.zeros((n_rows, n_reg))
        for i in range(n_ind):
            col = np.where(mask[:, i], normalised[:, :, i], 0.0)[method_index]
            num += weights[:, i, None] * col
        score = num / den
    elif method == "geometric":
        score = np.ones((n_rows, n_reg))
        for i in range(n_ind):
            col = np.where(mask[:, i], np.maximum(normalised[:, :, i], 1.0), 1.0)[method_index]
            score *= col ** (weights[:, i, None] / den)
    else:
        raise ValueError(f"unknown aggregation method {method!r}")
    return np.round(score, SCORE_DECIMALS)


def weight_vector(framework: Framework) -> np.ndarray:
    """Indicator weights, then group weights: the columns `aggregate_tree` takes."""
    return np.array([ind.weight for ind in framework.indicators] + [g.weight for g in framework.groups])


def tree(framework: Framework) -> tuple[list[tuple[int, list[int]]], list[int]]:
    """The aggregation plan over nodes (indicators 0..I−1, then groups I..I+G−1): the groups
    children first, each with its member nodes, and the top level's members."""
    n_ind = len(framework.indicators)
    index = {g.id: n_ind + j for j, g in enumerate(framework.groups)}
    members: dict[int | None, list[int]] = {None: []}
    for node in index.values():
        members[node] = []
    for i, ind in enumerate(framework.indicators):
        members[index[ind.group] if ind.group else None].append(i)
    for g in framework.groups:
        members[index[g.parent] if g.parent else None].append(index[g.id])
    order: list[tuple[int, list[int]]] = []

    def visit(node: int) -> None:
        for child in members[node]:
            if child >= n_ind:
                visit(child)
        order.append((node, members[node]))

    for node in members[None]:
        if node >= n_ind:
            visit(node)
    return order, members[None]


def _combine(values: list[np.ndarray], masks: list[np.ndarray], weights: list[np.ndarray], method: str) -> np.ndarray:
    """One aggregate over members: values (E, R), masks (R,), weights (E,); NaN where no member.

    arithmetic Σ wⱼ·vⱼ / Σ wⱼ; geometric exp(Σ wⱼ·ln max(vⱼ, 1) / Σ wⱼ), which is Π max(vⱼ, 1)^(wⱼ/Σw)
    with one exp instead of a power per member; sums over the members with a value.
    """
    if method not in AGGREGATE_METHODS:
        raise ValueError(f"unknown aggregation method {method!r}")
    present = np.stack(masks)  # (k, R)
    if present.all():  # every member has a value for every region: Σw is one number per draw
        den = np.sum(weights, axis=0)[:, None]
    else:  # (a matrix product is slower than this loop for a handful of members)
        den = np.zeros_like(values[0])
        for m, w in zip(masks, weights, strict=True):
            den += w[:, None] * m[None, :]
    acc = np.zeros_like(values[0])
    part = np.empty_like(acc)
    for v, m, w in zip(values, masks, weights, strict=True):
        term = v if method == "arithmetic" else np.log(np.maximum(v, 1.0))
        if not m.all():
            term = np.where(m[None, :], term, 0.0)
        np.multiply(term, w[:, None], out=part)
        acc += part
    with np.errstate(invalid="ignore", divide="ignore"):
        acc /= den
    if method == "geometric":
        np.exp(acc, out=acc)
    live = present.any(axis=0)
    if not live.all():
        acc[:, ~live] = np.nan
    return acc


def aggregate_tree(
    framework: Framework,
    normalised: np.ndarray,
    method_index: np.ndarray,
    weights: np.ndarray,
    mask: np.ndarray,
    *,
    keep_groups: bool = False,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Composite scores (E, R), rounded, and with keep_groups the group scores (E, R, G).

    weights: (E, I+G) as `weight_vector`. Without groups this is `aggregate` itself, so a flat
    framework gives the bits it always gave. With groups, each group is aggregated over its
    members that have a value, children before parents (see the module docstring).
    """
    n_ind = mask.shape[1]
    method_index = np.asarray(method_index)
    if not framework.groups:
        return aggregate(normalised, method_index, weights[:, :n_ind], mask, framework.aggregate.method), None
    if weights.shape[0] > _TREE_CHUNK:  # blocks of draws small enough to stay in cache; rows are independent
        parts = [
            aggregate_tree(
                framework,
                normalised,
                method_index[start : start + _TREE_CHUNK],
                weights[start : start + _TREE_CHUNK],
                mask,
                keep_groups=keep_groups,
            )
            for start in range(0, weights.shape[0], _TREE_CHUNK)
        ]
        scores = np.concatenate([p[0] for p in parts])
        groups = np.concatenate([p[1] for p in parts]) if keep_groups else None  # type: ignore[misc]
        return scores, groups
    order, top = tree(framework)
    n_groups = len(framework.groups)
    node_mask: dict[int, np.ndarray] = {i: mask[:, i] for i in range(n_ind)}
    kept: dict[int, np.ndarray] = {}
    groups_out = np.full((weights.shape[0], mask.shape[0], n_groups), np.nan) if keep_groups else None

    def value(node: int) -> np.ndarray:
        if node < n_ind:
            return normalised[:, :, node][method_index]
        return kept.pop(node)

    def combine(members: list[int], method: str) -> np.ndarray:
        return _combine(
            [value(m) for m in members],
            [node_mask[m] for m in members],
            [weights[:, m] for m in members],
            method,
        )

    for node, members in order:
        group = framework.groups[node - n_ind]
        score = combine(members, group.aggregate.method)
        node_mask[node] = np.any([node_mask[m] for m in members], axis=0)
        kept[node] = score
        if groups_out is not None:
            groups_out[:, :, node - n_ind] = score
    scores = combine(top, framework.aggregate.method)
    return np.round(scores, SCORE_DECIMALS), groups_out


def ranks(scores: np.ndarray) -> np.ndarray:
    """Competition ranks per row, 1 = best; ties share the better rank (1, 2, 2, 4).

    Up to 64 columns by pairwise comparison; beyond, by sorting each row (the same ranks, in
    O(R log R) memory and time instead of O(R²), for tables the size of the HDI's)."""
    scores = np.atleast_2d(scores)
    out = np.empty(scores.shape, dtype=np.int64)
    if scores.shape[1] > 64:
        order = np.argsort(-scores, axis=1, kind="stable")
        ordered = np.take_along_axis(scores, order, axis=1)
        position = np.broadcast_to(np.arange(scores.shape[1]), scores.shape)
        new = np.ones(scores.shape, dtype=bool)
        new[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
        first = np.maximum.accumulate(np.where(new, position, 0), axis=1)
        np.put_along_axis(out, order, first + 1, axis=1)
        return out
    for start in range(0, scores.shape[0], _RANK_CHUNK):
        s = scores[start : start + _RANK_CHUNK]
        out[start : start + _RANK_CHUNK] = 1 + (s[:, None, :] > s[:, :, None]).sum(axis=2)
    return out


def grade_index(framework: Framework, scores: np.ndarray) -> np.ndarray:
    """Index into framework.grades: the first band whose min_score ≤ score (lowest band below all)."""
    mins = np.array([g.min_score for g in framework.grades])
    idx = (np.asarray(scores)[..., None] < mins).sum(axis=-1)
    return np.minimum(idx, len(mins) - 1)


# --------------------------------------------------------------------------------------------
# Inputs


def _as_value(region: str, ind: str, value: Any, errors: list[str]) -> float:
    if value is None:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        errors.append(f"region {region}: indicator {ind!r}: value {value!r} is not a number")
        return math.nan
    value = float(value)
    if math.isinf(value):
        errors.append(f"region {region}: indicator {ind!r}: value {value!r} is not finite")
    return value


def raw_matrix(framework: Framework, indicators: Table) -> tuple[list[str], np.ndarray]:
    """Regions (sorted by code, so dict order cannot change a result) and their raw values (NaN missing)."""
    ids = framework.indicator_ids
    errors: list[str] = []
    if not indicators:
        raise IndicatorInputError(["no regions to evaluate"])
    codes = sorted(str(code) for code in indicators)
    if len(set(codes)) != len(codes):
        raise IndicatorInputError(["region codes repeat after conversion to text"])
    by_code = {str(code): values for code, values in indicators.items()}
    raw = np.full((len(codes), len(ids)), np.nan)
    for r, code in enumerate(codes):
        values = by_code[code]
        for key in values:
            if key not in ids:
                errors.append(f"region {code}: unknown indicator {key!r} (framework has: {', '.join(ids)})")
        for i, ind in enumerate(ids):
            raw[r, i] = _as_value(code, ind, values.get(ind), errors)
    if errors:
        raise IndicatorInputError(errors)
    return codes, raw


def read_indicator_csv(path: str | Path, framework: Framework | None = None) -> dict[str, dict[str, float | None]]:
    """Read `--indicators FILE.csv`: a `region` column plus one column per indicator id.

    An empty cell is a missing value. With a framework, every indicator needs a column and no
    other column is allowed. All problems are collected and raised together, each naming file,
    line, column and value.
    """
    path = Path(path)
    errors: list[str] = []
    rows = read_small_csv(path, error=IndicatorInputError, expected="a header row starting with 'region'")
    header = [h.strip() for h in rows[0]]
    if "region" not in header:
        errors.append(f"{path}:1: no 'region' column (header: {', '.join(header)})")
    for col in sorted({h for h in header if header.count(h) > 1}):
        errors.append(f"{path}:1: column {col!r} appears more than once")
    columns = [h for h in header if h != "region"]
    if framework is not None:
        ids = framework.indicator_ids
        for col in columns:
            if col not in ids:
                errors.append(
                    f"{path}:1: column {col!r}: unknown indicator (framework {framework.id} has: {', '.join(ids)})"
                )
        absent = [ind for ind in ids if ind not in header]
        if absent:
            errors.append(f"{path}:1: missing column(s) for framework indicators: {', '.join(absent)}")
    if errors:
        raise IndicatorInputError(errors)

    table: dict[str, dict[str, float | None]] = {}
    first_line: dict[str, int] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            errors.append(f"{path}:{line}: {len(row)} fields, the header has {len(header)}")
            continue
        cells = dict(zip(header, (c.strip() for c in row), strict=True))
        code = cells["region"]
        if not code:
            errors.append(f"{path}:{line}: column 'region': empty region code")
            continue
        if code in first_line:
            errors.append(f"{path}:{line}: column 'region': value {code!r} repeats line {first_line[code]}")
            continue
        first_line[code] = line
        values: dict[str, float | None] = {}
        for col in columns:
            text = cells[col]
            if text == "":
                values[col] = None
                continue
            try:
                number = float(text)
            except ValueError:
                errors.append(f"{path}:{line}: column {col!r}: value {text!r} is not a number")
                continue
            if not math.isfinite(number):
                errors.append(f"{path}:{line}: column {col!r}: value {text!r} is not a finite number")
                continue
            values[col] = number
        table[code] = values
    if not table and not errors:
        errors.append(f"{path}: no data rows")
    if errors:
        raise IndicatorInputError(errors)
    return table


# --------------------------------------------------------------------------------------------
# Deterministic evaluation


@dataclass(frozen=True)
class Scored:
    """The deterministic part of an evaluation, as arrays (rows = `regions`, sorted by code).

    `raw` holds the values after imputation (NaN where still missing), `values` the values that
    were normalised (after transforms; the same as raw when there are none), `groups` the group
    scores (regions × groups, NaN where a group has no value) and `treatment` what was changed.
    """

    regions: list[str]
    raw: np.ndarray
    normalised: np.ndarray
    scores: np.ndarray
    ranks: np.ndarray
    grades: list[str]
    missing: dict[str, dict[str, Any]] = field(default_factory=dict)
    stats: dict[str, dict[str, Any]] = field(default_factory=dict)
    values: np.ndarray | None = None
    groups: np.ndarray | None = None
    treatment: dict[str, Any] = field(default_factory=dict)

    @property
    def mask(self) -> np.ndarray:
        return ~np.isnan(self.raw)

    @property
    def treated(self) -> np.ndarray:
        """The values normalisation runs on (what the sensitivity analysis re-normalises)."""
        return self.raw if self.values is None else self.values


def effective_shares(framework: Framework, available: np.ndarray) -> np.ndarray:
    """Each indicator's share of the composite for one region (arithmetic reading): its weight
    over its available siblings', times its group's share, up to the top. 0 where missing."""
    weights = weight_vector(framework)
    n_ind = len(framework.indicators)
    if not framework.groups:
        w = weights * available
        return w / w.sum()
    order, top = tree(framework)
    present = {i: bool(available[i]) for i in range(n_ind)}
    members = dict(order)
    for node, items in order:
        present[node] = any(present[m] for m in items)
    shares = np.zeros(n_ind)

    def spread(items: list[int], share: float) -> None:
        live = [m for m in items if present[m]]
        total = sum(weights[m] for m in live)
        for m in live:
            part = share * weights[m] / total
            if m < n_ind:
                shares[m] = part
            else:
                spread(members[m], part)

    spread(top, 1.0)
    return shares


def apply_missing_policy(
    framework: Framework, codes: list[str], raw: np.ndarray
) -> tuple[list[str], np.ndarray, dict[str, dict[str, Any]]]:
    """Drop the regions the policy excludes; report what was done for every region with a gap."""
    ids = framework.indicator_ids
    policy = framework.missing.policy
    keep: list[int] = []
    actions: dict[str, dict[str, Any]] = {}
    for r, code in enumerate(codes):
        gaps = [ids[i] for i in np.flatnonzero(np.isnan(raw[r]))]
        if not gaps:
            keep.append(r)
            continue
        if policy == "exclude" or len(gaps) == len(ids):
            reason = "no indicator values" if len(gaps) == len(ids) else "missing values (policy exclude)"
            actions[code] = {"action": "excluded", "indicators": gaps, "reason": reason}
            continue
        avail = ~np.isnan(raw[r])
        share = effective_shares(framework, avail)
        actions[code] = {
            "action": "reweighted",
            "indicators": gaps,
            "weight_shares": {ids[i]: float(share[i]) for i in range(len(ids)) if avail[i]},
        }
        keep.append(r)
    return [codes[r] for r in keep], raw[keep], actions


def _treatment_configured(framework: Framework) -> bool:
    missing = framework.missing
    return missing.coverage > 0 or missing.impute != "none" or any(i.transform for i in framework.indicators)


def score_table(framework: Framework, indicators: Table, previous: Table | None = None) -> Scored:
    """Coverage screen, imputation, missing-data policy, transforms, normalisation,
    aggregation, ranks and grades for one table (`previous`: last year's, for imputation)."""
    codes, raw = raw_matrix(framework, indicators)
    errors = treatment.log_problems(framework, codes, raw)
    if errors:
        raise IndicatorInputError(errors)
    actions = treatment.below_coverage(framework, codes, raw)
    kept = [r for r, code in enumerate(codes) if code not in actions]
    codes, raw = [codes[r] for r in kept], raw[kept]
    prior = {str(c): dict(v) for c, v in (previous or {}).items()}
    raw, imputed = treatment.impute(framework, codes, raw, prior)
    codes, raw, more = apply_missing_policy(framework, codes, raw)
    actions.update(more)
    if not codes:
        raise IndicatorInputError(["every region was excluded for missing values; nothing to evaluate"])
    imputed = {code: cells for code, cells in imputed.items() if code in codes}
    values, transforms = treatment.transform(framework, codes, raw)
    normalised = normalise_matrix(framework, values)
    weights = weight_vector(framework)[None]
    scores, groups = aggregate_tree(
        framework, normalised[None], np.zeros(1, dtype=np.int64), weights, ~np.isnan(raw), keep_groups=True
    )
    scores = scores[0]
    rank = ranks(scores[None])[0]
    grades = [framework.grades[g].grade for g in grade_index(framework, scores)]
    treated: dict[str, Any] = {}
    if _treatment_configured(framework):
        treated = {"imputed": imputed, "transforms": transforms}
    return Scored(
        codes,
        raw,
        normalised,
        scores,
        rank,
        grades,
        actions,
        normalise_stats(framework, values),
        values=None if not transforms else values,
        groups=None if groups is None else groups[0],
        treatment=treated,
    )


def _split(parts: dict[int, float], values: Mapping[int, float], weights: np.ndarray, method: str, total: float):
    """Split `total` over members in proportion to their part of the aggregate (see contributions)."""
    w = sum(weights[m] for m in values)
    if method == "arithmetic":
        raw = {m: weights[m] * values[m] / w for m in values}
    else:
        raw = {m: weights[m] / w * math.log(max(values[m], 1.0)) for m in values}
    whole = sum(raw.values())
    for m, part in raw.items():
        # A geometric mean of values all ≤ 1 is 1 and has no log share: split it by weight instead.
        parts[m] = total * part / whole if whole > 0 else total * weights[m] / w


def contributions(framework: Framework, region: Mapping[str, Any]) -> dict[str, float | None]:
    """Each indicator's part of a region's score (a §4.5 result entry), for the score breakdown.

    arithmetic: wᵢ·nᵢ/Σw, which add up to the score. geometric: the score split in proportion
    to each indicator's share of log(score), wᵢ/Σw·log max(nᵢ,1); a score of 1 has no parts.
    With groups, the score is split over the top level's members this way, and each group's
    part again over its own members by its own method, down to the indicators (a geometric
    group whose members are all ≤ 1 splits its part by weight), so the parts add up to the score.
    Missing indicators contribute None.
    """
    ind_values = region["indicators"]
    avail = [ind for ind in framework.indicators if ind_values[ind.id]["normalised"] is not None]
    total_w = sum(ind.weight for ind in avail)
    out: dict[str, float | None] = {ind.id: None for ind in framework.indicators}
    if framework.groups:
        n_ind = len(framework.indicators)
        weights = weight_vector(framework)
        order, top = tree(framework)
        members = dict(order)
        node_value: dict[int, float] = {
            i: ind_values[ind.id]["normalised"]
            for i, ind in enumerate(framework.indicators)
            if ind_values[ind.id]["normalised"] is not None
        }
        for j, g in enumerate(framework.groups):
            score = region.get("groups", {}).get(g.id, {}).get("score")
            if score is not None:
                node_value[n_ind + j] = score
        parts: dict[int, float] = {}
        queue = [(top, framework.aggregate.method, float(region["score"]))]
        while queue:
            items, method, total = queue.pop()
            live = {m: node_value[m] for m in items if m in node_value}
            if not live:
                continue
            _split(parts, live, weights, method, total)
            for m in live:
                if m >= n_ind:
                    group = framework.groups[m - n_ind]
                    queue.append((members[m], group.aggregate.method, parts[m]))
        for i, ind in enumerate(framework.indicators):
            if i in parts:
                out[ind.id] = parts[i]
        return out
    if framework.aggregate.method == "arithmetic":
        for ind in avail:
            out[ind.id] = ind.weight * ind_values[ind.id]["normalised"] / total_w
        return out
    logs = {ind.id: ind.weight / total_w * math.log(max(ind_values[ind.id]["normalised"], 1.0)) for ind in avail}
    total_log = sum(logs.values())
    for key, part in logs.items():
        out[key] = region["score"] * part / total_log if total_log > 0 else 0.0
    return out


# --------------------------------------------------------------------------------------------
# Full evaluation with run record


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for dist in ("regionvisa", "numpy", "pydantic", "pyyaml"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


def _table_record(framework: Framework, indicators: Table) -> tuple[list[str], dict[str, Any]]:
    codes, raw = raw_matrix(framework, indicators)
    table = {
        code: {
            ind: (None if math.isnan(raw[r, i]) else float(raw[r, i])) for i, ind in enumerate(framework.indicator_ids)
        }
        for r, code in enumerate(codes)
    }
    return codes, table


def _inputs_record(framework: Framework, indicators: Table, previous: Table | None = None) -> dict[str, Any]:
    codes, table = _table_record(framework, indicators)
    out: dict[str, Any] = {"regions": codes, "indicators": table, "sha256": sha256_json(table)}
    if framework.missing.impute == "previous_year":
        prior: dict[str, Any] = {}
        if previous:
            known = set(framework.indicator_ids)
            cleaned = {str(c): {k: v for k, v in vals.items() if k in known} for c, vals in previous.items()}
            _, prior = _table_record(framework, cleaned)
        out["previous"] = {"indicators": prior, "sha256": sha256_json(prior)}
    return out


def _value(x: float) -> float | None:
    return None if math.isnan(x) else float(x)


def _indicator_entry(framework: Framework, scored: Scored, r: int) -> dict[str, dict[str, Any]]:
    """A region's indicators in the result: raw and normalised, and — only where they apply —
    the value after its transform and how a gap was filled."""
    code = scored.regions[r]
    imputed = scored.treatment.get("imputed", {}).get(code, {})
    out: dict[str, dict[str, Any]] = {}
    for i, ind in enumerate(framework.indicators):
        entry: dict[str, Any] = {"raw": _value(scored.raw[r, i]), "normalised": _value(scored.normalised[r, i])}
        if ind.transform is not None:
            entry["treated"] = _value(scored.treated[r, i])
        if ind.id in imputed:
            entry["imputed"] = imputed[ind.id]["method"]
        out[ind.id] = entry
    return out


def _group_entry(framework: Framework, scored: Scored, r: int) -> dict[str, dict[str, float | None]]:
    assert scored.groups is not None
    return {
        g.id: {"score": None if math.isnan(v) else round(float(v), SCORE_DECIMALS)}
        for g, v in zip(framework.groups, scored.groups[r], strict=True)
    }


def _treatment_steps(framework: Framework, scored: Scored) -> list[dict[str, Any]]:
    """The run's record of the treatment steps the framework asks for (none: no steps)."""
    missing = framework.missing
    steps: list[dict[str, Any]] = []
    if missing.coverage > 0:
        steps.append(
            {
                "step": "coverage",
                "threshold": missing.coverage,
                "rule": "a region with values for fewer than this share of the indicators (before imputation) "
                "is not ranked",
                "excluded": sorted(c for c, a in scored.missing.items() if a.get("reason") == COVERAGE_REASON),
            }
        )
    if missing.impute != "none":
        steps.append(
            {
                "step": "impute",
                "method": missing.impute,
                "region_groups": dict(missing.region_groups),
                "cells": sum(len(v) for v in scored.treatment.get("imputed", {}).values()),
            }
        )
    transforms = {ind.id: ind.transform.model_dump(mode="json") for ind in framework.indicators if ind.transform}
    if transforms:
        steps.append({"step": "transform", "indicators": transforms, "order": "after imputation, before normalisation"})
    return steps


def evaluate(
    framework: Framework,
    indicators: Table,
    *,
    draws: int | None = None,
    year: int | None = None,
    previous: Table | None = None,
) -> dict[str, Any]:
    """The §4.5 result for a raw indicator table (region → indicator id → value or None).

    draws overrides framework.sensitivity.draws; year overrides framework.year in the result;
    previous is last year's table, used (and recorded) when the framework imputes by it.
    Besides the §4.5 keys the result has `missing` (what was done per region with a gap),
    `sensitivity` (Sobol indices) and `run` (everything needed to reproduce it bit for bit);
    with groups each region has `groups`, and with treatment the result has `treatment`.

    Longer than 100 lines because it is the pipeline's one readable list of steps, in COINr's
    order (treat, normalise, aggregate, rank, grade, benefit, record); each step is a call.
    """
    from regionvisa.evaluation.sensitivity import analyse  # sensitivity builds on this module

    if framework.missing.impute != "previous_year":
        previous = None
    scored = score_table(framework, indicators, previous)
    n_draws = framework.sensitivity.draws if draws is None else int(draws)
    if not 1 <= n_draws <= MAX_DRAWS:
        raise ValueError(f"draws must be between 1 and {MAX_DRAWS:,}, got {draws}")
    sens = analyse(framework, scored, draws=n_draws)

    entries = []
    for r, code in enumerate(scored.regions):
        summary = sens["regions"][code]
        entry: dict[str, Any] = {"region": code, "indicators": _indicator_entry(framework, scored, r)}
        if framework.groups:
            entry["groups"] = _group_entry(framework, scored, r)
        entries.append(
            {
                **entry,
                "score": float(scored.scores[r]),
                "rank": int(scored.ranks[r]),
                "grade": scored.grades[r],
                "rank_interval": summary["rank_interval"],
                "median_rank": summary["median_rank"],
                "grade_probability": summary["grade_probability"],
                "benefit": framework.benefits[scored.grades[r]].as_result(),
            }
        )
    entries.sort(key=lambda e: (e["rank"], e["region"]))

    weights = {ind.id: ind.weight for ind in framework.indicators}
    aggregate_step: dict[str, Any] = {
        "step": "aggregate",
        "method": framework.aggregate.method,
        "weights": weights,
        "formula": "arithmetic: Σ wᵢ·nᵢ / Σ wᵢ; geometric: Π max(nᵢ,1)^(wᵢ/Σw); Σ over available indicators",
        "score_decimals": SCORE_DECIMALS,
    }
    if framework.groups:
        aggregate_step["groups"] = {
            g.id: {"parent": g.parent, "weight": g.weight, "method": g.aggregate.method} for g in framework.groups
        }
        aggregate_step["members"] = {
            "indicators": {ind.id: ind.group for ind in framework.indicators},
            "rule": "each group aggregates its members with a value, with their weights relative among siblings; "
            "the top level aggregates the groups without a parent and the ungrouped indicators",
        }
    run = {
        "format": RUN_FORMAT,
        "year": framework.year if year is None else int(year),
        "software": _versions(),
        "framework": {
            "id": framework.id,
            "sha256": framework.digest(),
            "source": framework.source,
            "definition": framework.definition(),
        },
        "inputs": _inputs_record(framework, indicators, previous),
        "steps": [
            *_treatment_steps(framework, scored),
            {"step": "missing", "policy": framework.missing.policy},
            {
                "step": "normalise",
                "over": "evaluated regions with a value",
                "indicators": scored.stats,
                "equal_values": {"minmax": 100, "zscore": 50},
                "single_region": {"rank": 100},
            },
            aggregate_step,
            {"step": "rank", "order": "score descending", "ties": "share the better rank (1, 2, 2, 4)"},
            {
                "step": "grade",
                "rule": "first band whose min_score ≤ score",
                "bands": [{"grade": g.grade, "min_score": g.min_score} for g in framework.grades],
            },
            {"step": "benefit", "benefits": {k: v.as_result() for k, v in framework.benefits.items()}},
            {"step": "sensitivity", **sens["settings"]},
        ],
    }
    out: dict[str, Any] = {
        "framework": framework.id,
        "year": framework.year if year is None else int(year),
        "regions": entries,
        "missing": {"policy": framework.missing.policy, "regions": scored.missing},
    }
    if scored.treatment:
        out["treatment"] = scored.treatment
    return {**out, "sensitivity": sens["summary"], "run": run}


def reproduce(run: Mapping[str, Any], *, year: int | None = None) -> dict[str, Any]:
    """Re-run an evaluation from its `run` record alone (framework definition, inputs, draws)."""
    framework = parse_framework(run["framework"]["definition"], "run.framework.definition")
    if framework.digest() != run["framework"]["sha256"]:
        raise ValueError("run record's framework definition does not match its SHA-256")
    framework._source = run["framework"].get("source")
    draws = next(step["draws"] for step in run["steps"] if step["step"] == "sensitivity")
    previous = run["inputs"].get("previous", {}).get("indicators")
    return evaluate(
        framework,
        run["inputs"]["indicators"],
        draws=draws,
        year=run.get("year") if year is None else year,
        previous=previous,
    )


def dumps(result: Mapping[str, Any]) -> str:
    """Canonical JSON text of a result: same result, same bytes."""
    return json.dumps(result, ensure_ascii=False, indent=2, allow_nan=False)
