"""National guardrails: fixed criteria, bounded parameters and closed lists per base visa.

Read strictly from policy/national/guardrails.yaml. Bounds may be literals or references to
dated national parameters (`{param: national.min_wage_annual_krw}`), so a bound that rises on
1 January is checked on every day a programme value is in force.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from regionvisa.config import get_settings
from regionvisa.policyfiles import PolicyError, Reference, parse_model, read_yaml
from regionvisa.regions.catalogue import e7_occupations
from regionvisa.regions.parameters import LocalText, national_parameters, national_values, value_in_force
from regionvisa.rules.fields import FIELDS
from regionvisa.rules.validate import validate_rule

BASE_VISAS = ("D-2", "E-7")


class ParamRef(BaseModel):
    model_config = ConfigDict(extra="forbid")
    param: str = Field(pattern=r"^national\.[a-z0-9_]+$")


Bound = float | int | ParamRef


class FixedCriterion(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    label: LocalText
    reference: Reference
    rule: Any


class BoundedParameter(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: LocalText
    unit: str
    default: Bound
    min: Bound | None = None
    max: Bound | None = None
    reference: Reference


class ClosedList(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: LocalText
    subtypes: list[Literal["E-7-1", "E-7-2", "E-7-3", "E-7-4"]]
    reference: Reference


class ShapeRule(BaseModel):
    """A shape a programme must keep: an enum field whose values a programme may not admit beyond `allowed`."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    label: LocalText
    field: str
    allowed: list[str] = Field(min_length=1)
    reference: Reference


class BaseVisaGuardrails(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: LocalText
    fixed_criteria: list[FixedCriterion]
    bounded_parameters: dict[str, BoundedParameter]
    closed_lists: dict[Literal["occupations"], ClosedList]
    shape_rules: list[ShapeRule] = Field(default_factory=list)


class Guardrails(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reference: Reference
    # The label of each parameter a programme design names (DESIGN §4.1 `parameters:`), for the pages.
    parameter_labels: dict[str, LocalText] = Field(default_factory=dict)
    base_visas: dict[Literal["D-2", "E-7"], BaseVisaGuardrails]

    @field_validator("base_visas")
    @classmethod
    def _every_base_visa(cls, value: dict) -> dict:
        missing = [v for v in BASE_VISAS if v not in value]
        if missing:
            raise ValueError(f"guardrails missing for base visa(s) {', '.join(missing)}")
        return value


# What the pilot's rules (issue 4, DESIGN §4.1) require of the guardrails file: a file that drops one of
# these would silently free every programme from it, so its absence is a validation error.
REQUIRED_FIXED = ("passport-valid", "no-entry-ban", "no-criminal-record", "no-illegal-stay-5y")
REQUIRED_BOUNDS: dict[str, dict[str, str]] = {
    "D-2": {"bank_balance_krw": "min", "part_time_hours_per_week": "max"},
    "E-7": {"annual_wage_floor_krw": "min"},
}
REQUIRED_CLOSED: dict[str, tuple[str, ...]] = {"D-2": (), "E-7": ("occupations",)}
REQUIRED_SHAPES: dict[str, dict[str, tuple[str, ...]]] = {"D-2": {"course_type": ("degree",)}, "E-7": {}}


def _required_errors(path: Path, visa: str, rails: BaseVisaGuardrails) -> list[str]:
    where = f"{path}:base_visas.{visa}"
    errors = []
    ids = [c.id for c in rails.fixed_criteria]
    for cid in REQUIRED_FIXED:
        if cid not in ids:
            errors.append(f"{where}.fixed_criteria: the fixed criterion {cid!r} is required for every base visa")
    for i, cid in enumerate(ids):
        if cid in ids[:i]:
            errors.append(f"{where}.fixed_criteria[{i}].id: duplicate fixed criterion id {cid!r}")
    for name, side in REQUIRED_BOUNDS[visa].items():
        bounded = rails.bounded_parameters.get(name)
        if bounded is None:
            errors.append(f"{where}.bounded_parameters: the bounded parameter {name!r} is required for {visa}")
        elif getattr(bounded, side) is None:
            errors.append(f"{where}.bounded_parameters.{name}.{side}: {name} needs its {side} bound")
    for name in REQUIRED_CLOSED[visa]:
        if name not in rails.closed_lists:
            errors.append(f"{where}.closed_lists: the closed list {name!r} is required for {visa}")
    shapes = {r.field: r for r in rails.shape_rules}
    for field, allowed in REQUIRED_SHAPES[visa].items():
        rule = shapes.get(field)
        if rule is None:
            errors.append(f"{where}.shape_rules: a shape rule on {field} is required for {visa}")
        elif set(rule.allowed) - set(allowed):
            errors.append(
                f"{where}.shape_rules: the {field} shape rule may allow only {', '.join(allowed)}, "
                f"not {', '.join(sorted(set(rule.allowed) - set(allowed)))}"
            )
    return errors


def _rule_errors(path: Path, visa: str, rails: BaseVisaGuardrails, known: dict[str, Any]) -> list[str]:
    """Fixed criteria are rules like any other: check them here, against the names programmes use."""
    where = f"{path}:base_visas.{visa}"
    errors = []
    params: dict[str, Any] = dict(known)
    for name, bounded in rails.bounded_parameters.items():
        params[name] = dated(bounded.default)
    for name, closed in rails.closed_lists.items():
        params[name] = {dt.date.min: national_list(closed)}
    for i, crit in enumerate(rails.fixed_criteria):
        for err in validate_rule(crit.rule, params=params, path=f"fixed_criteria[{i}].rule"):
            errors.append(f"{where}.{err.path}: {err.message}")
    for i, shape in enumerate(rails.shape_rules):
        field = FIELDS.get(shape.field)
        if field is None or not field.is_enum:
            errors.append(f"{where}.shape_rules[{i}].field: {shape.field!r} is not an enum field of the catalogue")
            continue
        unknown = [v for v in shape.allowed if v not in field.values]
        if unknown:
            errors.append(
                f"{where}.shape_rules[{i}].allowed: {', '.join(unknown)} not a value of {shape.field} "
                f"(expected values from {', '.join(field.values)})"
            )
    return errors


def load_guardrails(path: Path | None = None) -> Guardrails:
    """The guardrails file, strictly: schema, required guardrails, national references and fixed rules."""
    path = path or get_settings().policy_dir / "national" / "guardrails.yaml"
    guardrails = parse_model(Guardrails, read_yaml(path), path)
    known = national_values()
    errors = []
    for visa, rails in guardrails.base_visas.items():
        for name, bounded in rails.bounded_parameters.items():
            for which in ("default", "min", "max"):
                ref = getattr(bounded, which)
                if isinstance(ref, ParamRef) and ref.param not in known:
                    errors.append(
                        f"{path}:base_visas.{visa}.bounded_parameters.{name}.{which}: "
                        f"unknown national parameter {ref.param!r}"
                    )
        errors += _required_errors(path, visa, rails)
    if errors:
        raise PolicyError(errors)
    for visa, rails in guardrails.base_visas.items():
        errors += _rule_errors(path, visa, rails, known)
    if errors:
        raise PolicyError(errors)
    return guardrails


@lru_cache
def guardrails() -> Guardrails:
    return load_guardrails()


def dated(bound: Bound | None) -> dict[dt.date, Any] | None:
    """A bound as dated values: a literal holds since forever, a reference has the parameter's dates."""
    if bound is None:
        return None
    if isinstance(bound, ParamRef):
        return dict(national_values()[bound.param])
    return {dt.date.min: bound}


def bound_on(bound: Bound | None, on: dt.date) -> tuple[Any, dt.date] | None:
    values = dated(bound)
    if values is None:
        return None
    hit = value_in_force(values, on)
    return None if hit is None else (hit[1], hit[0])


def describe_bound(bound: Bound) -> str:
    return bound.param if isinstance(bound, ParamRef) else f"{bound:,}"


def parameter_label(name: str, lang: str) -> str:
    """A parameter as a page names it: a programme parameter by the guardrails file's label, a national
    one (`national.x`) by its description in the national parameters; any other name as written."""
    label = guardrails().parameter_labels.get(name)
    if label is not None:
        return label.text(lang)
    national = national_parameters().get(name.removeprefix("national."))
    if name.startswith("national.") and national is not None:
        return national.description.text(lang)
    return name


def bound_label(bound: Bound, lang: str) -> str:
    """A bound as a page shows it: a literal as a number, a national parameter by its description."""
    return parameter_label(bound.param, lang) if isinstance(bound, ParamRef) else f"{bound:,}"


def national_list(closed: ClosedList) -> list[str]:
    """The national occupation codes of the allowed sub-types, in list order."""
    allowed = set(closed.subtypes)
    return [o.code for o in e7_occupations().occupations if o.subtype in allowed]
