"""policy/national/applications.yaml: the checklists, the nationality-cap base and the default status
months are stated there once, and a key left out is refused with the file and the key."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from regionvisa.applications.rules import application_rules, load_application_rules
from regionvisa.config import PROJECT_ROOT
from regionvisa.policyfiles import PolicyError

SHIPPED = PROJECT_ROOT / "policy" / "national" / "applications.yaml"
ON = dt.date(2025, 6, 1)


def shipped() -> dict:
    return yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))


def write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "applications.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_shipped_file_states_the_values_the_code_used_to_hold():
    rules = load_application_rules(SHIPPED)
    assert rules.nationality_cap_min_base(ON) == 10
    assert rules.default_status_months(ON) == 24
    d2, e7 = rules.checklist("D-2"), rules.checklist("E-7")
    assert d2.standard == [
        "passport",
        "photo",
        "admission_letter",
        "financial_proof",
        "education_certificate",
        "language_certificate",
        "tuberculosis_test",
    ]
    assert d2.simplified == ["passport", "admission_letter", "financial_proof"]
    assert e7.standard[2:] == [
        "employment_contract",
        "education_certificate",
        "career_certificate",
        "business_registration",
        "employer_staff_list",
    ]
    assert e7.simplified == ["passport", "employment_contract", "education_certificate"]
    assert rules.label("passport") == {"en": "Passport copy", "ko": "여권 사본"}
    assert rules.label("own_form") == {"en": "own_form", "ko": "own_form"}  # a design's own document
    assert len(rules.labels()) == 12
    assert application_rules().spec == rules.spec


def _drop(data: dict, dotted: str) -> None:
    *parents, last = dotted.split(".")
    node = data
    for key in parents:
        node = node[key]
    del node[last]


@pytest.mark.parametrize(
    "key",
    [
        "reference",
        "documents",
        "documents.reference",
        "documents.labels",
        "documents.checklists.D-2.simplified",
        "parameters",
        "parameters.nationality_cap_min_base",
        "parameters.default_status_months",
        "parameters.default_status_months.reference",
        "parameters.nationality_cap_min_base.values",
        "parameters.default_status_months.unit",
    ],
)
def test_each_omitted_key_is_refused_with_file_and_key(tmp_path, key):
    data = shipped()
    _drop(data, key)
    path = write(tmp_path, data)
    with pytest.raises(PolicyError) as err:
        load_application_rules(path)
    assert f"{path}:{key}: Field required" in err.value.errors, err.value.errors


def _break(data: dict, how: str) -> None:
    docs, params = data["documents"], data["parameters"]
    if how == "base visa without a checklist":
        del docs["checklists"]["E-7"]
    elif how == "unknown base visa":
        docs["checklists"]["F-2"] = docs["checklists"]["D-2"]
    elif how == "unlabelled document":
        docs["checklists"]["D-2"]["standard"].append("medical_report")
    elif how == "simplified asks for more":
        docs["checklists"]["E-7"]["simplified"].append("photo_id")
        docs["labels"]["photo_id"] = {"en": "ID photo", "ko": "증명사진"}
    elif how == "unknown key":
        params["nationality_cap_min_base"]["default"] = 10
    elif how == "unordered dates":
        params["default_status_months"]["values"] = {dt.date(2026, 1, 1): 24, dt.date(2025, 1, 1): 12}
    elif how == "zero":
        params["nationality_cap_min_base"]["values"] = {dt.date(2025, 1, 1): 0}
    elif how == "bad document id":
        docs["labels"]["Passport"] = {"en": "x", "ko": "x"}


@pytest.mark.parametrize(
    ("how", "fragment"),
    [
        ("base visa without a checklist", "documents: Value error, checklists: missing base visa(s) E-7"),
        ("unknown base visa", "documents.checklists.F-2.[key]: Input should be 'D-2' or 'E-7'"),
        ("unlabelled document", "checklists.D-2: document(s) without a label: medical_report"),
        ("simplified asks for more", "documents the standard list does not ask for: photo_id"),
        ("unknown key", "parameters.nationality_cap_min_base.default: Extra inputs are not permitted"),
        ("unordered dates", "parameters.default_status_months.values: Value error, dates must be in ascending"),
        ("zero", "parameters.nationality_cap_min_base.values: Value error, every value must be at least 1"),
        ("bad document id", "documents.labels: Value error, document id(s) Passport"),
    ],
)
def test_bad_values_are_refused_with_file_and_key(tmp_path, how, fragment):
    data = shipped()
    _break(data, how)
    path = write(tmp_path, data)
    with pytest.raises(PolicyError) as err:
        load_application_rules(path)
    assert any(line.startswith(f"{path}:") and fragment in line for line in err.value.errors), err.value.errors


def test_a_date_before_the_first_value_is_refused(tmp_path):
    data = shipped()
    data["parameters"]["nationality_cap_min_base"]["values"] = {dt.date(2025, 1, 1): 10, dt.date(2027, 1, 1): 20}
    path = write(tmp_path, data)
    rules = load_application_rules(path)
    assert rules.nationality_cap_min_base(dt.date(2026, 12, 31)) == 10
    assert rules.nationality_cap_min_base(dt.date(2027, 1, 1)) == 20
    with pytest.raises(PolicyError) as err:
        rules.nationality_cap_min_base(dt.date(2024, 12, 31))
    assert err.value.errors == [f"{path}:parameters.nationality_cap_min_base.values: no value in force on 2024-12-31"]
    with pytest.raises(PolicyError) as err:
        rules.checklist("F-2")
    assert err.value.errors == [f"{path}:documents.checklists.F-2: no checklist for this base visa"]


def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(PolicyError) as err:
        load_application_rules(tmp_path / "applications.yaml")
    assert err.value.errors[0].startswith(f"{tmp_path / 'applications.yaml'}: cannot be read")
