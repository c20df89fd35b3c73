"""Hierarchical evaluation (§4.5 "Groups and transforms"), best of 3:

1. a 3-level framework (12 indicators in 6 sub-groups in 3 groups, one log transform and one
   winsorised indicator) over the 17 regions, 10,000 sensitivity draws with Sobol indices over
   every indicator and group weight and the normalisation method (target ≤ 2 s);
2. the UNDP HDI framework (policy/evaluation/examples/hdi.yaml) over 200 units — the size of the
   HDI table — with 1,000 draws (target ≤ 2 s).

Measured: the full evaluation (treatment, normalisation, bottom-up aggregation, ranks, grades,
rank intervals, grade probabilities, first-order and total Sobol indices) and writing the JSON.
Baseline: the naive way, one full evaluation per draw in a Python loop (score_table on a framework
with drawn weights), measured over a sample of draws and scaled; it covers only the Monte Carlo
draws, not the Sobol runs, so the ratio understates the gain.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _common import best_of, emit, result
from regionvisa.evaluation.compute import dumps, evaluate, score_table
from regionvisa.evaluation.framework import Framework, load_framework, parse_framework

ROOT = Path(__file__).resolve().parents[1]
HDI = ROOT / "policy" / "evaluation" / "examples" / "hdi.yaml"
CODES = ["11", "26", "27", "28", "29", "30", "31", "36", "41", "43", "44", "46", "47", "48", "50", "51", "52"]
GRADES = [{"grade": g, "min_score": m} for g, m in (("S", 85), ("A", 70), ("B", 50), ("C", 30), ("D", 0))]


def three_levels(draws: int) -> Framework:
    """3 groups × 2 sub-groups × 2 indicators; geometric at the top, arithmetic below."""
    indicators, groups = [], []
    for g in range(3):
        groups.append({"id": f"g{g}", "weight": 1 + g, "aggregate": {"method": "arithmetic"}})
        for s in range(2):
            sub = f"g{g}s{s}"
            groups.append({"id": sub, "weight": 1, "parent": f"g{g}", "aggregate": {"method": "arithmetic"}})
            for _ in range(2):
                n = len(indicators)
                ind = {"id": f"i{n}", "group": sub, "source": "computed", "direction": 1 if n % 3 else -1,
                       "weight": 1 + (n % 4), "normalise": {"method": "minmax"}}  # fmt: skip
                if n == 0:
                    ind["transform"] = {"method": "log"}
                if n == 1:
                    ind["transform"] = {"method": "winsorise"}
                indicators.append(ind)
    return parse_framework(
        {
            "id": "bench-three-levels",
            "year": 2025,
            "indicators": indicators,
            "groups": groups,
            "aggregate": {"method": "geometric"},
            "grades": GRADES,
            "benefits": {g["grade"]: {"quota_change": 0.0} for g in GRADES},
            "sensitivity": {
                "draws": draws,
                "weight_noise": 0.25,
                "normalise_alternatives": ["minmax", "zscore", "rank"],
                "seed": 1,
            },
        }
    )


def region_table(framework: Framework, seed: int = 2025) -> dict:
    rng = np.random.default_rng(seed)
    table = {code: {ind.id: float(rng.lognormal(3, 0.6)) for ind in framework.indicators} for code in CODES}
    table["26"]["i1"] = 400.0  # an outlier for the winsorised indicator
    table["41"]["i5"] = None  # one gap, reweighted within its sub-group
    return table


def hdi_table(units: int, seed: int = 2024) -> dict:
    """Plausible HDI inputs for `units` countries (life expectancy, schooling, GNI per capita)."""
    rng = np.random.default_rng(seed)
    return {
        f"C{i:03d}": {
            "life_expectancy": float(rng.uniform(52, 85)),
            "expected_schooling": float(rng.uniform(5, 20)),
            "mean_schooling": float(rng.uniform(1, 14)),
            "gni_per_capita": float(np.exp(rng.uniform(np.log(500), np.log(120_000)))),
        }
        for i in range(units)
    }


def naive(framework: Framework, table: dict, draws: int, sample: int) -> float:
    """Seconds for `draws` draws as one full evaluation per draw in a Python loop, from `sample`."""
    rng = np.random.default_rng(1)
    noise = framework.sensitivity.weight_noise
    started = time.perf_counter()
    for _ in range(sample):
        indicators = [ind.model_copy(update={"weight": ind.weight * (1 + rng.uniform(-noise, noise))})
                      for ind in framework.indicators]  # fmt: skip
        groups = [
            g.model_copy(update={"weight": g.weight * (1 + rng.uniform(-noise, noise))}) for g in framework.groups
        ]
        score_table(framework.model_copy(update={"indicators": indicators, "groups": groups}), table)
    return (time.perf_counter() - started) * draws / sample


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the draws")
    args = parser.parse_args()
    draws_3, draws_hdi = (1_000, 100) if args.quick else (10_000, 1_000)

    framework = three_levels(draws_3)
    table = region_table(framework)
    seconds_3, res = best_of(lambda: _run(framework, table, draws_3), 3)
    naive_3 = naive(framework, table, draws_3, 100)
    runs = res["run"]["steps"][-1]["sobol"]["model_evaluations"]
    print(f"3 levels: {len(framework.indicators)} indicators, {len(framework.groups)} groups, 17 regions, "
          f"{draws_3:,} draws, {runs:,} model runs: {seconds_3:.3f} s; naive loop {naive_3:.1f} s")  # fmt: skip
    sens = res["sensitivity"]
    print(f"  most sensitive indicator {sens['most_sensitive_indicator']}, group {sens['most_sensitive_group']}")
    treated = res["treatment"]["transforms"]["i1"]
    print(f"  i1 winsorisation: {treated['outcome']}, points {treated.get('points')}")

    hdi = load_framework(HDI)
    units = hdi_table(200)
    seconds_hdi, res_hdi = best_of(lambda: _run(hdi, units, draws_hdi), 3)
    naive_hdi = naive(hdi, units, draws_hdi, 20)
    runs_hdi = res_hdi["run"]["steps"][-1]["sobol"]["model_evaluations"]
    print(f"HDI: 200 units, {draws_hdi:,} draws, {runs_hdi:,} model runs: {seconds_hdi:.3f} s; naive {naive_hdi:.1f} s")
    emit(
        [
            result(
                f"3-level framework: 17 regions, {draws_3:,} draws + Sobol over indicator and group weights",
                seconds_3,
                "s",
                "≤ 2 s",
                naive_3,
            ),
            result(f"UNDP HDI framework: 200 units, {draws_hdi:,} draws + Sobol", seconds_hdi, "s", "≤ 2 s", naive_hdi),
        ]
    )


def _run(framework: Framework, table: dict, draws: int) -> dict:
    res = evaluate(framework, table, draws=draws)
    dumps(res)
    return res


if __name__ == "__main__":
    main()
