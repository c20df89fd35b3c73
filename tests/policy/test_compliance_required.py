"""compliance.yaml states every value the engine reads: nothing left out is filled in from code."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
import yaml

from regionvisa.compliance.rules import AT_RISK_RULES, RULE_PARAMETERS, RULES, load_compliance_rules
from regionvisa.config import PROJECT_ROOT
from regionvisa.policyfiles import PolicyError

SHIPPED = PROJECT_ROOT / "policy" / "national" / "compliance.yaml"


def shipped() -> dict:
    return yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))


def write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "compliance.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def refused(tmp_path: Path, data: dict) -> tuple[Path, list[str]]:
    path = write(tmp_path, data)
    with pytest.raises(PolicyError) as err:
        load_compliance_rules(path)
    return path, err.value.errors


@pytest.mark.parametrize(
    "day", [dt.date(1992, 1, 1), dt.date(2024, 12, 31), dt.date(2025, 12, 31), dt.date(2100, 1, 1)]
)
def test_the_shipped_file_covers_any_reference_date_with_the_section_4_8_values(day):
    rules = load_compliance_rules(SHIPPED)
    s = rules.settings_on(day)
    assert (s.grace_days, s.max_days, s.max_days_outside, s.max_days_abroad) == (0, 14, 90, 90)
    assert s.severity == {
        "illegal_stay": "high",
        "late_address_report": "low",
        "residence_obligation": "high",
        "integration_obligation": "medium",
        "unreported_departure": "medium",
        "wage_below_floor": "medium",
        "occupation_not_listed": "medium",
        "employer_concentration": "low",
    }
    assert set(s.reference) == set(RULES)
    assert rules.at_risk_days() == {rule: 20 for rule in AT_RISK_RULES}


def test_settings_have_no_defaults_of_their_own():
    fields = dataclasses.fields(load_compliance_rules(SHIPPED).settings_on(dt.date(2025, 1, 1)))
    assert all(f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING for f in fields)


@pytest.mark.parametrize(("rule", "name"), [(rule, name) for rule, names in RULE_PARAMETERS.items() for name in names])
def test_each_omitted_parameter_is_refused(tmp_path, rule, name):
    data = shipped()
    del data["rules"][rule]["parameters"][name]
    path, errors = refused(tmp_path, data)
    assert errors == [f"{path}:rules.{rule}.parameters.{name}: required (the engine reads it; no default)"]


@pytest.mark.parametrize("key", ["severity", "label", "description", "parameters"])
def test_each_omitted_rule_key_is_refused(tmp_path, key):
    data = shipped()
    del data["rules"]["late_address_report"][key]
    path, errors = refused(tmp_path, data)
    assert f"{path}:rules.late_address_report.{key}: Field required" in errors, errors


@pytest.mark.parametrize("rule", AT_RISK_RULES)
def test_an_omitted_at_risk_margin_is_refused(tmp_path, rule):
    data = shipped()
    del data["rules"][rule]["at_risk_days"]
    path, errors = refused(tmp_path, data)
    assert any(e.startswith(f"{path}:") and f"rules.{rule}.at_risk_days: required" in e for e in errors), errors


def test_an_at_risk_margin_on_a_rule_without_a_list_is_refused(tmp_path):
    data = shipped()
    data["rules"]["unreported_departure"]["at_risk_days"] = 10
    path, errors = refused(tmp_path, data)
    assert any(
        e.startswith(f"{path}:") and "rules.unreported_departure.at_risk_days: this rule has no" in e for e in errors
    )


def test_an_omitted_employment_scope_is_refused(tmp_path):
    data = shipped()
    del data["rules"]["residence_obligation"]["employment"]
    path, errors = refused(tmp_path, data)
    assert any(e.startswith(f"{path}:") and "rules.residence_obligation.employment: required" in e for e in errors)


def test_a_run_before_the_first_value_names_the_file_key_and_date(tmp_path):
    data = shipped()
    data["rules"]["late_address_report"]["parameters"]["max_days"]["values"] = {dt.date(2026, 1, 1): 10}
    data["rules"]["unreported_departure"]["parameters"]["max_days_abroad"]["values"] = {dt.date(2026, 1, 1): 60}
    path = write(tmp_path, data)
    rules = load_compliance_rules(path)
    assert rules.settings_on(dt.date(2026, 1, 1)).max_days_abroad == 60
    with pytest.raises(PolicyError) as err:
        rules.settings_on(dt.date(2025, 12, 31))
    assert err.value.errors == [
        f"{path}:rules.late_address_report.parameters.max_days.values: no value in force on 2025-12-31",
        f"{path}:rules.unreported_departure.parameters.max_days_abroad.values: no value in force on 2025-12-31",
    ]
