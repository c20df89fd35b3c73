"""Programme design files (DESIGN §4.1): strict reading, guardrail checks, and the rule programme.

Every problem reads `file:key.path: message`, and a guardrail problem names the bound and its
legal reference, so a regional official can fix a design without asking anyone.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from regionvisa.core.wording import worded_error
from regionvisa.policyfiles import (
    PolicyError,
    Reference,
    read_yaml,
    reference_contract,
    reference_text,
)
from regionvisa.programs.guardrails import (
    BaseVisaGuardrails,
    ShapeRule,
    bound_on,
    dated,
    describe_bound,
    guardrails,
    national_list,
)
from regionvisa.programs.problems import DesignProblems, Problem, schema_problem, unit_ko
from regionvisa.regions.parameters import LocalText, national_values
from regionvisa.regions.service import region_codes
from regionvisa.rules.fields import FIELDS, VALUE_CONTEXT, VALUE_LABELS
from regionvisa.rules.program import Criterion, RuleProgram, normalise_dated
from regionvisa.rules.validate import CheckedProgram, check_program, validate_program
from regionvisa.web.i18n import translate

SLUG = r"^[a-z0-9][a-z0-9-]{1,62}$"


class CriterionSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    label: LocalText
    reference: Reference
    rule: Any


class PointsSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    when: Any
    points: int | float
    label: LocalText | None = None


class DocumentsSpec(BaseModel):
    """The application's document checklist; `simplified` is the reduced list for regions under
    the simplified procedure, so it may only leave documents out."""

    model_config = ConfigDict(extra="forbid")
    standard: list[str] = Field(min_length=1)
    simplified: list[str] | None = None

    @model_validator(mode="after")
    def _reduced(self) -> DocumentsSpec:
        for name in (*self.standard, *(self.simplified or [])):
            if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
                raise worded_error(
                    en=f"document id {name!r}: use lower-case letters, digits and _",
                    ko=f"서류 식별자 {name!r}: 영문 소문자, 숫자, _만 쓸 수 있습니다",
                )
        extra = sorted(set(self.simplified or []) - set(self.standard))
        if extra:
            raise worded_error(
                en=f"simplified lists documents the standard list does not ask for: {', '.join(extra)}",
                ko=f"간이 목록에 표준 목록이 요구하지 않는 서류가 있습니다: {', '.join(extra)}",
            )
        return self


class ProgramSpec(BaseModel):
    """The §4.1 file. Unknown keys are errors; a typo must not silently change a design."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=SLUG)
    version: int = Field(ge=1)
    region: str
    base_visa: Literal["D-2", "E-7"]
    title: LocalText
    valid_from: dt.date
    valid_to: dt.date
    quota: int = Field(ge=0)
    residence_area: list[str] = Field(min_length=1)
    obligation_months: int = Field(ge=0, le=120)
    kiip_deadline_months: int | None = Field(default=None, ge=0, le=120)
    nationality_cap: float | None = Field(default=None, gt=0, le=1)
    reference: Reference | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    criteria: list[CriterionSpec] = Field(default_factory=list)
    points: list[PointsSpec] = Field(default_factory=list)
    documents: DocumentsSpec | None = None

    @field_validator("region")
    @classmethod
    def _known_region(cls, value: str) -> str:
        if value not in region_codes():
            raise worded_error(
                en=f"unknown region code {value!r} (expected one of the 17 two-digit codes)",
                ko=f"알 수 없는 지역 코드입니다: {value!r} (17개 시·도의 두 자리 코드 중 하나여야 합니다)",
            )
        return value

    @field_validator("parameters")
    @classmethod
    def _dated(cls, value: dict[str, Any]) -> dict[str, Any]:
        for name, values in value.items():
            if not isinstance(values, dict) or not values:
                raise worded_error(
                    en=f"{name}: give dated values, e.g. {{2025-04-02: …}}",
                    ko=f"{name}: 시행일별 값을 주십시오 (예: {{2025-04-02: …}})",
                )
            normalise_dated(values)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> ProgramSpec:
        if self.valid_to < self.valid_from:
            raise worded_error(
                en=f"valid_to {self.valid_to} is before valid_from {self.valid_from}",
                ko=f"종료일 {self.valid_to}이(가) 시작일 {self.valid_from}보다 앞섭니다",
            )
        for code in self.residence_area:
            if not (len(code) in (2, 5) and code.isdigit() and code[:2] == self.region):
                raise worded_error(
                    en=f"residence_area code {code!r} must be the programme's region {self.region} "
                    "or one of its 5-digit districts",
                    ko=f"거주 지역 코드 {code!r}은(는) 프로그램의 지역 {self.region}이거나 "
                    "그 지역의 다섯 자리 시·군·구 코드여야 합니다",
                )
        return self


@dataclass
class LoadedProgram:
    """A validated design: the file as written, and the rule programme with guardrails applied."""

    spec: ProgramSpec
    rules: RuleProgram
    source: str
    defaults_taken: dict[str, str] = field(default_factory=dict)  # parameter -> where its value came from
    fixed_ids: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return self.spec.id

    @cached_property
    def checked(self) -> CheckedProgram:
        """Typed once per design: evaluators keep their per-date compiled forms on it, so a request
        that screens or explains against a cached design does no validation or compilation."""
        return check_program(self.rules)

    def as_dict(self) -> dict:
        return self.spec.model_dump(mode="json", exclude_none=True)


def _guardrail_errors(spec: ProgramSpec, rails: BaseVisaGuardrails, source: str) -> list[Problem]:
    """Bounded parameters on every day they are in force, closed lists, fixed criteria kept."""
    errors: list[Problem] = []
    fixed = {c.id: c for c in rails.fixed_criteria}
    for i, crit in enumerate(spec.criteria):
        if crit.id in fixed:
            ref = fixed[crit.id].reference
            ref_en, ref_ko = reference_text(ref, "en"), reference_text(ref, "ko")
            errors.append(
                Problem(
                    source,
                    f"criteria[{i}].id",
                    f"{crit.id!r} is a fixed national criterion of {spec.base_visa} "
                    f"and cannot be redefined or removed (guardrails.yaml fixed_criteria; {ref_en})",
                    f"‘{fixed[crit.id].label.ko}’은(는) {spec.base_visa}의 국가 고정 기준이므로 "
                    f"다시 정의하거나 뺄 수 없습니다 ({ref_ko})",
                )
            )
    for name, values in spec.parameters.items():
        first = min(normalise_dated(values))
        if first > spec.valid_from:
            errors.append(
                Problem(
                    source,
                    f"parameters.{name}",
                    f"no value in force from valid_from {spec.valid_from}; the first value starts on {first}",
                    f"유효 시작일 {spec.valid_from}부터 적용되는 값이 없습니다. 첫 값은 {first}부터 적용됩니다",
                )
            )
    return [
        *errors,
        *_shape_errors(spec, rails, source),
        *_bounded_errors(spec, rails, source),
        *_closed_list_errors(spec, rails, source),
    ]


def _bounded_errors(spec: ProgramSpec, rails: BaseVisaGuardrails, source: str) -> list[Problem]:
    """Each dated value against the national bounds in force on every day it applies."""
    errors: list[Problem] = []
    for name, bounded in rails.bounded_parameters.items():
        if name not in spec.parameters:
            continue
        values = normalise_dated(spec.parameters[name])
        starts = sorted(values)
        for k, start in enumerate(starts):
            end = (starts[k + 1] - dt.timedelta(days=1)) if k + 1 < len(starts) else spec.valid_to
            first = max(start, spec.valid_from)
            if first > end:
                continue
            # The bound may change inside the interval (e.g. the minimum wage on 1 January).
            checkpoints = {first}
            for which in (bounded.min, bounded.max):
                for d in dated(which) or {}:
                    if first < d <= end:
                        checkpoints.add(d)
            value = values[start]
            where, unit, label = f"parameters.{name}.{start}", unit_ko(bounded.unit), bounded.label.ko
            ref_en, ref_ko = reference_text(bounded.reference, "en"), reference_text(bounded.reference, "ko")
            if isinstance(value, bool) or not isinstance(value, int | float):
                errors.append(
                    Problem(
                        source,
                        where,
                        f"expected a number in {bounded.unit}, got {value!r}",
                        f"{label}은(는) {unit} 단위의 숫자여야 합니다",
                    )
                )
                continue
            for day in sorted(checkpoints):
                low = bound_on(bounded.min, day)
                high = bound_on(bounded.max, day)
                if low is not None and value < low[0]:
                    errors.append(
                        Problem(
                            source,
                            where,
                            f"{value:,} {bounded.unit} is below the national lower "
                            f"bound {low[0]:,} ({describe_bound(bounded.min)}, in force on {day}); {ref_en}",
                            f"{label} {value:,}{unit}은(는) {day}에 적용되는 국가 하한 {low[0]:,}{unit}보다 "
                            f"낮습니다; {ref_ko}",
                        )
                    )
                    break
                if high is not None and value > high[0]:
                    errors.append(
                        Problem(
                            source,
                            where,
                            f"{value:,} {bounded.unit} is above the national upper bound {high[0]:,} "
                            f"({describe_bound(bounded.max)}, in force on {day}); {ref_en}",
                            f"{label} {value:,}{unit}은(는) {day}에 적용되는 국가 상한 {high[0]:,}{unit}보다 "
                            f"높습니다; {ref_ko}",
                        )
                    )
                    break
    return errors


def _closed_list_errors(spec: ProgramSpec, rails: BaseVisaGuardrails, source: str) -> list[Problem]:
    """Occupation lists may only narrow the national list."""
    errors: list[Problem] = []
    for name, closed in rails.closed_lists.items():
        if name not in spec.parameters:
            continue
        allowed = set(national_list(closed))
        for start, value in normalise_dated(spec.parameters[name]).items():
            where = f"parameters.{name}.{start}"
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                errors.append(
                    Problem(
                        source,
                        where,
                        "expected a list of occupation codes (strings)",
                        f"{closed.label.ko}은(는) 직종 코드(문자열)의 목록이어야 합니다",
                    )
                )
                continue
            extra = [v for v in value if v not in allowed]
            if extra:
                kinds = "/".join(closed.subtypes)
                errors.append(
                    Problem(
                        source,
                        where,
                        f"{', '.join(extra)} not in the national {kinds} list; "
                        f"a region may only narrow it ({reference_text(closed.reference, 'en')})",
                        f"{', '.join(extra)}은(는) 국가 {kinds} 직종 목록에 없습니다. "
                        f"지역은 목록을 좁힐 수만 있습니다 ({reference_text(closed.reference, 'ko')})",
                    )
                )
    return errors


def _shape_hits(rule: Any, path: str, shape: ShapeRule, parameters: dict[str, Any]) -> list[tuple[str, Any]]:
    """(key path, value) of every value a rule admits for `shape.field` that the shape rule forbids."""
    if isinstance(rule, list):
        return [hit for k, item in enumerate(rule) for hit in _shape_hits(item, f"{path}[{k}]", shape, parameters)]
    if not isinstance(rule, dict) or len(rule) != 1:
        return []
    ((op, arg),) = rule.items()
    here = f"{path}.{op}"
    hits: list[tuple[str, Any]] = []
    target = {"var": shape.field}
    if op in ("==", "in") and isinstance(arg, list) and len(arg) == 2 and target in arg:
        k = 1 if arg[0] == target else 0
        other = arg[k]
        if op == "==" and isinstance(other, str) and other not in shape.allowed:
            hits.append((f"{here}[{k}]", other))
        elif op == "in" and k == 1 and isinstance(other, list):
            hits += [(f"{here}[1][{j}]", v) for j, v in enumerate(other) if v not in shape.allowed]
        elif op == "in" and k == 1 and isinstance(other, dict) and isinstance(other.get("param"), str):
            name = other["param"]
            for start, value in normalise_dated(parameters.get(name) or {dt.date.min: []}).items():
                bad = [x for x in (value if isinstance(value, list) else [value]) if x not in shape.allowed]
                if bad:
                    hits.append((f"parameters.{name}.{start}", bad[0]))
    return hits + _shape_hits(arg, here, shape, parameters)


def _shape_errors(spec: ProgramSpec, rails: BaseVisaGuardrails, source: str) -> list[Problem]:
    """Criteria that would admit a value a shape rule forbids (e.g. a D-2 language course).

    The fixed criterion already fails such applicants at screening; this check tells the region at
    validation time instead, naming the rule and its reference.
    """
    errors: list[Problem] = []
    for shape in rails.shape_rules:
        field_ko = FIELDS[shape.field].label("ko") if shape.field in FIELDS else shape.field
        allowed_ko = ", ".join(_value_ko(v) for v in shape.allowed)
        for i, crit in enumerate(spec.criteria):
            for path, value in _shape_hits(crit.rule, f"criteria[{i}].rule", shape, spec.parameters):
                errors.append(
                    Problem(
                        source,
                        path,
                        f"{value!r} is outside the {spec.base_visa} shape rule {shape.id!r} "
                        f"({shape.label.en}): {shape.field} may only be {', '.join(shape.allowed)}; "
                        f"{reference_text(shape.reference, 'en')}",
                        f"‘{_value_ko(value)}’은(는) {spec.base_visa} 형태 규칙 ‘{shape.label.ko}’을(를) 벗어납니다: "
                        f"{field_ko}은(는) {allowed_ko}만 가능합니다; {reference_text(shape.reference, 'ko')}",
                    )
                )
    return errors


def _value_ko(value: Any) -> str:
    return translate("ko", VALUE_LABELS[value], context=VALUE_CONTEXT) if value in VALUE_LABELS else str(value)


def build(spec: ProgramSpec, source: str = "<design>") -> LoadedProgram:
    """Check a parsed design against the guardrails and compile its rule programme.

    Raises PolicyError with every problem found; never returns a half-valid programme.
    """
    rails = guardrails().base_visas[spec.base_visa]
    errors = _guardrail_errors(spec, rails, source)
    parameters = dict(spec.parameters)
    defaults: dict[str, str] = {}
    for name, bounded in rails.bounded_parameters.items():
        if name not in parameters:
            parameters[name] = {
                d if d != dt.date.min else spec.valid_from: v for d, v in dated(bounded.default).items()
            }
            defaults[name] = describe_bound(bounded.default)
    for name, closed in rails.closed_lists.items():
        if name not in parameters:
            parameters[name] = {spec.valid_from: national_list(closed)}
            defaults[name] = f"national {'/'.join(closed.subtypes)} list"
    fixed = [
        Criterion(id=c.id, rule=c.rule, label=c.label.model_dump(), reference=reference_contract(c.reference))
        for c in rails.fixed_criteria
    ]
    data = spec.model_dump(mode="python")
    data["parameters"] = parameters
    # The rule programme (and so the explanations, the command line and the API) keeps one string.
    for crit, written in zip(data["criteria"], spec.criteria, strict=True):
        crit["reference"] = reference_contract(written.reference)
    rules = RuleProgram.from_dict(data, national_values(), fixed_criteria=fixed)
    problems = list(errors)
    n_fixed = len(fixed)
    fixed_ids = {c.id for c in fixed}
    for err in validate_program(rules):
        if err.message.startswith("duplicate criterion id") and err.message.split("'")[1] in fixed_ids:
            continue  # already reported above as an attempt to redefine a fixed criterion
        problems.append(Problem(source, _file_path(err.path, n_fixed), err.message, err.message_ko))
    if problems:
        raise DesignProblems(problems)
    return LoadedProgram(
        spec=spec, rules=rules, source=source, defaults_taken=defaults, fixed_ids=tuple(c.id for c in fixed)
    )


def criterion_references(lp: LoadedProgram) -> dict[str, Reference]:
    """Each criterion's reference as written (a plain string or {ko, en}), national fixed ones first."""
    rails = guardrails().base_visas[lp.spec.base_visa]
    return {c.id: c.reference for c in rails.fixed_criteria} | {c.id: c.reference for c in lp.spec.criteria}


def _file_path(path: str, n_fixed: int) -> str:
    """Map `criteria[i]` of the merged programme back to the file (or to the guardrails)."""
    if path.startswith("criteria["):
        index = int(path[len("criteria[") : path.index("]")])
        rest = path[path.index("]") + 1 :]
        if index < n_fixed:
            return f"guardrails.fixed_criteria[{index}]{rest}"
        return f"criteria[{index - n_fixed}]{rest}"
    return path


def parse_design(data: Any, source: str = "<design>") -> LoadedProgram:
    if not isinstance(data, dict):
        raise PolicyError([f"{source}:(root): expected a mapping (the programme design)"])
    try:
        spec = ProgramSpec.model_validate(data)
    except ValidationError as exc:
        raise DesignProblems([schema_problem(source, err) for err in exc.errors()]) from exc
    return build(spec, source)


def load_program_file(path: Path) -> LoadedProgram:
    return parse_design(read_yaml(path), str(path))


def program_files(policy_dir: Path) -> list[Path]:
    return sorted((policy_dir / "programs").glob("*/*.yaml"))
