"""Programme designs as input: YAML or JSON text read strictly, validated without storing, and
the error that lists every problem of an invalid design."""

from __future__ import annotations

import yaml

from regionvisa.core.errors import Invalid
from regionvisa.policyfiles import PolicyError
from regionvisa.programs.files import LoadedProgram, parse_design
from regionvisa.programs.problems import localised


class DesignInvalid(Invalid):
    """A design that fails validation; the API body lists every `source:key.path: message`."""

    def __init__(self, *, errors: list[str]):
        super().__init__(
            code="design_invalid",
            ko=f"프로그램 설계에 오류가 {len(errors)}개 있습니다: {errors[0] if errors else ''}",
            en=f"the programme design has {len(errors)} error(s): {errors[0] if errors else ''}",
            field="design",
        )
        self.errors = errors

    def body(self) -> dict:
        out = super().body()
        out["error"]["details"] = self.errors
        return out


def design_from_text(text: str, source: str = "draft") -> dict:
    """A design written as YAML (or JSON) text, read strictly."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark else source
        raise PolicyError([f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})"]) from exc
    if not isinstance(data, dict):
        raise PolicyError([f"{source}:(root): expected a mapping (the programme design)"])
    return data


def design_yaml(design: dict) -> str:
    return yaml.safe_dump(design, allow_unicode=True, sort_keys=False, width=120)


def validate_design(design: dict, source: str = "draft") -> dict:
    """{"valid", "errors", "errors_ko", "defaults_taken"}: never raises for an invalid design.
    `errors` are the contract's English lines; `errors_ko` the same problems worded in Korean
    (a line without Korean wording as it is), for pages in Korean."""
    try:
        lp = parse_design(design, source=source)
    except PolicyError as exc:
        problems = getattr(exc, "problems", None)
        return {
            "valid": False,
            "errors": exc.errors,
            "errors_ko": localised(exc.errors, problems, "ko"),
            "defaults_taken": {},
        }
    return {
        "valid": True,
        "errors": [],
        "errors_ko": [],
        "defaults_taken": lp.defaults_taken,
        "fixed_criteria": list(lp.fixed_ids),
    }


def parse_or_raise(design: dict, source: str = "draft") -> LoadedProgram:
    try:
        return parse_design(design, source=source)
    except PolicyError as exc:
        raise DesignInvalid(errors=exc.errors) from exc
