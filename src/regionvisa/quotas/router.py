"""Quotas / 쿼터: REST API under /api/v1 (thin: calls quotas.service)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["quotas"])
