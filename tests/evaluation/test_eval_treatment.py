"""Data treatment (§4.5 "Groups and transforms"): COINr's winsorisation rule and its log_CT
fallback, the coverage threshold, imputation by group mean and by the previous year, every
change recorded in the result and the run, and reproduction byte for byte."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import scipy.stats
from tests.evaluation.conftest import build

from regionvisa.evaluation.compute import dumps, evaluate, reproduce
from regionvisa.evaluation.framework import FrameworkError, parse_framework
from regionvisa.evaluation.treatment import kurtosis, log_ct, skewness, winsorise

COINR_EXAMPLE = [1.0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 30, 100]  # COINr's Treat() vignette: 1:10 and two outliers


def test_skewness_and_kurtosis_are_the_sample_estimators_coinr_uses():
    x = np.array(COINR_EXAMPLE)
    assert skewness(x) == pytest.approx(scipy.stats.skew(x, bias=False))
    assert kurtosis(x) == pytest.approx(scipy.stats.kurtosis(x, bias=False))


def test_winsorise_moves_the_highest_point_to_the_next_until_it_passes():
    out = winsorise(np.array(COINR_EXAMPLE), winmax=5, skew_limit=2, kurt_limit=3.5)
    assert out["x"].tolist() == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 30, 30]
    assert out["points"] == 1 and out["passed"] is True
    assert out["skewness"] > 2 and out["kurtosis"] > 3.5
    assert abs(out["after"]["skewness"]) < 2


def test_a_column_that_passes_is_left_alone_and_one_too_short_is_recorded():
    x = np.arange(1.0, 13.0)
    assert winsorise(x, winmax=5, skew_limit=2, kurt_limit=3.5)["outcome"] == "passed"
    assert winsorise(np.array([1.0, 2, 100]), winmax=5, skew_limit=2, kurt_limit=3.5)["outcome"] == "too few values"


def test_low_outliers_are_raised_and_nan_stays():
    x = np.array([-100.0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, np.nan])
    out = winsorise(x, winmax=5, skew_limit=2, kurt_limit=3.5)
    assert out["x"][0] == 1.0 and math.isnan(out["x"][-1])
    assert out["side"][0] == "low"


def fw_winsorised(winmax: int = 5, fallback: str = "log"):
    return build(
        [
            {"id": "x", "transform": {"method": "winsorise", "winmax": winmax, "fallback": fallback}},
            {"id": "y"},
        ]
    )


def table_of(xs):
    return {f"{i + 10}": {"x": float(v), "y": float(i)} for i, v in enumerate(xs)}


def test_winsorisation_is_recorded_per_indicator_and_region():
    result = evaluate(fw_winsorised(), table_of(COINR_EXAMPLE), draws=20)
    record = result["treatment"]["transforms"]["x"]
    assert record["method"] == "winsorise"
    assert record["settings"] == {"winmax": 5, "skewness": 2.0, "kurtosis": 3.5, "fallback": "log"}
    assert record["outcome"] == "winsorised" and record["points"] == 1
    assert record["regions"] == {"21": {"from": 100.0, "to": 30.0, "side": "high"}}
    entry = next(e for e in result["regions"] if e["region"] == "21")
    assert entry["indicators"]["x"]["raw"] == 100.0 and entry["indicators"]["x"]["treated"] == 30.0
    # normalised over the treated values: 30 is the maximum
    assert entry["indicators"]["x"]["normalised"] == 100.0
    step = next(s for s in result["run"]["steps"] if s["step"] == "transform")
    assert step["indicators"]["x"]["method"] == "winsorise"


def test_defaults_are_coinr_defaults():
    fw = build([{"id": "x", "transform": {"method": "winsorise"}}])
    t = fw.indicators[0].transform
    assert (t.winmax, t.skewness, t.kurtosis, t.fallback) == (5, 2.0, 3.5, "log")


def test_when_winmax_points_do_not_pass_log_ct_replaces_the_original_values():
    xs = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 500, 1000, 2000]
    result = evaluate(fw_winsorised(winmax=1), table_of(xs), draws=20)
    record = result["treatment"]["transforms"]["x"]
    assert record["outcome"] == "log_CT (winsorisation did not pass)"
    expected = log_ct(np.array(xs, dtype=float))
    assert record["regions"]["27"]["to"] == pytest.approx(float(expected[17]))
    assert record["fallback_applied"]["min"] == 1 and record["fallback_applied"]["max"] == 2000
    # fallback none keeps the winsorised values
    kept = evaluate(fw_winsorised(winmax=1, fallback="none"), table_of(xs), draws=20)
    assert kept["treatment"]["transforms"]["x"]["outcome"] == "winsorised, did not pass"


def test_transform_settings_are_validated():
    with pytest.raises(FrameworkError) as info:
        build([{"id": "x", "transform": {"method": "log", "winmax": 3}}])
    assert "winmax apply only to winsorise" in "\n".join(info.value.errors)
    with pytest.raises(FrameworkError) as info:
        build([{"id": "x", "transform": {"method": "log"}, "normalise": {"method": "goalposts", "low": 0, "high": 5}}])
    assert "test.yaml:indicators[0].normalise.low: goalposts under a log transform must be above 0" in "\n".join(
        info.value.errors
    )
    with pytest.raises(FrameworkError) as info:
        build(
            [
                {
                    "id": "x",
                    "transform": {"method": "winsorise"},
                    "normalise": {"method": "goalposts", "low": 0, "high": 5},
                }
            ]
        )
    assert "indicators[0].transform" in "\n".join(info.value.errors)


# -- coverage and imputation --------------------------------------------------------------------

THREE = [{"id": "a"}, {"id": "b"}, {"id": "c"}]
GAPPY = {
    "11": {"a": 1.0, "b": 2.0, "c": 3.0},
    "26": {"a": 5.0, "b": None, "c": None},
    "27": {"a": 3.0, "b": 4.0, "c": None},
    "41": {"a": 9.0, "b": 8.0, "c": 1.0},
}


def test_a_region_below_the_coverage_threshold_is_not_ranked_with_the_reason():
    fw = build(THREE, missing={"policy": "reweight", "coverage": 0.6})
    result = evaluate(fw, GAPPY, draws=20)
    assert [e["region"] for e in result["regions"]] == sorted(
        ["11", "27", "41"], key=lambda c: next(e["rank"] for e in result["regions"] if e["region"] == c)
    )
    info = result["missing"]["regions"]["26"]
    assert info["action"] == "excluded" and info["reason"] == "data coverage below threshold"
    assert info["coverage"] == pytest.approx(1 / 3) and info["threshold"] == 0.6
    assert result["missing"]["regions"]["27"]["action"] == "reweighted"
    step = next(s for s in result["run"]["steps"] if s["step"] == "coverage")
    assert step["excluded"] == ["26"]


def test_group_mean_imputation_over_region_groups():
    fw = build(
        THREE,
        missing={
            "policy": "reweight",
            "impute": "group_mean",
            "region_groups": {"north": ["11", "26"], "south": ["27", "41"]},
        },
    )
    result = evaluate(fw, GAPPY, draws=20)
    imputed = result["treatment"]["imputed"]
    assert imputed["26"]["b"] == {"method": "group_mean", "region_group": "north", "over": 1, "value": 2.0}
    assert imputed["26"]["c"]["value"] == 3.0
    assert imputed["27"]["c"] == {"method": "group_mean", "region_group": "south", "over": 1, "value": 1.0}
    entry = next(e for e in result["regions"] if e["region"] == "26")
    assert entry["indicators"]["b"] == {
        "raw": 2.0,
        "normalised": entry["indicators"]["b"]["normalised"],
        "imputed": "group_mean",
    }
    assert result["missing"]["regions"] == {}


def test_group_mean_without_region_groups_is_the_mean_over_all_regions():
    fw = build(THREE, missing={"policy": "reweight", "impute": "group_mean"})
    result = evaluate(fw, GAPPY, draws=20)
    assert result["treatment"]["imputed"]["26"]["b"]["value"] == pytest.approx((2 + 4 + 8) / 3)
    assert result["treatment"]["imputed"]["26"]["b"]["region_group"] is None


def test_previous_year_imputation_and_what_it_cannot_fill_is_reweighted():
    fw = build(THREE, missing={"policy": "reweight", "impute": "previous_year"})
    previous = {"26": {"a": 4.0, "b": 7.0, "c": None}, "27": {"c": 2.5}}
    result = evaluate(fw, GAPPY, draws=20, previous=previous)
    assert result["treatment"]["imputed"]["26"] == {"b": {"method": "previous_year", "value": 7.0}}
    assert result["treatment"]["imputed"]["27"] == {"c": {"method": "previous_year", "value": 2.5}}
    assert result["missing"]["regions"]["26"]["action"] == "reweighted"
    assert result["missing"]["regions"]["26"]["indicators"] == ["c"]
    assert result["run"]["inputs"]["previous"]["indicators"]["26"] == {"a": 4.0, "b": 7.0, "c": None}


def test_imputation_none_reweights_as_before():
    fw = build(THREE)
    result = evaluate(fw, GAPPY, draws=20)
    assert "treatment" not in result
    assert result["missing"]["regions"]["26"]["action"] == "reweighted"


def test_region_groups_need_group_mean_and_a_region_in_one_group(tmp_path):
    with pytest.raises(FrameworkError) as info:
        build(THREE, missing={"policy": "reweight", "region_groups": {"n": ["11"]}})
    assert "region_groups apply only to impute: group_mean" in "\n".join(info.value.errors)
    with pytest.raises(FrameworkError) as info:
        build(
            THREE, missing={"policy": "reweight", "impute": "group_mean", "region_groups": {"n": ["11"], "s": ["11"]}}
        )
    assert "region 11 is also in region group 'n'" in "\n".join(info.value.errors)


def test_every_treatment_reproduces_byte_for_byte():
    fw = build(
        [
            {"id": "a", "group": "g", "transform": {"method": "winsorise"}},
            {"id": "b", "group": "g", "transform": {"method": "log"}},
            {"id": "c"},
        ],
        groups=[{"id": "g", "weight": 2, "aggregate": {"method": "geometric"}}],
        missing={"policy": "reweight", "impute": "previous_year", "coverage": 0.5},
    )
    table = {
        f"{10 + i}": {"a": float(v), "b": float(i + 1), "c": None if i % 4 == 0 else float(i % 5)}
        for i, v in enumerate(COINR_EXAMPLE)
    }
    table["10"] = {"a": None, "b": None, "c": 1.0}
    previous = {"14": {"c": 9.0}}  # 14 and 18 lack c; only 14 has last year's value
    result = evaluate(fw, table, previous=previous)
    assert result["missing"]["regions"]["10"]["reason"] == "data coverage below threshold"
    assert result["treatment"]["imputed"] == {"14": {"c": {"method": "previous_year", "value": 9.0}}}
    assert result["missing"]["regions"]["18"]["action"] == "reweighted"
    text = dumps(result)
    assert dumps(reproduce(json.loads(text)["run"])) == text
    # the framework's definition round-trips with the additions included
    assert parse_framework(fw.definition()).digest() == fw.digest()
