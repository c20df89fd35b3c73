"""Visa categories and the national E-7 occupation list, read strictly from policy/national."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from regionvisa.config import get_settings
from regionvisa.policyfiles import parse_model, read_yaml

E7_SUBTYPES = ("E-7-1", "E-7-2", "E-7-3", "E-7-4")


class Subtype(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ko: str
    en: str


class Category(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ko: str
    en: str
    base_visa: bool
    subtypes: dict[str, Subtype] = Field(default_factory=dict)


class VisaCategories(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reference: str
    categories: dict[str, Category]


class Occupation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=r"^\d{4,5}$")
    subtype: Literal["E-7-1", "E-7-2", "E-7-3", "E-7-4"]
    ko: str
    en: str
    illustrative: bool = False


class OccupationList(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reference: str
    occupations: list[Occupation]

    @model_validator(mode="after")
    def _unique_codes(self) -> OccupationList:
        codes = [o.code for o in self.occupations]
        dupes = sorted({c for c in codes if codes.count(c) > 1})
        if dupes:
            raise ValueError(f"duplicate occupation codes: {', '.join(dupes)}")
        return self


def _national(name: str, policy_dir: Path | None) -> Path:
    return (policy_dir or get_settings().policy_dir) / "national" / name


@lru_cache
def visa_categories(policy_dir: Path | None = None) -> VisaCategories:
    path = _national("visa_categories.yaml", policy_dir)
    return parse_model(VisaCategories, read_yaml(path), path)


@lru_cache
def e7_occupations(policy_dir: Path | None = None) -> OccupationList:
    path = _national("e7_occupations.yaml", policy_dir)
    return parse_model(OccupationList, read_yaml(path), path)


def known_visa_codes(policy_dir: Path | None = None) -> set[str]:
    return set(visa_categories(policy_dir).categories)


def known_subtypes(policy_dir: Path | None = None) -> set[str]:
    return {s for c in visa_categories(policy_dir).categories.values() for s in c.subtypes}
