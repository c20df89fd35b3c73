"""What-if against a published result, and the value needed for the next grade."""

from __future__ import annotations

import numpy as np
import pytest

from regionvisa.evaluation.compute import evaluate
from regionvisa.evaluation.whatif import next_grade, published_table, what_if

TABLE = {
    "11": {"x": 10.0, "y": 5.0},
    "26": {"x": 20.0, "y": 1.0},
    "27": {"x": 30.0, "y": 3.0},
    "28": {"x": 25.0, "y": 2.0},
}


def _fw(make_framework, x_norm=None, y_norm=None, aggregate="arithmetic"):
    return make_framework(
        [{"id": "x", "weight": 3, "normalise": x_norm or {"method": "minmax"}},
         {"id": "y", "weight": 1, "direction": -1, "normalise": y_norm or {"method": "minmax"}}],
        aggregate={"method": aggregate},
    )  # fmt: skip


def test_no_change_reproduces_the_published_entry(make_framework):
    fw = _fw(make_framework)
    published = evaluate(fw, TABLE, draws=20)
    for entry in published["regions"]:
        out = what_if(fw, published, entry["region"], {})
        assert out["what_if"]["score"] == entry["score"]
        assert out["what_if"]["rank"] == entry["rank"]
        assert out["what_if"]["grade"] == entry["grade"]
        assert out["what_if"]["indicators"] == entry["indicators"]


def test_change_moves_only_that_region(make_framework):
    fw = _fw(make_framework)
    published = evaluate(fw, TABLE, draws=20)
    # 11 raises x to 40: new max. x over (40, 20, 30, 25) → 11: 100; y unchanged → 0. Score 75.
    out = what_if(fw, published, "11", {"x": 40})
    assert out["changes"] == {"x": {"from": 10.0, "to": 40}}
    assert out["what_if"]["score"] == 75.0
    others = sorted((e["score"] for e in published["regions"] if e["region"] != "11"), reverse=True)
    assert out["what_if"]["rank"] == 1 + sum(s > 75.0 for s in others)
    assert out["what_if"]["grade"] == "A"
    assert out["what_if"]["benefit"] == {"quota_change": 0.15, "simplified_procedure": True}
    assert out["published"]["grade"] == "D"
    assert published_table(published)["11"]["x"] == 10.0  # the published result is untouched


def test_what_if_rejects_unknown(make_framework):
    fw = _fw(make_framework)
    published = evaluate(fw, TABLE, draws=20)
    with pytest.raises(ValueError, match="unknown indicator"):
        what_if(fw, published, "11", {"z": 1})
    with pytest.raises(KeyError):
        what_if(fw, published, "99", {"x": 1})


def test_next_grade_goalposts_hand_computed(make_framework):
    gp = {"method": "goalposts", "low": 0, "high": 100}
    fw = _fw(make_framework, x_norm=gp, y_norm=gp)
    table = {"11": {"x": 60.0, "y": 40.0}, "26": {"x": 90.0, "y": 10.0}}
    published = evaluate(fw, table, draws=20)
    # 11: (3·60 + 1·60)/4 = 60 → B; A needs 70.
    # x: (3·x + 60)/4 = 70 → x = 73.33…; y: (180 + n)/4 = 70 → n = 100 → y = 0
    ng = next_grade(fw, published, "11")
    assert (ng["grade"], ng["next_grade"], ng["min_score"]) == ("B", "A", 70)
    assert ng["indicators"]["x"]["needed"] == pytest.approx(220 / 3)
    assert ng["indicators"]["y"]["needed"] == pytest.approx(0.0)
    assert what_if(fw, published, "11", {"x": ng["indicators"]["x"]["needed"]})["what_if"]["grade"] == "A"
    top = next_grade(fw, published, "26")
    assert top["next_grade"] is None and top["indicators"] == {}


def test_next_grade_unreachable_is_none(make_framework):
    gp = {"method": "goalposts", "low": 0, "high": 100}
    fw = _fw(make_framework, x_norm=gp, y_norm=gp)
    table = {"11": {"x": 10.0, "y": 90.0}, "26": {"x": 90.0, "y": 10.0}}
    ng = next_grade(fw, evaluate(fw, table, draws=20), "11")
    # score (3·10 + 10)/4 = 10 → D; C needs 30. y alone: (30 + n)/4 = 30 → n = 90 → y = 10;
    # x alone: (3·n + 10)/4 = 30 → n = 110/3
    assert ng["next_grade"] == "C"
    assert ng["indicators"]["y"]["needed"] == pytest.approx(10.0)
    assert ng["indicators"]["y"]["change"] == pytest.approx(-80.0)
    assert ng["indicators"]["x"]["needed"] == pytest.approx(110 / 3)
    fw_b = _fw(make_framework, x_norm=gp, y_norm=gp)
    table_b = {"11": {"x": 60.0, "y": 100.0}, "26": {"x": 90.0, "y": 10.0}}
    ng_b = next_grade(fw_b, evaluate(fw_b, table_b, draws=20), "11")
    # 45 → C; B needs 50: y alone would need (180 + n)/4 ≥ 50 → n ≥ 20 → reachable; A impossible is not asked.
    assert ng_b["next_grade"] == "B" and ng_b["indicators"]["y"]["needed"] == pytest.approx(80.0)
    table_c = {"11": {"x": 0.0, "y": 100.0}, "26": {"x": 90.0, "y": 10.0}}
    ng_c = next_grade(fw_b, evaluate(fw_b, table_c, draws=20), "11")
    # 0 → D; C needs 30: y alone gives at most 100/4 = 25 → impossible
    assert ng_c["indicators"]["y"]["needed"] is None
    assert ng_c["indicators"]["x"]["needed"] == pytest.approx(40.0)


@pytest.mark.parametrize("method", ["minmax", "zscore", "rank", "goalposts"])
@pytest.mark.parametrize("aggregate", ["arithmetic", "geometric"])
def test_needed_value_is_exactly_enough(make_framework, method, aggregate):
    """The answer reaches the next grade, and falling a little short of it does not."""
    spec = {"method": method, "low": 0, "high": 1} if method == "goalposts" else {"method": method}
    fw = _fw(make_framework, x_norm=spec, y_norm=spec, aggregate=aggregate)
    rng = np.random.default_rng(12)
    table = {f"{10 + r}": {"x": float(rng.random()), "y": float(rng.random())} for r in range(12)}
    published = evaluate(fw, table, draws=20)
    checked = 0
    for entry in published["regions"]:
        ng = next_grade(fw, published, entry["region"])
        if ng["next_grade"] is None:
            continue
        for ind_id, item in ng["indicators"].items():
            needed = item["needed"]
            if needed is None:
                continue
            reached = what_if(fw, published, entry["region"], {ind_id: needed})["what_if"]
            assert reached["score"] >= ng["min_score"], (entry["region"], ind_id)
            assert reached["grade"] == ng["next_grade"] or reached["score"] >= ng["min_score"]
            direction = 1 if ind_id == "x" else -1
            current = item["current"]
            if (needed - current) * direction <= 0:
                continue  # already past the value on this indicator (only possible when others drive it)
            back = needed - direction * max(abs(needed), 1.0) * 1e-6
            if method == "rank":
                back = float(np.nextafter(needed, -np.inf * direction))
            short = what_if(fw, published, entry["region"], {ind_id: back})["what_if"]
            assert short["score"] < ng["min_score"], (entry["region"], ind_id, needed, back)
            checked += 1
    assert checked >= 3
