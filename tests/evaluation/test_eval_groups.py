"""Hierarchical frameworks (§4.5 "Groups and transforms"): validation, group scores computed by
hand, weights relative among siblings, reweighting inside a group, contributions, the
sensitivity analysis over group weights, and the flat framework unchanged."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.evaluation.conftest import build

from regionvisa.evaluation.compute import contributions, dumps, evaluate, reproduce, score_table
from regionvisa.evaluation.framework import DEFAULT_FRAMEWORK, FrameworkError, load_framework, parse_framework

GOAL = {"method": "goalposts", "low": 0, "high": 100}


def nested(**overrides):
    """a, b in group g1 (arithmetic, b twice a's weight); g1 and c in group top1 (geometric);
    top1 and d at the top level (arithmetic, top1 weight 3, d weight 1)."""
    return build(
        [
            {"id": "a", "group": "g1", "weight": 1, "normalise": GOAL},
            {"id": "b", "group": "g1", "weight": 2, "normalise": GOAL},
            {"id": "c", "group": "top1", "weight": 1, "normalise": GOAL},
            {"id": "d", "weight": 1, "normalise": GOAL},
        ],
        groups=[
            {"id": "g1", "weight": 1, "aggregate": {"method": "arithmetic"}, "parent": "top1"},
            {"id": "top1", "weight": 3, "aggregate": {"method": "geometric"}},
        ],
        sensitivity={"draws": 64, "weight_noise": 0.25, "normalise_alternatives": ["goalposts"], "seed": 3},
        **overrides,
    )


TABLE = {
    "11": {"a": 30.0, "b": 60.0, "c": 80.0, "d": 10.0},
    "26": {"a": 90.0, "b": 20.0, "c": 40.0, "d": 70.0},
    "41": {"a": 50.0, "b": 50.0, "c": 50.0, "d": 50.0},
}


def by_hand(a, b, c, d):
    g1 = (1 * a + 2 * b) / 3
    top1 = g1**0.5 * c**0.5
    return g1, top1, (3 * top1 + 1 * d) / 4


def test_group_scores_and_composite_follow_the_formulas():
    result = evaluate(nested(), TABLE)
    for entry in result["regions"]:
        g1, top1, score = by_hand(*TABLE[entry["region"]].values())
        assert entry["groups"]["g1"]["score"] == pytest.approx(g1, abs=1e-9)
        assert entry["groups"]["top1"]["score"] == pytest.approx(top1, abs=1e-9)
        assert entry["score"] == pytest.approx(score, abs=1e-9)
    assert [e["region"] for e in result["regions"]] == ["41", "11", "26"]  # 50, 49.9, 48.7


def test_weights_are_relative_among_siblings():
    """Scaling every weight inside one group by the same factor changes nothing."""
    base = evaluate(nested(), TABLE)
    fw = nested()
    data = fw.definition()
    for ind in data["indicators"]:
        if ind.get("group") == "g1":
            ind["weight"] *= 7
    scaled = evaluate(parse_framework(data), TABLE)
    assert [e["score"] for e in scaled["regions"]] == [e["score"] for e in base["regions"]]


def test_a_missing_indicator_is_reweighted_within_its_group_and_an_empty_group_at_its_parent():
    table = {
        **TABLE,
        "11": {"a": None, "b": 60.0, "c": 80.0, "d": 10.0},
        "26": {"a": None, "b": None, "c": 40.0, "d": 70.0},
    }
    result = evaluate(nested(), table)
    entries = {e["region"]: e for e in result["regions"]}
    # 11: g1 = b alone
    top1 = math.sqrt(60.0 * 80.0)
    assert entries["11"]["groups"]["g1"]["score"] == pytest.approx(60.0)
    assert entries["11"]["score"] == pytest.approx((3 * top1 + 10) / 4)
    # 26: g1 has no value, so top1 = c alone
    assert entries["26"]["groups"]["g1"]["score"] is None
    assert entries["26"]["score"] == pytest.approx((3 * 40.0 + 70.0) / 4)
    shares = result["missing"]["regions"]["26"]["weight_shares"]
    assert shares == pytest.approx({"c": 0.75, "d": 0.25})
    assert result["missing"]["regions"]["11"]["weight_shares"] == pytest.approx(
        {"b": 0.75 / 2, "c": 0.75 / 2, "d": 0.25}
    )


def test_contributions_add_up_to_the_score():
    result = evaluate(nested(), TABLE)
    fw = nested()
    for entry in result["regions"]:
        parts = contributions(fw, entry)
        assert sum(parts.values()) == pytest.approx(entry["score"], abs=1e-9)
        assert all(p > 0 for p in parts.values())


def test_sensitivity_has_group_weights_as_factors_with_sobol_indices():
    result = evaluate(nested(), TABLE, draws=256)
    sens = result["sensitivity"]
    assert sens["factors"] == ["a", "b", "c", "d", "g1", "top1"]
    for name in ("g1", "top1"):
        assert sens["ranking"]["first_order"][name] is not None
        assert sens["ranking"]["total_order"][name] is not None
    assert sens["most_sensitive_group"] in {"g1", "top1"}
    assert set(sens["regions"]["11"]["rank"]["total_order"]) == set(sens["factors"])


def test_grouped_run_reproduces_byte_for_byte():
    result = evaluate(nested(), TABLE)
    again = reproduce(json.loads(dumps(result))["run"])
    assert dumps(again) == dumps(result)


def test_flat_framework_means_and_digests_exactly_what_it_did():
    """No groups: no `groups` key in the result, the definition has no new keys, and the
    flat scores equal Σ wᵢ·nᵢ / Σ wᵢ as before."""
    fw = load_framework(DEFAULT_FRAMEWORK)
    definition = fw.definition()
    assert "groups" not in definition
    assert all("group" not in i and "transform" not in i for i in definition["indicators"])
    assert set(definition["missing"]) == {"policy"}
    table = {
        "11": {
            "integration_policy": 60.0,
            "quota_fill_rate": 0.5,
            "integration_participation_rate": 0.3,
            "illegal_stay_rate": 0.02,
            "foreign_resident_share": 0.04,
        },
        "26": {
            "integration_policy": 80.0,
            "quota_fill_rate": 0.9,
            "integration_participation_rate": 0.2,
            "illegal_stay_rate": 0.05,
            "foreign_resident_share": 0.03,
        },
    }
    result = evaluate(fw, table, draws=16)
    assert all("groups" not in e for e in result["regions"])
    assert "treatment" not in result
    assert result["run"]["steps"][0]["step"] == "missing"


def test_same_weights_give_the_same_bits_through_the_tree_and_the_flat_path():
    """A framework whose one group holds every indicator scores like the flat framework."""
    flat = build([{"id": "a", "weight": 1, "normalise": GOAL}, {"id": "b", "weight": 3, "normalise": GOAL}])
    grouped = build(
        [
            {"id": "a", "weight": 1, "group": "all", "normalise": GOAL},
            {"id": "b", "weight": 3, "group": "all", "normalise": GOAL},
        ],
        groups=[{"id": "all", "weight": 1}],
    )
    table = {"1": {"a": 10.0, "b": 20.0}, "2": {"a": 70.0, "b": 5.0}}
    np.testing.assert_allclose(score_table(grouped, table).scores, score_table(flat, table).scores, atol=1e-9)


# -- validation --------------------------------------------------------------------------------


def _errors(tmp_path: Path, **overrides) -> str:
    import yaml

    data = nested().definition()
    for key, value in overrides.items():
        if callable(value):
            value(data)
        else:
            data[key] = value
    path = tmp_path / "fw.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(FrameworkError) as info:
        load_framework(path)
    return "\n".join(info.value.errors)


def test_unknown_group_of_an_indicator(tmp_path):
    def change(d):
        d["indicators"][0]["group"] = "nowhere"

    text = _errors(tmp_path, change=change)
    assert "fw.yaml:indicators[0].group: unknown group 'nowhere'" in text
    assert "[indicator a]" in text and "그룹" in text


def test_unknown_parent(tmp_path):
    def change(d):
        d["groups"][1]["parent"] = "ghost"

    text = _errors(tmp_path, change=change)
    assert "fw.yaml:groups[1].parent: unknown parent group 'ghost'" in text
    assert "상위 그룹" in text


def test_circular_groups(tmp_path):
    def change(d):
        d["groups"][1]["parent"] = "g1"

    text = _errors(tmp_path, change=change)
    assert "circular group reference: g1 → top1 → g1" in text
    assert "순환" in text


def test_group_without_members_and_duplicate_and_clashing_ids(tmp_path):
    def change(d):
        d["groups"].append({"id": "lonely", "weight": 1})
        d["groups"].append({"id": "g1", "weight": 1, "parent": "top1"})
        d["groups"].append({"id": "a", "weight": 1, "parent": "top1"})

    text = _errors(tmp_path, change=change)
    assert "groups[2]: group 'lonely' has no members" in text
    assert "groups[3].id: duplicate group id 'g1'" in text
    assert "groups[4].id: group id 'a' is also an indicator id" in text


def test_group_keys_are_strict(tmp_path):
    def change(d):
        d["groups"][0]["weigth"] = 2

    assert "groups[0].weigth: unknown key" in _errors(tmp_path, change=change)


def test_next_grade_searches_through_groups_and_log_transforms():
    """With groups and a log transform the needed value is found by search: it reaches the
    next band, and a value a little short of it does not."""
    from regionvisa.evaluation.whatif import _score_with, next_grade, what_if

    fw = build(
        [
            {"id": "a", "group": "g1", "weight": 1, "normalise": GOAL},
            {"id": "b", "group": "g1", "weight": 2, "normalise": GOAL},
            {
                "id": "m",
                "weight": 1,
                "transform": {"method": "log"},
                "normalise": {"method": "goalposts", "low": 1, "high": 1000},
            },
        ],
        groups=[{"id": "g1", "weight": 1, "aggregate": {"method": "geometric"}}],
    )
    table = {"11": {"a": 30.0, "b": 40.0, "m": 10.0}, "26": {"a": 90.0, "b": 80.0, "m": 500.0}}
    published = evaluate(fw, table, draws=16)
    out = next_grade(fw, published, "11")
    assert out["grade"] == "C" and out["next_grade"] == "B"
    for ind, info in out["indicators"].items():
        if info["needed"] is None:
            continue
        assert _score_with(fw, table, "11", ind, info["needed"]) >= 50
        short = info["needed"] - 1e-6 * max(1.0, abs(info["needed"]))
        assert _score_with(fw, table, "11", ind, short) < 50
    assert out["indicators"]["m"]["needed"] > 10.0
    changed = what_if(fw, published, "11", {"m": out["indicators"]["m"]["needed"]})
    assert changed["what_if"]["grade"] == "B"
    assert set(changed["what_if"]["groups"]) == {"g1"}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    values=st.lists(
        st.lists(st.one_of(st.none(), st.floats(0, 100, allow_nan=False)), min_size=4, max_size=4),
        min_size=2,
        max_size=6,
    ),
    weights=st.lists(st.floats(0.1, 10), min_size=6, max_size=6),
    geometric=st.booleans(),
)
def test_properties_of_the_tree(values, weights, geometric):
    """Every group score and the composite lie between their members' least and greatest value
    (both means are means), and the contributions add up to the score, missing values or not."""
    data = nested().definition()
    for ind, w in zip(data["indicators"], weights[:4], strict=True):
        ind["weight"] = w
    for group, w in zip(data["groups"], weights[4:], strict=True):
        group["weight"] = w
    data["aggregate"] = {"method": "geometric" if geometric else "arithmetic"}
    fw = parse_framework(data)
    table = {f"{10 + r}": dict(zip("abcd", row, strict=True)) for r, row in enumerate(values)}
    if all(all(v is None for v in row) for row in values):
        return
    result = evaluate(fw, table, draws=4)
    for entry in result["regions"]:
        n = {k: v["normalised"] for k, v in entry["indicators"].items()}
        g = {k: v["score"] for k, v in entry["groups"].items()}

        def within(score, members):
            present = [m for m in members if m is not None]  # geometric means run over max(v, 1)
            assert min(present) - 1e-9 <= score <= max(max(m, 1.0) for m in present) + 1e-9

        if g["g1"] is not None:
            within(g["g1"], [n["a"], n["b"]])
        if g["top1"] is not None:
            within(g["top1"], [g["g1"], n["c"]])
        within(entry["score"], [g["top1"], n["d"]])
        parts = sum(p for p in contributions(fw, entry).values() if p is not None)
        if entry["score"] > 1.0:  # a geometric score of 1 has no parts (compute.contributions)
            assert parts == pytest.approx(entry["score"], abs=1e-7)
