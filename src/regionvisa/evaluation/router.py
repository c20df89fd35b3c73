"""Annual regional evaluation / 연간 지역 평가: REST API under /api/v1 (thin: calls evaluation.service)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["evaluation"])
