"""Small frameworks built in code, so each test states exactly the settings it relies on."""

from __future__ import annotations

from typing import Any

import pytest

from regionvisa.evaluation.framework import Framework, parse_framework

GRADES = [
    {"grade": "S", "min_score": 85},
    {"grade": "A", "min_score": 70},
    {"grade": "B", "min_score": 50},
    {"grade": "C", "min_score": 30},
    {"grade": "D", "min_score": 0},
]
BENEFITS = {
    "S": {"quota_change": 0.30, "simplified_procedure": True},
    "A": {"quota_change": 0.15, "simplified_procedure": True},
    "B": {"quota_change": 0.0},
    "C": {"quota_change": -0.15},
    "D": {"quota_change": -0.30, "warning": True},
}


def build(indicators: list[dict[str, Any]], **overrides: Any) -> Framework:
    data: dict[str, Any] = {
        "id": "test",
        "year": 2025,
        "indicators": [
            {"source": "computed", "direction": 1, "weight": 1, "normalise": {"method": "minmax"}, **ind}
            for ind in indicators
        ],
        "aggregate": {"method": "arithmetic"},
        "grades": GRADES,
        "benefits": BENEFITS,
        "sensitivity": {"draws": 200, "weight_noise": 0.25, "normalise_alternatives": ["minmax"], "seed": 7},
    }
    data.update(overrides)
    return parse_framework(data, "test.yaml")


@pytest.fixture
def make_framework():
    return build
