"""The immigration records other KIS systems hand over (DESIGN §4.7).

Each table carries its natural key as a unique constraint so that a feed can be re-imported
with INSERT … ON CONFLICT DO NOTHING and add nothing. Indexes follow the per-region and
per-date questions the compliance engine, statistics and evaluation ask.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from regionvisa.db import Base


class Person(Base):
    __tablename__ = "person"

    person_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    nationality: Mapped[str] = mapped_column(String(3), index=True)
    birth_date: Mapped[dt.date] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(1))
    # AES-GCM ciphertext tagged with its key id, and the keyed lookup hash (records.pii)
    passport_enc: Mapped[str] = mapped_column(String(128))
    passport_hash: Mapped[str] = mapped_column(String(64), index=True)

    __table_args__ = (CheckConstraint("sex IN ('F', 'M', 'X')", name="sex"),)


class StatusGrant(Base):
    __tablename__ = "status_grant"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("person.person_id", ondelete="CASCADE"))
    visa: Mapped[str] = mapped_column(String(8))
    subtype: Mapped[str | None] = mapped_column(String(16))
    program_id: Mapped[str | None] = mapped_column(String(64))
    region: Mapped[str] = mapped_column(String(2))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date] = mapped_column(Date)
    granted_on: Mapped[dt.date] = mapped_column(Date)

    __table_args__ = (
        UniqueConstraint("person_id", "visa", "valid_from"),
        Index("ix_status_grant_region_valid", "region", "valid_from", "valid_to"),
        Index("ix_status_grant_program", "program_id"),
        CheckConstraint("valid_to >= valid_from", name="valid_range"),
    )


class AddressReport(Base):
    __tablename__ = "address_report"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("person.person_id", ondelete="CASCADE"))
    area_code: Mapped[str] = mapped_column(String(5))
    effective_date: Mapped[dt.date] = mapped_column(Date)
    reported_date: Mapped[dt.date] = mapped_column(Date)

    __table_args__ = (
        UniqueConstraint("person_id", "effective_date"),
        Index("ix_address_report_area", "area_code", "effective_date"),
    )


class Movement(Base):
    __tablename__ = "movement"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("person.person_id", ondelete="CASCADE"))
    direction: Mapped[str] = mapped_column(String(5))
    date: Mapped[dt.date] = mapped_column(Date)
    port: Mapped[str] = mapped_column(String(32))

    __table_args__ = (
        UniqueConstraint("person_id", "direction", "date"),
        Index("ix_movement_date", "date"),
        CheckConstraint("direction IN ('entry', 'exit')", name="direction"),
    )


class KiipRecord(Base):
    __tablename__ = "kiip_record"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("person.person_id", ondelete="CASCADE"))
    level: Mapped[int] = mapped_column(Integer)
    enrolled_on: Mapped[dt.date] = mapped_column(Date)
    completed_on: Mapped[dt.date | None] = mapped_column(Date)

    __table_args__ = (
        UniqueConstraint("person_id", "level", "enrolled_on"),
        Index("ix_kiip_record_enrolled", "enrolled_on"),
        CheckConstraint("level BETWEEN 0 AND 5", name="level"),
    )


class Employment(Base):
    __tablename__ = "employment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("person.person_id", ondelete="CASCADE"))
    employer_id: Mapped[str] = mapped_column(String(32))
    employer_region: Mapped[str] = mapped_column(String(2))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    # Optional columns of the feed (DESIGN §4.7): what the employer reported for the job.
    annual_wage_krw: Mapped[int | None] = mapped_column(BigInteger)
    occupation_code: Mapped[str | None] = mapped_column(String(16))

    __table_args__ = (
        UniqueConstraint("person_id", "employer_id", "start_date"),
        Index("ix_employment_region", "employer_region", "start_date"),
    )
