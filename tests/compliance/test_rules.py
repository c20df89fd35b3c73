"""compliance.yaml is strict like every policy file, and its dated values apply by reference date."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import polars as pl
import pytest
import yaml

from regionvisa.compliance.rules import RULES, compliance_rules, load_compliance_rules
from regionvisa.compliance.service import programme_obligations
from regionvisa.config import PROJECT_ROOT
from regionvisa.policyfiles import PolicyError

SHIPPED = PROJECT_ROOT / "policy" / "national" / "compliance.yaml"


def test_shipped_file_gives_the_design_defaults():
    rules = load_compliance_rules(SHIPPED)
    s = rules.settings_on(dt.date(2025, 12, 31))
    assert (s.grace_days, s.max_days, s.max_days_outside, s.max_days_abroad) == (0, 14, 90, 90)
    assert set(s.severity) == set(RULES)
    assert s.severity["illegal_stay"] == "high" and s.severity["late_address_report"] == "low"
    assert "제36조" in s.reference["late_address_report"]
    assert rules.label("residence_obligation", "ko") == "거주 의무 위반"
    assert compliance_rules().settings_on(dt.date(2025, 12, 31)) == s


def shipped() -> dict:
    return yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))


def write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "compliance.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_value_in_force_follows_the_reference_date(tmp_path):
    data = shipped()
    data["rules"]["residence_obligation"]["parameters"]["max_days_outside"]["values"] = {
        dt.date(2025, 1, 1): 90,
        dt.date(2026, 7, 1): 60,
    }
    rules = load_compliance_rules(write(tmp_path, data))
    assert rules.settings_on(dt.date(2026, 6, 30)).max_days_outside == 90
    assert rules.settings_on(dt.date(2026, 7, 1)).max_days_outside == 60
    with pytest.raises(PolicyError) as err:  # before the first date there is no value, and no default
        rules.settings_on(dt.date(2024, 12, 31))
    assert err.value.errors == [
        f"{tmp_path / 'compliance.yaml'}:rules.residence_obligation.parameters.max_days_outside.values: "
        "no value in force on 2024-12-31"
    ]


def test_omitted_parameter_is_refused(tmp_path):
    data = shipped()
    del data["rules"]["illegal_stay"]["parameters"]["grace_days"]
    path = write(tmp_path, data)
    with pytest.raises(PolicyError) as err:
        load_compliance_rules(path)
    assert err.value.errors == [
        f"{path}:rules.illegal_stay.parameters.grace_days: required (the engine reads it; no default)"
    ]


def _break(data: dict, how: str) -> None:
    rules = data["rules"]
    if how == "unknown parameter":
        rules["illegal_stay"]["parameters"]["grace_weeks"] = rules["illegal_stay"]["parameters"]["grace_days"]
    elif how == "unknown field":
        rules["late_address_report"]["colour"] = "red"
    elif how == "unknown rule":
        rules["speeding"] = rules["late_address_report"]
    elif how == "missing rule":
        del rules["unreported_departure"]
    elif how == "bad severity":
        rules["illegal_stay"]["severity"] = "severe"
    elif how == "negative":
        rules["late_address_report"]["parameters"]["max_days"]["values"] = {dt.date(2020, 1, 1): -1}
    elif how == "unordered":
        rules["late_address_report"]["parameters"]["max_days"]["values"] = {
            dt.date(2021, 1, 1): 14,
            dt.date(2020, 1, 1): 10,
        }
    elif how == "no reference":
        del rules["residence_obligation"]["reference"]


@pytest.mark.parametrize(
    ("how", "fragment"),
    [
        ("unknown parameter", "rules.illegal_stay.parameters.grace_weeks: unknown parameter (known: grace_days)"),
        ("unknown field", "rules.late_address_report.colour: Extra inputs are not permitted"),
        ("unknown rule", "unknown rule(s) speeding"),
        ("missing rule", "missing rule(s) unreported_departure"),
        ("bad severity", "rules.illegal_stay.severity: Input should be 'low', 'medium' or 'high'"),
        ("negative", "rules.late_address_report.parameters.max_days.values: Value error, a number of days"),
        ("unordered", "dates must be in ascending order"),
        ("no reference", "rules.residence_obligation.reference: Field required"),
    ],
)
def test_errors_name_the_file_and_key(tmp_path, how, fragment):
    data = shipped()
    _break(data, how)
    path = write(tmp_path, data)
    with pytest.raises(PolicyError) as err:
        load_compliance_rules(path)
    assert any(line.startswith(f"{path}:") and fragment in line for line in err.value.errors), err.value.errors


def test_programme_obligations_from_the_shipped_designs():
    progs = programme_obligations()
    assert progs.height == 15
    busan = progs.filter(program_id="busan-d2").row(0, named=True)
    assert busan == {
        "program_id": "busan-d2",
        "region": "26",
        "residence_area": ["26"],
        "obligation_months": 24,
        "kiip_deadline_months": 12,
        "includes_employment": False,
        "version": 1,
        "valid_from": dt.date(2025, 4, 2),
        "valid_to": dt.date(2026, 12, 31),
        "wage_floors": None,  # employment conditions are E-7 programmes' only
        "occupation_lists": None,
    }
    assert progs.filter(program_id="daegu-e7")["kiip_deadline_months"].to_list() == [None]
    ulsan = progs.filter(program_id="ulsan-e7").row(0, named=True)
    assert ulsan["wage_floors"] == [{"since": dt.date(2025, 4, 2), "krw": 26_000_000}]
    assert ulsan["occupation_lists"] == [{"since": dt.date(2025, 4, 2), "codes": ["7430", "7521", "7621", "7624"]}]
    # Daegu sets no floor of its own: the national E-7 floor applies
    assert progs.filter(program_id="daegu-e7")["wage_floors"].to_list()[0][0]["krw"] > 0
    # compliance.yaml extends the obligation of region-led E-7 holders to their employer
    e7 = progs.filter(pl.col("program_id").str.ends_with("-e7"))
    assert e7.height >= 1 and e7["includes_employment"].all()
    assert not progs.filter(pl.col("program_id").str.ends_with("-d2"))["includes_employment"].any()


def test_employment_scope_is_checked(tmp_path):
    data = shipped()
    data["rules"]["illegal_stay"]["employment"] = {"base_visas": ["E-7"], "reference": "x"}
    path = write(tmp_path, data)
    with pytest.raises(PolicyError) as err:
        load_compliance_rules(path)
    assert any("only residence_obligation can extend to employment" in e for e in err.value.errors)
    assert load_compliance_rules(SHIPPED).employment_scope() == (frozenset({"E-7"}), frozenset())
    assert load_compliance_rules(SHIPPED).at_risk_days()["residence_obligation"] == 20


def test_programme_obligations_keep_every_version_and_check_them(tmp_path):
    (tmp_path / "national").mkdir()
    shutil.copy(SHIPPED, tmp_path / "national" / "compliance.yaml")
    folder = tmp_path / "programs" / "26"
    folder.mkdir(parents=True)
    (folder / "a.yaml").write_text(
        "id: busan-f2r\nversion: 1\nregion: '26'\nbase_visa: F-2\nresidence_area: ['26110']\n"
        "valid_from: 2025-01-01\nvalid_to: 2025-12-31\n"
        "obligation_months: 60\nresidence_includes_employment: true\nanything_else: {kept: out}\n",
        encoding="utf-8",
    )
    (folder / "b.yaml").write_text(
        "id: busan-f2r\nversion: 2\nregion: '26'\nresidence_area: ['26110', '26140']\nobligation_months: 36\n"
        "valid_from: 2026-01-01\nvalid_to: 2026-12-31\n",
        encoding="utf-8",
    )
    progs = programme_obligations(tmp_path)
    assert progs.rows() == [
        ("busan-f2r", "26", ["26110"], 60, None, True, 1, dt.date(2025, 1, 1), dt.date(2025, 12, 31), None, None),
        (
            "busan-f2r",
            "26",
            ["26110", "26140"],
            36,
            None,
            False,
            2,
            dt.date(2026, 1, 1),
            dt.date(2026, 12, 31),
            None,
            None,
        ),
    ]
    (folder / "c.yaml").write_text(
        "id: bad\nregion: '26'\nresidence_area: ['Busan']\nobligation_months: -1\n", encoding="utf-8"
    )
    with pytest.raises(PolicyError) as err:
        programme_obligations(tmp_path)
    lines = err.value.errors
    assert any(line.startswith(f"{folder / 'c.yaml'}:residence_area:") and "'Busan'" in line for line in lines)
    assert any(line.startswith(f"{folder / 'c.yaml'}:obligation_months:") for line in lines)
