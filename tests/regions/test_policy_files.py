"""Every policy file parses strictly, and broken parameter files name the file and key."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from regionvisa.config import PROJECT_ROOT
from regionvisa.policyfiles import PolicyError, read_yaml
from regionvisa.regions import catalogue, parameters

POLICY = PROJECT_ROOT / "policy"

LOADERS = {
    ("national", "parameters.yaml"): lambda p: parameters.load_parameter_file(p),
    ("national", "visa_categories.yaml"): lambda p: catalogue.visa_categories(p.parents[1]),
    ("national", "e7_occupations.yaml"): lambda p: catalogue.e7_occupations(p.parents[1]),
    ("national", "applications.yaml"): lambda p: _application_rules(p),
    ("national", "uploads.yaml"): lambda p: _upload_limits(p),
    ("quotas", "reallocation.yaml"): lambda p: _reallocation_rules(p),
    ("processing", "standards.yaml"): lambda p: _processing_standards(p),
    ("samples", "applicants.yaml"): lambda p: _sample_applicants(p),
}


def _sample_applicants(path: Path):
    from regionvisa.programs.samples import load_samples

    return load_samples(path)


def _processing_standards(path: Path):
    from regionvisa.processing.rules import load_standards

    standards = load_standards(path)
    standards.settings_on(dt.date(2025, 1, 1))  # every parameter has a value from the first day
    return standards


def _reallocation_rules(path: Path):
    from regionvisa.quotas.reallocation import load_rules

    return load_rules(path)


def _application_rules(path: Path):
    from regionvisa.applications.rules import load_application_rules

    return load_application_rules(path)


def _upload_limits(path: Path):
    from regionvisa.limits import upload_limits

    return upload_limits(path.parents[1])


def _folder_loader(path: Path):
    folder = path.parent.name
    if path.parent.parent.name == "programs" or folder == "programs":
        from regionvisa.programs.files import load_program_file  # type: ignore[import-not-found]

        return load_program_file
    if folder == "evaluation" or path.parent.parent.name == "evaluation":  # examples/ too
        from regionvisa.evaluation.framework import load_framework  # type: ignore[import-not-found]

        return load_framework
    if path.name == "guardrails.yaml":
        from regionvisa.programs.guardrails import load_guardrails  # type: ignore[import-not-found]

        return load_guardrails
    if path.name == "compliance.yaml":
        from regionvisa.compliance.rules import load_compliance_rules  # type: ignore[import-not-found]

        return load_compliance_rules
    raise AssertionError(f"{path}: no loader knows this policy file; add one to LOADERS in this test module")


def load_any(path: Path):
    key = (path.parent.name, path.name)
    loader = LOADERS.get(key) or _folder_loader(path)
    return loader(path)


def test_every_file_under_policy_parses_and_is_known():
    files = sorted(POLICY.rglob("*.yaml"))
    assert files, "no policy files found"
    for path in files:
        load_any(path)


def test_national_values_resolve_dates_and_derivations():
    values = parameters.national_values()
    wage = values["national.min_wage_hourly_krw"]
    assert parameters.value_in_force(wage, dt.date(2025, 6, 1)) == (dt.date(2025, 1, 1), 10030)
    assert parameters.value_in_force(wage, dt.date(2023, 6, 1)) is None
    annual = values["national.min_wage_annual_krw"]
    assert parameters.value_in_force(annual, dt.date(2026, 3, 1))[1] == 10320 * 209 * 12
    assert values["national.f2r_income_line_krw"][dt.date(2025, 3, 5)] == 34_930_000


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (
            "x:\n  description: {ko: a, en: b}\n  unit: KRW\n  reference: r\n"
            "  values: {2025-01-01: 1}\n  colour: red\n",
            "x.colour: Extra inputs are not permitted",
        ),
        (
            "x:\n  description: {ko: a, en: b}\n  unit: KRW\n  reference: r\n"
            "  values: {2025-01-01: 1, 2024-01-01: 2}\n",
            "x: Value error, dates must be in ascending order",
        ),
        ("x:\n  description: {ko: a, en: b}\n  reference: r\n  values: {2025-01-01: 1}\n", "x.unit: Field required"),
        (
            "x:\n  description: {ko: a, en: b}\n  unit: KRW\n  reference: r\n  derive: {from: y, factor: 2}\n",
            "x.derive.from: unknown parameter 'y'",
        ),
    ],
)
def test_broken_parameter_files_name_file_and_key(tmp_path: Path, text: str, fragment: str):
    path = tmp_path / "params.yaml"
    path.write_text(text)
    with pytest.raises(PolicyError) as info:
        parameters.load_parameter_file(path)
    assert any(line.startswith(f"{path}:") and fragment in line for line in info.value.errors), info.value.errors


def test_invalid_yaml_reports_the_line(tmp_path: Path):
    path = tmp_path / "bad.yaml"
    path.write_text("a: [1, 2\nb: 3\n")
    with pytest.raises(PolicyError, match=rf"{path}:\d+: not valid YAML"):
        read_yaml(path)


def test_occupation_list_is_representative():
    occupations = {o.code: o for o in catalogue.e7_occupations().occupations}
    subtypes = {o.subtype for o in occupations.values()}
    assert {"E-7-1", "E-7-2", "E-7-3"} <= subtypes
    names = {o.en for o in occupations.values()}
    assert {"Care workers", "Welders", "Ship painters", "Shipbuilding electricians"} <= names
