"""Expert case files (tests/programs/cases/<id>.yaml), one per pilot design, run through BOTH evaluators.

A case file names the programme, the reference date, the relaxed parameters the design sets (checked
against the design as loaded), a base applicant who meets every criterion, and cases that each change
a few fields and state the expected outcome, failed criteria and (optionally) missing fields and
points. A case tagged `boundary: <parameter>` sits at a threshold: every numeric parameter a criterion
reads must have boundary cases on both sides (one eligible, one failing).

The scalar path reads each applicant as JSON would give it (coerced per field); the batch path reads
the whole file's applicants as text cells, as from a CSV, through `parse_applicants` and `screen`.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path

import polars as pl
import pytest

from regionvisa.config import PROJECT_ROOT
from regionvisa.policyfiles import read_yaml
from regionvisa.programs.files import LoadedProgram, load_program_file, program_files
from regionvisa.rules import check_program, criterion_column, evaluate, explain, parse_applicants, screen
from regionvisa.rules.schema import params_read

CASES = Path(__file__).parent / "cases"
POLICY = PROJECT_ROOT / "policy"
CASE_KEYS = {"id", "applicant", "outcome", "failed", "missing", "points", "boundary", "note"}


def _cell(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


@cache
def programmes() -> dict[str, LoadedProgram]:
    return {lp.id: lp for lp in map(load_program_file, program_files(POLICY))}


@cache
def case_file(name: str) -> dict:
    data = read_yaml(CASES / name)
    assert set(data) <= {"program", "reference_date", "parameters", "base", "cases"}, f"{name}: unknown keys"
    return data


def applicants(data: dict) -> list[dict]:
    return [{**data["base"], **(c.get("applicant") or {}), "applicant_id": c["id"]} for c in data["cases"]]


@cache
def batch(name: str) -> pl.DataFrame:
    """The file's applicants screened at once, read as text cells like a CSV."""
    data = case_file(name)
    rows = applicants(data)
    columns = sorted({k for r in rows for k in r})
    raw = pl.DataFrame({c: [_cell(r.get(c)) for r in rows] for c in columns}, schema=dict.fromkeys(columns, pl.String))
    parsed = parse_applicants(raw)
    assert parsed.ok, [str(p) for p in parsed.problems]
    program = check_program(programmes()[data["program"]].rules)
    return screen(program, parsed.frame, on=data["reference_date"])


FILES = sorted(p.name for p in CASES.glob("*.yaml"))
ALL_CASES = [(name, i) for name in FILES for i in range(len(case_file(name)["cases"]))]


def test_every_programme_file_has_a_case_file_with_at_least_eight_cases():
    assert sorted(f"{pid}.yaml" for pid in programmes()) == FILES
    for name in FILES:
        data = case_file(name)
        assert data["program"] == name.removesuffix(".yaml")
        cases = data["cases"]
        assert len(cases) >= 8, name
        assert len({c["id"] for c in cases}) == len(cases), f"{name}: duplicate case ids"
        assert any(c["outcome"] == "incomplete" and c.get("missing") for c in cases), f"{name}: no missing-data case"
        for c in cases:
            assert set(c) <= CASE_KEYS and {"id", "outcome", "failed"} <= set(c), (name, c)


@pytest.mark.parametrize("name", FILES)
def test_relaxed_parameters_are_the_designs_and_have_boundary_cases(name):
    data = case_file(name)
    loaded = programmes()[data["program"]]
    in_force = loaded.rules.resolve_parameters(data["reference_date"])
    for param, value in (data.get("parameters") or {}).items():
        assert in_force[param] is not None and in_force[param][0] == value, (param, in_force.get(param))
    read = {p for c in check_program(loaded.rules).criteria for p in params_read(c.node)}
    for param, value in (data.get("parameters") or {}).items():
        if param not in read or not isinstance(value, int | float) or isinstance(value, bool):
            continue  # a relaxation that is not an eligibility threshold (hours, length of stay …)
        tagged = [c for c in data["cases"] if c.get("boundary") == param]
        assert any(c["outcome"] == "eligible" for c in tagged), f"{name}: no eligible case at {param}"
        assert any(c["outcome"] == "ineligible" for c in tagged), f"{name}: no failing case beyond {param}"


@pytest.mark.parametrize(("name", "index"), ALL_CASES, ids=[f"{n.removesuffix('.yaml')}:{i}" for n, i in ALL_CASES])
def test_case_with_both_evaluators(name, index):
    data = case_file(name)
    case = data["cases"][index]
    applicant = applicants(data)[index]
    program = check_program(programmes()[data["program"]].rules)
    on = data["reference_date"]
    failed = list(case["failed"])

    told = explain(program, applicant, on=on)  # scalar, reading the applicant as JSON would give it
    assert told.problems == [], told.problems
    assert (told.outcome, told.failed) == (case["outcome"], failed), case["id"]
    if "missing" in case:
        assert told.missing == case["missing"], case["id"]
    if "points" in case:
        assert told.points == case["points"], case["id"]
    scalar = evaluate(program, {k: v for k, v in applicant.items()}, on=on)
    assert (scalar.outcome, scalar.failed, scalar.missing) == (told.outcome, told.failed, told.missing)

    row = batch(name).row(index, named=True)  # batch, the whole file at once
    assert row["applicant_id"] == case["id"]
    assert (row["outcome"], row["failed"]) == (case["outcome"], ";".join(failed)), case["id"]
    assert row["missing"] == ";".join(told.missing) and row["points"] == told.points
    for c in told.criteria:
        want = {"pass": True, "fail": False, "missing": None}[c.result]
        assert row[criterion_column(c.id)] is want, (case["id"], c.id)
