"""§4.6 quota apportionment: exact targets, Hamilton and Sainte-Laguë, ties, minimums, CSV errors."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from regionvisa.quotas.apportion import ApportionError, Request, apportion, read_requests_csv, target


@pytest.mark.parametrize(
    ("requested", "change", "expected"),
    [
        (10, 0.15, 12),  # 11.5 rounds up; in floats 10 × 1.15 = 11.4999…
        (10, "0.15", 12),
        (30, -0.15, 26),  # 25.5
        (1, 0.5, 2),  # 1.5
        (3, -0.5, 2),  # 1.5
        (7, 0.3, 9),  # 9.1
        (100, 0, 100),
        (5, -1, 0),
        (1000, 0.3, 1300),
        (333, 0.15, 383),  # 382.95
        (70, -0.3, 49),
    ],
)
def test_target_rounds_half_up_exactly(requested, change, expected):
    assert target(requested, change) == expected


def _req(region, program, requested, change=0, score=None):
    return {
        "region": region,
        "program": program,
        "requested": requested,
        "quota_change": change,
        "score": score,
    }


def test_targets_that_fit_are_granted_in_full():
    rows = apportion([_req("11", "a", 100, 0.15), _req("26", "b", 50, -0.3)], 1000)
    assert [(r["target"], r["granted"]) for r in rows] == [(115, 115), (35, 35)]
    assert [(r["grade_effect"], r["ceiling_effect"]) for r in rows] == [(15, 0), (-15, 0)]
    assert "no ceiling effect" in rows[0]["explanation_en"]
    assert "상한 효과 없음" in rows[0]["explanation_ko"]


def test_hamilton_hand_case():
    # targets 5, 3, 2 under 7: shares 3.5, 2.1, 1.4 → 3, 2, 1 and the last place to the .5 remainder
    rows = apportion([_req("11", "a", 5), _req("26", "b", 3), _req("27", "c", 2)], 7)
    assert [r["granted"] for r in rows] == [4, 2, 1]
    assert [r["ceiling_effect"] for r in rows] == [-1, -1, -1]
    assert "ceiling effect −1" in rows[0]["explanation_en"]


def test_hamilton_ties_higher_score_first():
    rows = apportion([_req("11", "a", 1, score=50), _req("26", "b", 1, score=90), _req("27", "c", 1, score=70)], 2)
    assert [r["granted"] for r in rows] == [0, 1, 1]


def test_hamilton_ties_then_lower_region_code():
    rows = apportion([_req("27", "a", 1, score=80), _req("11", "b", 1, score=80), _req("26", "c", 1, score=80)], 2)
    assert [r["granted"] for r in rows] == [0, 1, 1]


def test_hamilton_ties_then_lower_programme_id():
    rows = apportion([_req("11", "p2", 1), _req("11", "p10", 1), _req("11", "p1", 1)], 1)
    assert [r["granted"] for r in rows] == [0, 0, 1]
    numeric = apportion([_req("11", "10", 1), _req("11", "9", 1)], 1)
    assert [r["granted"] for r in numeric] == [0, 1]  # digit ids compare as numbers


def test_missing_score_loses_a_tie_to_a_scored_request():
    rows = apportion([_req("11", "a", 1), _req("26", "b", 1, score=0.0)], 1)
    assert [r["granted"] for r in rows] == [0, 1]


def test_sainte_lague_known_example():
    # 53,000 / 24,000 / 23,000 for 7 places: Sainte-Laguë 3/2/2, Hamilton 4/2/1
    requests = [_req("11", "a", 53_000), _req("26", "b", 24_000), _req("27", "c", 23_000)]
    assert [r["granted"] for r in apportion(requests, 7, method="sainte-lague")] == [3, 2, 2]
    assert [r["granted"] for r in apportion(requests, 7)] == [4, 2, 1]


def test_sainte_lague_second_example_with_a_tied_quotient():
    # 100k/80k/30k/20k for 8: quotients 100000, 80000, 33333, 30000, 26667, 20000 (A), 20000 (D), 16000
    requests = [
        _req("11", "A", 100_000),
        _req("26", "B", 80_000),
        _req("27", "C", 30_000),
        _req("28", "D", 20_000),
    ]
    assert [r["granted"] for r in apportion(requests, 8, method="sainte-lague")] == [3, 3, 1, 1]


def test_sainte_lague_tie_uses_score():
    rows = apportion([_req("11", "a", 3, score=1), _req("26", "b", 3, score=2)], 1, method="sainte-lague")
    assert [r["granted"] for r in rows] == [0, 1]


def test_minimums_are_floors_not_a_base():
    requests = [_req("11", "a", 900), _req("26", "b", 90), _req("26", "c", 10)]
    plain = apportion(requests, 100)
    assert [r["granted"] for r in plain] == [90, 9, 1]
    rows = apportion(requests, 100, minimums={"26": 40})
    # 26's floor of 40 splits 36 + 4 by its targets 90:10; both shares (9, 1) are below it, so both are
    # raised to it and 11 keeps the 60 places left (a base would have shared 60 over 900, 54, 6 instead)
    assert [r["minimum_part"] for r in rows] == [0, 36, 4]
    assert [r["granted"] for r in rows] == [60, 36, 4]
    assert "raised to the regional minimum" in rows[1]["explanation_en"]
    assert "raised" not in rows[0]["explanation_en"]
    # a floor the region's share already reaches changes nothing
    assert [r["granted"] for r in apportion(requests, 100, minimums={"26": 10})] == [90, 9, 1]


def test_minimum_never_exceeds_the_targets_and_must_fit():
    rows = apportion([_req("11", "a", 100), _req("26", "b", 5)], 50, minimums={"26": 20})
    assert rows[1]["granted"] == 5
    with pytest.raises(ApportionError, match="more than the ceiling"):
        apportion([_req("11", "a", 100), _req("26", "b", 100)], 50, minimums={"11": 30, "26": 30})


def test_bad_arguments():
    with pytest.raises(ApportionError, match="method"):
        apportion([_req("11", "a", 1)], 1, method="jefferson")
    with pytest.raises(ApportionError, match="ceiling"):
        apportion([_req("11", "a", 1)], -1)
    with pytest.raises(ApportionError, match="twice"):
        apportion([_req("11", "a", 1), _req("11", "a", 2)], 5)
    with pytest.raises(ApportionError, match="whole number"):
        apportion([_req("11", "a", 1.5)], 5)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 500), st.sampled_from([-0.3, -0.15, 0, 0.15, 0.3])), min_size=1, max_size=12),
    st.integers(0, 3000),
    st.sampled_from(["hamilton", "sainte-lague"]),
)
def test_never_more_than_target_and_ceiling_used(items, ceiling, method):
    requests = [_req(f"{11 + k}", "p", n, c) for k, (n, c) in enumerate(items)]
    rows = apportion(requests, ceiling, method=method)
    total = sum(r["target"] for r in rows)
    assert all(0 <= r["granted"] <= r["target"] for r in rows)
    assert sum(r["granted"] for r in rows) == min(total, ceiling)
    for r in rows:
        assert r["grade_effect"] == r["target"] - r["requested"]
        assert r["ceiling_effect"] == r["granted"] - r["target"]


def test_hamilton_stays_within_one_of_the_exact_share():
    requests = [_req(f"{11 + k}", "p", n) for k, n in enumerate([123, 456, 789, 1011, 37])]
    rows = apportion(requests, 1000)
    total = sum(r["target"] for r in rows)
    for r in rows:
        share = 1000 * r["target"] / total
        assert int(share) <= r["granted"] <= int(share) + 1


# -- CSV ----------------------------------------------------------------------------------------


def _csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "requests.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_read_requests_csv(tmp_path):
    path = _csv(
        tmp_path,
        "region,program,requested,quota_change,score\n26,busan-d2,1000,0.15,71.3\n11,seoul-e7,500,,\n",
    )
    assert read_requests_csv(path) == [
        Request("26", "busan-d2", 1000, Decimal("0.15"), 71.3),
        Request("11", "seoul-e7", 500, Decimal(0), None),
    ]
    minimal = _csv(tmp_path, "region,program,requested\n26,busan-d2,10\n")
    assert read_requests_csv(minimal)[0].quota_change == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("region,requested\n26,1\n", ":1: missing column 'program'"),
        ("region,program,requested,quota\n26,a,1,0\n", ":1: unknown column 'quota'"),
        ("region,program,requested\n26,a,ten\n", ":2: field 'requested': value 'ten' is not a whole number"),
        ("region,program,requested\n26,a,-5\n", ":2: field 'requested': value '-5'"),
        ("region,program,requested,quota_change\n26,a,1,x\n", ":2: field 'quota_change': value 'x'"),
        ("region,program,requested,quota_change\n26,a,1,-2\n", ":2: field 'quota_change': value '-2'"),
        ("region,program,requested,score\n26,a,1,high\n", ":2: field 'score': value 'high' is not a number"),
        ("region,program,requested\n26,a,1\n26,a,2\n", ":3: region '26' programme 'a' repeats line 2"),
        ("region,program,requested\n,a,1\n", ":2: field 'region': empty"),
        ("region,program,requested\n26,a\n", ":2: 2 fields, the header has 3"),
    ],
)
def test_read_requests_csv_errors(tmp_path, text, expected):
    path = _csv(tmp_path, text)
    with pytest.raises(ApportionError) as info:
        read_requests_csv(path)
    assert any(line.startswith(str(path)) and expected in line for line in info.value.errors), info.value.errors


def test_csv_then_apportion_rounds_half_up(tmp_path):
    path = _csv(tmp_path, "region,program,requested,quota_change\n26,a,10,0.15\n27,b,30,-0.15\n")
    rows = apportion(read_requests_csv(path), 10_000)
    assert [r["target"] for r in rows] == [12, 26]
