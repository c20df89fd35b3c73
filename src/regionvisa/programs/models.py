"""Programmes and their versions. A version's design is stored whole (JSON) with its digest;
once published it is never changed, so a past screening can always be explained again."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    false,
    func,
    select,
    type_coerce,
)
from sqlalchemy.orm import Mapped, column_property, mapped_column

from regionvisa.applications.models import RegionBenefit
from regionvisa.db import Base

PROGRAM_STATUSES = ("draft", "submitted", "approved", "published", "retired")


class Program(Base):
    __tablename__ = "program"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    region: Mapped[str] = mapped_column(String(2), index=True)
    base_visa: Mapped[str] = mapped_column(String(8))
    title_ko: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    # Read, never stored here: the region's one flag (applications.models.RegionBenefit).
    simplified_procedure: Mapped[bool] = column_property(
        type_coerce(
            func.coalesce(
                select(RegionBenefit.simplified_procedure).where(RegionBenefit.region == region).scalar_subquery(),
                false(),
            ),
            Boolean,
        )
    )


class ProgramVersion(Base):
    __tablename__ = "program_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    program_id: Mapped[str] = mapped_column(ForeignKey("program.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    design: Mapped[dict] = mapped_column(JSON)
    digest: Mapped[str] = mapped_column(String(64))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    status_changed_by: Mapped[str | None] = mapped_column(String(64))
    status_changed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("program_id", "version"),
        Index("ix_program_version_status", "status", "valid_from", "valid_to"),
        CheckConstraint("status IN ('draft', 'submitted', 'approved', 'published', 'retired')", name="status"),
    )
