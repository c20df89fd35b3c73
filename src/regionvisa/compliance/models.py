"""Compliance / 체류 준수: tables."""

from __future__ import annotations

from regionvisa.db import Base  # noqa: F401
