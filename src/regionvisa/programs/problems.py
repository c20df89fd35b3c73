"""A design's guardrail problems in English and Korean.

The English line keeps the contract of DESIGN §4.1 (`file:key.path: message`, the bound and its
reference named); the Korean wording says the same for pages in Korean. `DesignProblems` is a
`PolicyError` whose `errors` are exactly the English lines, so the command line and the API keep
their output while the pages pick the page's language.
"""

from __future__ import annotations

from dataclasses import dataclass

from regionvisa.core.wording import pydantic_message
from regionvisa.policyfiles import PolicyError, key_path

UNITS_KO = {"KRW": "원", "KRW/year": "원(연)", "hours/week": "시간(주당)"}


@dataclass(frozen=True)
class Problem:
    source: str
    path: str
    en: str
    ko: str

    def __str__(self) -> str:
        return f"{self.source}:{self.path}: {self.en}"

    def text(self, lang: str) -> str:
        return self.ko if lang == "ko" and self.ko else self.en


class DesignProblems(PolicyError):
    """Every problem of one design; `errors` holds the English contract lines."""

    def __init__(self, problems: list[Problem], others: list[str] | None = None):
        self.problems = problems
        super().__init__([*(str(p) for p in problems), *(others or [])])


def unit_ko(unit: str) -> str:
    return UNITS_KO.get(unit, unit)


def localised(errors: list[str], problems: list[Problem] | None, lang: str) -> list[str]:
    """The error lines in `lang`: a known problem in its own words, any other line as it is."""
    by_line = {str(p): p for p in problems or []}
    return [f"{by_line[e].source}:{by_line[e].path}: {by_line[e].text(lang)}" if e in by_line else e for e in errors]


def schema_problem(source: str, err: dict) -> Problem:
    """One refusal of the design's schema: the English line exactly as `policyfiles.validation_errors`
    writes it, and the same refusal in Korean (its path is the file's key, shown as written)."""
    kind = err.get("type", "")
    if kind == "missing":
        ko = "필수 항목이 없습니다"
    elif kind == "extra_forbidden":
        ko = "알 수 없는 항목입니다: 철자를 확인하십시오"
    else:
        ko = pydantic_message(err, "값", "ko")
    return Problem(source=source, path=key_path(err["loc"]), en=err["msg"], ko=ko)
