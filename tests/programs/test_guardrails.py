"""National guardrails (issue 4 requirement 3, DESIGN §4.1): fixed criteria cannot be removed, bounded
parameters stay within their bounds on every day in force, closed lists can only be narrowed, and shape
rules hold. Every breach reads `file:key.path: message` and names the bound and its reference."""

from __future__ import annotations

import copy
import datetime as dt
import re

import pytest
import yaml

from regionvisa.config import PROJECT_ROOT
from regionvisa.policyfiles import PolicyError, read_yaml, reference_contract, reference_text
from regionvisa.programs.files import load_program_file, parse_design, program_files
from regionvisa.programs.guardrails import REQUIRED_FIXED, guardrails, load_guardrails, national_list

POLICY = PROJECT_ROOT / "policy"
GUARDRAILS = POLICY / "national" / "guardrails.yaml"
RAILS = read_yaml(GUARDRAILS)
BUSAN = read_yaml(POLICY / "programs" / "26" / "busan-d2.yaml")
GYEONGGI = read_yaml(POLICY / "programs" / "41" / "gyeonggi-e7.yaml")
LINE = re.compile(r"^(?P<file>[^:]+):(?P<path>[^:\s]+): (?P<message>.+)$")


def problems(design: dict, source: str = "design.yaml") -> list[str]:
    with pytest.raises(PolicyError) as info:
        parse_design(design, source)
    for line in info.value.errors:
        assert LINE.match(line), line  # every error has the file:key.path: message shape
    return info.value.errors


def one(design: dict, path: str) -> str:
    """The single error at `path` (other errors may exist elsewhere); returns its message."""
    found = [e for e in problems(design) if e.startswith(f"design.yaml:{path}: ")]
    assert len(found) == 1, problems(design)
    return found[0].split(": ", 1)[1]


def with_params(base: dict, **values) -> dict:
    design = copy.deepcopy(base)
    for name, dated in values.items():
        design["parameters"][name] = dated
    return design


def rails_file(tmp_path, change) -> str:
    data = copy.deepcopy(RAILS)
    change(data)
    path = tmp_path / "guardrails.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def rails_problems(tmp_path, change) -> list[str]:
    path = rails_file(tmp_path, change)
    with pytest.raises(PolicyError) as info:
        load_guardrails(path)
    assert all(e.startswith(f"{path}:") for e in info.value.errors), info.value.errors
    return [e.removeprefix(f"{path}:") for e in info.value.errors]


# ------------------------------------------------------------------------------------ fixed criteria

FIXED = [(visa, cid) for visa in ("D-2", "E-7") for cid in REQUIRED_FIXED]


def test_the_real_guardrails_load_and_every_guardrail_has_a_reference():
    rails = load_guardrails(GUARDRAILS)
    for visa in ("D-2", "E-7"):
        base = rails.base_visas[visa]
        assert [c.id for c in base.fixed_criteria][:4] == list(REQUIRED_FIXED)
        refs = [c.reference for c in base.fixed_criteria]
        refs += [b.reference for b in base.bounded_parameters.values()]
        refs += [c.reference for c in base.closed_lists.values()] + [s.reference for s in base.shape_rules]
        assert all(reference_text(r, lang).strip() for r in refs for lang in ("ko", "en"))


@pytest.mark.parametrize(("visa", "cid"), FIXED)
def test_fixed_criterion_applies_to_every_programme_first(visa, cid):
    loaded = [load_program_file(p) for p in program_files(POLICY)]
    of_visa = [lp for lp in loaded if lp.spec.base_visa == visa]
    assert of_visa
    fixed = [c.id for c in guardrails().base_visas[visa].fixed_criteria]
    for lp in of_visa:
        ids = [c.id for c in lp.rules.criteria]
        assert ids[: len(fixed)] == fixed and cid in ids


@pytest.mark.parametrize(("visa", "cid"), FIXED)
def test_fixed_criterion_cannot_be_redefined_by_a_programme(visa, cid):
    design = copy.deepcopy(BUSAN if visa == "D-2" else GYEONGGI)
    design["criteria"][0] = {
        "id": cid,
        "label": {"ko": "완화", "en": "Relaxed"},
        "reference": "region",
        "rule": {"==": [{"var": "entry_ban"}, {"var": "entry_ban"}]},
    }
    msg = one(design, "criteria[0].id")
    reference = next(
        reference_contract(c.reference) for c in guardrails().base_visas[visa].fixed_criteria if c.id == cid
    )
    assert f"{cid!r} is a fixed national criterion of {visa}" in msg and "cannot be redefined or removed" in msg
    assert reference in msg


@pytest.mark.parametrize(("visa", "cid"), FIXED)
def test_fixed_criterion_cannot_be_removed_from_the_guardrails(tmp_path, visa, cid):
    def drop(data):
        crits = data["base_visas"][visa]["fixed_criteria"]
        data["base_visas"][visa]["fixed_criteria"] = [c for c in crits if c["id"] != cid]

    assert rails_problems(tmp_path, drop) == [
        f"base_visas.{visa}.fixed_criteria: the fixed criterion {cid!r} is required for every base visa"
    ]


def test_a_programme_has_no_key_to_drop_a_fixed_criterion():
    design = copy.deepcopy(BUSAN)
    design["remove_criteria"] = ["no-entry-ban"]
    assert one(design, "remove_criteria").startswith("Extra inputs are not permitted")


# -------------------------------------------------------------------------------- bounded parameters


def test_e7_wage_floor_at_least_the_annual_minimum_wage_of_each_year():
    min_2025, min_2026 = 10_030 * 209 * 12, 10_320 * 209 * 12
    assert (min_2025, min_2026) == (25_155_240, 25_882_560)
    ok = with_params(GYEONGGI, annual_wage_floor_krw={"2025-04-02": min_2025, "2026-01-01": min_2026})
    assert parse_design(ok).id == "gyeonggi-e7"
    # the 2025 minimum is no longer enough once the 2026 minimum wage is in force
    msg = one(
        with_params(GYEONGGI, annual_wage_floor_krw={"2025-04-02": min_2025}),
        "parameters.annual_wage_floor_krw.2025-04-02",
    )
    assert "25,155,240 KRW/year is below the national lower bound 25,882,560" in msg
    assert "national.min_wage_annual_krw, in force on 2026-01-01" in msg
    assert "Minimum Wage Act art. 6" in msg
    msg = one(
        with_params(GYEONGGI, annual_wage_floor_krw={"2025-04-02": min_2025 - 1, "2026-01-01": min_2026}),
        "parameters.annual_wage_floor_krw.2025-04-02",
    )
    assert "below the national lower bound 25,155,240" in msg and "in force on 2025-04-02" in msg
    msg = one(
        with_params(GYEONGGI, annual_wage_floor_krw={"2025-04-02": min_2025, "2026-01-01": min_2026 - 1}),
        "parameters.annual_wage_floor_krw.2026-01-01",
    )
    assert "below the national lower bound 25,882,560" in msg


def test_d2_financial_proof_has_a_lower_bound():
    assert parse_design(with_params(BUSAN, bank_balance_krw={"2025-04-02": 8_000_000})).id == "busan-d2"
    msg = one(with_params(BUSAN, bank_balance_krw={"2025-04-02": 7_999_999}), "parameters.bank_balance_krw.2025-04-02")
    assert "7,999,999 KRW is below the national lower bound 8,000,000" in msg
    assert "no less than 8,000,000 KRW" in msg  # the reference of the bound


def test_d2_part_time_hours_at_most_30():
    assert parse_design(with_params(BUSAN, part_time_hours_per_week={"2025-04-02": 30})).id == "busan-d2"
    msg = one(
        with_params(BUSAN, part_time_hours_per_week={"2025-04-02": 31}),
        "parameters.part_time_hours_per_week.2025-04-02",
    )
    assert "31 hours/week is above the national upper bound 30" in msg
    assert "national.d2_part_time_hours_max" in msg and "pilot upper bound 30 hours a week" in msg


def test_a_bounded_parameter_must_be_a_number():
    msg = one(with_params(BUSAN, bank_balance_krw={"2025-04-02": "8M"}), "parameters.bank_balance_krw.2025-04-02")
    assert msg == "expected a number in KRW, got '8M'"


def test_omitted_bounded_parameters_take_the_national_value():
    design = copy.deepcopy(BUSAN)
    design["parameters"].pop("bank_balance_krw")
    loaded = parse_design(design)
    assert loaded.rules.parameters["bank_balance_krw"] == {dt.date(2024, 1, 1): 16_000_000}
    assert loaded.defaults_taken["bank_balance_krw"] == "national.d2_bank_balance_krw"


def test_a_parameter_must_be_in_force_from_valid_from():
    msg = one(with_params(BUSAN, topik_min={"2025-05-01": 3}), "parameters.topik_min")
    assert msg == "no value in force from valid_from 2025-04-02; the first value starts on 2025-05-01"


# ------------------------------------------------------------------------------------- closed lists


def test_e7_occupations_may_only_narrow_the_national_list():
    national = national_list(guardrails().base_visas["E-7"].closed_lists["occupations"])
    assert "42111" in national and "7430" in national  # E-7-2 and E-7-3 are on it
    assert parse_design(with_params(GYEONGGI, occupations={"2025-04-02": ["2211"]})).id == "gyeonggi-e7"
    msg = one(
        with_params(GYEONGGI, occupations={"2025-04-02": ["2211", "9999", "0000"]}), "parameters.occupations.2025-04-02"
    )
    assert msg.startswith("9999, 0000 not in the national E-7-1/E-7-2/E-7-3 list; a region may only narrow it")
    assert "MOJ E-7 (professional work) guidelines, annex" in msg
    msg = one(with_params(GYEONGGI, occupations={"2025-04-02": "2211"}), "parameters.occupations.2025-04-02")
    assert msg == "expected a list of occupation codes (strings)"


# -------------------------------------------------------------------------------------- shape rules


def _crit(rule) -> dict:
    return {"id": "widened", "label": {"ko": "확대", "en": "Widened"}, "reference": "region", "rule": rule}


def test_d2_course_must_stay_a_degree_course():
    design = copy.deepcopy(BUSAN)
    design["criteria"].append(_crit({"in": [{"var": "course_type"}, ["degree", "language"]]}))
    msg = one(design, "criteria[4].rule.in[1][1]")
    assert "'language' is outside the D-2 shape rule 'degree-course'" in msg
    assert "course_type may only be degree" in msg and "D-2 must remain a full-time degree course" in msg
    design["criteria"][4] = _crit({"any": [{"==": [{"var": "course_type"}, "exchange"]}, True]})
    assert "'exchange' is outside" in one(design, "criteria[4].rule.any[0].==[1]")
    design["criteria"][4] = _crit({"in": [{"var": "course_type"}, {"param": "courses"}]})
    design["parameters"]["courses"] = {"2025-04-02": ["degree", "exchange"]}
    assert "'exchange' is outside" in one(design, "parameters.courses.2025-04-02")
    design["criteria"][4] = _crit({"==": [{"var": "course_type"}, "degree"]})  # restating the shape is fine
    assert parse_design(design).id == "busan-d2"


def test_e7_sub_type_stays_within_e7_1_to_e7_3():
    design = copy.deepcopy(GYEONGGI)
    design["criteria"][2]["rule"] = {"in": [{"var": "e7_subtype"}, ["E-7-1", "E-7-4"]]}
    msg = one(design, "criteria[2].rule.in[1][1]")
    assert "'E-7-4' is outside the E-7 shape rule 'e7-subtypes'" in msg and "E-7-4 is points-based" in msg


# -------------------------------------------------------------------------------- the guardrails file


def test_guardrails_file_needs_every_bound_and_list(tmp_path):
    def strip(data):
        del data["base_visas"]["D-2"]["bounded_parameters"]["bank_balance_krw"]["min"]
        del data["base_visas"]["D-2"]["bounded_parameters"]["part_time_hours_per_week"]
        data["base_visas"]["E-7"]["closed_lists"] = {}
        data["base_visas"]["D-2"]["shape_rules"] = []

    assert rails_problems(tmp_path, strip) == [
        "base_visas.D-2.bounded_parameters.bank_balance_krw.min: bank_balance_krw needs its min bound",
        "base_visas.D-2.bounded_parameters: the bounded parameter 'part_time_hours_per_week' is required for D-2",
        "base_visas.D-2.shape_rules: a shape rule on course_type is required for D-2",
        "base_visas.E-7.closed_lists: the closed list 'occupations' is required for E-7",
    ]


def test_guardrails_file_is_strict_about_keys_references_and_rules(tmp_path):
    def breaks(data):
        data["base_visas"]["D-2"]["fixed_criteria"][1]["reference"] = ""
        data["base_visas"]["E-7"]["bounded_parameters"]["annual_wage_floor_krw"]["maximum"] = 1

    got = rails_problems(tmp_path, breaks)
    assert any(e.startswith("base_visas.D-2.fixed_criteria[1].reference: ") for e in got)
    assert any(e.startswith("base_visas.E-7.bounded_parameters.annual_wage_floor_krw.maximum: ") for e in got)

    def bad_rule(data):
        data["base_visas"]["D-2"]["fixed_criteria"][0]["rule"] = {">=": [{"var": "passport_valid"}, {"today": True}]}
        data["base_visas"]["D-2"]["shape_rules"][0]["allowed"] = ["degree", "phd"]

    got = rails_problems(tmp_path, bad_rule)
    assert got[0].startswith("base_visas.D-2.shape_rules: the course_type shape rule may allow only degree, not phd")

    # with the shape rule valid again, the rule error is reported at its key path
    def bad_rule_only(data):
        data["base_visas"]["D-2"]["fixed_criteria"][0]["rule"] = {">=": [{"var": "passport_valid"}, {"today": True}]}

    got = rails_problems(tmp_path, bad_rule_only)
    assert got == [
        "base_visas.D-2.fixed_criteria[0].rule.>=[0].var: unknown field 'passport_valid' "
        "(did you mean 'passport_valid_until'?); see the applicant field catalogue"
    ]


def test_the_pilot_quotas_match_the_reported_figures():
    quotas = {lp.id: lp.spec.quota for lp in map(load_program_file, program_files(POLICY))}
    reported = {
        "busan-d2": 1000,
        "chungbuk-d2": 830,
        "gangwon-d2": 770,
        "jeonbuk-d2": 670,
        "chungnam-d2": 250,
        "incheon-d2": 60,
        "gwangju-d2": 60,
        "gyeonggi-e7": 630,
        "gyeongbuk-e7": 350,
        "daegu-e7": 100,
        "gyeongnam-e7": 670,
        "ulsan-e7": 440,
    }
    assert {k: quotas[k] for k in reported} == reported
    d2 = [k for k in quotas if k.endswith("-d2")]
    assert len(d2) == 10 and sum(quotas[k] for k in d2) == 4420  # 10 D-2 designs, 4,420 places
