"""The statistics summaries, maintained as records are written (`stats.summary`).

`resident_span` holds each person's residence spans (`stats.timeline`), so a change to one
person's records replaces only that person's spans and count changes. `resident_count` holds the
count changes per day, month and year (`grain` d, m, y; `period` the first day), by status or
nationality (`kind` s, n) per region: the residents on D are a sum over a few dozen periods.
`stats_state` is one row: a version that moves with every change (the pages' cache key, and the
lock that serialises summary updates) and the latest reported date in the records.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Date, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from regionvisa.db import Base


class ResidentSpan(Base):
    __tablename__ = "resident_span"

    person_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    start_date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    region: Mapped[str] = mapped_column(String(2))
    status: Mapped[str] = mapped_column(String(8))
    nationality: Mapped[str] = mapped_column(String(3))

    __table_args__ = (Index("ix_resident_span_region_person", "region", "person_id"),)


class ResidentCount(Base):
    __tablename__ = "resident_count"

    grain: Mapped[str] = mapped_column(String(1), primary_key=True)
    period: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    region: Mapped[str] = mapped_column(String(2), primary_key=True)
    kind: Mapped[str] = mapped_column(String(1), primary_key=True)
    value: Mapped[str] = mapped_column(String(8), primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger)


class StatsState(Base):
    __tablename__ = "stats_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger)
    max_reported: Mapped[dt.date | None] = mapped_column(Date)
