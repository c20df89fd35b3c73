"""Compliance / 체류 준수: server-rendered pages (thin: calls compliance.service)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
