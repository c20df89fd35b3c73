"""Reference tables: the 17 first-tier regions."""

from __future__ import annotations

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from regionvisa.db import Base


class Region(Base):
    __tablename__ = "region"

    code: Mapped[str] = mapped_column(String(2), primary_key=True)
    slug: Mapped[str] = mapped_column(String(32), unique=True)
    iso_3166_2: Mapped[str] = mapped_column(String(8))
    name_ko: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(64))
    population_2024: Mapped[int] = mapped_column(Integer)
    foreign_residents_2024: Mapped[int] = mapped_column(Integer)
    foreign_residents_is_estimate: Mapped[bool] = mapped_column(Boolean)
