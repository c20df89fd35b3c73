"""How much the ranking depends on the framework's choices (DESIGN §4.5), all draws at once.

Uncertain inputs ("factors"): each indicator weight and each group weight (§4.5 "Groups and
transforms"), drawn as w·(1+u) with u ~ U(−noise, +noise),
and — when the framework lists more than one — the normalisation method, drawn uniformly from
`normalise_alternatives`. The drawn method replaces every indicator's own method for that draw
(goalposts indicators do not keep goalposts); this is the plain reading of §4.5 and keeps every
draw a coherent framework. Missing values are treated as in the published run (same mask).

One Saltelli design serves both questions. With k factors, A and B are (draws × k) uniform
matrices from numpy's default_rng(seed), and AB_j is A with column j taken from B. The rows of A
are independent draws from the input distribution, so f(A) *is* the Monte Carlo sample behind
the median rank, the 5–95 % rank interval and the grade probabilities; f(B) and f(AB_j) add the
first-order (Saltelli et al. 2010) and total (Jansen 1999) Sobol indices. That is
draws·(k+2) model runs, evaluated as one batch by compute.aggregate.

Percentiles use numpy's `inverted_cdf` method, so the median and interval bounds are ranks that
actually occurred (integers, no interpolation); for an even number of draws the median is the
lower middle value. Sobol indices of rank are undefined (None) where a region's rank never
varies. The ranking's overall sensitivity to a factor is the variance-weighted mean of the
regions' indices (Σ_r partial variance / Σ_r variance), and the indicator with the largest
first-order index is reported as the one the ranking is most sensitive to (and, with groups,
the group likewise). The normalisations run on the treated values (after transforms).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from regionvisa.evaluation.compute import Scored, aggregate_tree, grade_index, normalise_matrix, ranks, weight_vector
from regionvisa.evaluation.framework import Framework

PERCENTILE_METHOD = "inverted_cdf"
METHOD_FACTOR = "normalise_method"
_DECIMALS = 4


def factors(framework: Framework) -> list[str]:
    """Factor names in design-column order: indicator weights, group weights, then the method when it varies."""
    names = list(framework.indicator_ids) + list(framework.group_ids)
    if len(framework.sensitivity.normalise_alternatives) > 1:
        names.append(METHOD_FACTOR)
    return names


def design(framework: Framework, draws: int) -> tuple[np.ndarray, np.ndarray]:
    """Saltelli base matrices A and B (draws × k), uniform on [0, 1), from the framework's seed."""
    rng = np.random.default_rng(framework.sensitivity.seed)
    k = len(factors(framework))
    a = rng.random((draws, k))
    b = rng.random((draws, k))
    return a, b


def to_inputs(framework: Framework, unit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Map uniform design rows to (weights (E, I+G), alternative index (E,))."""
    base = weight_vector(framework)
    n_ind = base.size
    noise = framework.sensitivity.weight_noise
    weights = base * (1.0 + noise * (2.0 * unit[:, :n_ind] - 1.0))
    n_alt = len(framework.sensitivity.normalise_alternatives)
    if n_alt > 1:
        method_index = np.minimum((unit[:, n_ind] * n_alt).astype(np.int64), n_alt - 1)
    else:
        method_index = np.zeros(unit.shape[0], dtype=np.int64)
    return weights, method_index


def sobol_indices(f_a: np.ndarray, f_b: np.ndarray, f_ab: np.ndarray) -> dict[str, np.ndarray]:
    """First-order and total Sobol indices for every output column at once.

    f_a, f_b: (N, R) outputs on A and B; f_ab: (k, N, R) outputs on AB_j. Returns S1 and ST
    (k, R), NaN where an output has no variance, plus the pieces needed to pool outputs:
    partial first-order variances V1 (k, R), total-effect numerators VT (k, R) and variances V (R,).
    """
    f_a = np.asarray(f_a, dtype=float)
    f_b = np.asarray(f_b, dtype=float)
    f_ab = np.asarray(f_ab, dtype=float)
    var = np.var(np.concatenate([f_a, f_b], axis=0), axis=0)
    v1 = np.mean(f_b[None] * (f_ab - f_a[None]), axis=1)
    vt = 0.5 * np.mean((f_a[None] - f_ab) ** 2, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        s1 = np.where(var > 0, v1 / var, np.nan)
        st = np.where(var > 0, vt / var, np.nan)
    return {"S1": s1, "ST": st, "V1": v1, "VT": vt, "V": var}


def _clean(x: float) -> float | None:
    return None if not np.isfinite(x) else round(float(x), _DECIMALS)


def _by_factor(names: list[str], values: np.ndarray) -> dict[str, float | None]:
    return {name: _clean(v) for name, v in zip(names, values, strict=True)}


def _argmax_indicator(names: list[str], values: np.ndarray, n_ind: int, start: int = 0) -> str | None:
    vals = np.asarray(values[start:n_ind], dtype=float)
    if not vals.size or not np.isfinite(vals).any():
        return None
    return names[start + int(np.nanargmax(vals))]


def analyse(framework: Framework, scored: Scored, *, draws: int) -> dict[str, Any]:
    """Rank uncertainty per region and Sobol indices; see the module docstring for the method.

    Returns {"regions": {code: {rank_interval, median_rank, grade_probability}},
             "summary": {...Sobol results...}, "settings": {...for the run record...}}.
    Just over 100 lines: the Saltelli design, the batched scoring and the Jansen estimators are
    kept in one place so the draws and their seed are visibly the ones the run records.
    """
    names = factors(framework)
    k, n_ind, n_groups = len(names), len(framework.indicators), len(framework.groups)
    alternatives = list(framework.sensitivity.normalise_alternatives)
    mask = scored.mask
    stack = np.stack([normalise_matrix(framework, scored.treated, method=m) for m in alternatives])

    a, b = design(framework, draws)
    blocks = [a, b]
    for j in range(k):
        ab = a.copy()
        ab[:, j] = b[:, j]
        blocks.append(ab)
    unit = np.concatenate(blocks, axis=0)
    weights, method_index = to_inputs(framework, unit)
    scores, _ = aggregate_tree(framework, stack, method_index, weights, mask)
    rank = ranks(scores)
    n_reg = len(scored.regions)

    # Uncertainty: the rows of A are the Monte Carlo sample.
    rank_a = rank[:draws]
    lo, med, hi = np.percentile(rank_a, [5, 50, 95], axis=0, method=PERCENTILE_METHOD)
    g_a = grade_index(framework, scores[:draws])
    n_grades = len(framework.grades)
    counts = np.zeros((n_reg, n_grades), dtype=np.int64)
    np.add.at(counts, (np.broadcast_to(np.arange(n_reg), g_a.shape), g_a), 1)
    regions: dict[str, dict[str, Any]] = {}
    for r, code in enumerate(scored.regions):
        regions[code] = {
            "rank_interval": [int(lo[r]), int(hi[r])],
            "median_rank": int(med[r]),
            "grade_probability": {
                framework.grades[g].grade: float(counts[r, g] / draws) for g in range(n_grades) if counts[r, g]
            },
        }

    # Sensitivity: first-order and total Sobol indices of each region's rank and score.
    def split(y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        parts = y.reshape(k + 2, draws, n_reg)
        return parts[0], parts[1], parts[2:]

    by_rank = sobol_indices(*split(rank))
    by_score = sobol_indices(*split(scores))
    total_var = by_rank["V"].sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled_s1 = by_rank["V1"].sum(axis=1) / total_var if total_var > 0 else np.full(k, np.nan)
        pooled_st = by_rank["VT"].sum(axis=1) / total_var if total_var > 0 else np.full(k, np.nan)

    per_region = {
        code: {
            "rank": {
                "first_order": _by_factor(names, by_rank["S1"][:, r]),
                "total_order": _by_factor(names, by_rank["ST"][:, r]),
            },
            "score": {
                "first_order": _by_factor(names, by_score["S1"][:, r]),
                "total_order": _by_factor(names, by_score["ST"][:, r]),
            },
            "most_sensitive_indicator": _argmax_indicator(names, by_rank["S1"][:, r], n_ind),
            **(
                {"most_sensitive_group": _argmax_indicator(names, by_rank["S1"][:, r], n_ind + n_groups, n_ind)}
                if n_groups
                else {}
            ),
        }
        for r, code in enumerate(scored.regions)
    }
    summary = {
        "draws": draws,
        "factors": names,
        "ranking": {"first_order": _by_factor(names, pooled_s1), "total_order": _by_factor(names, pooled_st)},
        "most_sensitive_indicator": _argmax_indicator(names, pooled_s1, n_ind),
        **({"most_sensitive_group": _argmax_indicator(names, pooled_s1, n_ind + n_groups, n_ind)} if n_groups else {}),
        "regions": per_region,
    }
    settings = {
        "draws": draws,
        "seed": framework.sensitivity.seed,
        "weight_noise": framework.sensitivity.weight_noise,
        "normalise_alternatives": alternatives,
        "alternative_applies_to": "every indicator (replaces its own method for the draw)",
        "generator": "numpy.random.default_rng(seed) (PCG64); A = rng.random((draws, k)), then B likewise",
        "factors": names,
        "mapping": "weight_j = w_j·(1 + noise·(2·a_j − 1)); method = alternatives[floor(a_k·M)]",
        "uncertainty_sample": "rows of A",
        "percentile_method": PERCENTILE_METHOD,
        "sobol": {
            "design": "Saltelli: A, B, AB_j (A with column j from B)",
            "model_evaluations": int(unit.shape[0]),
            "first_order": "Saltelli et al. 2010: mean(f_B·(f_ABj − f_A)) / V",
            "total_order": "Jansen 1999: mean((f_A − f_ABj)²) / 2V",
            "variance": "population variance of f(A) ∪ f(B)",
            "ranking": "Σ_r partial variance / Σ_r variance over regions' ranks",
            "decimals": _DECIMALS,
        },
    }
    return {"regions": regions, "summary": summary, "settings": settings}
