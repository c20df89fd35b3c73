"""Annual regional evaluation / 연간 지역 평가: tables.

- committee members are `selection.models.CommitteeMember` (one table for both committees): a
  member's entry without a round is the standing evaluation committee's, which says whose
  government the member belongs to (users of the committee_member role have no region), so
  recusal can be automatic.
- `evaluation_committee_score`: one member's 0–100 score (with justification) for one region's
  committee indicator in one year, or a declared recusal.
- `evaluation_run`: a stored evaluation: the canonical JSON result text (with its run record) and
  its SHA-256, so a stored run can be re-computed and compared byte for byte.
- `evaluation_benefit`: the benefits and sanctions each year's publication granted a region (the
  record of that decision). Publication hands the simplified procedure to the one stored flag in
  force, `applications.models.RegionBenefit`, which a ministry override may change.
- `evaluation_quota_plan`: next year's apportionment proposed from a published run; confirming it
  opens the next period's quota ledgers.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from regionvisa.db import Base

RUN_STATUSES = ("draft", "published", "superseded")
PLAN_STATUSES = ("proposed", "confirmed")


class CommitteeScore(Base):
    __tablename__ = "evaluation_committee_score"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    year: Mapped[int] = mapped_column(Integer)
    indicator: Mapped[str] = mapped_column(String(64))
    region: Mapped[str] = mapped_column(String(2))
    member_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    score: Mapped[float | None] = mapped_column(Float)
    justification: Mapped[str] = mapped_column(Text, default="")
    recused: Mapped[bool] = mapped_column(Boolean, default=False)
    entered_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("year", "indicator", "region", "member_id"),
        CheckConstraint("score IS NULL OR (score >= 0 AND score <= 100)", name="score_range"),
        CheckConstraint("recused OR score IS NOT NULL", name="score_or_recusal"),
        Index("ix_evaluation_committee_score_year", "year", "indicator", "region"),
    )


class EvaluationRun(Base):
    __tablename__ = "evaluation_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    year: Mapped[int] = mapped_column(Integer)
    framework_id: Mapped[str] = mapped_column(String(64))
    framework_sha256: Mapped[str] = mapped_column(String(64))
    inputs_sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="draft")
    result_json: Mapped[str] = mapped_column(Text)
    result_sha256: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    published_by: Mapped[str | None] = mapped_column(String(64))
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("status IN ('draft', 'published', 'superseded')", name="status"),
        Index("ix_evaluation_run_year", "year", "status"),
    )


class EvaluationBenefit(Base):
    __tablename__ = "evaluation_benefit"

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    region: Mapped[str] = mapped_column(String(2), primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("evaluation_run.id"))
    grade: Mapped[str] = mapped_column(String(16))
    score: Mapped[float] = mapped_column(Float)
    rank: Mapped[int] = mapped_column(Integer)
    quota_change: Mapped[float] = mapped_column(Float)
    simplified_procedure: Mapped[bool] = mapped_column(Boolean, default=False)
    warning: Mapped[bool] = mapped_column(Boolean, default=False)
    withdraw_designation: Mapped[bool] = mapped_column(Boolean, default=False)
    published_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class QuotaPlan(Base):
    __tablename__ = "evaluation_quota_plan"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("evaluation_run.id"))
    period: Mapped[str] = mapped_column(String(16))
    ceiling: Mapped[int] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(32))  # "modified-sainte-lague" has 21
    minimum: Mapped[int] = mapped_column(Integer, default=0)
    rows_json: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="proposed")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    confirmed_by: Mapped[str | None] = mapped_column(String(64))
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (CheckConstraint("status IN ('proposed', 'confirmed')", name="status"),)
