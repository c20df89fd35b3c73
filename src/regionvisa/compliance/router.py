"""Compliance / 체류 준수: REST API under /api/v1 (thin: calls compliance.service)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["compliance"])
