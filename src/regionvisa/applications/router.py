"""Applications / 신청: REST API under /api/v1 (thin: calls applications.service)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["applications"])
