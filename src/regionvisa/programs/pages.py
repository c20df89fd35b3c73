"""Regional visa programmes / 지역 특화형 비자 프로그램: server-rendered pages (thin: calls programs.service)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
