"""The quota ledger: one row per programme and period, and every movement on it.

The invariant reserved + used ≤ allocated + adjustments is a CHECK constraint, so the database
itself refuses any write that would over-issue, whatever code path attempts it.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from regionvisa.db import Base


class QuotaLedger(Base):
    __tablename__ = "quota_ledger"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    program_id: Mapped[str] = mapped_column(String(64))
    region: Mapped[str] = mapped_column(String(2))
    period: Mapped[str] = mapped_column(String(16))
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)
    allocated: Mapped[int] = mapped_column(Integer)
    adjustments: Mapped[int] = mapped_column(Integer, default=0)
    reserved: Mapped[int] = mapped_column(Integer, default=0)
    used: Mapped[int] = mapped_column(Integer, default=0)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True, default=None)
    closed_reason: Mapped[str | None] = mapped_column(Text, nullable=True, default=None)

    __table_args__ = (
        UniqueConstraint("program_id", "period"),
        CheckConstraint("reserved >= 0 AND used >= 0 AND allocated >= 0", name="non_negative"),
        CheckConstraint("reserved + used <= allocated + adjustments", name="never_over_issued"),
        Index("ix_quota_ledger_region", "region", "period"),
    )

    @property
    def capacity(self) -> int:
        return self.allocated + self.adjustments

    @property
    def remaining(self) -> int:
        return self.capacity - self.reserved - self.used

    @property
    def fill_rate(self) -> float | None:
        return None if self.capacity <= 0 else self.used / self.capacity


class QuotaMovement(Base):
    __tablename__ = "quota_movement"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ledger_id: Mapped[int] = mapped_column(ForeignKey("quota_ledger.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # allocation | adjustment | reserve | release | use
    amount: Mapped[int] = mapped_column(Integer)
    application_id: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    reserved_after: Mapped[int] = mapped_column(Integer)
    used_after: Mapped[int] = mapped_column(Integer)
    capacity_after: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        CheckConstraint("kind IN ('allocation', 'adjustment', 'reserve', 'release', 'use', 'unuse')", name="kind"),
    )
