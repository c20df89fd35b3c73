"""Sample applicant profiles (policy/samples/applicants.yaml) and the design form's preview screening.

The profiles are policy data: invented applicants of each base visa, labelled in Korean and English,
whose fields are those of the applicant field catalogue (DESIGN §4.3). The file is read strictly:
an unknown field, a value of the wrong type or a repeated id names the file and the key.

`preview` is pure: every sample of the design's base visa explained by the one evaluator
(`rules.explain`) that the screening explanation pages use, so the preview cannot disagree with
how a real applicant would be screened. Nothing is written anywhere.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from regionvisa.policyfiles import LocalText, PolicyError, parse_model, read_yaml
from regionvisa.programs.files import LoadedProgram
from regionvisa.rules import FIELDS, Explanation, coerce_applicant, explain

SAMPLES_FILE = Path("samples") / "applicants.yaml"  # under the policy folder


class SampleProfile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1, pattern=r"^[a-z0-9][a-z0-9-]*$")
    label: LocalText
    applicant: dict[str, Any] = Field(min_length=1)


class SampleFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    samples: dict[Literal["D-2", "E-7"], list[SampleProfile]]


@dataclass(frozen=True)
class SampleSet:
    """The profiles of each base visa, in the file's order."""

    by_visa: dict[str, tuple[SampleProfile, ...]]

    def for_visa(self, visa: str) -> tuple[SampleProfile, ...]:
        return self.by_visa.get(visa, ())


def _profile_errors(where: str, profile: SampleProfile) -> list[str]:
    """Each field the catalogue does not know, or whose value it cannot read, as `where.field: message`."""
    errors = []
    for name in profile.applicant:
        if name not in FIELDS or name == "applicant_id":
            why = "the sample's id is its applicant id" if name == "applicant_id" else "unknown applicant field"
            errors.append(f"{where}.applicant.{name}: {why} (see the field catalogue, DESIGN §4.3)")
    known = {k: v for k, v in profile.applicant.items() if k in FIELDS}
    _typed, problems = coerce_applicant(known)
    for name, value, reason_en, _reason_ko in problems:
        errors.append(f"{where}.applicant.{name}: {value!r} {reason_en}")
    return errors


def parse_samples(data: Any, source: str) -> SampleSet:
    """The sample file's data, checked against the field catalogue; PolicyError lines `source:key: message`."""
    spec = parse_model(SampleFile, data, source)
    errors: list[str] = []
    for visa, profiles in spec.samples.items():
        if not profiles:
            errors.append(f"{source}:samples.{visa}: at least one sample profile is needed")
        seen: set[str] = set()
        for i, profile in enumerate(profiles):
            where = f"{source}:samples.{visa}[{i}]"
            if profile.id in seen:
                errors.append(f"{where}.id: {profile.id!r} is used twice for {visa}")
            seen.add(profile.id)
            errors.extend(_profile_errors(where, profile))
    if errors:
        raise PolicyError(errors)
    return SampleSet({visa: tuple(profiles) for visa, profiles in spec.samples.items()})


def load_samples(path: Path) -> SampleSet:
    """The sample file at `path` (read again when it changes on disk)."""
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        stamp = 0
    return _load_cached(str(path), stamp)


@lru_cache(maxsize=4)
def _load_cached(path: str, _stamp: int) -> SampleSet:
    return parse_samples(read_yaml(Path(path)), path)


def preview_day(*, program: LoadedProgram, today: dt.date) -> dt.date:
    """The reference date of a preview: today, or the nearest day the design is in force."""
    return min(max(today, program.spec.valid_from), program.spec.valid_to)


@dataclass(frozen=True)
class PreviewRow:
    sample: SampleProfile
    explanation: Explanation


def preview(*, program: LoadedProgram, samples: SampleSet, on: dt.date) -> list[PreviewRow]:
    """Every sample of the design's base visa screened against it on `on`, criterion by criterion."""
    return [
        PreviewRow(sample, explain(program.checked, {"applicant_id": sample.id, **sample.applicant}, on=on))
        for sample in samples.for_visa(program.spec.base_visa)
    ]
