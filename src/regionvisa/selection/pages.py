"""Selection rounds / 선정 심사: server-rendered pages (thin: calls selection.service)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
