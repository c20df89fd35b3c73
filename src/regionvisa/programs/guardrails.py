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
from regionvisa.policyfiles import PolicyError, parse_model, read_yaml
from regionvisa.regions.catalogue import e7_occupations
from regionvisa.regions.parameters import LocalText, national_values, value_in_force

BASE_VISAS = ("D-2", "E-7")


class ParamRef(BaseModel):
    model_config = ConfigDict(extra="forbid")
    param: str = Field(pattern=r"^national\.[a-z0-9_]+$")


Bound = float | int | ParamRef


class FixedCriterion(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    label: LocalText
    reference: str = Field(min_length=1)
    rule: Any


class BoundedParameter(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: LocalText
    unit: str
    default: Bound
    min: Bound | None = None
    max: Bound | None = None
    reference: str = Field(min_length=1)


class ClosedList(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: LocalText
    subtypes: list[Literal["E-7-1", "E-7-2", "E-7-3", "E-7-4"]]
    reference: str = Field(min_length=1)


class BaseVisaGuardrails(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: LocalText
    fixed_criteria: list[FixedCriterion]
    bounded_parameters: dict[str, BoundedParameter]
    closed_lists: dict[Literal["occupations"], ClosedList]


class Guardrails(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reference: str
    base_visas: dict[Literal["D-2", "E-7"], BaseVisaGuardrails]

    @field_validator("base_visas")
    @classmethod
    def _every_base_visa(cls, value: dict) -> dict:
        missing = [v for v in BASE_VISAS if v not in value]
        if missing:
            raise ValueError(f"guardrails missing for base visa(s) {', '.join(missing)}")
        return value


def load_guardrails(path: Path | None = None) -> Guardrails:
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


def national_list(closed: ClosedList) -> list[str]:
    """The national occupation codes of the allowed sub-types, in list order."""
    allowed = set(closed.subtypes)
    return [o.code for o in e7_occupations().occupations if o.subtype in allowed]
