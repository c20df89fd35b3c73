"""Annual regional evaluation / 연간 지역 평가: server-rendered pages (thin: calls evaluation.service)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
