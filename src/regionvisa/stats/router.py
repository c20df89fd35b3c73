"""GET /api/v1/stats/residents: foreign residents by region, nationality, status or month."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field

from regionvisa.accounts.policy import Actor
from regionvisa.jobs.router import accepted, launch
from regionvisa.stats import monthly as monthly_statistics
from regionvisa.stats import service
from regionvisa.web.deps import require
from regionvisa.web.errors import ERROR_RESPONSES
from regionvisa.web.params import IsoDate

router = APIRouter(prefix="/stats", tags=["statistics"], responses=ERROR_RESPONSES)


# Public (accounts.policy.PUBLIC_ROUTES): national aggregates, no personal data.
@router.get("/residents", summary="Foreign residents on a date, grouped")
def residents(
    request: Request,
    by: Literal["region", "nationality", "status", "month"] = Query("region"),
    at: IsoDate | None = Query(None, description="reference date (default: the latest date in the records)"),
) -> dict:
    engine = request.app.state.engine
    at = at or service.data_as_of(engine=engine)
    table = service.cached_resident_stats(engine=engine, by=by, at=at)
    return {"by": by, "at": at.isoformat(), "rows": table.to_dicts()}


@router.get("/regions/{code}", summary="One region's residents by status and nationality (region-scoped)")
def region(
    request: Request,
    code: str = Path(..., pattern=r"^\d{2}$", description="2-digit region code"),
    at: IsoDate | None = Query(None, description="reference date (default: the latest date in the records)"),
    user: Actor = Depends(require("stats.read")),
) -> dict:
    return service.region_statistics(engine=request.app.state.engine, actor=user, code=code, at=at)


class MonthlyRequest(BaseModel):
    month: str = Field(
        ..., pattern=r"^(19|20)\d{2}-(0[1-9]|1[0-2])$", description="YYYY-MM: the month whose end is counted"
    )
    lang: Literal["ko", "en"] = "ko"


@router.post(
    "/monthly",
    status_code=202,
    summary="Start the monthly statistics workbook (bulletin breakdowns) as a job; its file is the XLSX",
)
def monthly(request: Request, body: MonthlyRequest, user: Actor = Depends(require("stats.read"))):
    job = launch(
        request,
        actor=user,
        kind="monthly_statistics",
        params=body.model_dump(),
        region=monthly_statistics.job_region(user),
    )
    return accepted(job)
