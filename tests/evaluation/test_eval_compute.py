"""Hand-computed cases for §4.5: normalisation, aggregation, ranks, grades, missing data, the run record."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regionvisa.evaluation.compute import (
    IndicatorInputError,
    contributions,
    dumps,
    evaluate,
    normalise,
    ranks,
    read_indicator_csv,
    reproduce,
    score_table,
)
from regionvisa.evaluation.framework import DEFAULT_FRAMEWORK, load_framework

REGION_KEYS = {"region", "indicators", "score", "rank", "grade", "rank_interval", "median_rank"} | {
    "grade_probability",
    "benefit",
}


# -- normalisation -----------------------------------------------------------------------------


def test_minmax_both_directions():
    np.testing.assert_allclose(normalise([10, 20, 40], "minmax", 1), [0, 100 / 3, 100])
    np.testing.assert_allclose(normalise([10, 20, 40], "minmax", -1), [100, 200 / 3, 0])


def test_minmax_equal_values_give_100():
    assert normalise([0.3, 0.3, 0.3], "minmax", 1).tolist() == [100, 100, 100]
    assert normalise([0.3, 0.3, 0.3], "minmax", -1).tolist() == [100, 100, 100]


def test_goalposts_clip_and_reverse():
    assert normalise([-10, 25, 60], "goalposts", 1, 0, 50).tolist() == [0, 50, 100]
    assert normalise([-10, 25, 60], "goalposts", -1, 0, 50).tolist() == [100, 50, 0]


def test_zscore_population_std_unclipped():
    std = math.sqrt(2 / 3)
    np.testing.assert_allclose(normalise([1, 2, 3], "zscore", 1), [50 - 10 / std, 50, 50 + 10 / std])
    np.testing.assert_allclose(normalise([1, 2, 3], "zscore", -1), [50 + 10 / std, 50, 50 - 10 / std])
    # unclipped: one outlier among many goes past 100 - 50 = 50 points
    values = [0.0] * 49 + [1.0]
    assert normalise(values, "zscore", 1)[-1] == pytest.approx(50 + 10 * 7)


def test_zscore_equal_values_give_50_even_when_float_std_is_not_zero():
    assert np.std([0.1, 0.1, 0.1]) != 0  # the trap: equal values, non-zero float std
    assert normalise([0.1, 0.1, 0.1], "zscore", 1).tolist() == [50, 50, 50]


def test_rank_counts_strictly_worse():
    np.testing.assert_allclose(normalise([5, 3, 5, 1], "rank", 1), [200 / 3, 100 / 3, 200 / 3, 0])
    np.testing.assert_allclose(normalise([5, 3, 5, 1], "rank", -1), [0, 200 / 3, 0, 100])
    assert normalise([2, 2, 2], "rank", 1).tolist() == [0, 0, 0]
    assert normalise([7], "rank", 1).tolist() == [100]


def test_missing_values_are_left_out_of_the_statistics():
    out = normalise([10, np.nan, 30], "minmax", 1)
    assert out[0] == 0 and out[2] == 100 and np.isnan(out[1])


# -- aggregation, ranks, grades ------------------------------------------------------------------

TABLE = {  # x: higher is better (weight 3); y: lower is better (weight 1)
    "A": {"x": 10, "y": 5},
    "B": {"x": 20, "y": 1},
    "C": {"x": 30, "y": 3},
}


def _xy(make_framework, **overrides):
    return make_framework([{"id": "x", "weight": 3}, {"id": "y", "weight": 1, "direction": -1}], **overrides)


def test_arithmetic_hand_computed(make_framework):
    res = evaluate(_xy(make_framework), TABLE)
    by = {e["region"]: e for e in res["regions"]}
    # x → A 0, B 50, C 100; y → A 0, B 100, C 50
    assert by["B"]["indicators"]["y"] == {"raw": 1.0, "normalised": 100.0}
    assert (by["A"]["score"], by["B"]["score"], by["C"]["score"]) == (0.0, 62.5, 87.5)
    assert [e["region"] for e in res["regions"]] == ["C", "B", "A"]
    assert [(e["rank"], e["grade"]) for e in res["regions"]] == [(1, "S"), (2, "B"), (3, "D")]
    assert by["C"]["benefit"] == {"quota_change": 0.3, "simplified_procedure": True}
    assert by["B"]["benefit"] == {"quota_change": 0.0}
    assert by["A"]["benefit"] == {"quota_change": -0.3, "warning": True}


def test_geometric_hand_computed(make_framework):
    res = evaluate(_xy(make_framework, aggregate={"method": "geometric"}), TABLE)
    by = {e["region"]: e["score"] for e in res["regions"]}
    assert by["A"] == 1.0  # max(0, 1) for both: the floor of 1 keeps zeros from wiping out a score
    assert by["B"] == pytest.approx(50**0.75 * 100**0.25, abs=1e-9)  # 59.4604
    assert by["C"] == pytest.approx(100**0.75 * 50**0.25, abs=1e-9)  # 84.0896
    assert {e["region"]: e["grade"] for e in res["regions"]} == {"A": "D", "B": "B", "C": "A"}


def test_geometric_weights_are_normalised(make_framework):
    fw = make_framework(
        [{"id": "a", "weight": 3, "normalise": {"method": "goalposts", "low": 0, "high": 100}},
         {"id": "b", "weight": 1, "normalise": {"method": "goalposts", "low": 0, "high": 100}}],
        aggregate={"method": "geometric"},
    )  # fmt: skip
    scored = score_table(fw, {"R": {"a": 100, "b": 0}, "S": {"a": 16, "b": 81}})
    assert scored.scores[0] == pytest.approx(100**0.75, abs=1e-9)  # 31.6228
    assert scored.scores[1] == pytest.approx(16**0.75 * 81**0.25, abs=1e-9)  # 8 · 3 = 24


def test_ties_share_the_better_rank(make_framework):
    fw = make_framework([{"id": "x"}])
    res = evaluate(fw, {"11": {"x": 4}, "27": {"x": 3}, "26": {"x": 3}, "30": {"x": 2}})
    assert [(e["region"], e["rank"]) for e in res["regions"]] == [("11", 1), ("26", 2), ("27", 2), ("30", 4)]
    assert ranks(np.array([[90.0, 80.0, 80.0, 70.0]])).tolist() == [[1, 2, 2, 4]]


def test_equal_values_everyone_first(make_framework):
    fw = make_framework([{"id": "x"}, {"id": "y", "direction": -1}])
    res = evaluate(fw, {c: {"x": 0.5, "y": 2.0} for c in ("11", "26", "27")})
    assert {(e["score"], e["rank"], e["grade"]) for e in res["regions"]} == {(100.0, 1, "S")}


@pytest.mark.parametrize(
    ("value", "grade"),
    [
        (100, "S"),
        (85, "S"),
        (84.999999, "A"),
        (70, "A"),
        (69.99, "B"),
        (50, "B"),
        (30, "C"),
        (29.9, "D"),
        (0, "D"),
    ],
)
def test_grade_at_band_boundaries(make_framework, value, grade):
    fw = make_framework([{"id": "x", "normalise": {"method": "goalposts", "low": 0, "high": 100}}])
    scored = score_table(fw, {"11": {"x": value}, "26": {"x": 0}})
    assert scored.grades[0] == grade


def test_exact_boundary_survives_float_noise(make_framework):
    gp = {"method": "goalposts", "low": 0, "high": 1}
    fw = make_framework(
        [{"id": "a", "weight": 0.1, "normalise": gp}, {"id": "b", "weight": 0.2, "normalise": gp},
         {"id": "c", "weight": 0.3, "normalise": gp}]
    )  # fmt: skip
    assert (0.1 * 70 + 0.2 * 70 + 0.3 * 70) / (0.1 + 0.2 + 0.3) < 70  # plain floats miss the boundary
    scored = score_table(fw, {"11": {"a": 0.7, "b": 0.7, "c": 0.7}})
    assert scored.scores[0] == 70.0 and scored.grades[0] == "A"


def test_result_shape_and_order(make_framework):
    res = evaluate(_xy(make_framework), TABLE)
    assert list(res)[:3] == ["framework", "year", "regions"]
    assert res["framework"] == "test" and res["year"] == 2025
    for entry in res["regions"]:
        assert set(entry) == REGION_KEYS
        assert isinstance(entry["rank"], int) and isinstance(entry["median_rank"], int)
        assert all(isinstance(v, int) for v in entry["rank_interval"])
    json.loads(dumps(res))  # plain JSON, no NaN


def test_year_override(make_framework):
    assert evaluate(_xy(make_framework), TABLE, year=2026)["year"] == 2026


# -- missing data ---------------------------------------------------------------------------------


def test_missing_reweight(make_framework):
    fw = _xy(make_framework)
    res = evaluate(fw, {**TABLE, "B": {"x": 20, "y": None}})
    by = {e["region"]: e for e in res["regions"]}
    # y over A and C only: A (5) → 0, C (3) → 100; B keeps x alone: 50
    assert by["B"]["indicators"]["y"] == {"raw": None, "normalised": None}
    assert by["B"]["score"] == 50.0
    assert by["C"]["score"] == 100.0 and by["A"]["score"] == 0.0
    assert res["missing"] == {
        "policy": "reweight",
        "regions": {"B": {"action": "reweighted", "indicators": ["y"], "weight_shares": {"x": 1.0}}},
    }


def test_missing_reweight_geometric_uses_available_weights(make_framework):
    fw = _xy(make_framework, aggregate={"method": "geometric"})
    scored = score_table(fw, {**TABLE, "B": {"x": 20, "y": float("nan")}})
    assert scored.scores[scored.regions.index("B")] == 50.0  # 50^(3/3)


def test_missing_exclude(make_framework):
    fw = _xy(make_framework, missing={"policy": "exclude"})
    res = evaluate(fw, {**TABLE, "B": {"x": 20, "y": None}})
    assert [e["region"] for e in res["regions"]] == ["C", "A"]
    # normalised over A and C only: x → A 0, C 100; y → A 0, C 100
    assert [e["score"] for e in res["regions"]] == [100.0, 0.0]
    assert res["missing"]["regions"]["B"]["action"] == "excluded"
    assert res["missing"]["regions"]["B"]["indicators"] == ["y"]


def test_region_without_any_value_is_excluded_even_when_reweighting(make_framework):
    res = evaluate(_xy(make_framework), {**TABLE, "D": {"x": None, "y": None}})
    assert "D" not in {e["region"] for e in res["regions"]}
    assert res["missing"]["regions"]["D"]["reason"] == "no indicator values"


def test_bad_inputs_are_reported(make_framework):
    fw = _xy(make_framework)
    with pytest.raises(IndicatorInputError, match="unknown indicator 'z'"):
        evaluate(fw, {"A": {"x": 1, "y": 2, "z": 3}})
    with pytest.raises(IndicatorInputError, match="is not a number"):
        evaluate(fw, {"A": {"x": "high", "y": 2}})
    with pytest.raises(IndicatorInputError, match="not finite"):
        evaluate(fw, {"A": {"x": float("inf"), "y": 2}})
    with pytest.raises(IndicatorInputError, match="no regions"):
        evaluate(fw, {})


# -- contributions --------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["arithmetic", "geometric"])
def test_contributions_add_up_to_the_score(make_framework, method):
    res = evaluate(_xy(make_framework, aggregate={"method": method}), TABLE)
    entry = next(e for e in res["regions"] if e["region"] == "B")
    parts = contributions(_xy(make_framework, aggregate={"method": method}), entry)
    assert sum(parts.values()) == pytest.approx(entry["score"])


# -- reproducibility ------------------------------------------------------------------------------


def test_run_record_reproduces_bit_for_bit():
    fw = load_framework(DEFAULT_FRAMEWORK)
    rng = np.random.default_rng(3)
    table = {
        f"{10 + r}": {
            "integration_policy": float(rng.uniform(30, 95)),
            "quota_fill_rate": float(rng.uniform(0.2, 1)),
            "integration_participation_rate": float(rng.uniform(0.1, 0.9)),
            "illegal_stay_rate": float(rng.uniform(0, 0.1)),
            "foreign_resident_share": float(rng.uniform(0.01, 0.1)),
        }
        for r in range(17)
    }
    first = evaluate(fw, table, draws=300)
    shuffled = dict(reversed(list(table.items())))
    assert dumps(evaluate(fw, shuffled, draws=300)) == dumps(first)
    run = first["run"]
    assert run["framework"]["sha256"] == fw.digest()
    assert run["framework"]["source"]["file"] == "rsv-2025.yaml"
    assert run["framework"]["definition"]["indicators"][0]["weight"] == 40
    assert {"python", "numpy", "pydantic"} <= set(run["software"])
    assert [s["step"] for s in run["steps"]] == [
        "missing", "normalise", "aggregate", "rank", "grade", "benefit", "sensitivity",
    ]  # fmt: skip
    assert run["steps"][-1]["seed"] == 1 and run["steps"][-1]["draws"] == 300
    assert run["inputs"]["indicators"]["10"]["quota_fill_rate"] == table["10"]["quota_fill_rate"]
    again = reproduce(json.loads(dumps(first))["run"])
    assert dumps(again) == dumps(first)


def test_reproduce_rejects_tampered_framework(make_framework):
    res = evaluate(_xy(make_framework), TABLE)
    run = json.loads(dumps(res))["run"]
    run["framework"]["definition"]["indicators"][0]["weight"] = 30
    with pytest.raises(ValueError, match="SHA-256"):
        reproduce(run)


# -- property: more of a good thing never hurts ---------------------------------------------------


@st.composite
def _cases(draw):
    n_reg = draw(st.integers(2, 7))
    n_ind = draw(st.integers(1, 4))
    methods = draw(st.lists(st.sampled_from(["minmax", "goalposts"]), min_size=n_ind, max_size=n_ind))
    directions = draw(st.lists(st.sampled_from([1, -1]), min_size=n_ind, max_size=n_ind))
    weights = draw(st.lists(st.floats(0.1, 50), min_size=n_ind, max_size=n_ind))
    value = st.floats(-1000, 1000, allow_nan=False)
    table = [draw(st.lists(value, min_size=n_ind, max_size=n_ind)) for _ in range(n_reg)]
    who = draw(st.integers(0, n_reg - 1))
    which = draw(st.integers(0, n_ind - 1))
    delta = draw(st.floats(1e-6, 2000))
    aggregate = draw(st.sampled_from(["arithmetic", "geometric"]))
    return methods, directions, weights, table, who, which, delta, aggregate


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_cases())
def test_raising_a_positive_indicator_never_lowers_the_score(make_framework, case):
    methods, directions, weights, table, who, which, delta, aggregate = case
    directions[which] = 1
    indicators = []
    for i, (m, d, w) in enumerate(zip(methods, directions, weights, strict=True)):
        spec = {"method": m} if m == "minmax" else {"method": m, "low": -500, "high": 500}
        indicators.append({"id": f"i{i}", "weight": w, "direction": d, "normalise": spec})
    fw = make_framework(indicators, aggregate={"method": aggregate})
    rows = {f"{10 + r}": {f"i{i}": v for i, v in enumerate(vals)} for r, vals in enumerate(table)}
    code = f"{10 + who}"
    before = score_table(fw, rows)
    raised = {**rows, code: {**rows[code], f"i{which}": rows[code][f"i{which}"] + delta}}
    after = score_table(fw, raised)
    assert after.scores[after.regions.index(code)] >= before.scores[before.regions.index(code)]


# -- CSV --------------------------------------------------------------------------------------------


def _csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ind.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_read_indicator_csv(make_framework, tmp_path):
    fw = _xy(make_framework)
    path = _csv(tmp_path, "region,x,y\n11,1.5,2\n26,,3e-1\n\n")
    assert read_indicator_csv(path, fw) == {"11": {"x": 1.5, "y": 2.0}, "26": {"x": None, "y": 0.3}}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("region,x,y,z\n11,1,2,3\n", ":1: column 'z': unknown indicator"),
        ("region,x\n11,1\n", ":1: missing column(s) for framework indicators: y"),
        ("region,x,y\n11,1,2\n26,abc,2\n", ":3: column 'x': value 'abc' is not a number"),
        ("region,x,y\n11,1,2\n26,nan,2\n", ":3: column 'x': value 'nan' is not a finite number"),
        ("region,x,y\n11,1,2\n11,3,4\n", ":3: column 'region': value '11' repeats line 2"),
        ("region,x,y\n11,1\n", ":2: 2 fields, the header has 3"),
        ("x,y\n1,2\n", ":1: no 'region' column"),
        ("region,x,y\n", ": no data rows"),
    ],
)
def test_read_indicator_csv_errors(make_framework, tmp_path, text, expected):
    path = _csv(tmp_path, text)
    with pytest.raises(IndicatorInputError) as info:
        read_indicator_csv(path, _xy(make_framework))
    assert any(line.startswith(str(path)) and expected in line for line in info.value.errors), info.value.errors


def test_draws_must_be_sensible(make_framework):
    with pytest.raises(ValueError, match="draws must be between"):
        evaluate(_xy(make_framework), TABLE, draws=0)
