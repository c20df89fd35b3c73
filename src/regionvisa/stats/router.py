"""GET /api/v1/stats/residents: foreign residents by region, nationality, status or month."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from fastapi import APIRouter, Query, Request

from regionvisa.stats import service

router = APIRouter(prefix="/stats", tags=["statistics"])


@router.get("/residents", summary="Foreign residents on a date, grouped")
def residents(
    request: Request,
    by: Literal["region", "nationality", "status", "month"] = Query("region"),
    at: dt.date | None = Query(None, description="reference date (default: the latest date in the records)"),
) -> dict:
    engine = request.app.state.engine
    at = at or service.data_as_of(engine)
    table = service.resident_stats(engine, by=by, at=at)
    return {"by": by, "at": at.isoformat(), "rows": table.to_dicts()}
