"""The framework file is validated strictly and every error points at its key."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import yaml

from regionvisa.evaluation.compute import grade_index
from regionvisa.evaluation.framework import DEFAULT_FRAMEWORK, FrameworkError, load_framework

EXAMPLE_45 = """\
id: rsv-2025
year: 2025
indicators:
  - {id: integration_policy, label: {ko: .., en: ..}, source: committee, direction: 1, weight: 40,
     normalise: {method: goalposts, low: 0, high: 100}}
  - {id: quota_fill_rate, source: computed, direction: 1, weight: 15, normalise: {method: minmax}}
  - {id: integration_participation_rate, source: computed, direction: 1, weight: 15,
     normalise: {method: minmax}}
  - {id: illegal_stay_rate, source: computed, direction: -1, weight: 20, normalise: {method: minmax}}
  - {id: foreign_resident_share, source: computed, direction: 1, weight: 10, normalise: {method: minmax}}
aggregate: {method: arithmetic}          # arithmetic | geometric
grades: [{grade: S, min_score: 85}, {grade: A, min_score: 70}, {grade: B, min_score: 50},
         {grade: C, min_score: 30}, {grade: D, min_score: 0}]
benefits:
  S: {quota_change: 0.30, simplified_procedure: true}
  A: {quota_change: 0.15, simplified_procedure: true}
  B: {quota_change: 0.0}
  C: {quota_change: -0.15}
  D: {quota_change: -0.30, warning: true}
sensitivity: {draws: 1000, weight_noise: 0.25, normalise_alternatives: [minmax, zscore, rank], seed: 1}
"""


def test_default_framework_matches_design_and_explains_itself():
    fw = load_framework(DEFAULT_FRAMEWORK)
    assert fw.id == "rsv-2025" and fw.year == 2025
    assert {i.id: (i.weight, i.direction) for i in fw.indicators} == {
        "integration_policy": (40, 1),
        "quota_fill_rate": (15, 1),
        "integration_participation_rate": (15, 1),
        "illegal_stay_rate": (20, -1),
        "foreign_resident_share": (10, 1),
    }
    assert fw.indicators[0].normalise.method == "goalposts" and fw.indicators[0].source == "committee"
    assert [(g.grade, g.min_score) for g in fw.grades] == [
        ("S", 85),
        ("A", 70),
        ("B", 50),
        ("C", 30),
        ("D", 0),
    ]
    assert fw.benefits["D"].warning and fw.benefits["S"].simplified_procedure
    assert fw.benefits["C"].quota_change == -0.15
    for ind in fw.indicators:
        assert ind.label is not None and ind.rationale is not None
        assert len(ind.rationale.en) > 80 and len(ind.rationale.ko) > 40
    assert "proposal" in fw.notes.en and "no weights" in fw.notes.en
    assert "제안" in fw.notes.ko
    assert fw.source["file"] == "rsv-2025.yaml" and len(fw.source["sha256"]) == 64


def test_design_example_validates_with_defaults(tmp_path: Path):
    path = tmp_path / "example.yaml"
    path.write_text(EXAMPLE_45, encoding="utf-8")
    fw = load_framework(path)
    assert fw.missing.policy == "reweight"
    assert fw.indicators[1].label is None and fw.indicators[1].label_in("en") == "quota_fill_rate"
    bands = [fw.grades[i].grade for i in grade_index(fw, np.array([70, 69.999, 0]))]
    assert bands == ["A", "B", "D"]


def test_digest_changes_with_any_setting(tmp_path: Path):
    path = tmp_path / "a.yaml"
    path.write_text(EXAMPLE_45, encoding="utf-8")
    first = load_framework(path).digest()
    path.write_text(EXAMPLE_45.replace("weight: 10", "weight: 11"), encoding="utf-8")
    assert load_framework(path).digest() != first


def _mutated(tmp_path: Path, mutate) -> Path:
    data = yaml.safe_load(EXAMPLE_45)
    data = copy.deepcopy(data)
    mutate(data)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _drop_d(d):
    d["grades"] = [g for g in d["grades"] if g["grade"] != "D"]
    del d["benefits"]["D"]


@pytest.mark.parametrize(
    ("mutate", "key", "fragment"),
    [
        (lambda d: d["indicators"][0].update(weight=0), "indicators[0].weight", "greater than 0"),
        (lambda d: d["indicators"][3].update(weight=-20), "indicators[3].weight", "greater than 0"),
        (lambda d: d["indicators"][1].update(weight="15"), "indicators[1].weight", "valid number"),
        (lambda d: d["indicators"][1].update(direction=2), "indicators[1].direction", "must be 1"),
        (lambda d: d["indicators"][1].update(direction=True), "indicators[1].direction", "integer"),
        (
            lambda d: d["indicators"][2]["normalise"].update(method="log"),
            "indicators[2].normalise.method",
            "log",
        ),
        (lambda d: d["indicators"][0]["normalise"].pop("high"), "indicators[0].normalise", "low and high"),
        (
            lambda d: d["indicators"][1]["normalise"].update(low=0),
            "indicators[1].normalise",
            "only to goalposts",
        ),
        (lambda d: d["indicators"][1].update(source="survey"), "indicators[1].source", "committee"),
        (lambda d: d["aggregate"].update(method="median"), "aggregate.method", "arithmetic"),
        (_drop_d, "grades", "no gap"),
        (lambda d: d["grades"][1].update(min_score=90), "grades[1].min_score", "sorted"),
        (lambda d: d["grades"][2].update(grade="A"), "grades[2].grade", "duplicate"),
        (lambda d: d["grades"][0].update(min_score=101), "grades[0].min_score", "at most 100"),
        (lambda d: d["benefits"].pop("C"), "benefits.C", "missing benefit"),
        (lambda d: d["benefits"].update(X={"quota_change": 0}), "benefits.X", "unknown grade"),
        (lambda d: d["benefits"]["A"].update(quota_change=-1.5), "benefits.A.quota_change", "at least -1"),
        (lambda d: d.update(weights={"a": 1}), "weights", "unknown key"),
        (lambda d: d["indicators"][0].update(colour="red"), "indicators[0].colour", "unknown key"),
        (lambda d: d["benefits"]["S"].update(bonus=1), "benefits.S.bonus", "unknown key"),
        (
            lambda d: d["indicators"][4].update(id="quota_fill_rate"),
            "indicators[4].id",
            "duplicate indicator",
        ),
        (lambda d: d["sensitivity"].update(weight_noise=1.0), "sensitivity.weight_noise", "less than 1"),
        (
            lambda d: d["sensitivity"].update(normalise_alternatives=[]),
            "sensitivity.normalise_alternatives",
            "",
        ),
        (lambda d: d.update(missing={"policy": "impute"}), "missing.policy", "reweight"),
        (lambda d: d.pop("aggregate"), "aggregate", "required key is missing"),
    ],
)
def test_bad_framework_names_file_and_key(tmp_path: Path, mutate, key, fragment):
    path = _mutated(tmp_path, mutate)
    with pytest.raises(FrameworkError) as info:
        load_framework(path)
    matching = [line for line in info.value.errors if line.startswith(f"{path}:{key}: ")]
    assert matching, info.value.errors
    assert fragment in matching[0]


def test_error_names_the_indicator(tmp_path: Path):
    path = _mutated(tmp_path, lambda d: d["indicators"][3].update(weight=0))
    with pytest.raises(FrameworkError, match=r"\[indicator illegal_stay_rate\]"):
        load_framework(path)


def test_yaml_syntax_error_names_line(tmp_path: Path):
    path = tmp_path / "broken.yaml"
    path.write_text("id: x\nyear: [2025\n", encoding="utf-8")
    with pytest.raises(FrameworkError) as info:
        load_framework(path)
    assert info.value.errors[0].startswith(f"{path}:")
    assert "YAML" in info.value.errors[0]


def test_not_a_mapping(tmp_path: Path):
    path = tmp_path / "list.yaml"
    path.write_text("- 1\n- 2\n", encoding="utf-8")
    with pytest.raises(FrameworkError, match="must be a mapping"):
        load_framework(path)
