"""Screening a table: §4.4 columns, bad cells reported and treated as missing, ranking order and ties."""

from __future__ import annotations

import polars as pl

from regionvisa.programs import screening, service

HEADER = [
    "applicant_id",
    "nationality",
    "birth_date",
    "passport_valid_until",
    "entry_ban",
    "criminal_record",
    "prior_illegal_stay",
    "course_type",
    "university_region",
    "topik_level",
    "kiip_level",
    "bank_balance_krw",
    "education_level",
    "submitted_at",
]


def row(applicant_id, *, topik=3, kiip=0, bank=9_000_000, education="high_school", submitted="2025-05-01T09:00:00",
        birth="2000-01-01"):  # fmt: skip
    return [applicant_id, "VNM", birth, "2030-01-01", False, False, False, "degree", "26", topik, kiip, bank,
            education, submitted]  # fmt: skip


def screened(write_csv, rows, on):
    path = write_csv("applicants.csv", HEADER, rows)
    program = service.resolve(session=None, ref=str(service_file()))
    parsed = screening.read_applicants(path)
    return program, parsed, screening.screen_applicants(program, parsed, on=on)


def service_file():
    from regionvisa.config import PROJECT_ROOT

    return PROJECT_ROOT / "policy" / "programs" / "26" / "busan-d2.yaml"


def test_bad_cells_are_reported_with_line_field_value_reason_and_kept(write_csv, on):
    rows = [
        row("A1"),
        row("A2", bank="8.5 million", birth="2000-02-30"),
        row("A3", education="phd"),
    ]
    _program, _parsed, result = screened(write_csv, rows, on)
    assert result.table["applicant_id"].to_list() == ["A1", "A2", "A3"]  # nothing dropped, input order
    problems = [p.to_dict() for p in result.problems]
    assert [(p["line"], p["field"], p["value"]) for p in problems] == [
        (3, "birth_date", "2000-02-30"),
        (3, "bank_balance_krw", "8.5 million"),
        (4, "education_level", "phd"),
    ]
    assert problems[1]["reason"] == {"en": "not a whole number", "ko": "정수가 아님"}
    assert all(p["treated_as"] == "missing" for p in problems)
    a2 = result.table.row(1, named=True)
    assert a2["outcome"] == "incomplete"
    assert a2["c:financial-proof"] == "missing" and a2["c:age-limit"] == "missing"
    assert a2["missing"] == "bank_balance_krw;birth_date"
    assert result.table.row(2, named=True)["outcome"] == "eligible"  # education is only read by points
    assert result.summary() == {"applicants": 3, "eligible": 2, "ineligible": 0, "incomplete": 1, "bad_cells": 3}


def test_screen_columns_follow_the_contract(write_csv, on):
    program, _parsed, result = screened(write_csv, [row("A1"), row("A2", topik=2)], on)
    ids = [c.id for c in program.rules.criteria]
    assert ids[:5] == ["passport-valid", "no-entry-ban", "no-criminal-record", "no-illegal-stay-5y", "degree-course"]
    assert result.table.columns == ["applicant_id", "outcome", "points", "failed", "missing"] + [f"c:{i}" for i in ids]
    assert result.table["failed"].to_list() == ["", "korean-ability"]


def test_ranking_orders_by_points_then_submission_then_id(write_csv, on):
    rows = [
        row("C", topik=4, submitted="2025-05-02T10:00:00"),  # 10 points
        row("B", topik=4, submitted="2025-05-01T10:00:00"),  # 10 points, earlier
        row("A", topik=4, submitted="2025-05-02T10:00:00"),  # 10 points, same time as C: id decides
        row("D", topik=4, kiip=4, submitted="2025-05-09T10:00:00"),  # 20 points, late
        row("E", topik=2),  # ineligible: not ranked
        row("F", topik=4, submitted=""),  # 10 points, no submission time: after the others with 10
        row("G", topik=3, submitted="not a date"),  # 0 points, unreadable time
    ]
    _program, parsed, result = screened(write_csv, rows, on)
    ranked = screening.rank(result, parsed)
    assert ranked["applicant_id"].to_list() == ["D", "B", "A", "C", "F", "G"]
    assert ranked["rank"].to_list() == [1, 2, 3, 4, 5, 6]
    assert ranked["points"].to_list() == [20, 10, 10, 10, 10, 0]
    problems = screening.rank_problems(parsed)
    assert [(p["line"], p["value"]) for p in problems] == [(8, "not a date")]


def test_json_list_of_applicants_is_parsed_like_a_file(on):
    program = service.resolve(session=None, ref=str(service_file()))
    parsed = screening.applicants_from_records(
        [
            {"applicant_id": "J1", "topik_level": 3, "bank_balance_krw": 9_000_000, "entry_ban": False},
            {"applicant_id": "J2", "topik_level": "three", "bank_balance_krw": 9.5e6},
        ]
    )
    assert [(p.line, p.field, p.value) for p in parsed.problems] == [(2, "topik_level", "three")]
    result = screening.screen_applicants(program, parsed, on=on)
    assert result.table.height == 2
    assert result.table["c:financial-proof"].to_list() == ["pass", "pass"]
    assert result.table["c:korean-ability"].to_list() == ["pass", "missing"]
    assert isinstance(result.table, pl.DataFrame)
