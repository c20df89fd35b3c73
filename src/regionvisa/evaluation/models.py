"""Annual regional evaluation / 연간 지역 평가: tables."""

from __future__ import annotations

from regionvisa.db import Base  # noqa: F401
