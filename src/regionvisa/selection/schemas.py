"""Selection rounds: inputs (rounds, rubric, proposals, scores, decisions) as Pydantic models."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from regionvisa.regions.parameters import LocalText
from regionvisa.regions.service import region_codes
from regionvisa.web.params import IsoDate


class RubricCriterion(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    weight: float = Field(gt=0, le=1000, strict=True)
    label: LocalText
    description: LocalText


# The five criteria the ministry named for the 2025 round; the weights are the ministry's to set.
DEFAULT_RUBRIC: list[dict[str, Any]] = [
    {
        "id": "need",
        "weight": 25,
        "label": {"ko": "지역 수요 및 산업 적합성", "en": "Regional need and industrial fit"},
        "description": {
            "ko": "지역 인력 부족과 전략 산업에 맞는 설계인가",
            "en": "Does the design answer the region's labour shortages and strategic industries?",
        },
    },
    {
        "id": "feasibility",
        "weight": 25,
        "label": {"ko": "설계의 실현 가능성", "en": "Feasibility of the design"},
        "description": {
            "ko": "대학·기업 참여, 모집 계획, 예산이 현실적인가",
            "en": "Are the participating universities or employers, recruitment plan and budget realistic?",
        },
    },
    {
        "id": "settlement",
        "weight": 20,
        "label": {"ko": "정착 및 사회통합 지원 계획", "en": "Settlement and integration support plan"},
        "description": {
            "ko": "주거, 한국어·사회통합프로그램, 생활 지원 계획",
            "en": "Housing, Korean-language and KIIP, and everyday support for holders",
        },
    },
    {
        "id": "management",
        "weight": 20,
        "label": {"ko": "관리 역량 및 불법체류 방지", "en": "Management capacity and prevention of illegal stays"},
        "description": {
            "ko": "전담 조직, 거주지 점검, 이탈 방지 대책",
            "en": "Dedicated staff, residence checks and measures against absconding",
        },
    },
    {
        "id": "employment",
        "weight": 10,
        "label": {"ko": "내국인 일자리 보호", "en": "Local employment protection"},
        "description": {
            "ko": "내국인 고용 영향 평가와 보호 장치",
            "en": "Assessment of the effect on local jobs and the safeguards against displacement",
        },
    },
]


def parse_quorum(text: str) -> Fraction:
    """'2/3', '0.5' or '3/4' → an exact fraction in (0, 1]."""
    try:
        value = Fraction(str(text).strip())
    except (ValueError, ZeroDivisionError) as exc:
        raise ValueError(f"quorum {text!r} is not a fraction such as 2/3") from exc
    if not 0 < value <= 1:
        raise ValueError(f"quorum {text!r} must be more than 0 and at most 1")
    return value


class RoundIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    year: int = Field(ge=2020, le=2100, strict=True)
    title_ko: str | None = Field(default=None, max_length=200)
    title_en: str | None = Field(default=None, max_length=200)
    window_opens_at: dt.datetime
    window_closes_at: dt.datetime
    rubric: list[RubricCriterion] = Field(default_factory=lambda: [RubricCriterion(**c) for c in DEFAULT_RUBRIC])
    quorum: str = "2/3"
    threshold: float = Field(default=60, ge=0, le=100, strict=True)
    max_selected: int | None = Field(default=None, ge=1, strict=True)
    trim: bool = False
    quota_ceiling: int | None = Field(default=None, ge=0, strict=True)
    period: str | None = Field(default=None, max_length=16)
    period_start: IsoDate | None = None
    period_end: IsoDate | None = None

    @field_validator("quorum")
    @classmethod
    def _quorum(cls, value: str) -> str:
        parse_quorum(value)
        return str(value).strip()

    @field_validator("rubric")
    @classmethod
    def _rubric(cls, value: list[RubricCriterion]) -> list[RubricCriterion]:
        if not value:
            raise ValueError("the rubric needs at least one criterion")
        ids = [c.id for c in value]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"criterion ids must be unique: {', '.join(dupes)} repeated")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> RoundIn:
        if self.window_closes_at <= self.window_opens_at:
            raise ValueError("the submission window must close after it opens")
        self.period = self.period or str(self.year)
        self.period_start = self.period_start or dt.date(self.year, 1, 1)
        self.period_end = self.period_end or dt.date(self.year, 12, 31)
        if self.period_end < self.period_start:
            raise ValueError("the quota period must end after it starts")
        self.title_ko = self.title_ko or f"{self.year}년 광역형 비자 시범사업 선정 심사"
        self.title_en = self.title_en or f"{self.year} region-led visa pilot selection"
        return self


class MemberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str
    role: str = Field(pattern=r"^(chair|official|expert)$")
    affiliation: str = Field(min_length=1, max_length=200)
    affiliation_region: str | None = None

    @field_validator("affiliation_region")
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if value not in region_codes():
            raise ValueError(f"unknown region code {value!r}")
        return value


class ConflictsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    regions: list[str] = Field(default_factory=list)
    reason: str = ""


class DesignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    design: dict[str, Any] | str  # the §4.1 design as a mapping, or its YAML text
    requested_quota: int | None = Field(default=None, ge=0, strict=True)


class AttachmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    filename: str = Field(min_length=1, max_length=200)
    content_type: str = "application/octet-stream"
    content_base64: str


class ProposalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    designs: list[DesignIn] = Field(min_length=1)
    narrative: str = Field(min_length=1)
    attachments: list[AttachmentIn] = Field(default_factory=list)
    keep_attachments: bool = True


class ScoreIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    score: int = Field(ge=0, le=100, strict=True)
    comment: str = Field(min_length=1, max_length=4000)


class ScoresIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    scores: dict[str, ScoreIn]


class QuotaAdjustment(BaseModel):
    model_config = ConfigDict(extra="forbid")
    quota: int = Field(ge=0, strict=True)
    reason: str = ""


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    adjustments: dict[str, QuotaAdjustment] = Field(default_factory=dict)
    meeting_on: IsoDate | None = None
