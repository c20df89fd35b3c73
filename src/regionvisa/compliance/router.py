"""Compliance / 체류 준수: REST API under /api/v1 (thin: calls compliance.service and cases).

Reads need `compliance.read` and are scoped to the caller's region (a regional official sees
their own region's dashboard, findings and cases only): the read functions take the caller and
filter through `compliance.subjects`. Running the engine and acting on cases need `cases.act`,
which the use cases of `compliance.cases` authorise.
"""

from __future__ import annotations

import io
from typing import Literal

import polars as pl
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from regionvisa.accounts.policy import Actor
from regionvisa.compliance import cases, service
from regionvisa.compliance.models import CASE_STATUSES
from regionvisa.compliance.rules import RULES, compliance_rules
from regionvisa.core.paging import Page, page_of
from regionvisa.db import session_scope
from regionvisa.jobs.router import ACCEPTED, accepted, launch
from regionvisa.reports.files import write_csv_safe, write_xlsx_safe
from regionvisa.web.deps import require
from regionvisa.web.errors import ERROR_RESPONSES
from regionvisa.web.params import IsoDate

router = APIRouter(prefix="/compliance", tags=["compliance"], responses=ERROR_RESPONSES)
REGION = Query(None, pattern=r"^\d{2}$", description="2-digit region code; regional officials get their own region")


class RunRequest(BaseModel):
    on: IsoDate = Field(description="reference date: the records as they stood that day")
    sync_cases: bool = Field(True, description="open and update enforcement cases from the findings on holders")


class CaseAction(BaseModel):
    action: Literal["review", "resolve", "close", "note"]
    reason: str = Field(min_length=1, max_length=2000)
    outcome: Literal["justified", "warning", "status_cancelled"] | None = None


@router.post(
    "/runs",
    summary="Run the compliance engine as of a date, record it and sync the cases (a job: 202 and its Location)",
    status_code=202,
    responses=ACCEPTED,
)
def create_run(request: Request, body: RunRequest, user: Actor = Depends(require("cases.act"))) -> JSONResponse:
    service.settings_in_force(compliance_rules(), body.on)  # a date before the rules: 422 now, not a failed job
    job = launch(
        request, actor=user, kind="compliance_run", params={"on": body.on.isoformat(), "sync_cases": body.sync_cases}
    )
    return accepted(job)


@router.get("/runs", summary="Recorded compliance runs, newest first")
def runs(
    request: Request,
    page: int = Query(1, ge=1),
    page_size: int = Query(50, ge=1, le=500),
    user: Actor = Depends(require("compliance.read")),
) -> dict:
    with Session(request.app.state.engine) as session:
        return page_of(cases.list_runs(session=session), page, page_size)


@router.get("/findings", summary="Every finding as of a date (§4.8 columns plus severity, evidence, region)")
def findings(
    request: Request,
    on: IsoDate = Query(..., description="reference date"),
    region: str | None = REGION,
    rule: Literal[RULES] | None = Query(None),  # type: ignore[valid-type]
    page: int = Query(1, ge=1),
    page_size: int = Query(100, ge=1, le=1000),
    user: Actor = Depends(require("compliance.read")),
) -> dict:
    scoped, found = service.findings(engine=request.app.state.engine, actor=user, on=on, region=region, rule=rule)
    pager = Page(number=page, size=page_size, total=found.height)
    items = found.slice(pager.offset, page_size).with_columns(
        pl.col("start_date").dt.to_string("%Y-%m-%d"), pl.col("end_date").dt.to_string("%Y-%m-%d")
    )
    return {**pager.meta(), "on": on.isoformat(), "region": scoped, "items": items.to_dicts()}


@router.get("/dashboard", summary="A region's compliance dashboard (the nation's without a region, for national roles)")
def dashboard(
    request: Request,
    region: str | None = REGION,
    run: int | None = Query(None, description="a recorded run (default: the latest)"),
    user: Actor = Depends(require("compliance.read")),
) -> dict:
    with Session(request.app.state.engine) as session:
        return cases.dashboard(session=session, actor=user, region=region, run_id=run)


@router.get("/cases", summary="Case queue: a region's, or every region's (the ministry's enforcement queue)")
def case_queue(
    request: Request,
    region: str | None = REGION,
    status: Literal[(*CASE_STATUSES, "active")] | None = Query(None),  # type: ignore[valid-type]
    rule: Literal[RULES] | None = Query(None),  # type: ignore[valid-type]
    page: int = Query(1, ge=1),
    page_size: int = Query(50, ge=1, le=500),
    user: Actor = Depends(require("compliance.read")),
) -> dict:
    pager = Page(number=page, size=page_size, total=0)
    with Session(request.app.state.engine) as session:
        queue = cases.list_cases(
            session=session, actor=user, region=region, status=status, rule=rule, offset=pager.offset, limit=page_size
        )
        pager.total = queue.total
        return {**pager.meta(), "region": queue.region, "items": [cases.case_dict(c) for c in queue.items]}


@router.get("/cases/{case_id}", summary="One case with its history and the person's records (no names)")
def case_detail(request: Request, case_id: int, user: Actor = Depends(require("compliance.read"))) -> dict:
    engine = request.app.state.engine
    with Session(engine) as session:
        out = cases.case_dict(cases.read_case(session=session, case_id=case_id, actor=user))
        out["events"] = cases.events(session=session, case_id=case_id)
    out["timeline"] = cases.person_timeline(engine=engine, person_id=out["person_id"])
    return out


@router.post("/cases/{case_id}/actions", summary="Review, resolve (with an outcome), close, or note a case")
def case_action(request: Request, case_id: int, body: CaseAction, user: Actor = Depends(require("cases.act"))) -> dict:
    with session_scope(engine=request.app.state.engine) as session:
        case = cases.act(
            session=session, case=case_id, action=body.action, actor=user, reason=body.reason, outcome=body.outcome
        )
        out = cases.case_dict(case)
        out["events"] = cases.events(session=session, case_id=case_id)
    return out


EXPORT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
EMPLOYER_FRAME = {
    "employer_id": pl.String,
    "region": pl.String,
    "holders": pl.Int64,
    "foreign_staff": pl.Int64,
    "share": pl.Float64,
    "flagged": pl.Boolean,
}


def _employers(request: Request, user: Actor, **filters) -> cases.EmployerList:
    with Session(request.app.state.engine) as session:
        return cases.list_employers(session=session, actor=user, **filters)


@router.get(
    "/employers",
    summary="Employers of programme E-7 holders in a recorded run (default: the latest): holders, foreign staff, "
    "share, flagged for concentration",
)
def employers(
    request: Request,
    region: str | None = REGION,
    flagged: bool | None = Query(None, description="only flagged (true) or unflagged (false) employers"),
    run: int | None = Query(None, description="a recorded run (default: the latest)"),
    page: int = Query(1, ge=1),
    page_size: int = Query(100, ge=1, le=1000),
    user: Actor = Depends(require("compliance.read")),
) -> dict:
    pager = Page(number=page, size=page_size, total=0)
    listed = _employers(request, user, region=region, flagged=flagged, run_id=run, offset=pager.offset, limit=page_size)
    pager.total = listed.total
    return {
        **pager.meta(),
        "run": cases.run_dict(listed.run) if listed.run else None,
        "region": listed.region,
        "items": listed.items,
    }


@router.get(
    "/employers/export",
    summary="The employers of programme E-7 holders of a recorded run as CSV or XLSX",
    response_class=Response,
    responses={200: {"content": {media: {} for media in EXPORT_TYPES.values()}}},
)
def employers_export(
    request: Request,
    format: Literal["csv", "xlsx"] = Query("xlsx"),
    region: str | None = REGION,
    flagged: bool | None = Query(None),
    run: int | None = Query(None),
    user: Actor = Depends(require("compliance.read")),
) -> Response:
    listed = _employers(request, user, region=region, flagged=flagged, run_id=run, limit=None)
    frame = pl.DataFrame(listed.items, schema=EMPLOYER_FRAME, orient="row")
    buffer = io.BytesIO()
    if format == "xlsx":
        write_xlsx_safe(frame, buffer, worksheet="employers")
    else:
        write_csv_safe(frame, buffer)
    as_of = listed.run.as_of.isoformat() if listed.run else "none"
    return Response(
        buffer.getvalue(),
        media_type=EXPORT_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="employers-{as_of}.{format}"'},
    )


@router.get("/indicators", summary="Compliance indicators of a year per region (docs/indicators.md)")
def indicators(
    request: Request,
    year: int = Query(..., ge=2000, le=2100),
    region: str | None = REGION,
    user: Actor = Depends(require("compliance.read")),
) -> dict:
    scoped, table = service.indicators_for(engine=request.app.state.engine, actor=user, year=year, region=region)
    return {"year": year, "region": scoped, "items": table.to_dicts()}
