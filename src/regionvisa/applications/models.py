"""Applications / 신청: tables.

An application keeps its screenings (each with the programme version and the explanation it
produced), its transitions and its documents' metadata. Duplicate detection lives in the
database: `open_passport` holds the passport's keyed lookup hash only while the application is
open, and a unique constraint on (programme, open_passport) refuses a second open application
even when two arrive at the same moment (NULLs never collide). The passport itself is stored only
encrypted (records.pii), never in clear.
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
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from regionvisa.db import Base

STATUSES = (
    "submitted",
    "screened",
    "recommended",
    "returned",
    "approved",
    "rejected",
    "issued",
    "withdrawn",
    "cancelled",
)
OPEN_STATUSES = ("submitted", "screened", "recommended", "returned", "approved")
_STATUS_SQL = ", ".join(f"'{s}'" for s in STATUSES)


class Application(Base):
    __tablename__ = "application"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    program_id: Mapped[str] = mapped_column(String(64))
    region: Mapped[str] = mapped_column(String(2))
    status: Mapped[str] = mapped_column(String(16), default="submitted")
    applicant_name: Mapped[str] = mapped_column(String(128))
    # AES-GCM ciphertext tagged with its key id, and the keyed lookup hash (records.pii)
    passport_enc: Mapped[str] = mapped_column(String(128))
    passport_hash: Mapped[str] = mapped_column(String(64), index=True)
    open_passport: Mapped[str | None] = mapped_column(String(64))
    nationality: Mapped[str] = mapped_column(String(3))
    birth_date: Mapped[dt.date | None] = mapped_column(Date)
    person_id: Mapped[str | None] = mapped_column(String(32))
    profile: Mapped[dict] = mapped_column(JSON)
    submitted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    submitted_on: Mapped[dt.date] = mapped_column(Date)
    submitted_by: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(8), default="api")  # api | web | import
    outcome: Mapped[str | None] = mapped_column(String(16))
    points: Mapped[float | None] = mapped_column(Float)
    program_version: Mapped[int | None] = mapped_column(Integer)
    simplified: Mapped[bool] = mapped_column(Boolean, default=False)
    ledger_id: Mapped[int | None] = mapped_column(ForeignKey("quota_ledger.id"))
    reserved: Mapped[bool] = mapped_column(Boolean, default=False)
    visa_number: Mapped[str | None] = mapped_column(String(32), unique=True)
    status_grant_id: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("program_id", "open_passport"),
        Index("ix_application_queue", "program_id", "status", "submitted_at"),
        Index("ix_application_region", "region", "status"),
        CheckConstraint(f"status IN ({_STATUS_SQL})", name="status"),
    )


class Screening(Base):
    """One screening: the explanation as produced on its reference date, with the version used."""

    __tablename__ = "application_screening"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), index=True)
    program_id: Mapped[str] = mapped_column(String(64))
    program_version: Mapped[int] = mapped_column(Integer)
    program_digest: Mapped[str] = mapped_column(String(64))
    screened_on: Mapped[dt.date] = mapped_column(Date)
    outcome: Mapped[str] = mapped_column(String(16))
    points: Mapped[float | None] = mapped_column(Float)
    explanation: Mapped[dict] = mapped_column(JSON)
    kind: Mapped[str] = mapped_column(String(16))  # initial | rescreen
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str] = mapped_column(Text, default="")


class ApplicationEvent(Base):
    """One transition: who moved the application, when, why, and the screening relied on."""

    __tablename__ = "application_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    move: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str] = mapped_column(Text, default="")
    screening_id: Mapped[int | None] = mapped_column(Integer)
    automatic: Mapped[bool] = mapped_column(Boolean, default=False)


class ApplicationDocument(Base):
    """An uploaded file's metadata; the bytes live on disk under the configured upload directory."""

    __tablename__ = "application_document"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), index=True)
    doc_type: Mapped[str] = mapped_column(String(48))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    stored_path: Mapped[str] = mapped_column(String(512))
    uploaded_by: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class RegionBenefit(Base):
    """The one stored simplified-procedure flag per region: whether the region's applications
    take the procedure now. A published evaluation sets it from the region's grade (`source`
    'evaluation'); a ministry administrator may override it ('override'). Who set it, when and
    why are on the row, and every change is audited (`applications.benefit.simplified`) with the
    value and source it replaced. `Program.simplified_procedure` and the evaluation read it here;
    `evaluation_benefit` keeps what each year's publication granted, as a record of that decision."""

    __tablename__ = "region_benefit"

    region: Mapped[str] = mapped_column(String(2), primary_key=True)
    simplified_procedure: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(16))
    set_by: Mapped[str] = mapped_column(String(64))
    set_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str] = mapped_column(Text)

    __table_args__ = (CheckConstraint("source IN ('evaluation', 'override')", name="source"),)
