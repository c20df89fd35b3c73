"""Static validation (DESIGN §4.2): every kind of error is found before anything runs, with its key path
and what was expected; well-formed rules give no error and evaluation never raises."""

from __future__ import annotations

import datetime as dt

import pytest

from regionvisa.rules import (
    Criterion,
    PointsRule,
    RuleProgram,
    RuleValidationError,
    catalogue_json,
    check_program,
    evaluate,
    validate_program,
    validate_rule,
)
from regionvisa.rules.fields import FIELDS

PARAMS = {
    "topik_min": {dt.date(2025, 1, 1): 3},
    "codes": {dt.date(2025, 1, 1): ["2211", "2212"]},
    "national.min_wage_hourly_krw": {dt.date(2025, 1, 1): 10_030},
}


def errors(rule, **kw) -> list[tuple[str, str]]:
    return [(e.path, e.message) for e in validate_rule(rule, params=PARAMS, **kw)]


def only(rule) -> tuple[str, str]:
    found = errors(rule)
    assert len(found) == 1, found
    return found[0]


# ------------------------------------------------------------------------------------ each error kind


def test_unknown_operator_names_path_and_the_closed_set():
    path, msg = only({"all": [{"~=": [{"var": "topik_level"}, 3]}]})
    assert path == "rule.all[0].~="
    assert "unknown operator '~='" in msg and "expected one of" in msg and "between" in msg


def test_unknown_field_suggests_the_nearest_catalogue_field():
    path, msg = only({">=": [{"var": "topik_lvl"}, 3]})
    assert path == "rule.>=[0].var"
    assert "unknown field 'topik_lvl'" in msg and "did you mean 'topik_level'" in msg


def test_unknown_parameter_lists_the_known_ones():
    path, msg = only({">=": [{"var": "topik_level"}, {"param": "topik_max"}]})
    assert path == "rule.>=[1].param"
    assert "unknown parameter 'topik_max'" in msg and "topik_min" in msg


def test_unknown_national_parameter():
    path, msg = only({">=": [{"var": "annual_wage_krw"}, {"param": "national.min_wage_annual"}]})
    assert path == "rule.>=[1].param" and "unknown parameter 'national.min_wage_annual'" in msg


@pytest.mark.parametrize(
    ("rule", "path", "words"),
    [
        ({">=": [{"var": "topik_level"}, "3"]}, "rule.>=", ["integer field topik_level", "string '3'", "one type"]),
        ({"==": [{"var": "nationality"}, 3]}, "rule.==", ["string field nationality", "integer 3"]),
        ({"==": [{"var": "entry_ban"}, 0]}, "rule.==", ["boolean field entry_ban", "integer 0"]),
        (
            {">=": [{"var": "birth_date"}, "2000-01-01"]},
            "rule.>=",
            ["date field birth_date", "string", '{date: "YYYY-MM-DD"}'],
        ),
        (
            {"in": [{"var": "nationality"}, [1, 2]]},
            "rule.in",
            ["string field nationality", "list of integer", "expected a list of string"],
        ),
        ({"<": [{"var": "course_type"}, "degree"]}, "rule.<", ["ordered enum", "use == or in"]),
        ({">=": [{"var": "bank_balance_krw"}, {"param": "codes"}]}, "rule.>=", ["cannot order lists", "use `in`"]),
    ],
)
def test_type_errors_string_number_boolean_date(rule, path, words):
    got_path, msg = only(rule)
    assert got_path == path
    for w in words:
        assert w in msg


@pytest.mark.parametrize(
    ("rule", "path"),
    [
        ({">=": [{"years_since": {"var": "topik_level"}}, 3]}, "rule.>=[0].years_since"),
        ({">=": [{"years_since": 2001}, 3]}, "rule.>=[0].years_since"),
        (
            {"<=": [{"days_between": [{"var": "birth_date"}, {"var": "experience_years"}]}, 3]},
            "rule.<=[0].days_between[1]",
        ),
    ],
)
def test_date_arithmetic_on_a_number(rule, path):
    got_path, msg = only(rule)
    assert got_path == path
    assert "needs date" in msg and "date arithmetic on a number is not allowed" in msg


def test_arithmetic_on_a_date_points_to_the_time_operators():
    found = errors({">=": [{"-": [{"today": True}, {"var": "birth_date"}]}, 18]})
    assert [p for p, _ in found] == ["rule.>=[0].-[0]", "rule.>=[0].-[1]"]
    assert all("needs number" in m and "use days_between or years_since" in m for _, m in found)


def test_min_max_do_not_mix_dates_and_numbers():
    path, msg = only({">=": [{"min": [{"var": "topik_level"}, {"var": "birth_date"}]}, 3]})
    assert path == "rule.>=[0].min[1].var" and "do not mix dates and numbers" in msg


@pytest.mark.parametrize(
    ("rule", "path", "expected"),
    [
        ({">=": [{"var": "topik_level"}]}, "rule.>=", ">= expects 2 operand(s), got 1"),
        ({"==": [1, 2, 3]}, "rule.==", "== expects 2 operand(s), got 3"),
        ({"between": [{"var": "topik_level"}, 1]}, "rule.between", "between expects 3 operand(s), got 2"),
        ({"not": [True, False]}, "rule.not", "not expects 1 operand(s), got 2"),
        ({"if": [True, True]}, "rule.if", "if expects 3 operand(s), got 2"),
        ({"all": []}, "rule.all", "all expects 1+ operand(s), got 0"),
        ({"/": [{"var": "topik_level"}]}, "rule./", "/ expects 2 operand(s), got 1"),
        ({"in": [{"var": "topik_level"}]}, "rule.in", "in expects 2 operand(s), got 1"),
        ({">=": {"var": "topik_level"}}, "rule.>=", ">= expects a list of 2 operands"),
    ],
)
def test_wrong_arity(rule, path, expected):
    got_path, msg = only(rule)
    assert got_path == path
    assert expected in msg


def test_value_operator_shapes():
    assert only({"date": "2025-02-30"}) == ("rule.date", "invalid date '2025-02-30'; expected \"YYYY-MM-DD\"")
    assert only({"today": 1})[1] == "today expects true ({today: true})"
    assert "exactly one key" in only({"==": [{"var": "entry_ban"}, False], "extra": 1})[1]
    assert "null is not a rule value" in only({"==": [{"var": "entry_ban"}, None]})[1]
    path, msg = only({"==": [[1], 1]})
    assert path == "rule.==[0]" and "a list is only allowed as the second operand of `in`" in msg


def test_enum_values_are_checked_in_literals_lists_and_parameters():
    path, msg = only({"==": [{"var": "education_level"}, "phd"]})
    assert path == "rule.==[1]" and "'phd' is not a value of education_level" in msg and "bachelor" in msg
    path, msg = only({"in": [{"var": "e7_subtype"}, ["E-7-1", "E-7-9"]]})
    assert path == "rule.in[1]" and "'E-7-9'" in msg
    bad_param = {"edu": {dt.date(2025, 1, 1): "bachelors"}}
    found = validate_rule({">=": [{"var": "education_level"}, {"param": "edu"}]}, params=bad_param)
    assert [e.path for e in found] == ["rule.>=[1].param"] and "'bachelors'" in found[0].message


def test_a_criterion_must_be_boolean():
    path, msg = only({"+": [{"var": "topik_level"}, 1]})
    assert path == "rule" and "a rule must give boolean" in msg
    path, msg = only({"all": [{"var": "topik_level"}]})
    assert path == "rule.all[0]" and "all needs boolean" in msg


def test_every_error_is_reported_not_only_the_first():
    rule = {"all": [{">=": [{"var": "nope"}, 1]}, {"~": 1}, {"==": [{"var": "topik_level"}, "x"]}]}
    assert [p for p, _ in errors(rule)] == ["rule.all[0].>=[0].var", "rule.all[1].~", "rule.all[2].=="]


def test_every_error_has_a_korean_message():
    for e in validate_rule({"all": [{">=": [{"var": "nope"}, 1]}, {"~": 1}, {">=": [1]}]}, params=PARAMS):
        assert e.message_ko and e.to_dict()["message"]["ko"] == e.message_ko


# ------------------------------------------------------------------------------------------ programmes


def test_programme_errors_carry_criterion_and_points_paths():
    program = RuleProgram(
        id="p",
        criteria=[
            Criterion(id="ok", rule={">=": [{"var": "topik_level"}, {"param": "topik_min"}]}),
            Criterion(id="ok", rule={">=": [{"var": "topik_level"}, {"param": "nope"}]}),
        ],
        points=[PointsRule(id="p1", when={">=": [{"var": "kiip_level"}, "3"]}, points=5)],
        parameters={"topik_min": {dt.date(2025, 1, 1): 3}},
    )
    found = [(e.path, e.message) for e in validate_program(program)]
    assert [p for p, _ in found] == ["criteria[1].id", "criteria[1].rule.>=[1].param", "points[0].when.>="]
    assert "duplicate criterion id 'ok'" in found[0][1]
    with pytest.raises(RuleValidationError) as info:
        check_program(program)
    assert len(info.value.errors) == 3


def test_parameters_whose_type_changes_over_time_are_an_error():
    program = RuleProgram(
        id="p",
        criteria=[Criterion(id="c", rule={">=": [{"var": "topik_level"}, {"param": "t"}]})],
        parameters={"t": {dt.date(2025, 1, 1): 3, dt.date(2026, 1, 1): "four"}},
    )
    found = validate_program(program)
    assert [e.path for e in found] == ["parameters.t"]
    assert "different types over time" in found[0].message


def test_a_valid_programme_evaluates_without_raising_even_on_garbage_values():
    program = RuleProgram(
        id="p",
        criteria=[
            Criterion(id="age", rule={"<=": [{"years_since": {"var": "birth_date"}}, 35]}),
            Criterion(id="ratio", rule={"<=": [{"/": [{"var": "annual_wage_krw"}, {"var": "topik_level"}]}, 1e7]}),
        ],
    )
    assert validate_program(program) == []
    got = evaluate(
        program, {"birth_date": "not a date", "annual_wage_krw": 30_000_000, "topik_level": 0}, on=dt.date(2025, 6, 1)
    )
    assert got.results == {"age": None, "ratio": None}  # bad date and division by zero are unknown
    assert got.outcome == "incomplete" and got.missing == ["birth_date"]


# ------------------------------------------------------------------------------------------- catalogue


def test_catalogue_declares_types_units_enum_order_and_labels_once():
    data = catalogue_json()
    fields = {f["name"]: f for f in data["fields"]}
    for name in (
        "applicant_id",
        "nationality",
        "birth_date",
        "passport_valid_until",
        "entry_ban",
        "criminal_record",
        "prior_illegal_stay",
        "education_level",
        "course_type",
        "university_region",
        "employer_region",
        "intended_residence",
        "topik_level",
        "kiip_level",
        "bank_balance_krw",
        "annual_wage_krw",
        "occupation_code",
        "e7_subtype",
        "experience_years",
        "employer_foreign_ratio",
        "korean_test_passed",
        "skills_test_passed",
    ):
        assert name in fields, name
        assert fields[name]["label"]["ko"] and fields[name]["label"]["en"]
    edu = fields["education_level"]
    assert edu["values"] == ["none", "high_school", "associate", "bachelor", "master", "doctorate"]
    assert edu["ordered"] is True
    assert fields["course_type"]["ordered"] is False
    assert fields["bank_balance_krw"]["unit"] == "KRW" and fields["bank_balance_krw"]["type"] == "integer"
    assert (fields["topik_level"]["minimum"], fields["topik_level"]["maximum"]) == (0, 6)
    assert (fields["kiip_level"]["minimum"], fields["kiip_level"]["maximum"]) == (0, 5)
    assert fields["birth_date"]["type"] == "date"
    assert fields["e7_subtype"]["values"] == ["E-7-1", "E-7-2", "E-7-3", "E-7-4"]
    assert {o["op"] for o in data["operators"]} >= {"==", "between", "in", "all", "years_since", "days_between"}
    assert len(data["fields"]) == len(FIELDS)
