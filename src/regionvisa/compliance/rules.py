"""Compliance rules as data: `policy/national/compliance.yaml`, read strictly.

Thresholds are dated values with a legal reference, like the national parameters, so a run as
of a past date uses the values that were in force then and every finding can cite its source.
The rule ids are fixed by DESIGN §4.8 (they are the `rule` column of the findings), so the file
must list each of them and may not invent others. Nothing here has a default: every parameter a
rule reads, every severity and every at-risk margin is stated in the file, a key left out is a
`PolicyError` naming the file and the key, and so is a run dated before a parameter's first value.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from regionvisa.config import get_settings
from regionvisa.policyfiles import LocalText, PolicyError, ascending_dates, parse_model, read_yaml

Severity = Literal["low", "medium", "high"]

# Rule id → the parameters the engine reads for it (their values are in the file). A parameter
# left out of the file, or one the rule does not know, is an error.
RULE_PARAMETERS: dict[str, tuple[str, ...]] = {
    "illegal_stay": ("grace_days",),
    "late_address_report": ("max_days",),
    "residence_obligation": ("max_days_outside", "silent_days"),
    "integration_obligation": (),
    "unreported_departure": ("max_days_abroad",),
    # Employment conditions of E-7 holders (issue 19): the programme's own floor and list decide.
    "wage_below_floor": (),
    "occupation_not_listed": (),
    # Employer concentration (issue 19): an employer whose foreign staff are mostly programme E-7
    # holders, with at least `min_holders` of them, is flagged; each holder there is a finding.
    "employer_concentration": ("max_holder_share", "min_holders"),
}
RULES = tuple(RULE_PARAMETERS)
# The rules with an at-risk list on the dashboards (compliance.risk.at_risk): each states its
# `at_risk_days`; the others may not.
AT_RISK_RULES = ("illegal_stay", "residence_obligation", "integration_obligation")


class DatedParameter(BaseModel):
    """A dated value: a number of days or people (whole, not negative), or a share (0 to 1)."""

    model_config = ConfigDict(extra="forbid")
    description: LocalText
    unit: Literal["days", "people", "share"]
    reference: str = Field(min_length=1)
    values: dict[dt.date, int | float]

    @field_validator("values")
    @classmethod
    def _dated(cls, values: dict[dt.date, int | float], info: ValidationInfo) -> dict[dt.date, int | float]:
        ascending_dates(values)
        unit = info.data.get("unit")
        what = "a share" if unit == "share" else f"a number of {unit}"
        negative = [f"{k}: {v}" for k, v in values.items() if v < 0]
        if negative:
            raise ValueError(f"{what} cannot be negative ({'; '.join(negative)})")
        if unit == "share":
            wrong = [f"{k}: {v}" for k, v in values.items() if v > 1]
            if wrong:
                raise ValueError(f"a share lies between 0 and 1 ({'; '.join(wrong)})")
        else:
            wrong = [f"{k}: {v}" for k, v in values.items() if isinstance(v, float)]
            if wrong:
                raise ValueError(f"{what} is a whole number ({'; '.join(wrong)})")
        return values


class EmploymentScope(BaseModel):
    """Which programmes' residence obligation also covers where the holder works (F-2-R style)."""

    model_config = ConfigDict(extra="forbid")
    base_visas: list[str] = Field(default_factory=list)  # a list left out names none
    programs: list[str] = Field(default_factory=list)
    reference: str = Field(min_length=1)


class RuleSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: LocalText
    description: LocalText
    severity: Severity
    reference: str = Field(min_length=1)
    parameters: dict[str, DatedParameter]
    employment: EmploymentScope | None = None
    at_risk_days: int | None = Field(default=None, ge=0, le=365)


class ComplianceFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reference: str = Field(min_length=1)
    rules: dict[str, RuleSpec]

    @model_validator(mode="after")
    def _known_rules(self) -> ComplianceFile:
        unknown = [r for r in self.rules if r not in RULE_PARAMETERS]
        missing = [r for r in RULES if r not in self.rules]
        problems = []
        if unknown:
            problems.append(f"unknown rule(s) {', '.join(unknown)} (known: {', '.join(RULES)})")
        if missing:
            problems.append(f"missing rule(s) {', '.join(missing)}: every §4.8 rule must be listed")
        for rule, spec in self.rules.items():
            if spec.employment is not None and rule != "residence_obligation":
                problems.append(f"rules.{rule}.employment: only residence_obligation can extend to employment")
            if rule == "residence_obligation" and spec.employment is None:
                problems.append(
                    "rules.residence_obligation.employment: required (the base_visas and programs whose "
                    "obligation covers the job, with its reference)"
                )
            if rule in AT_RISK_RULES and spec.at_risk_days is None:
                problems.append(f"rules.{rule}.at_risk_days: required (days before the limit a holder is at risk)")
            if rule not in AT_RISK_RULES and spec.at_risk_days is not None:
                problems.append(f"rules.{rule}.at_risk_days: this rule has no at-risk list")
        if problems:
            raise ValueError("; ".join(problems))
        return self


@dataclass(frozen=True)
class RuleSettings:
    """The thresholds in force on one reference date, in the plain form the engine takes."""

    on: dt.date
    grace_days: int
    max_days: int
    max_days_outside: int
    silent_days: int  # early warning: a running obligation with no address report for longer
    max_days_abroad: int
    max_holder_share: float  # employer concentration: flagged above this share of foreign staff
    min_holders: int  # ... and with at least this many holders
    severity: dict[str, str]
    reference: dict[str, str]


@dataclass(frozen=True)
class ComplianceRules:
    source: str
    spec: ComplianceFile

    def settings_on(self, on: dt.date) -> RuleSettings:
        """Each parameter's value in force on `on`; a date before a parameter's first value is refused."""
        values: dict[str, int | float] = {}
        errors = []
        for rule, names in RULE_PARAMETERS.items():
            params = self.spec.rules[rule].parameters
            for name in names:
                in_force = [v for d, v in params[name].values.items() if d <= on]
                if in_force:
                    values[name] = in_force[-1]
                else:
                    errors.append(f"{self.source}:rules.{rule}.parameters.{name}.values: no value in force on {on}")
        if errors:
            raise PolicyError(errors)
        return RuleSettings(
            on=on,
            severity={r: s.severity for r, s in self.spec.rules.items()},
            reference={r: s.reference for r, s in self.spec.rules.items()},
            **values,
        )

    def employment_scope(self) -> tuple[frozenset[str], frozenset[str]]:
        """(base visas, programme ids) whose residence obligation includes the holder's employment."""
        scope = self.spec.rules["residence_obligation"].employment
        if scope is None:
            return frozenset(), frozenset()
        return frozenset(scope.base_visas), frozenset(scope.programs)

    def at_risk_days(self) -> dict[str, int]:
        """Rule → how many days before a limit a holder is shown as at risk (rules with such a list)."""
        return {r: s.at_risk_days for r, s in self.spec.rules.items() if s.at_risk_days is not None}

    def label(self, rule: str, lang: str = "en") -> str:
        return getattr(self.spec.rules[rule].label, lang)


def load_compliance_rules(path: Path) -> ComplianceRules:
    """Parse and check a compliance rules file; errors read `file:key.path: message`."""
    raw = read_yaml(path)
    if not isinstance(raw, dict):
        raise PolicyError([f"{path}:(root): expected a mapping with 'reference' and 'rules'"])
    spec = parse_model(ComplianceFile, raw, path)
    errors = []
    for rule, rule_spec in spec.rules.items():
        for name in rule_spec.parameters:
            if name not in RULE_PARAMETERS[rule]:
                known = ", ".join(RULE_PARAMETERS[rule]) or "none"
                errors.append(f"{path}:rules.{rule}.parameters.{name}: unknown parameter (known: {known})")
        for name in RULE_PARAMETERS[rule]:
            if name not in rule_spec.parameters:
                errors.append(f"{path}:rules.{rule}.parameters.{name}: required (the engine reads it; no default)")
    if errors:
        raise PolicyError(errors)
    return ComplianceRules(source=str(path), spec=spec)


@lru_cache
def compliance_rules(policy_dir: Path | None = None) -> ComplianceRules:
    policy_dir = policy_dir or get_settings().policy_dir
    return load_compliance_rules(policy_dir / "national" / "compliance.yaml")
