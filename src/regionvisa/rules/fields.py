"""The applicant field catalogue (DESIGN §4.3), declared once.

Validation, both evaluators, file parsing and the rule editor's field list all read this table, so a
field's type, unit, enum order and labels cannot drift between them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import polars as pl

from regionvisa.core.text import NP_

FIELD_TYPES = (
    "string",
    "date",
    "boolean",
    "integer",
    "number",
    "enum",
    "ordered_enum",
    "region_code",
    "list",
)

EDUCATION_LEVELS = ("none", "high_school", "associate", "bachelor", "master", "doctorate")
COURSE_TYPES = ("degree", "language", "exchange")
E7_SUBTYPES = ("E-7-1", "E-7-2", "E-7-3", "E-7-4")
# The enum values as people read them (message ids, context "applicant value"); the stored value
# stays the code. The E-7 subtypes are the law's own codes and are shown as they are.
VALUE_CONTEXT = "applicant value"
VALUE_LABELS = {
    "none": NP_("applicant value", "none"),
    "high_school": NP_("applicant value", "high school"),
    "associate": NP_("applicant value", "associate degree"),
    "bachelor": NP_("applicant value", "bachelor's degree"),
    "master": NP_("applicant value", "master's degree"),
    "doctorate": NP_("applicant value", "doctorate"),
    "degree": NP_("applicant value", "degree course"),
    "language": NP_("applicant value", "language course"),
    "exchange": NP_("applicant value", "exchange programme"),
}


@dataclass(frozen=True)
class Field:
    """One typed fact about an applicant that criteria may read."""

    name: str
    type: str
    label_ko: str
    label_en: str
    unit: str | None = None
    values: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    pattern: str | None = None
    description_en: str | None = None
    # Plausibility of dates, checked against the application date at intake: the age in whole
    # years a date of birth gives (inclusive bounds), and another date field this one must follow.
    age_min: int | None = None
    age_max: int | None = None
    after: str | None = None

    def __post_init__(self) -> None:
        if self.type not in FIELD_TYPES:
            raise ValueError(f"field {self.name}: unknown type {self.type!r}")
        if self.type in ("enum", "ordered_enum") and not self.values:
            raise ValueError(f"field {self.name}: an enum needs values")

    @property
    def ordered(self) -> bool:
        return self.type == "ordered_enum"

    @property
    def is_enum(self) -> bool:
        return self.type in ("enum", "ordered_enum")

    @property
    def dtype(self) -> pl.DataType:
        """The Polars dtype a parsed column of this field has."""
        return {
            "string": pl.String(),
            "region_code": pl.String(),
            "date": pl.Date(),
            "boolean": pl.Boolean(),
            "integer": pl.Int64(),
            "number": pl.Float64(),
            "list": pl.List(pl.String()),
        }.get(self.type) or pl.Enum(list(self.values))

    def label(self, lang: str) -> str:
        return self.label_ko if lang == "ko" else self.label_en

    def to_dict(self) -> dict:
        d: dict = {
            "name": self.name,
            "type": self.type,
            "label": {"ko": self.label_ko, "en": self.label_en},
            "unit": self.unit,
        }
        if self.values:
            d["values"] = list(self.values)
            d["ordered"] = self.ordered
        if self.minimum is not None:
            d["minimum"] = self.minimum
        if self.maximum is not None:
            d["maximum"] = self.maximum
        if self.pattern is not None:
            d["pattern"] = self.pattern
        if self.description_en is not None:
            d["description"] = self.description_en
        if self.age_min is not None or self.age_max is not None:
            d["age"] = {"minimum": self.age_min, "maximum": self.age_max}
        if self.after is not None:
            d["after"] = self.after
        return d


class Catalogue(Mapping[str, Field]):
    """An ordered, read-only set of fields; injectable so tests and future profiles can extend it."""

    def __init__(self, fields: list[Field] | tuple[Field, ...]):
        self._fields = {f.name: f for f in fields}
        if len(self._fields) != len(fields):
            raise ValueError("duplicate field names in catalogue")

    def __getitem__(self, name: str) -> Field:
        return self._fields[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    @property
    def schema(self) -> dict[str, pl.DataType]:
        return {f.name: f.dtype for f in self._fields.values()}


REGION_CODE_PATTERN = r"^[0-9]{2}([0-9]{3})?$"

FIELDS = Catalogue(
    [
        Field("applicant_id", "string", "신청인 번호", "applicant ID"),
        Field(
            "nationality",
            "string",
            "국적",
            "nationality",
            pattern=r"^[A-Z]{3}$",
            description_en="ISO 3166-1 alpha-3 code",
        ),
        Field("birth_date", "date", "생년월일", "date of birth", age_min=0, age_max=120),
        Field("passport_valid_until", "date", "여권 유효기간 만료일", "passport valid until", after="birth_date"),
        Field("entry_ban", "boolean", "입국금지 여부", "entry ban"),
        Field("criminal_record", "boolean", "범죄경력 여부", "criminal record"),
        Field(
            "prior_illegal_stay",
            "boolean",
            "최근 5년 내 불법체류 이력",
            "illegal stay in the last 5 years",
        ),
        Field("education_level", "ordered_enum", "최종 학력", "education level", values=EDUCATION_LEVELS),
        Field("course_type", "enum", "과정 유형", "course type", values=COURSE_TYPES),
        Field(
            "university_region",
            "region_code",
            "대학 소재 지역",
            "university region",
            pattern=REGION_CODE_PATTERN,
        ),
        Field(
            "employer_region",
            "region_code",
            "사업장 소재 지역",
            "employer region",
            pattern=REGION_CODE_PATTERN,
        ),
        Field(
            "intended_residence",
            "region_code",
            "거주 예정 지역",
            "intended residence",
            pattern=REGION_CODE_PATTERN,
        ),
        Field("topik_level", "integer", "TOPIK 등급", "TOPIK level", unit="level", minimum=0, maximum=6),
        Field(
            "kiip_level",
            "integer",
            "사회통합프로그램 단계",
            "KIIP level",
            unit="level",
            minimum=0,
            maximum=5,
        ),
        Field(
            "bank_balance_krw", "integer", "예금 잔고", "bank balance", unit="KRW", minimum=0, maximum=100_000_000_000
        ),
        Field("annual_wage_krw", "integer", "연간 임금", "annual wage", unit="KRW", minimum=0, maximum=100_000_000_000),
        Field(
            "occupation_code",
            "string",
            "직종 코드",
            "occupation code",
            description_en="national E-7 occupation code",
        ),
        Field("e7_subtype", "enum", "E-7 세부 유형", "E-7 sub-type", values=E7_SUBTYPES),
        Field("experience_years", "number", "경력 연수", "years of experience", unit="years", minimum=0, maximum=80),
        Field(
            "employer_foreign_ratio",
            "number",
            "사업장 외국인 고용 비율",
            "employer's foreign staff share",
            unit="ratio",
            minimum=0,
            maximum=1,
        ),
        Field("korean_test_passed", "boolean", "한국어 시험 합격", "Korean-language test passed"),
        Field("skills_test_passed", "boolean", "기술 시험 합격", "skills test passed"),
        Field(
            "provincial_guarantee",
            "boolean",
            "광역자치단체 재정 보증",
            "provincial financial guarantee",
            description_en="the province guarantees the student's costs in place of a bank balance (Chungbuk 2025)",
        ),
    ]
)


def catalogue_json(fields: Catalogue = FIELDS) -> dict:
    """The catalogue and the operator set as plain JSON, so a rule editor can be built from it."""
    from .schema import OPERATORS

    return {
        "fields": [f.to_dict() for f in fields.values()],
        "operators": [
            {"op": op.name, "group": op.group, "arity": op.arity_text, "description": op.description}
            for op in OPERATORS.values()
        ],
    }
