"""Regional visa programmes / 지역 특화형 비자 프로그램: REST API under /api/v1 (thin: calls programs.service)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["programs"])
