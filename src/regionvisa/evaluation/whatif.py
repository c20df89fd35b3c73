"""What-if and "what it would take", for one region against a published evaluation.

A region changes some of its raw indicator values. Normalisation is recomputed over the modified
table (a region that becomes the new maximum moves the minmax bounds, exactly as it would in a
real run), and the region's new score, rank and grade are computed from it. Every other region
keeps its *published* score, rank and grade: a what-if answers "where would we stand against
the published result", it does not re-publish anyone else. The rank is therefore
1 + the number of other regions whose published score is higher.

"What it would take" gives, for each indicator alone (the region's other values and every other
region fixed), the raw value that lifts the score to the next band's min_score. It inverts the
aggregation and the normalisation analytically (goalposts and minmax are linear pieces, zscore
has a closed form for one moving value, rank needs to pass a known number of regions) and then
checks the answer by recomputing the score, nudging by a few ulps where floating point falls just
short. None means the next grade cannot be reached through that indicator alone.

Frameworks with groups, transforms or imputation have no such closed form; for them the value is
found by search instead: expand from the current value in the better direction until the target
is reached (log-transformed indicators move in log space, so they stay above 0), then bisect to
the smallest value that reaches it. Both paths confirm the answer by recomputing the score.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from regionvisa.evaluation.compute import Scored, score_table
from regionvisa.evaluation.framework import Framework, Indicator


def published_table(published: Mapping[str, Any]) -> dict[str, dict[str, float | None]]:
    """The raw indicator table behind a published result (run inputs when present, which keep
    regions the missing-data policy excluded; otherwise the regions' raw values)."""
    run_inputs = published.get("run", {}).get("inputs", {}).get("indicators")
    if run_inputs:
        return {code: dict(values) for code, values in run_inputs.items()}
    return {e["region"]: {k: v["raw"] for k, v in e["indicators"].items()} for e in published["regions"]}


def _published_entry(published: Mapping[str, Any], region: str) -> dict[str, Any] | None:
    return next((e for e in published["regions"] if e["region"] == region), None)


def _rank_against(published: Mapping[str, Any], region: str, score: float) -> int:
    return 1 + sum(1 for e in published["regions"] if e["region"] != region and e["score"] > score)


def published_previous(published: Mapping[str, Any]) -> dict[str, dict[str, float | None]] | None:
    """Last year's table a published run imputed from, if its framework imputes by it."""
    return published.get("run", {}).get("inputs", {}).get("previous", {}).get("indicators")


def _entry(framework: Framework, scored: Scored, region: str) -> dict[str, Any]:
    r = scored.regions.index(region)
    entry: dict[str, Any] = {
        "score": float(scored.scores[r]),
        "grade": scored.grades[r],
        "indicators": {
            ind: {
                "raw": None if math.isnan(scored.raw[r, i]) else float(scored.raw[r, i]),
                "normalised": None if math.isnan(scored.normalised[r, i]) else float(scored.normalised[r, i]),
            }
            for i, ind in enumerate(framework.indicator_ids)
        },
    }
    if scored.groups is not None:
        entry["groups"] = {
            g.id: {"score": None if math.isnan(v) else float(v)}
            for g, v in zip(framework.groups, scored.groups[r], strict=True)
        }
    return entry


def what_if(
    framework: Framework, published: Mapping[str, Any], region: str, changes: Mapping[str, float | None]
) -> dict[str, Any]:
    """New score, rank, grade and benefit of `region` with `changes` applied, others as published."""
    region = str(region)
    table = published_table(published)
    if region not in table:
        raise KeyError(f"region {region!r} is not in the published evaluation")
    unknown = [k for k in changes if k not in framework.indicator_ids]
    if unknown:
        raise ValueError(
            f"unknown indicator(s): {', '.join(unknown)} (framework has: {', '.join(framework.indicator_ids)})"
        )
    before = _published_entry(published, region)
    table[region] = {**table[region], **dict(changes)}
    scored = score_table(framework, table, published_previous(published))
    out: dict[str, Any] = {
        "region": region,
        "changes": {k: {"from": published_table(published)[region].get(k), "to": v} for k, v in changes.items()},
        "published": None if before is None else {k: before[k] for k in ("score", "rank", "grade")},
        "others": "as published",
        "normalisation": "recomputed over the modified table",
    }
    if region not in scored.regions:
        out["what_if"] = {"excluded": True, **scored.missing.get(region, {})}
        return out
    entry = _entry(framework, scored, region)
    entry["rank"] = _rank_against(published, region, entry["score"])
    entry["benefit"] = framework.benefits[entry["grade"]].as_result()
    if region in scored.missing:
        entry["missing"] = scored.missing[region]
    out["what_if"] = entry
    return out


# --------------------------------------------------------------------------------------------
# What it would take to reach the next grade


def _needed_normalised(framework: Framework, scored: Scored, r: int, i: int, target: float) -> float:
    """The normalised value of indicator i that gives region r exactly the target score."""
    weights = np.array([ind.weight for ind in framework.indicators])
    avail = ~np.isnan(scored.raw[r])
    avail[i] = True
    total_w = weights[avail].sum()
    others = [j for j in np.flatnonzero(avail) if j != i]
    if framework.aggregate.method == "arithmetic":
        rest = sum(weights[j] * scored.normalised[r, j] for j in others)
        return (target * total_w - rest) / weights[i]
    rest = math.prod(max(scored.normalised[r, j], 1.0) ** (weights[j] / total_w) for j in others)
    need = (target / rest) ** (total_w / weights[i])
    return 0.0 if need <= 1.0 else need


def _invert_increasing(ind: Indicator, others: np.ndarray, n_star: float, current: float | None) -> float | None:
    """Smallest raw value x (direction +1 semantics) whose normalised value is at least n_star."""
    spec = ind.normalise
    k = others.size
    if spec.method == "goalposts":
        low, high = spec.low, spec.high
        assert low is not None and high is not None
        if n_star > 100:
            return None
        return low + max(n_star, 0.0) / 100.0 * (high - low)
    if k == 0:  # a lone region: minmax and rank give 100, zscore 50, whatever the value
        reachable = n_star <= (50.0 if spec.method == "zscore" else 100.0)
        return (current if current is not None else 0.0) if reachable else None
    if spec.method == "minmax":
        lo, hi = float(others.min()), float(others.max())
        if n_star > 100:
            return None
        if hi == lo:
            return lo
        return lo + max(n_star, 0.0) * (hi - lo) / 100.0
    if spec.method == "zscore":
        mean, var = float(others.mean()), float(others.var())
        z_star = (n_star - 50.0) / 10.0
        limit = math.sqrt(k)  # the z-score of one value among k+1 never reaches √k
        if var == 0.0:
            if z_star <= 0:
                return mean
            return float(np.nextafter(mean, math.inf)) if z_star <= limit else None
        if z_star >= limit:
            return None
        # z(x) = √k·t / √((k+1)·s² + t²), t = x − mean of the others: increasing in t, solved for t.
        t = z_star * math.sqrt((k + 1) * var / (k - z_star * z_star))
        return mean + t
    # rank: 100·(regions strictly worse)/(n−1) ≥ n_star needs c others strictly below x.
    c = max(0, math.ceil(n_star * k / 100.0 - 1e-9))
    if c > k:
        return None
    ordered = np.sort(others)
    if c == 0:
        return float(ordered[0])
    return float(np.nextafter(ordered[c - 1], math.inf))


def _score_with(
    framework: Framework,
    table: dict[str, dict[str, Any]],
    region: str,
    ind: str,
    x: float,
    previous: Mapping[str, Any] | None = None,
) -> float:
    trial = {**table, region: {**table[region], ind: x}}
    scored = score_table(framework, trial, previous)
    return float(scored.scores[scored.regions.index(region)]) if region in scored.regions else -math.inf


def _closed_form(framework: Framework) -> bool:
    """Whether the analytic inversion applies: a flat framework without transforms or imputation."""
    return (
        not framework.groups
        and framework.missing.impute == "none"
        and not any(ind.transform for ind in framework.indicators)
    )


def _searched(
    framework: Framework,
    table: dict[str, dict[str, Any]],
    region: str,
    i: int,
    current: float | None,
    column: np.ndarray,
    target: float,
    previous: Mapping[str, Any] | None,
) -> float | None:
    """The smallest change (in the better direction) of indicator i that reaches `target`."""
    ind = framework.indicators[i]
    d = ind.direction
    logged = ind.transform is not None and ind.transform.method == "log"
    to_x = math.exp if logged else (lambda y: y)
    from_x = math.log if logged else (lambda x: x)
    present = column[~np.isnan(column)]
    if logged:
        present = present[present > 0]
    start = current if current is not None else (float(np.median(present)) if present.size else 1.0)
    if logged and start <= 0:
        start = float(present.min()) if present.size else 1.0
    y0 = from_x(start)
    span = float(np.ptp([from_x(v) for v in present])) if present.size > 1 else 0.0
    step = max(span, abs(y0), 1.0)

    def reaches(y: float) -> bool:
        try:
            return _score_with(framework, table, region, ind.id, to_x(y), previous) >= target
        except (OverflowError, ValueError):
            return False

    if current is not None and reaches(y0):
        return current
    lo, hi = y0, None
    for _ in range(64):
        trial = y0 + d * step
        if logged and abs(trial) > 700:  # exp() would overflow or vanish
            break
        if reaches(trial):
            hi = trial
            break
        lo = trial
        step *= 2
    if hi is None:
        return None
    for _ in range(200):
        mid = (lo + hi) / 2
        if mid in (lo, hi):
            break
        if reaches(mid):
            hi = mid
        else:
            lo = mid
    return float(to_x(hi))


def next_grade(framework: Framework, published: Mapping[str, Any], region: str) -> dict[str, Any]:
    """For each indicator alone: the raw value `region` needs to reach the next grade, or None."""
    region = str(region)
    table = published_table(published)
    previous = published_previous(published)
    scored = score_table(framework, table, previous)
    if region not in scored.regions:
        raise KeyError(f"region {region!r} has no score in the published evaluation")
    r = scored.regions.index(region)
    grade = scored.grades[r]
    band = [g.grade for g in framework.grades].index(grade)
    out: dict[str, Any] = {"region": region, "score": float(scored.scores[r]), "grade": grade}
    if band == 0:
        return {**out, "next_grade": None, "min_score": None, "indicators": {}}
    target = framework.grades[band - 1].min_score
    result: dict[str, Any] = {}
    raw_table = np.array(
        [
            [np.nan if v is None else float(v) for v in (vals.get(k) for k in framework.indicator_ids)]
            for vals in table.values()
        ]
    )
    for i, ind in enumerate(framework.indicators):
        current = None if math.isnan(scored.raw[r, i]) else float(scored.raw[r, i])
        if not _closed_form(framework):
            given = table[region].get(ind.id)
            needed = _searched(framework, table, region, i, given, raw_table[:, i], target, previous)
            normalised_needed = None
            if needed is not None:
                trial = score_table(framework, {**table, region: {**table[region], ind.id: needed}}, previous)
                normalised_needed = float(trial.normalised[trial.regions.index(region), i])
            result[ind.id] = {
                "current": given,
                "needed": needed,
                "change": None if needed is None or given is None else needed - given,
                "normalised_needed": normalised_needed,
                "method": ind.normalise.method,
            }
            continue
        n_star = _needed_normalised(framework, scored, r, i, target)
        col = np.delete(scored.raw[:, i], r)
        others = col[~np.isnan(col)]
        d = ind.direction
        flipped = ind if d == 1 else _flipped(ind)
        y = _invert_increasing(flipped, d * others, n_star, None if current is None else d * current)
        needed = None if y is None else _verified(framework, table, region, ind.id, d * y, d, target)
        result[ind.id] = {
            "current": current,
            "needed": needed,
            "change": None if needed is None or current is None else needed - current,
            "normalised_needed": float(n_star),
            "method": ind.normalise.method,
        }
    return {**out, "next_grade": framework.grades[band - 1].grade, "min_score": target, "indicators": result}


def _flipped(ind: Indicator) -> Indicator:
    """The same indicator seen through y = −x, which turns direction −1 into +1."""
    spec = ind.normalise
    if spec.method != "goalposts":
        return ind
    assert spec.low is not None and spec.high is not None
    normalise = spec.model_copy(update={"low": -spec.high, "high": -spec.low})
    return ind.model_copy(update={"normalise": normalise, "direction": 1})


def _verified(
    framework: Framework,
    table: dict[str, dict[str, Any]],
    region: str,
    ind: str,
    x: float,
    d: int,
    target: float,
) -> float | None:
    """Confirm x reaches the target; step further in the better direction if rounding fell short."""
    step = math.ulp(x) if x != 0 else 5e-324
    x = float(x)
    for _ in range(80):
        if _score_with(framework, table, region, ind, x) >= target:
            return x
        x = x + d * step
        step *= 2
    return None
