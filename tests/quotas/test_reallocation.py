"""Mid-year reallocation, pure (`quotas.reallocation`): the rule file read strictly and dated, the
projection from the pace so far, the pool and its grants, and the invariants (Hypothesis)."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from pathlib import Path

import polars as pl
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from regionvisa.applications.models import STATUSES
from regionvisa.policyfiles import PolicyError
from regionvisa.quotas.apportion import apportion
from regionvisa.quotas.reallocation import INPUT_SCHEMA, PARAMETERS, Rule, load_rules, propose

POLICY = Path(__file__).parents[2] / "policy" / "quotas" / "reallocation.yaml"
YEAR_START, YEAR_END = dt.date(2025, 1, 1), dt.date(2025, 12, 31)
JULY = dt.date(2025, 7, 1)  # day 182 of 365


def rule(**changes) -> Rule:
    base = {
        "source": "test",
        "on": JULY,
        "release_share": Fraction(1, 2),
        "min_elapsed_days": 91,
        "method": "hamilton",
        "first_divisor": Fraction(7, 5),
        "queue_statuses": ("submitted", "screened"),
    }
    return Rule(**{**base, **changes})


def ledgers(*rows: tuple) -> pl.DataFrame:
    """(id, region, capacity, reserved, used, queue) ledgers of 2025, as they stand now too."""
    data = [
        {
            "ledger_id": i,
            "program_id": f"p{i}",
            "region": region,
            "period": "2025",
            "period_start": YEAR_START,
            "period_end": YEAR_END,
            "capacity": cap,
            "reserved": res,
            "used": used,
            "committed_now": res + used,
            "capacity_now": cap,
            "queue": queue,
        }
        for i, region, cap, res, used, queue in rows
    ]
    return pl.DataFrame(data, schema=INPUT_SCHEMA)


def by_id(proposal, column: str) -> dict[int, int]:
    return dict(zip(proposal.rows["ledger_id"], proposal.rows[column], strict=True))


def test_the_policy_file_reads_and_is_dated():
    rules = load_rules(POLICY)
    r = rules.on(JULY, statuses=STATUSES)
    assert (
        r.release_share == Fraction(1, 2) and r.method == "hamilton" and r.queue_statuses == ("submitted", "screened")
    )
    with pytest.raises(PolicyError, match=r"reallocation.yaml:parameters.release_share.values: no value in force"):
        rules.on(dt.date(2024, 12, 31), statuses=STATUSES)


def _write(tmp_path, data) -> Path:
    path = tmp_path / "rule.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _policy() -> dict:
    return yaml.safe_load(POLICY.read_text(encoding="utf-8"))


@pytest.mark.parametrize("left_out", PARAMETERS)
def test_the_loader_refuses_a_parameter_left_out(tmp_path, left_out):
    data = _policy()
    del data["parameters"][left_out]
    with pytest.raises(PolicyError) as info:
        load_rules(_write(tmp_path, data))
    assert f"rule.yaml:parameters.{left_out}: required" in str(info.value)


def test_the_loader_refuses_unknown_keys_and_bad_values(tmp_path):
    data = _policy()
    data["parameters"]["bonus"] = data["parameters"]["release_share"]
    with pytest.raises(PolicyError, match=r"parameters\.bonus: unknown parameter"):
        load_rules(_write(tmp_path, data))
    data = _policy()
    data["parameters"]["release_share"]["values"] = {dt.date(2025, 1, 1): 1.5}
    data["parameters"]["method"]["values"] = {dt.date(2025, 1, 1): "lottery"}
    data["parameters"]["queue_statuses"]["values"] = {dt.date(2025, 1, 1): ["waiting"]}
    with pytest.raises(PolicyError) as info:
        load_rules(_write(tmp_path, data)).on(JULY, statuses=STATUSES)
    text = str(info.value)
    assert "parameters.release_share.values: a share between 0 and 1, got 1.5" in text
    assert "parameters.method.values: one of hamilton" in text
    assert "parameters.queue_statuses.values: a non-empty list of application statuses" in text
    data = _policy()
    data["parameters"]["method"]["colour"] = "red"
    with pytest.raises(PolicyError, match=r"parameters\.method\.colour"):
        load_rules(_write(tmp_path, data))


def test_a_later_dated_value_takes_over(tmp_path):
    data = _policy()
    data["parameters"]["release_share"]["values"] = {dt.date(2025, 1, 1): 0.5, dt.date(2025, 6, 1): 0.25}
    rules = load_rules(_write(tmp_path, data))
    assert rules.on(dt.date(2025, 5, 31), statuses=STATUSES).release_share == Fraction(1, 2)
    assert rules.on(JULY, statuses=STATUSES).release_share == Fraction(1, 4)


def test_ulsan_releases_to_gwangju():
    # Ulsan: 44 of 440 used by 1 July (day 182 of 365) → projected ⌈44·365/182⌉ = 89, 351 unused, half = 175
    # offered. Gwangju: 57 of 60 used, a queue of 40 → demand 37, all granted; Ulsan gives only the 37.
    p = propose(ledgers((1, "31", 440, 10, 34, 5), (2, "29", 60, 5, 52, 40)), rule())
    assert by_id(p, "projected_use")[1] == 89 and by_id(p, "projected_unused")[1] == 351
    assert (p.pool, p.granted) == (175, 37)
    assert by_id(p, "adjustment") == {1: -37, 2: 37}
    assert "175 released at 0.5 of the unused, 37 of them taken" in p.rows["explanation_en"][0]
    assert "수요가 적어 37석만 회수" in p.rows["explanation_ko"][0]
    assert "queue 40 > remaining 3: demand 37, granted 37" in p.rows["explanation_en"][1]


def test_the_pool_is_shared_by_the_declared_method_when_demand_exceeds_it():
    # one donor releasing ⌊(100 − ⌈10·365/182⌉)/2⌋ = ⌊(100 − 21)/2⌋ = 39;
    # demand 30 and 20 → Hamilton 23.4, 15.6 → 23, 16
    rows = ((1, "31", 100, 0, 10, 0), (2, "29", 10, 0, 10, 30), (3, "26", 10, 0, 10, 20))
    p = propose(ledgers(*rows), rule())
    assert (p.pool, p.granted) == (39, 39)
    assert by_id(p, "grant") == {1: 0, 2: 23, 3: 16}
    for method in ("dhondt", "huntington-hill", "sainte-lague"):
        shared = apportion(
            [{"region": "29", "program": "p2", "requested": 30}, {"region": "26", "program": "p3", "requested": 20}],
            39,
            method=method,
        )
        grants = by_id(propose(ledgers(*rows), rule(method=method)), "grant")
        assert [grants[2], grants[3]] == [r["granted"] for r in shared]


def test_a_donor_keeps_its_own_queue_and_a_young_ledger_releases_nothing():
    # unused 79 → 39 offered, but its queue of 60 of the 90 remaining leaves only 30 to give
    p = propose(ledgers((1, "31", 100, 0, 10, 60), (2, "29", 10, 0, 10, 100)), rule())
    assert by_id(p, "release")[1] == 30
    young = propose(ledgers((1, "31", 100, 0, 10, 0), (2, "29", 10, 0, 10, 100)), rule(on=dt.date(2025, 3, 1)))
    assert by_id(young, "release")[1] == 0 and young.pool == 0
    assert "fewer than 91: nothing released" in young.rows["explanation_en"][0]


def test_the_ledger_as_it_stands_now_bounds_the_release():
    frame = ledgers((1, "31", 100, 0, 10, 0), (2, "29", 10, 0, 10, 100))
    # since the date, 80 more places were reserved: only 10 are free now
    frame = frame.with_columns(
        pl.when(pl.col("ledger_id") == 1).then(90).otherwise(pl.col("committed_now")).alias("committed_now")
    )
    assert by_id(propose(frame, rule()), "release")[1] == 10


def test_the_digest_names_the_adjustments():
    a = propose(ledgers((1, "31", 440, 10, 34, 5), (2, "29", 60, 5, 52, 40)), rule())
    b = propose(ledgers((1, "31", 440, 10, 34, 5), (2, "29", 60, 5, 52, 41)), rule())
    assert a.digest != b.digest
    assert a.digest == propose(ledgers((1, "31", 440, 10, 34, 5), (2, "29", 60, 5, 52, 40)), rule()).digest


LEDGER = st.tuples(st.integers(0, 500), st.integers(0, 100), st.integers(0, 100), st.integers(0, 300)).filter(
    lambda t: t[1] + t[2] <= t[0]
)


@settings(max_examples=120, deadline=None)
@given(
    st.lists(LEDGER, min_size=1, max_size=12),
    st.dates(YEAR_START, YEAR_END),
    st.sampled_from(["hamilton", "sainte-lague", "dhondt", "huntington-hill", "modified-sainte-lague"]),
    st.fractions(0, 1, max_denominator=20),
)
def test_invariants(items, on, method, share):
    frame = ledgers(*[(k + 1, f"{11 + k}", cap, res, used, q) for k, (cap, res, used, q) in enumerate(items)])
    p = propose(frame, rule(on=on, method=method, release_share=share))
    rows = p.rows
    assert int(rows["adjustment"].sum()) == 0  # the national total never changes
    assert (rows["capacity_after"] >= rows["use"]).all()  # never below what is reserved or used
    assert ((rows["release"] == 0) | (rows["grant"] == 0)).all()  # no ledger both gives and receives
    assert (rows["grant"] <= rows["demand"]).all()
    donors = rows.filter(pl.col("release") > 0)
    assert (donors["capacity_after"] - donors["use"] >= donors["queue"]).all()  # a donor's queue still fits
    assert p.granted <= p.pool and int(rows["release"].sum()) == p.granted
    if (on - YEAR_START).days + 1 < 91:
        assert p.pool == 0
