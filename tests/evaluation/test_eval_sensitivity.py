"""Monte Carlo rank uncertainty and Sobol indices (§4.5), vectorised."""

from __future__ import annotations

import numpy as np
import pytest

from regionvisa.evaluation.compute import evaluate, score_table
from regionvisa.evaluation.framework import DEFAULT_FRAMEWORK, load_framework
from regionvisa.evaluation.sensitivity import analyse, design, factors, sobol_indices, to_inputs


def _table(n: int = 17, seed: int = 5) -> dict[str, dict[str, float]]:
    rng = np.random.default_rng(seed)
    return {
        f"{10 + r}": {
            "integration_policy": float(rng.uniform(30, 95)),
            "quota_fill_rate": float(rng.uniform(0.2, 1)),
            "integration_participation_rate": float(rng.uniform(0.1, 0.9)),
            "illegal_stay_rate": float(rng.uniform(0, 0.1)),
            "foreign_resident_share": float(rng.uniform(0.01, 0.1)),
        }
        for r in range(n)
    }


def test_output_shape_and_consistency():
    fw = load_framework(DEFAULT_FRAMEWORK)
    res = evaluate(fw, _table(), draws=500)
    n = len(res["regions"])
    for entry in res["regions"]:
        lo, hi = entry["rank_interval"]
        assert 1 <= lo <= entry["median_rank"] <= hi <= n
        probs = entry["grade_probability"]
        assert set(probs) <= {"S", "A", "B", "C", "D"}
        assert sum(probs.values()) == pytest.approx(1.0)
        assert all(p > 0 for p in probs.values())
    sens = res["sensitivity"]
    assert sens["factors"] == [*fw.indicator_ids, "normalise_method"]
    assert set(sens["ranking"]["first_order"]) == set(sens["factors"])
    assert sens["most_sensitive_indicator"] in fw.indicator_ids
    assert set(sens["regions"]) == {e["region"] for e in res["regions"]}
    step = res["run"]["steps"][-1]
    assert step["sobol"]["model_evaluations"] == 500 * (len(sens["factors"]) + 2)
    assert step["percentile_method"] == "inverted_cdf"


def test_no_noise_and_one_method_collapses_to_the_published_rank(make_framework):
    fw = make_framework(
        [{"id": "a", "weight": 2}, {"id": "b", "weight": 1, "direction": -1}, {"id": "c", "weight": 1}],
        sensitivity={"draws": 50, "weight_noise": 0.0, "normalise_alternatives": ["minmax"], "seed": 3},
    )
    rng = np.random.default_rng(1)
    table = {f"{10 + r}": {"a": float(rng.random()), "b": float(rng.random()), "c": float(rng.random())}
             for r in range(9)}  # fmt: skip
    table["19"] = dict(table["10"])  # a tie, which must survive the batch path too
    res = evaluate(fw, table)
    for entry in res["regions"]:
        assert entry["rank_interval"] == [entry["rank"], entry["rank"]]
        assert entry["median_rank"] == entry["rank"]
        assert entry["grade_probability"] == {entry["grade"]: 1.0}
    assert res["sensitivity"]["most_sensitive_indicator"] is None
    assert set(res["sensitivity"]["ranking"]["first_order"].values()) == {None}


def test_same_seed_same_answer_other_seed_other_sample():
    fw = load_framework(DEFAULT_FRAMEWORK)
    scored = score_table(fw, _table())
    one = analyse(fw, scored, draws=300)
    assert analyse(fw, scored, draws=300) == one
    other = fw.model_copy(update={"sensitivity": fw.sensitivity.model_copy(update={"seed": 2})})
    assert analyse(other, scored, draws=300)["summary"] != one["summary"]


def test_batch_matches_a_plain_loop_of_full_evaluations():
    """The vectorised draws equal evaluating each drawn framework on its own."""
    fw = load_framework(DEFAULT_FRAMEWORK)
    table = _table()
    scored = score_table(fw, table)
    result = analyse(fw, scored, draws=40)
    a, _ = design(fw, 40)
    weights, method_index = to_inputs(fw, a)
    alternatives = fw.sensitivity.normalise_alternatives
    loop_ranks = []
    for d in range(40):
        method = {"method": alternatives[method_index[d]], "low": None, "high": None}
        inds = [
            ind.model_copy(
                update={"weight": float(weights[d, i]), "normalise": ind.normalise.model_copy(update=method)}
            )
            for i, ind in enumerate(fw.indicators)
        ]
        drawn = fw.model_copy(update={"indicators": inds})
        loop_ranks.append(score_table(drawn, table).ranks)
    loop = np.array(loop_ranks)
    for r, code in enumerate(scored.regions):
        lo, med, hi = np.percentile(loop[:, r], [5, 50, 95], method="inverted_cdf")
        assert result["regions"][code]["rank_interval"] == [int(lo), int(hi)]
        assert result["regions"][code]["median_rank"] == int(med)


def test_sobol_estimator_on_ishigami():
    """Known first-order indices of the Ishigami function (a=7, b=0.1): 0.314, 0.442, 0."""
    rng = np.random.default_rng(0)
    n, k = 50_000, 3
    a = rng.uniform(-np.pi, np.pi, (n, k))
    b = rng.uniform(-np.pi, np.pi, (n, k))

    def f(x):
        return (np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0]))[:, None]

    ab = []
    for j in range(k):
        m = a.copy()
        m[:, j] = b[:, j]
        ab.append(f(m))
    out = sobol_indices(f(a), f(b), np.stack(ab))
    np.testing.assert_allclose(out["S1"][:, 0], [0.314, 0.442, 0.0], atol=0.03)
    np.testing.assert_allclose(out["ST"][:, 0], [0.558, 0.442, 0.244], atol=0.03)


def test_sobol_ignores_a_weight_that_cannot_change_the_ranking(make_framework):
    """A constant indicator adds the same to every region, so its weight never moves a rank."""
    fw = make_framework(
        [{"id": "a"}, {"id": "b"}, {"id": "flat"}],
        sensitivity={"draws": 4000, "weight_noise": 0.9, "normalise_alternatives": ["minmax"], "seed": 11},
    )
    rng = np.random.default_rng(4)
    table = {f"{10 + r}": {"a": float(rng.random()), "b": float(rng.random()), "flat": 1.0} for r in range(12)}
    sens = evaluate(fw, table)["sensitivity"]
    assert factors(fw) == ["a", "b", "flat"]
    assert abs(sens["ranking"]["first_order"]["flat"]) < 0.02
    assert sens["ranking"]["total_order"]["flat"] < 0.02
    assert sens["most_sensitive_indicator"] in {"a", "b"}
    assert sens["ranking"]["total_order"]["a"] > 0.1


def test_missing_values_keep_their_treatment_in_every_draw(make_framework):
    fw = make_framework(
        [{"id": "a"}, {"id": "b"}],
        sensitivity={"draws": 30, "weight_noise": 0.0, "normalise_alternatives": ["minmax"], "seed": 1},
    )
    res = evaluate(fw, {"11": {"a": 1, "b": None}, "26": {"a": 0, "b": 1}, "27": {"a": 0.5, "b": 0}})
    for entry in res["regions"]:
        assert entry["rank_interval"] == [entry["rank"], entry["rank"]]
