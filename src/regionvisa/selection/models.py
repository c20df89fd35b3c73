"""Selection rounds / 선정 심사: tables."""

from __future__ import annotations

from regionvisa.db import Base  # noqa: F401
