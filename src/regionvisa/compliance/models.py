"""Compliance / 체류 준수: recorded runs, their per-region summaries, holders at risk, and
enforcement cases with their history.

A run's findings for the whole population are not stored (millions of rows that the records
can reproduce for the same date at any time); what is stored is what the dashboards and the
case queues need: counts by region, rule and month, the holders at risk, the employers of
programme E-7 holders with their concentration, and one case per finding on a programme holder.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from regionvisa.db import Base

CASE_STATUSES = ("open", "under_review", "resolved", "closed")
ACTIVE_STATUSES = ("open", "under_review")
OUTCOMES = ("justified", "warning", "status_cancelled")


class ComplianceRun(Base):
    """One recorded engine run as of a date (who ran it, what it found, what it did to cases)."""

    __tablename__ = "compliance_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    as_of: Mapped[dt.date] = mapped_column(Date, index=True)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(64))
    findings: Mapped[int] = mapped_column(Integer)
    holder_findings: Mapped[int] = mapped_column(Integer)
    counts: Mapped[dict] = mapped_column(JSON)  # rule -> findings
    cases_synced: Mapped[bool] = mapped_column(Boolean, default=False)
    cases_opened: Mapped[int] = mapped_column(Integer, default=0)
    cases_gone: Mapped[int] = mapped_column(Integer, default=0)
    read_seconds: Mapped[float] = mapped_column(Float)
    engine_seconds: Mapped[float] = mapped_column(Float)


class ComplianceRunCount(Base):
    """Findings of a run by region, rule and month the finding started (the dashboard's data)."""

    __tablename__ = "compliance_run_count"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("compliance_run.id", ondelete="CASCADE"))
    region: Mapped[str | None] = mapped_column(String(2))
    rule: Mapped[str] = mapped_column(String(32))
    month: Mapped[dt.date] = mapped_column(Date)
    findings: Mapped[int] = mapped_column(Integer)
    ongoing: Mapped[int] = mapped_column(Integer)
    holder_findings: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_compliance_run_count_run_region", "run_id", "region"),)


class ComplianceAtRisk(Base):
    """A programme holder close to a limit on the run's date (compliance.risk.at_risk)."""

    __tablename__ = "compliance_at_risk"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("compliance_run.id", ondelete="CASCADE"))
    person_id: Mapped[str] = mapped_column(String(32))
    rule: Mapped[str] = mapped_column(String(32))
    program_id: Mapped[str | None] = mapped_column(String(64))
    region: Mapped[str | None] = mapped_column(String(2))
    days_left: Mapped[int] = mapped_column(Integer)
    limit_date: Mapped[dt.date | None] = mapped_column(Date)
    detail: Mapped[str] = mapped_column(Text)

    __table_args__ = (Index("ix_compliance_at_risk_run_region", "run_id", "region"),)


class ComplianceEmployer(Base):
    """An employer with a programme E-7 holder on the run's date (engine.employers): its holders,
    foreign staff, their share, and whether it was flagged for concentration."""

    __tablename__ = "compliance_employer"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("compliance_run.id", ondelete="CASCADE"))
    employer_id: Mapped[str] = mapped_column(String(32))
    region: Mapped[str | None] = mapped_column(String(2))
    holders: Mapped[int] = mapped_column(Integer)
    foreign_staff: Mapped[int] = mapped_column(Integer)
    share: Mapped[float] = mapped_column(Float)
    flagged: Mapped[bool] = mapped_column(Boolean)

    __table_args__ = (Index("ix_compliance_employer_run_region", "run_id", "region", "flagged"),)


class ComplianceCase(Base):
    """An enforcement case on a finding about a programme holder.

    `active_key` identifies the finding while the case is open or under review and is NULL
    afterwards; its unique constraint is what makes a re-run unable to open a second case for
    the same finding (NULLs never collide, on SQLite or PostgreSQL).
    """

    __tablename__ = "compliance_case"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[str] = mapped_column(String(32), index=True)
    rule: Mapped[str] = mapped_column(String(32))
    program_id: Mapped[str | None] = mapped_column(String(64))
    region: Mapped[str | None] = mapped_column(String(2))
    severity: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default="open")
    outcome: Mapped[str | None] = mapped_column(String(16))
    finding_start: Mapped[dt.date] = mapped_column(Date)
    finding_end: Mapped[dt.date | None] = mapped_column(Date)
    days: Mapped[int] = mapped_column(Integer)
    evidence: Mapped[str] = mapped_column(Text)
    finding_present: Mapped[bool] = mapped_column(Boolean, default=True)
    finding_key: Mapped[str] = mapped_column(String(200), index=True)
    active_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    opened_on: Mapped[dt.date] = mapped_column(Date)
    opened_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    opened_run_id: Mapped[int | None] = mapped_column(ForeignKey("compliance_run.id", ondelete="SET NULL"))
    last_run_on: Mapped[dt.date] = mapped_column(Date)
    assignee: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_compliance_case_queue", "region", "status"),
        Index("ix_compliance_case_status", "status", "severity"),
        CheckConstraint("status IN ('open', 'under_review', 'resolved', 'closed')", name="status"),
        CheckConstraint("outcome IS NULL OR outcome IN ('justified', 'warning', 'status_cancelled')", name="outcome"),
        CheckConstraint("status <> 'resolved' OR outcome IS NOT NULL", name="resolved_has_outcome"),
    )


class ComplianceCaseEvent(Base):
    """One entry of a case's history: opened, a status change, a note, the finding gone or back."""

    __tablename__ = "compliance_case_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("compliance_case.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(24))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    outcome: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text)
    run_id: Mapped[int | None] = mapped_column(Integer)
