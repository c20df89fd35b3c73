"""Stored pilot outcome runs: the parameters (period, region) and the canonical JSON result text
with its SHA-256, so a stored run can be recomputed from the records and compared byte for byte
(as `evaluation_run` is)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from regionvisa.db import Base


class OutcomeRun(Base):
    __tablename__ = "outcome_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    since: Mapped[dt.date] = mapped_column(Date)
    on: Mapped[dt.date] = mapped_column(Date)
    region: Mapped[str | None] = mapped_column(String(2))  # None: every region
    params_json: Mapped[str] = mapped_column(Text)
    result_json: Mapped[str] = mapped_column(Text)
    result_sha256: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_outcome_run_region", "region", "on"),)
