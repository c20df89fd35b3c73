"""§4.6 methods against published apportionments, and the properties each method has.

- the 1880 US House (Hamilton with a one-seat floor): the 1882 act's 325 seats state by state, and
  the Alabama paradox (8 seats of 299, 7 of 300) that only the floor rule reproduces;
- the 2021 Bundestag's first stage (Sainte-Laguë, 598 seats over the 16 Länder);
- Hypothesis: Hamilton keeps the quota rule; every divisor method is house-monotone, D'Hondt keeps
  the lower quota, Huntington–Hill gives every request a place first; floors hold for all.
"""

from __future__ import annotations

import csv
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from regionvisa.quotas.apportion import METHODS, ApportionError, apportion

DATA = Path(__file__).parent / "data"
DIVISOR_METHODS = tuple(m for m in METHODS if m != "hamilton")


def _table(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8") as fh:
        return list(csv.DictReader(line for line in fh if not line.startswith("#")))


US_1880 = _table("us_1880_house.csv")
LAENDER_2021 = _table("bundestag_2021_laender.csv")


def _house(seats: int, *, floor: int | None = 1, method: str = "hamilton") -> dict[str, int]:
    requests = [{"region": r["state"], "program": "house", "requested": int(r["population"])} for r in US_1880]
    minimums = None if floor is None else {r["state"]: floor for r in US_1880}
    rows = apportion(requests, seats, method=method, minimums=minimums)
    return {r["region"]: r["granted"] for r in rows}


def test_the_1880_census_data_is_whole():
    assert len(US_1880) == 38
    assert sum(int(r["population"]) for r in US_1880) == 49_371_340
    assert sum(int(r["seats_1882"]) for r in US_1880) == 325


def test_hamilton_with_a_one_seat_floor_reproduces_the_1882_apportionment():
    assert _house(325) == {r["state"]: int(r["seats_1882"]) for r in US_1880}


def test_the_alabama_paradox_with_the_floor():
    at_299, at_300 = _house(299), _house(300)
    assert (at_299["AL"], at_300["AL"]) == (8, 7)
    # the seat Alabama loses and the 300th go to Texas and Illinois
    assert (at_300["TX"] - at_299["TX"], at_300["IL"] - at_299["IL"]) == (1, 1)
    assert sum(at_299.values()) == 299 and sum(at_300.values()) == 300


def test_the_floor_is_not_a_base():
    """The bug of a minimum given first to every region: with a one-seat base over the 38 states,
    only 287 seats are shared by population and New York falls from 34 to 30."""
    floored = _house(325)
    assert floored["NY"] == 34
    rows = apportion(
        [{"region": r["state"], "program": "house", "requested": int(r["population"])} for r in US_1880],
        325,
        minimums={r["state"]: 1 for r in US_1880},
    )
    by_state = {r["region"]: r for r in rows}
    # only Delaware (exact share 0.97) and Nevada (0.41) have an integer part below the floor and are
    # raised; the others keep their integer part and share the places left by largest remainder
    assert [s for s, r in by_state.items() if r["minimum_part"]] == ["DE", "NV"]
    assert "raised to the regional minimum" in by_state["NV"]["explanation_en"]
    assert "지역 최소 배정으로 상향" in by_state["NV"]["explanation_ko"]
    assert "raised" not in by_state["NY"]["explanation_en"]
    # without the floor Nevada would get nothing and Mississippi the seat the floor gives Nevada
    free = _house(325, floor=None)
    assert (free["NV"], free["MS"]) == (0, 8)


def test_without_the_floor_1880_hamilton_has_no_paradox_at_300():
    # the paradox comes with the floor: without it Alabama keeps 8 at both sizes
    assert (_house(299, floor=None)["AL"], _house(300, floor=None)["AL"]) == (8, 8)


def test_divisor_methods_hold_the_floor_and_are_house_monotone_on_1880():
    for method in DIVISOR_METHODS:
        previous = _house(295, method=method)
        for seats in range(296, 306):
            current = _house(seats, method=method)
            assert all(current[s] >= previous[s] for s in current), (method, seats)
            assert min(current.values()) >= 1
            previous = current


def test_sainte_lague_reproduces_the_2021_bundestag_first_stage():
    requests = [{"region": r["land"], "program": "bt", "requested": int(r["population"])} for r in LAENDER_2021]
    rows = apportion(requests, 598, method="sainte-lague")
    assert {r["region"]: r["granted"] for r in rows} == {r["land"]: int(r["seats"]) for r in LAENDER_2021}
    # the first divisor 1.4 only moves places between the smallest Länder, if at all
    modified = apportion(requests, 598, method="modified-sainte-lague", first_divisor="1.4")
    assert sum(r["granted"] for r in modified) == 598


# -- hand cases ---------------------------------------------------------------------------------


def _req(region, requested, program="p"):
    return {"region": region, "program": program, "requested": requested}


def test_dhondt_and_huntington_hill_hand_cases():
    # 53,000 / 24,000 / 23,000 for 7: D'Hondt quotients 53000, 26500, 24000, 23000, 17667, 13250, 12000 (B) → 4/2/1
    requests = [_req("11", 53_000), _req("26", 24_000), _req("27", 23_000)]
    assert [r["granted"] for r in apportion(requests, 7, method="dhondt")] == [4, 2, 1]
    # Huntington–Hill: one each first, then 53000/√2 = 37477, 53000/√6 = 21637, 24000/√2 = 16971,
    # 23000/√2 = 16263 → 3/2/2
    assert [r["granted"] for r in apportion(requests, 7, method="huntington-hill")] == [3, 2, 2]
    # Huntington–Hill with fewer places than requests: the larger targets get the first places
    assert [r["granted"] for r in apportion(requests, 2, method="huntington-hill")] == [1, 1, 0]


def test_modified_sainte_lague_first_divisor():
    # 10,000 / 1,300 for 7 places: the seventh place is contested between 10,000/11 = 909 and the small
    # request's first quotient: 1,300 (divisor 1) and 929 (1.4) win it, 650 (2.0) loses it to 909,
    # and the large request takes all 7
    requests = [_req("11", 10_000), _req("26", 1_300)]
    assert [r["granted"] for r in apportion(requests, 7, method="sainte-lague")] == [6, 1]
    assert [r["granted"] for r in apportion(requests, 7, method="modified-sainte-lague", first_divisor="1.4")] == [6, 1]
    assert [r["granted"] for r in apportion(requests, 7, method="modified-sainte-lague", first_divisor=2)] == [7, 0]
    rows = apportion(requests, 7, method="modified-sainte-lague", first_divisor="1.4")
    assert "divisors 1.4, 3, 5" in rows[0]["explanation_en"] and "제수 1.4, 3, 5" in rows[0]["explanation_ko"]
    with pytest.raises(ApportionError, match="first divisor"):
        apportion(requests, 7, method="modified-sainte-lague", first_divisor="0.5")
    with pytest.raises(ApportionError, match="first divisor"):
        apportion(requests, 7, method="modified-sainte-lague", first_divisor="x")


def test_hamilton_floor_rule_exactly_as_specified():
    # targets 60, 30, 10 under 50: shares 30, 15, 5; a floor of 8 for 27 raises it (5 < 8), the 42 places
    # left after 30 + 15 + 8 = 53 > 50 are too few: 27 is held at 8 and 42 shared over 60:30 → 28, 14
    rows = apportion([_req("11", 60), _req("26", 30), _req("27", 10)], 50, minimums={"27": 8})
    assert [r["granted"] for r in rows] == [28, 14, 8]
    assert [r["minimum_part"] for r in rows] == [0, 0, 8]
    # the one-pass case: targets 70, 20, 10 under 47: shares 32.9, 9.4, 4.7 → 32, 9, max(5, 4) = 5; the one
    # place left goes to the largest remainder among those not raised (.9 of 11, not .4 of 26)
    rows = apportion([_req("11", 70), _req("26", 20), _req("27", 10)], 47, minimums={"27": 5})
    assert [r["granted"] for r in rows] == [33, 9, 5]
    assert "raised to the regional minimum: 5" in rows[2]["explanation_en"]


def test_a_region_shares_its_floor_over_its_requests_by_target():
    requests = [_req("11", 900, "a"), _req("26", 90, "b"), _req("26", 10, "c")]
    rows = apportion(requests, 100, minimums={"26": 40})
    # 26's floor 40 splits 36 : 4 over 90 : 10; both requests are below it (9, 1) and raised; 11 gets the rest
    assert [r["granted"] for r in rows] == [60, 36, 4]
    assert [r["minimum_part"] for r in rows] == [0, 36, 4]
    # a floor below every share changes nothing
    assert [r["granted"] for r in apportion(requests, 100, minimums={"26": 5})] == [90, 9, 1]


# -- properties ---------------------------------------------------------------------------------

TARGETS = st.lists(st.integers(0, 400), min_size=1, max_size=10)


def _shares(targets: list[int], seats: int) -> list[Fraction]:
    total = sum(targets)
    return [Fraction(seats * t, total) for t in targets] if total else [Fraction(0)] * len(targets)


def _run(targets, seats, method, minimums=None):
    requests = [_req(f"{10 + k}", t) for k, t in enumerate(targets)]
    return [r["granted"] for r in apportion(requests, seats, method=method, minimums=minimums)]


@settings(max_examples=150, deadline=None)
@given(TARGETS, st.integers(0, 600))
def test_hamilton_keeps_the_quota_rule(targets, seats):
    granted = _run(targets, seats, "hamilton")
    if sum(targets) <= seats:
        assert granted == targets
        return
    for g, q in zip(granted, _shares(targets, seats), strict=True):
        assert q.__floor__() <= g <= q.__ceil__()


@settings(max_examples=150, deadline=None)
@given(TARGETS, st.integers(0, 600))
def test_dhondt_keeps_the_lower_quota(targets, seats):
    granted = _run(targets, seats, "dhondt")
    if sum(targets) > seats:
        assert all(g >= q.__floor__() for g, q in zip(granted, _shares(targets, seats), strict=True))


@settings(max_examples=60, deadline=None)
@given(TARGETS, st.integers(0, 300), st.sampled_from(DIVISOR_METHODS))
def test_divisor_methods_are_house_monotone(targets, seats, method):
    smaller, larger = _run(targets, seats, method), _run(targets, seats + 1, method)
    assert all(b >= a for a, b in zip(smaller, larger, strict=True))
    assert sum(larger) - sum(smaller) == (1 if sum(targets) > seats else 0)


def test_hamilton_is_not_house_monotone():
    # the classic three-state case: 10 places give 4/4/2, 11 give 5/5/1
    targets = [6, 6, 2]
    assert _run(targets, 10, "hamilton") == [4, 4, 2]
    assert _run(targets, 11, "hamilton") == [5, 5, 1]


@settings(max_examples=60, deadline=None)
@given(TARGETS, st.integers(0, 600))
def test_huntington_hill_gives_a_place_to_every_request_first(targets, seats):
    granted = _run(targets, seats, "huntington-hill")
    positive = sum(1 for t in targets if t > 0)
    if seats >= positive:
        assert all(g >= 1 for g, t in zip(granted, targets, strict=True) if t > 0)


@settings(max_examples=100, deadline=None)
@given(TARGETS, st.integers(0, 600), st.sampled_from(METHODS), st.data())
def test_floors_hold_and_the_ceiling_is_used(targets, seats, method, data):
    floors = [data.draw(st.integers(0, t)) for t in targets]
    if sum(floors) > seats:
        with pytest.raises(ApportionError, match="more than the ceiling"):
            _run(targets, seats, method, {f"{10 + k}": f for k, f in enumerate(floors)})
        return
    granted = _run(targets, seats, method, {f"{10 + k}": f for k, f in enumerate(floors)})
    assert sum(granted) == min(sum(targets), seats)
    assert all(f <= g <= t for f, g, t in zip(floors, granted, targets, strict=True))


def _sequential(targets, seats, method, floors, first_divisor=Fraction(7, 5)):
    """The highest-averages sequence one place at a time, the plain way (the reference)."""

    def quotient(t, s):
        if method == "dhondt":
            return (1, Fraction(t, s + 1))
        if method == "sainte-lague":
            return (1, Fraction(t, 2 * s + 1))
        if method == "modified-sainte-lague":
            return (1, Fraction(t) / first_divisor if s == 0 else Fraction(t, 2 * s + 1))
        return (2, t) if s == 0 else (1, Fraction(t * t, s * (s + 1)))

    granted = list(floors)
    if sum(targets) <= seats:
        return list(targets)
    for _ in range(seats - sum(granted)):
        best = max(
            (k for k in range(len(targets)) if granted[k] < targets[k]),
            key=lambda k: (quotient(targets[k], granted[k]), -k),
        )
        granted[best] += 1
    return granted


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.integers(0, 3000), min_size=1, max_size=8),
    st.integers(0, 6000),
    st.sampled_from(DIVISOR_METHODS),
    st.sampled_from([Fraction(1), Fraction(6, 5), Fraction(7, 5), Fraction(3)]),
    st.data(),
)
def test_the_head_start_ends_where_the_sequence_does(targets, seats, method, first_divisor, data):
    """`divisor_method` skips ahead to a divisor; it must grant exactly what one-at-a-time does."""
    from regionvisa.quotas.apportion import divisor_method

    floors = [data.draw(st.integers(0, min(t, 50))) for t in targets]
    if sum(floors) > seats:
        return
    tie_order = list(range(len(targets)))
    fast = divisor_method(targets, seats, tie_order, method=method, first_divisor=first_divisor, floors=floors)
    assert fast == _sequential(targets, seats, method, floors, first_divisor)
