"""National application rules as data: `policy/national/applications.yaml`, read strictly.

The document checklists per base visa, the recommendations a nationality cap needs before it is
judged, and the months a status runs when a design sets no obligation period are policy, so
they live in the file with their references, not in code. Nothing here has a default: a key
left out of the file is a `PolicyError` naming the file and the key, and a dated value asked
for before its first date is one too.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from regionvisa.config import get_settings
from regionvisa.policyfiles import PolicyError, parse_model, read_yaml
from regionvisa.regions.parameters import LocalText, value_in_force

BASE_VISAS = ("D-2", "E-7")
PARAMETERS = ("nationality_cap_min_base", "default_status_months")
DOCUMENT_ID = re.compile(r"[a-z][a-z0-9_]*")


class Checklist(BaseModel):
    """A base visa's documents; `simplified` is the shorter list of the simplified procedure."""

    model_config = ConfigDict(extra="forbid")
    standard: list[str] = Field(min_length=1)
    simplified: list[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _reduced(self) -> Checklist:
        extra = sorted(set(self.simplified) - set(self.standard))
        if extra:
            raise ValueError(f"simplified lists documents the standard list does not ask for: {', '.join(extra)}")
        return self


class Documents(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reference: str = Field(min_length=1)
    labels: dict[str, LocalText] = Field(min_length=1)
    checklists: dict[Literal["D-2", "E-7"], Checklist]

    @field_validator("labels")
    @classmethod
    def _ids(cls, labels: dict[str, LocalText]) -> dict[str, LocalText]:
        bad = [name for name in labels if not DOCUMENT_ID.fullmatch(name)]
        if bad:
            raise ValueError(f"document id(s) {', '.join(bad)}: use lower-case letters, digits and _")
        return labels

    @model_validator(mode="after")
    def _complete(self) -> Documents:
        problems = []
        missing = [v for v in BASE_VISAS if v not in self.checklists]
        if missing:
            problems.append(f"checklists: missing base visa(s) {', '.join(missing)}")
        for visa, checklist in self.checklists.items():
            unlabelled = sorted({*checklist.standard, *checklist.simplified} - set(self.labels))
            if unlabelled:
                problems.append(f"checklists.{visa}: document(s) without a label: {', '.join(unlabelled)}")
        if problems:
            raise ValueError("; ".join(problems))
        return self


class DatedCount(BaseModel):
    model_config = ConfigDict(extra="forbid")
    description: LocalText
    unit: Literal["recommendations", "months"]
    reference: str = Field(min_length=1)
    values: dict[dt.date, int] = Field(min_length=1)

    @field_validator("values")
    @classmethod
    def _dated(cls, values: dict[dt.date, int]) -> dict[dt.date, int]:
        keys = list(values)
        if keys != sorted(keys):
            raise ValueError(f"dates must be in ascending order, found {', '.join(map(str, keys))}")
        if any(v < 1 for v in values.values()):
            raise ValueError("every value must be at least 1")
        return values


class Parameters(BaseModel):
    model_config = ConfigDict(extra="forbid")
    nationality_cap_min_base: DatedCount
    default_status_months: DatedCount


class ApplicationsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reference: str = Field(min_length=1)
    documents: Documents
    parameters: Parameters


@dataclass(frozen=True)
class ApplicationRules:
    source: str
    spec: ApplicationsFile

    def checklist(self, base_visa: str) -> Checklist:
        """The national checklist of a base visa (a design's own `documents` come first)."""
        found = self.spec.documents.checklists.get(base_visa)  # type: ignore[call-overload]
        if found is None:
            raise PolicyError([f"{self.source}:documents.checklists.{base_visa}: no checklist for this base visa"])
        return found

    def labels(self) -> dict[str, dict[str, str]]:
        """Document id → {en, ko} label."""
        return {name: label.model_dump() for name, label in self.spec.documents.labels.items()}

    def label(self, document: str) -> dict[str, str]:
        """A document's label; a document a design names without a national label shows its id."""
        label = self.spec.documents.labels.get(document)
        return label.model_dump() if label else {"en": document, "ko": document}

    def value(self, name: str, on: dt.date) -> int:
        """The value of a dated parameter in force on `on`."""
        found = value_in_force(getattr(self.spec.parameters, name).values, on)
        if found is None:
            raise PolicyError([f"{self.source}:parameters.{name}.values: no value in force on {on}"])
        return found[1]

    def nationality_cap_min_base(self, on: dt.date) -> int:
        return self.value("nationality_cap_min_base", on)

    def default_status_months(self, on: dt.date) -> int:
        return self.value("default_status_months", on)


def load_application_rules(path: Path) -> ApplicationRules:
    """Parse and check an applications rules file; errors read `file:key.path: message`."""
    raw = read_yaml(path)
    if not isinstance(raw, dict):
        raise PolicyError([f"{path}:(root): expected a mapping with 'reference', 'documents' and 'parameters'"])
    return ApplicationRules(source=str(path), spec=parse_model(ApplicationsFile, raw, path))


@lru_cache
def application_rules(policy_dir: Path | None = None) -> ApplicationRules:
    policy_dir = policy_dir or get_settings().policy_dir
    return load_application_rules(Path(policy_dir) / "national" / "applications.yaml")
