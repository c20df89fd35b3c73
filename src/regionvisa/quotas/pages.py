"""Quotas / 쿼터: server-rendered pages (thin: calls quotas.service)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
