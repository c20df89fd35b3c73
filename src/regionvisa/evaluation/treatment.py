"""Data treatment before normalisation (DESIGN §4.5 "Groups and transforms"), pure and vectorised.

The steps run in COINr's order: screen the regions by data coverage, impute, then transform each
indicator (log, or winsorisation with COINr's default rule). Each step returns what it changed,
region by region, so the run record and the report can show a reader every value that moved.

Winsorisation follows COINr's `winsorise` and `Treat.numeric` defaults (winmax 5, |skewness| 2,
kurtosis 3.5, fallback log_CT applied to the original values):

* skewness and kurtosis are the sample estimators of e1071 type 2 (Excel's SKEW and KURT);
* a column passes when |skewness| < 2 or kurtosis < 3.5, and is only treated when it fails both;
* each step gives the highest value(s) (skewness ≥ 0) or the lowest (skewness < 0) the next
  value inwards; tied extremes move together, and winsorised points stay tied with the new
  extreme, so the count of treated points is the size of the tied group at each end;
* when `winmax` points do not make it pass, log_CT, ln(x − min + 0.01·(max − min)), replaces the
  column instead (fallback `log`); the check after it is recorded, not acted on.
Columns with fewer than 4 values cannot have a kurtosis and are left as they are, with the reason.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from regionvisa.evaluation.framework import Framework, Indicator

_DECIMALS = 6
COVERAGE_REASON = "data coverage below threshold"


def _r(x: float) -> float:
    return round(float(x), _DECIMALS)


# --------------------------------------------------------------------------------------------
# Coverage and imputation


def coverage(raw: np.ndarray) -> np.ndarray:
    """Each region's share of the indicators that have a value (before imputation)."""
    return (~np.isnan(raw)).sum(axis=1) / raw.shape[1]


def below_coverage(framework: Framework, codes: list[str], raw: np.ndarray) -> dict[str, dict[str, Any]]:
    """Regions under the framework's coverage threshold, each with its reason."""
    threshold = framework.missing.coverage
    if threshold <= 0:
        return {}
    share = coverage(raw)
    ids = framework.indicator_ids
    out: dict[str, dict[str, Any]] = {}
    for r in np.flatnonzero(share < threshold):
        out[codes[r]] = {
            "action": "excluded",
            "indicators": [ids[i] for i in np.flatnonzero(np.isnan(raw[r]))],
            "reason": COVERAGE_REASON,
            "coverage": _r(share[r]),
            "threshold": threshold,
        }
    return out


def impute(
    framework: Framework,
    codes: list[str],
    raw: np.ndarray,
    previous: dict[str, dict[str, float | None]] | None = None,
) -> tuple[np.ndarray, dict[str, dict[str, dict[str, Any]]]]:
    """Fill gaps by the framework's `missing.impute`; returns the new matrix and, per region and
    indicator, the value written and how it was found. Gaps it cannot fill stay NaN."""
    method = framework.missing.impute
    if method == "none" or not np.isnan(raw).any():
        return raw, {}
    ids = framework.indicator_ids
    out = raw.copy()
    record: dict[str, dict[str, dict[str, Any]]] = {}
    if method == "group_mean":
        owner = {code: name for name, members in framework.missing.region_groups.items() for code in members}
        labels = np.array([owner.get(code, "") for code in codes])
        for name in sorted(set(labels.tolist())):
            rows = labels == name
            block = raw[rows]
            have = ~np.isnan(block)
            counts = have.sum(axis=0)
            with np.errstate(invalid="ignore", divide="ignore"):
                means = np.where(counts > 0, np.where(have, block, 0.0).sum(axis=0) / np.maximum(counts, 1), np.nan)
            fill = np.where(np.isnan(block), means[None, :], block)
            out[rows] = fill
            for rr, i in zip(*np.nonzero(np.isnan(block) & ~np.isnan(fill)), strict=True):
                code = np.asarray(codes)[rows][rr]
                record.setdefault(str(code), {})[ids[i]] = {
                    "method": "group_mean",
                    "region_group": name or None,
                    "over": int(counts[i]),
                    "value": float(means[i]),
                }
        return out, record
    previous = previous or {}
    for r, i in zip(*np.nonzero(np.isnan(raw)), strict=True):
        value = previous.get(codes[r], {}).get(ids[i])
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        out[r, i] = float(value)
        record.setdefault(codes[r], {})[ids[i]] = {"method": "previous_year", "value": float(value)}
    return out, record


# --------------------------------------------------------------------------------------------
# Transforms


def skewness(x: np.ndarray) -> float:
    """Sample skewness, e1071 type 2 (Excel SKEW); needs 3 values."""
    n = x.size
    d = x - x.mean()
    m2 = float((d * d).sum())
    if m2 == 0:
        return 0.0
    g = math.sqrt(n) * float((d**3).sum()) / m2**1.5
    return g * math.sqrt(n * (n - 1)) / (n - 2)


def kurtosis(x: np.ndarray) -> float:
    """Sample excess kurtosis, e1071 type 2 (Excel KURT); needs 4 values."""
    n = x.size
    d = x - x.mean()
    m2 = float((d * d).sum())
    if m2 == 0:
        return -3.0
    r = n * float((d**4).sum()) / m2**2
    return ((n + 1) * (r - 3) + 6) * (n - 1) / ((n - 2) * (n - 3))


def _passes(x: np.ndarray, skew_limit: float, kurt_limit: float) -> tuple[bool, float, float]:
    s, k = skewness(x), kurtosis(x)
    return (abs(s) < skew_limit) or (k < kurt_limit), s, k


def winsorise(x: np.ndarray, *, winmax: int, skew_limit: float, kurt_limit: float) -> dict[str, Any]:
    """COINr's winsorise on the values present (NaN stays NaN); see the module docstring."""
    ok = ~np.isnan(x)
    v = x[ok].copy()
    if v.size < 4:
        return {"x": x.copy(), "outcome": "too few values", "n": int(v.size)}
    passing, s0, k0 = _passes(v, skew_limit, kurt_limit)
    info: dict[str, Any] = {"skewness": _r(s0), "kurtosis": _r(k0)}
    if passing:
        return {"x": x.copy(), "outcome": "passed", **info}
    high: np.ndarray = np.zeros(0, dtype=np.int64)
    low: np.ndarray = np.zeros(0, dtype=np.int64)
    nwin = 0
    while not passing and nwin < winmax:
        if skewness(v) >= 0:
            high = np.flatnonzero(v == v.max())
            if high.size == v.size:
                break
            v[high] = np.delete(v, high).max()
        else:
            low = np.flatnonzero(v == v.min())
            if low.size == v.size:
                break
            v[low] = np.delete(v, low).min()
        nwin = high.size + low.size
        passing, s1, k1 = _passes(v, skew_limit, kurt_limit)
    _, s1, k1 = _passes(v, skew_limit, kurt_limit)
    out = x.copy()
    out[ok] = v
    side = np.full(v.size, "", dtype=object)
    side[high] = "high"
    side[low] = "low"
    full_side = np.full(x.size, "", dtype=object)
    full_side[ok] = side
    return {
        "x": out,
        "outcome": "winsorised" if passing else "winsorised, did not pass",
        "points": int(nwin),
        "side": full_side,
        **info,
        "after": {"skewness": _r(s1), "kurtosis": _r(k1)},
        "passed": bool(passing),
    }


def log_ct(x: np.ndarray) -> np.ndarray:
    """COINr's log_CT: ln(x − min + 0.01·(max − min)) over the values present."""
    v = x[~np.isnan(x)]
    lo, hi = float(v.min()), float(v.max())
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(x - lo + 0.01 * (hi - lo))


def goalposts(ind: Indicator) -> tuple[float | None, float | None]:
    """The indicator's goalposts in the space its values are normalised in (log under log)."""
    low, high = ind.normalise.low, ind.normalise.high
    if ind.transform is not None and ind.transform.method == "log" and low is not None and high is not None:
        return math.log(low), math.log(high)
    return low, high


def log_problems(framework: Framework, codes: list[str], raw: np.ndarray) -> list[str]:
    """One line per value ≤ 0 of an indicator under a log transform, naming region and indicator."""
    errors: list[str] = []
    for i, ind in enumerate(framework.indicators):
        if ind.transform is None or ind.transform.method != "log":
            continue
        col = raw[:, i]
        for r in np.flatnonzero(~np.isnan(col) & (col <= 0)):
            errors.append(
                f"region {codes[r]}: indicator {ind.id!r}: value {float(col[r])!r} is not above 0, which its log "
                f"transform needs · 지역 {codes[r]}, 지표 {ind.id}: 로그 변환에는 0보다 큰 값이 필요합니다"
            )
    return errors


def transform(framework: Framework, codes: list[str], raw: np.ndarray) -> tuple[np.ndarray, dict[str, dict[str, Any]]]:
    """Apply each indicator's transform (values ≤ 0 under log are checked before, by
    `log_problems`); returns the values to normalise and a record per transformed indicator."""
    values = raw.copy()
    record: dict[str, dict[str, Any]] = {}
    for i, ind in enumerate(framework.indicators):
        spec = ind.transform
        if spec is None:
            continue
        col = raw[:, i]
        if spec.method == "log":
            values[:, i] = np.log(col)
            low, high = goalposts(ind)
            entry: dict[str, Any] = {"method": "log", "formula": "ln(x)"}
            if low is not None:
                entry["goalposts"] = {"low": low, "high": high}
            record[ind.id] = entry
            continue
        assert spec.winmax is not None and spec.skewness is not None and spec.kurtosis is not None
        result = winsorise(col, winmax=spec.winmax, skew_limit=spec.skewness, kurt_limit=spec.kurtosis)
        entry = {
            "method": "winsorise",
            "settings": {
                "winmax": spec.winmax,
                "skewness": spec.skewness,
                "kurtosis": spec.kurtosis,
                "fallback": spec.fallback,
            },
            "outcome": result["outcome"],
        }
        entry.update({k: result[k] for k in ("skewness", "kurtosis", "points", "after", "n") if k in result})
        treated = result["x"]
        if result.get("passed") is False and spec.fallback == "log":
            treated = log_ct(col)
            ok = ~np.isnan(treated)
            _, s2, k2 = _passes(treated[ok], spec.skewness, spec.kurtosis)
            entry["outcome"] = "log_CT (winsorisation did not pass)"
            entry["fallback_applied"] = {
                "formula": "ln(x − min + 0.01·(max − min))",
                "min": float(np.nanmin(col)),
                "max": float(np.nanmax(col)),
                "after": {"skewness": _r(s2), "kurtosis": _r(k2)},
            }
            entry["regions"] = {codes[r]: {"from": float(col[r]), "to": float(treated[r])} for r in np.flatnonzero(ok)}
        elif "side" in result:
            moved = np.flatnonzero(result["side"] != "")
            entry["regions"] = {
                codes[r]: {"from": float(col[r]), "to": float(treated[r]), "side": str(result["side"][r])}
                for r in moved
            }
        values[:, i] = treated
        record[ind.id] = entry
    return values, record
