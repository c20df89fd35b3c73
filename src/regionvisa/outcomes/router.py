"""GET /api/v1/outcomes and /api/v1/outcomes/export.xlsx: the pilot outcome report
(docs/indicators.md) under `outcomes.read`, a regional official's rows scoped to their region."""

from __future__ import annotations

import datetime as dt
import io
from typing import Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from regionvisa.accounts.policy import Actor
from regionvisa.db import session_scope
from regionvisa.jobs.router import ACCEPTED, accepted, launch
from regionvisa.outcomes import service
from regionvisa.outcomes.subjects import read_region
from regionvisa.web.deps import require
from regionvisa.web.errors import ERROR_RESPONSES
from regionvisa.web.params import IsoDate

router = APIRouter(prefix="/outcomes", tags=["outcomes"], responses=ERROR_RESPONSES)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REGION = Query(None, pattern=r"^\d{2}$", description="2-digit region code (a regional official: their own)")
ON = Query(None, description="reference date (default: the latest date in the records)")
SINCE = Query(None, description="first day of the period (default: 1 January two years before `on`)")


def _report(request: Request, user: Actor, on: dt.date | None, since: dt.date | None, region: str | None):
    from regionvisa.stats.service import data_as_of

    engine = request.app.state.engine
    on = on or data_as_of(engine=engine)
    since = since or service.default_since(on)
    return service.report(engine=engine, actor=user, on=on, since=since, region=region)


@router.get(
    "",
    summary="The pilot outcome report: each programme's holders per region beside non-pilot holders of the "
    "same base visa in the same region (region-scoped)",
)
def outcomes(
    request: Request,
    on: IsoDate | None = ON,
    since: IsoDate | None = SINCE,
    region: str | None = REGION,
    user: Actor = Depends(require(service.READ)),
) -> dict:
    result = _report(request, user, on, since, region)
    return {
        "since": result.since.isoformat(),
        "on": result.on.isoformat(),
        "indicators": {"columns": result.indicators.columns, "rows": result.indicators.to_dicts()},
        "takeup": {"columns": result.takeup.columns, "rows": result.takeup.to_dicts()},
    }


@router.get(
    "/export.xlsx",
    summary="The pilot outcome report as XLSX: indicators and monthly take-up sheets",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}}},
)
def export_xlsx(
    request: Request,
    on: IsoDate | None = ON,
    since: IsoDate | None = SINCE,
    region: str | None = REGION,
    user: Actor = Depends(require(service.READ)),
) -> Response:
    import xlsxwriter

    from regionvisa.reports.files import write_xlsx_safe

    result = _report(request, user, on, since, region)
    buffer = io.BytesIO()
    with xlsxwriter.Workbook(buffer) as workbook:
        write_xlsx_safe(result.indicators, workbook, worksheet="indicators", autofit=True)
        write_xlsx_safe(result.takeup, workbook, worksheet="takeup", autofit=True)
    name = f"outcomes-{result.since.isoformat()}-{result.on.isoformat()}.xlsx"
    return Response(
        buffer.getvalue(), media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


# ----------------------------------------------------------------------- stored runs and report jobs


def _run_json(run) -> dict:
    return {
        "id": run.id,
        "since": run.since.isoformat(),
        "on": run.on.isoformat(),
        "region": run.region,
        "result_sha256": run.result_sha256,
        "created_by": run.created_by,
        "created_at": run.created_at.isoformat(),
    }


@router.get("/runs/{run_id}", summary="A stored outcome run with its result (404 for another region's)")
def get_run(request: Request, run_id: int = Path(..., ge=1), user: Actor = Depends(require(service.READ))) -> dict:
    with session_scope(engine=request.app.state.engine) as session:
        run = service.get_run(session=session, actor=user, run_id=run_id)
        return {**_run_json(run), "result": service.result_of(run)}


@router.get(
    "/runs/{run_id}/reproduce",
    summary="Recompute a stored outcome run from the records and compare it byte for byte",
)
def reproduce_run(
    request: Request, run_id: int = Path(..., ge=1), user: Actor = Depends(require(service.READ))
) -> dict:
    with session_scope(engine=request.app.state.engine) as session:
        return service.reproduce_run(session=session, actor=user, run_id=run_id)


class ReportRequest(BaseModel):
    on: dt.date | None = Field(None, description="reference date (default: the latest date in the records)")
    since: dt.date | None = Field(None, description="first day of the period (default: 1 January two years before)")
    region: str | None = Field(None, pattern=r"^\d{2}$", description="a regional official: their own")
    run_id: int | None = Field(None, ge=1, strict=True, description="render this stored run, not a new one")
    format: Literal["pdf", "xlsx"] = "pdf"
    lang: Literal["ko", "en"] = "ko"


@router.post(
    "/reports",
    summary="Store an outcome run (or take a stored one) and render it as PDF or XLSX in Korean or English as "
    "a job; its result links to the file",
    status_code=202,
    responses=ACCEPTED,
)
def create_report(request: Request, body: ReportRequest, user: Actor = Depends(require(service.READ))) -> JSONResponse:
    params = {"format": body.format, "lang": body.lang}
    if body.run_id is not None:
        with session_scope(engine=request.app.state.engine) as session:
            run = service.get_run(session=session, actor=user, run_id=body.run_id)  # 404 now, not a failed job
            region = run.region
        params["run_id"] = body.run_id
    else:
        from regionvisa.stats.service import data_as_of

        region = read_region(user, body.region)
        on = body.on or data_as_of(engine=request.app.state.engine)
        since = body.since or service.default_since(on)
        service.check_period(since=since, on=on)
        params.update(on=on.isoformat(), since=since.isoformat(), region=region)
    job = launch(request, actor=user, kind="outcomes_report", params=params, region=region)
    return accepted(job)
