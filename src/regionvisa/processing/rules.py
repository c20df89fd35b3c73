"""The processing standards (`policy/processing/standards.yaml`): dated parameters and, per
programme, the declared dates its visas must be issued by. No default lives in code."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from regionvisa.config import get_settings
from regionvisa.policyfiles import LocalText, PolicyError, ascending_dates, parse_model, read_yaml
from regionvisa.regions.parameters import value_in_force


class DatedParameter(BaseModel):
    model_config = ConfigDict(extra="forbid")
    description: LocalText
    unit: Literal["days", "applications"]
    reference: str = Field(min_length=1)
    values: dict[dt.date, int | list[int]]

    @field_validator("values")
    @classmethod
    def _dated(cls, values):
        return ascending_dates(values)


class Parameters(BaseModel):
    model_config = ConfigDict(extra="forbid")
    expected_days: DatedParameter
    minimum_sample: DatedParameter
    backlog_bands: DatedParameter


class DeclaredDate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    date: dt.date
    label: LocalText


class StandardsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reference: str = Field(min_length=1)
    parameters: Parameters
    declared_dates: dict[str, list[DeclaredDate]] = Field(default_factory=dict)

    @field_validator("declared_dates")
    @classmethod
    def _ascending(cls, dates: dict[str, list[DeclaredDate]]):
        for program, items in dates.items():
            days = [d.date for d in items]
            if days != sorted(set(days)):
                raise ValueError(f"{program}: declared dates must be distinct and in ascending order")
        return dates


@dataclass(frozen=True)
class Settings:
    """The parameters in force on one day."""

    expected_days: int
    minimum_sample: int
    backlog_bands: tuple[int, ...]


@dataclass(frozen=True)
class Standards:
    source: str
    spec: StandardsFile

    def settings_on(self, on: dt.date) -> Settings:
        values = {}
        for name in ("expected_days", "minimum_sample", "backlog_bands"):
            found = value_in_force(getattr(self.spec.parameters, name).values, on)
            if found is None:
                raise PolicyError([f"{self.source}:parameters.{name}: no value in force on {on.isoformat()}"])
            values[name] = found[1]
        bands = values["backlog_bands"]
        if not isinstance(bands, list) or bands != sorted(set(bands)) or not bands or bands[0] < 1:
            raise PolicyError([f"{self.source}:parameters.backlog_bands: ascending whole days of at least 1"])
        return Settings(values["expected_days"], values["minimum_sample"], tuple(bands))

    def declared(self) -> list[tuple[str, dt.date, str, str]]:
        """(programme, date, Korean label, English label) for every declared date."""
        return [
            (program, d.date, d.label.ko, d.label.en)
            for program, items in self.spec.declared_dates.items()
            for d in items
        ]


def load_standards(path: Path) -> Standards:
    raw = read_yaml(path)
    if not isinstance(raw, dict):
        raise PolicyError([f"{path}:(root): expected a mapping with 'reference', 'parameters', 'declared_dates'"])
    return Standards(source=str(path), spec=parse_model(StandardsFile, raw, path))


@lru_cache
def processing_standards(policy_dir: Path | None = None) -> Standards:
    policy_dir = policy_dir or get_settings().policy_dir
    return load_standards(policy_dir / "processing" / "standards.yaml")
