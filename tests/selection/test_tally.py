"""The selection tally as pure arithmetic (`selection.compute`): recusal, quorum, trimming, ranks and quotas.

No database: the committee, its recusals and the score rows are plain data, as
`selection.service.tally` hands them over from what is stored.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from regionvisa.selection.compute import Candidate, Rules, ceil_fraction, tally_round

RUBRIC = [{"id": "need", "weight": 60}, {"id": "plan", "weight": 40}]


def _design(program_id: str, requested: int) -> dict:
    return {
        "program_id": program_id,
        "base_visa": "D-2",
        "title": {"ko": program_id, "en": program_id},
        "requested": requested,
    }


def _rules(**changes) -> Rules:
    base = {"rubric": RUBRIC, "quorum": Fraction(2, 3), "trim": False, "threshold": 60.0}
    return Rules(**(base | changes))


def _rows(proposal_id: int, scores: dict[int, tuple[int, int]]) -> list[tuple[int, int, str, int]]:
    """(proposal, member, criterion, score) rows from {member: (need, plan)}."""
    return [
        row
        for mid, (need, plan) in scores.items()
        for row in ((proposal_id, mid, "need", need), (proposal_id, mid, "plan", plan))
    ]


def test_weighted_totals_trim_the_extremes_once_five_scored():
    scores = {1: (90, 90), 2: (80, 70), 3: (70, 70), 4: (60, 50), 5: (40, 40)}
    (t,) = tally_round(
        rules=_rules(trim=True),
        member_ids=[1, 2, 3, 4, 5],
        recusals={},
        scores=_rows(10, scores),
        candidates=[Candidate(10, "26", [_design("busan-d2", 100)])],
    )
    assert t.member_totals == pytest.approx({1: 90.0, 2: 76.0, 3: 70.0, 4: 56.0, 5: 40.0})
    assert t.trimmed == [5, 1]
    assert t.aggregate == pytest.approx((76 + 70 + 56) / 3)
    assert t.criterion_means == pytest.approx({"need": 68.0, "plan": 64.0})
    assert (t.eligible, t.quorum_required, t.quorum_met, t.rank, t.recommended) == (5, 4, True, 1, True)
    untrimmed = tally_round(
        rules=_rules(trim=False),
        member_ids=[1, 2, 3, 4, 5],
        recusals={},
        scores=_rows(10, scores),
        candidates=[Candidate(10, "26")],
    )[0]
    assert untrimmed.trimmed == [] and untrimmed.aggregate == pytest.approx(332 / 5)


def test_a_recused_member_is_neither_eligible_nor_counted_even_with_rows():
    scores = {1: (80, 80), 2: (70, 70), 3: (10, 10)}
    (t,) = tally_round(
        rules=_rules(),
        member_ids=[1, 2, 3],
        recusals={3: {"26"}},
        scores=_rows(10, scores),
        candidates=[Candidate(10, "26")],
    )
    assert t.recused == [3] and t.eligible == 2 and t.scorers == [1, 2]
    assert 3 not in t.matrix and 3 not in t.member_totals
    assert t.aggregate == pytest.approx(75.0)
    assert t.quorum_required == 2 and t.quorum_met


def test_quorum_counts_only_members_who_scored_every_criterion():
    rows = [*_rows(10, {1: (80, 80)}), (10, 2, "need", 90), (10, 99, "need", 90), (10, 99, "plan", 90)]
    (t,) = tally_round(
        rules=_rules(),
        member_ids=[1, 2, 3],
        recusals={},
        scores=rows,
        candidates=[Candidate(10, "26")],
    )
    assert t.scorers == [1]  # member 2 left a criterion out; 99 is not on the committee
    assert t.quorum_required == 2 and not t.quorum_met
    assert t.rank is None and not t.recommended


def test_ranks_threshold_maximum_and_ties_by_region():
    candidates = [Candidate(pid, region) for pid, region in ((1, "48"), (2, "26"), (3, "11"), (4, "27"))]
    rows = [
        *_rows(1, {1: (70, 70), 2: (70, 70)}),
        *_rows(2, {1: (70, 70), 2: (70, 70)}),
        *_rows(3, {1: (90, 90), 2: (90, 90)}),
        *_rows(4, {1: (50, 50), 2: (50, 50)}),
    ]
    tallies = tally_round(
        rules=_rules(max_selected=2), member_ids=[1, 2], recusals={}, scores=rows, candidates=candidates
    )
    by_region = {t.region: t for t in tallies}
    assert [t.region for t in tallies] == ["48", "26", "11", "27"]  # the candidates' order is kept
    assert {r: by_region[r].rank for r in by_region} == {"11": 1, "26": 2, "48": 3, "27": 4}
    assert {r for r, t in by_region.items() if t.recommended} == {"11", "26"}  # 48 passes but the maximum is 2


def test_recommended_quotas_are_apportioned_within_the_ceiling():
    candidates = [
        Candidate(1, "26", [_design("busan-d2", 600)]),
        Candidate(2, "48", [_design("gyeongnam-e7", 600)]),
        Candidate(3, "11", [_design("seoul-d2", 500)]),
    ]
    rows = [
        *_rows(1, {1: (80, 80), 2: (80, 80)}),
        *_rows(2, {1: (70, 70), 2: (70, 70)}),
        *_rows(3, {1: (40, 40), 2: (40, 40)}),
    ]
    tallies = tally_round(
        rules=_rules(quota_ceiling=1000), member_ids=[1, 2], recusals={}, scores=rows, candidates=candidates
    )
    granted = {d["program_id"]: d["recommended"] for t in tallies for d in t.designs}
    assert granted["seoul-d2"] == 0
    assert granted["busan-d2"] + granted["gyeongnam-e7"] == 1000
    assert all(g <= 600 for g in granted.values())
    uncapped = tally_round(rules=_rules(), member_ids=[1, 2], recusals={}, scores=rows, candidates=candidates)
    assert {d["program_id"]: d["recommended"] for t in uncapped for d in t.designs} == {
        "busan-d2": 600,
        "gyeongnam-e7": 600,
        "seoul-d2": 0,
    }


@pytest.mark.parametrize(
    ("quorum", "n", "needed"), [("2/3", 6, 4), ("2/3", 5, 4), ("1/2", 5, 3), ("1", 3, 3), ("3/4", 0, 0)]
)
def test_ceil_fraction_is_exact(quorum, n, needed):
    assert ceil_fraction(Fraction(quorum), n) == needed


def test_no_eligible_member_never_meets_quorum():
    (t,) = tally_round(
        rules=_rules(),
        member_ids=[1],
        recusals={1: ["26"]},
        scores=_rows(10, {1: (90, 90)}),
        candidates=[Candidate(10, "26")],
    )
    assert t.eligible == 0 and t.quorum_required == 0 and not t.quorum_met and t.aggregate is None


# --------------------------------------------------------------------------- properties

REGIONS = ["11", "26", "27", "48", "50"]


@st.composite
def rounds(draw):
    member_ids = sorted(draw(st.sets(st.integers(1, 40), min_size=1, max_size=7)))
    regions = draw(st.lists(st.sampled_from(REGIONS), min_size=1, max_size=4, unique=True))
    candidates = [
        Candidate(100 + i, region, [_design(f"p-{region}", draw(st.integers(1, 400)))])
        for i, region in enumerate(regions)
    ]
    recusals = {mid: draw(st.sets(st.sampled_from(REGIONS), max_size=2)) for mid in member_ids}
    rows = []
    for c in candidates:
        for mid in [*member_ids, 99]:  # 99 is not on the committee
            for crit in draw(st.sets(st.sampled_from(["need", "plan"]))):
                rows.append((c.proposal_id, mid, crit, draw(st.integers(0, 100))))
    rules = _rules(
        quorum=draw(st.sampled_from([Fraction(1, 2), Fraction(2, 3), Fraction(3, 4), Fraction(1)])),
        trim=draw(st.booleans()),
        threshold=float(draw(st.integers(0, 100))),
        max_selected=draw(st.none() | st.integers(1, 3)),
        quota_ceiling=draw(st.none() | st.integers(0, 800)),
    )
    return {"rules": rules, "member_ids": member_ids, "recusals": recusals, "scores": rows, "candidates": candidates}


@settings(max_examples=150, deadline=None)
@given(rounds())
def test_recusal_never_lets_a_member_count_for_their_region(case):
    for t in tally_round(**case):
        barred = {mid for mid in case["member_ids"] if t.region in case["recusals"][mid]}
        assert t.recused == [mid for mid in case["member_ids"] if mid in barred]
        counted = set(t.scorers) | set(t.matrix) | set(t.member_totals) | set(t.trimmed)
        assert counted <= set(case["member_ids"]) - barred
        assert t.eligible == len(case["member_ids"]) - len(barred)
        assert t.quorum_met == (t.eligible > 0 and len(t.scorers) >= ceil_fraction(case["rules"].quorum, t.eligible))
        assert (t.rank is not None) == t.quorum_met
        if t.aggregate is not None:
            assert 0 <= t.aggregate <= 100


@settings(max_examples=150, deadline=None)
@given(rounds(), st.randoms(use_true_random=False))
def test_the_tally_does_not_depend_on_the_order_of_the_score_rows(case, rng):
    shuffled = list(case["scores"])
    rng.shuffle(shuffled)
    first = tally_round(**case)
    second = tally_round(**(case | {"scores": shuffled}))
    assert [t.as_dict() for t in first] == [t.as_dict() for t in second]
    assert [t.matrix for t in first] == [t.matrix for t in second]


@settings(max_examples=100, deadline=None)
@given(rounds())
def test_selection_respects_the_threshold_the_maximum_and_the_ceiling(case):
    rules = case["rules"]
    tallies = tally_round(**case)
    selected = [t for t in tallies if t.recommended]
    assert all(t.quorum_met and t.aggregate >= rules.threshold - 1e-9 for t in selected)
    if rules.max_selected is not None:
        assert len(selected) <= rules.max_selected
    granted = sum(d["recommended"] for t in tallies for d in t.designs)
    assert all(d["recommended"] == 0 for t in tallies if not t.recommended for d in t.designs)
    if rules.quota_ceiling is not None and selected:
        assert granted <= rules.quota_ceiling
