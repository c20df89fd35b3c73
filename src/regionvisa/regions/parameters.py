"""National parameters as dated values (OpenFisca style), validated strictly.

A rule never hard-codes a threshold: it reads the value in force on the reference date,
and the explanation can cite the value, its effective date and its legal reference.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from regionvisa.config import get_settings
from regionvisa.policyfiles import LocalText, PolicyError, ascending_dates, parse_model, read_yaml


class Derivation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    from_: str = Field(alias="from")
    factor: float


class Parameter(BaseModel):
    model_config = ConfigDict(extra="forbid")
    description: LocalText
    unit: str = Field(min_length=1)
    reference: str = Field(min_length=1)
    values: dict[dt.date, float | int | list[str]] | None = None
    derive: Derivation | None = None

    @model_validator(mode="after")
    def _values_or_derivation(self) -> Parameter:
        if (self.values is None) == (self.derive is None):
            raise ValueError("give exactly one of 'values' (dated) or 'derive'")
        if self.values is not None:
            ascending_dates(self.values)
        return self


class ParameterFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    parameters: dict[str, Parameter]


DatedValues = dict[dt.date, Any]


def value_in_force(values: DatedValues, on: dt.date) -> tuple[dt.date, Any] | None:
    """The latest (effective date, value) on or before `on`; None before the first date."""
    best = None
    for start in sorted(values):
        if start <= on:
            best = (start, values[start])
    return best


def load_parameter_file(path: Path) -> dict[str, Parameter]:
    raw = read_yaml(path)
    if not isinstance(raw, dict):
        raise PolicyError([f"{path}:(root): expected a mapping of parameter names"])
    params = parse_model(ParameterFile, {"parameters": raw}, path).parameters
    errors = []
    for name, param in params.items():
        if param.derive is not None and param.derive.from_ not in params:
            errors.append(f"{path}:{name}.derive.from: unknown parameter '{param.derive.from_}'")
    if errors:
        raise PolicyError(errors)
    return params


def resolve(params: dict[str, Parameter]) -> dict[str, DatedValues]:
    """Dated values for every parameter, derived ones expanded from their source's dates."""
    out: dict[str, DatedValues] = {}

    def get(name: str, seen: tuple[str, ...] = ()) -> DatedValues:
        if name in out:
            return out[name]
        if name in seen:
            raise PolicyError([f"parameters:{name}.derive: circular derivation"])
        param = params[name]
        if param.values is not None:
            out[name] = dict(param.values)
        else:
            source = get(param.derive.from_, (*seen, name))
            out[name] = {d: round(v * param.derive.factor) for d, v in source.items()}
        return out[name]

    for name in params:
        get(name)
    return out


@lru_cache
def national_parameters(policy_dir: Path | None = None) -> dict[str, Parameter]:
    policy_dir = policy_dir or get_settings().policy_dir
    return load_parameter_file(policy_dir / "national" / "parameters.yaml")


def national_values(policy_dir: Path | None = None) -> dict[str, DatedValues]:
    """Dated values keyed `national.<name>`, the way rules refer to them."""
    return {f"national.{k}": v for k, v in resolve(national_parameters(policy_dir)).items()}
