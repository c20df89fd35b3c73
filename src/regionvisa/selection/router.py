"""Selection rounds / 선정 심사: REST API under /api/v1 (thin: calls selection.service)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["selection"])
