"""Annual regional evaluation / 연간 지역 평가: REST API under /api/v1 (thin: calls evaluation.service).

Scope: every reader sees the published ranking (region, score, rank, grade); the detail of a
region (indicators, contributions, uncertainty, what-if) is region-scoped, so a regional official
gets only their own (the read functions take the caller and scope through `evaluation.subjects`).
Running, publishing, reports and quota plans are the ministry's.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field, StrictFloat

from regionvisa.accounts.policy import Actor
from regionvisa.core.paging import page_of
from regionvisa.db import session_scope
from regionvisa.evaluation import flows, service
from regionvisa.jobs.router import ACCEPTED, accepted, launch
from regionvisa.quotas import planning
from regionvisa.web.deps import require
from regionvisa.web.errors import ERROR_RESPONSES

router = APIRouter(prefix="/evaluation", tags=["evaluation"], responses=ERROR_RESPONSES)

REGION = Path(..., pattern=r"^\d{2}$", description="2-digit region code")


class WhatIf(BaseModel):
    changes: dict[str, StrictFloat | None] = Field(description="indicator id → new raw value (null = missing)")


class RunCreate(BaseModel):
    year: int = Field(ge=2000, le=2100, strict=True)
    draws: int | None = Field(None, ge=1, le=200_000, strict=True)


class RunPublish(BaseModel):
    run_id: int = Field(strict=True)
    reason: str = ""


class ScoreIn(BaseModel):
    year: int = Field(ge=2000, le=2100, strict=True)
    region: str = Field(pattern=r"^\d{2}$")
    score: float | None = Field(None, ge=0, le=100, strict=True)
    justification: str = ""
    indicator: str | None = None
    recuse: bool = False


class MemberIn(BaseModel):
    region: str | None = Field(None, description="2-digit code of the member's regional government, or null")
    affiliation: str = ""


class PlanIn(BaseModel):
    year: int = Field(ge=2000, le=2100, strict=True, description="evaluation year; the plan is for the year after")
    ceiling: int = Field(ge=0, strict=True)
    method: Literal["hamilton", "sainte-lague", "modified-sainte-lague", "dhondt", "huntington-hill"] = "hamilton"
    minimum: int = Field(0, ge=0, strict=True, description="a floor: places every region keeps at least")


class PlanConfirm(BaseModel):
    plan_id: int = Field(strict=True)


def _run_out(run) -> dict:
    return {
        "id": run.id,
        "year": run.year,
        "framework": run.framework_id,
        "status": run.status,
        "result_sha256": run.result_sha256,
        "created_by": run.created_by,
        "created_at": run.created_at.isoformat(),
        "published_by": run.published_by,
        "published_at": run.published_at.isoformat() if run.published_at else None,
    }


@router.get("/results", summary="The published evaluation (region detail scoped to the reader's region)")
def results(
    request: Request, year: int | None = Query(None), user: Actor = Depends(require("evaluation.read"))
) -> dict:
    with session_scope(engine=request.app.state.engine) as session:
        return service.published_result(session=session, actor=user, year=year)


@router.get("/regions/{code}", summary="One region's published result: breakdown, interval, next grade")
def region_result(
    request: Request,
    code: str = REGION,
    year: int | None = Query(None),
    user: Actor = Depends(require("evaluation.read")),
) -> dict:
    with session_scope(engine=request.app.state.engine) as session:
        return service.region_view(session=session, actor=user, region=code, year=year)


@router.post("/regions/{code}/what-if", summary="A region's score, rank and grade with changed values")
def region_what_if(
    request: Request,
    body: WhatIf,
    code: str = REGION,
    year: int | None = Query(None),
    user: Actor = Depends(require("evaluation.read")),
) -> dict:
    with session_scope(engine=request.app.state.engine) as session:
        return service.what_if(session=session, actor=user, region=code, changes=body.changes, year=year)


@router.get("/benefits", summary="Published benefits and sanctions per region")
def list_benefits(
    request: Request,
    year: int | None = Query(None),
    region: str | None = Query(None, pattern=r"^\d{2}$"),
    user: Actor = Depends(require("evaluation.read")),
) -> dict:
    with session_scope(engine=request.app.state.engine) as session:
        published_year, rows = service.published_benefits(session=session, actor=user, year=year, region=region)
        items = [
            {
                "region": b.region,
                "grade": b.grade,
                "score": b.score,
                "rank": b.rank,
                "quota_change": b.quota_change,
                "simplified_procedure": b.simplified_procedure,
                "warning": b.warning,
                "withdraw_designation": b.withdraw_designation,
            }
            for b in rows
        ]
    return {"year": published_year, "items": items}


# ----------------------------------------------------------------------- ministry: runs


@router.get("/runs", summary="Stored evaluation runs")
def list_runs(
    request: Request,
    year: int | None = Query(None),
    page: int = Query(1, ge=1),
    page_size: int = Query(50, ge=1, le=500),
    _: Actor = Depends(require("evaluation.publish")),
) -> dict:
    with session_scope(engine=request.app.state.engine) as session:
        return page_of([_run_out(r) for r in service.runs(session=session, year=year)], page, page_size)


@router.post(
    "/runs",
    summary="Compute the year's evaluation from the records and store it as a draft (a job: 202 and its Location)",
    status_code=202,
    responses=ACCEPTED,
)
def create_run(request: Request, body: RunCreate, user: Actor = Depends(require("evaluation.publish"))) -> JSONResponse:
    job = launch(request, actor=user, kind="evaluation_run", params={"year": body.year, "draws": body.draws})
    return accepted(job)


@router.post("/runs/publish", summary="Publish a draft run: benefits and sanctions take effect")
def publish_run(request: Request, body: RunPublish, user: Actor = Depends(require("evaluation.publish"))) -> dict:
    with session_scope(engine=request.app.state.engine) as session:
        return _run_out(flows.publish_evaluation(session=session, run_id=body.run_id, actor=user, reason=body.reason))


@router.get("/runs/reproduce", summary="Recompute a stored run and compare it byte for byte")
def reproduce_run(
    request: Request, run_id: int = Query(...), _: Actor = Depends(require("evaluation.publish"))
) -> dict:
    with session_scope(engine=request.app.state.engine) as session:
        return service.reproduce_run(session=session, run_id=run_id)


class ReportRequest(BaseModel):
    year: int | None = Field(None, ge=2000, le=2100, strict=True, description="default: the latest published year")
    format: Literal["pdf", "html", "xlsx", "json"] = "pdf"
    lang: Literal["ko", "en"] = "ko"


@router.post(
    "/reports",
    summary="Render the minister's report of a published evaluation (PDF, HTML, XLSX or JSON) as a job; "
    "its result links to the file",
    status_code=202,
    responses=ACCEPTED,
)
def create_report(
    request: Request, body: ReportRequest, user: Actor = Depends(require("evaluation.publish"))
) -> JSONResponse:
    with session_scope(engine=request.app.state.engine) as session:
        year = service.require_published(
            session=session, year=body.year
        ).year  # nothing published: 404 now, not a failed job
    job = launch(
        request, actor=user, kind="evaluation_report", params={"year": year, "format": body.format, "lang": body.lang}
    )
    return accepted(job)


@router.get(
    "/report",
    summary="The minister's report of a published evaluation: starts the rendering job and answers 303 to it "
    "(follow the job; its result links to the file)",
    status_code=303,
)
def report(
    request: Request,
    year: int | None = Query(None),
    format: Literal["pdf", "html", "xlsx", "json"] = Query("pdf"),
    lang: Literal["ko", "en"] = Query("ko"),
    user: Actor = Depends(require("evaluation.publish")),
) -> Response:
    with session_scope(engine=request.app.state.engine) as session:
        year = service.require_published(session=session, year=year).year
    job = launch(request, actor=user, kind="evaluation_report", params={"year": year, "format": format, "lang": lang})
    return Response(status_code=303, headers={"Location": f"/api/v1/jobs/{job.id}"})


# ----------------------------------------------------------------------- committee


@router.get("/committee/scores", summary="The signed-in member's scores of a year")
def my_scores(request: Request, year: int = Query(...), user: Actor = Depends(require("committee.score"))) -> dict:
    with session_scope(engine=request.app.state.engine) as session:
        scores = service.member_scores(session=session, year=year, member_id=user.id or 0)
        return {
            "year": year,
            "recused_region": service.member_region(session=session, user_id=user.id or 0),
            "items": [
                {
                    "indicator": s.indicator,
                    "region": s.region,
                    "score": s.score,
                    "recused": s.recused,
                    "justification": s.justification,
                }
                for s in scores.values()
            ],
        }


@router.post("/committee/scores", summary="Enter or change a score (0–100, with justification)", status_code=201)
def enter_score(request: Request, body: ScoreIn, user: Actor = Depends(require("committee.score"))) -> dict:
    with session_scope(engine=request.app.state.engine) as session:
        row = service.enter_score(
            session=session,
            actor=user,
            year=body.year,
            region=body.region,
            score=body.score,
            justification=body.justification,
            indicator=body.indicator,
            recuse=body.recuse,
        )
        return {"id": row.id, "region": row.region, "indicator": row.indicator, "score": row.score,
                "recused": row.recused}  # fmt: skip


@router.get("/committee/values", summary="Each region's committee value: mean of non-recused members")
def committee_values(
    request: Request, year: int = Query(...), _: Actor = Depends(require("evaluation.publish"))
) -> dict:
    framework = service.framework_for()
    with session_scope(engine=request.app.state.engine) as session:
        return {
            ind: service.committee_values(session=session, year=year, indicator=ind)
            for ind in service.committee_indicators(framework)
        }


@router.put("/committee/members/{user_id}", summary="Record a committee member's government (for recusal)")
def set_member(
    request: Request, user_id: int, body: MemberIn, user: Actor = Depends(require("evaluation.publish"))
) -> dict:
    with session_scope(engine=request.app.state.engine) as session:
        member = service.set_member(
            session=session, actor=user, user_id=user_id, region=body.region, affiliation=body.affiliation
        )
        return {"user_id": member.user_id, "region": member.affiliation_region, "affiliation": member.affiliation}


# ----------------------------------------------------------------------- next year's quotas


def _plan_out(plan) -> dict:
    return {
        "id": plan.id,
        "run_id": plan.run_id,
        "period": plan.period,
        "ceiling": plan.ceiling,
        "method": plan.method,
        "minimum": plan.minimum,
        "status": plan.status,
        "rows": planning.plan_rows(plan),
    }


@router.get("/quota-plans", summary="Proposed and confirmed quota plans")
def list_plans(
    request: Request,
    page: int = Query(1, ge=1),
    page_size: int = Query(50, ge=1, le=500),
    _: Actor = Depends(require("quotas.adjust")),
) -> dict:
    with session_scope(engine=request.app.state.engine) as session:
        return page_of([_plan_out(p) for p in planning.plans(session=session)], page, page_size)


@router.post("/quota-plans", summary="Apportion next year's quotas from the published evaluation", status_code=201)
def propose_plan(request: Request, body: PlanIn, user: Actor = Depends(require("quotas.adjust"))) -> dict:
    with session_scope(engine=request.app.state.engine) as session:
        plan = planning.propose_quotas(
            session=session, year=body.year, ceiling=body.ceiling, method=body.method, minimum=body.minimum, actor=user
        )
        return _plan_out(plan)


@router.post("/quota-plans/confirm", summary="Confirm a plan: the next period's quota ledgers open")
def confirm_plan(request: Request, body: PlanConfirm, user: Actor = Depends(require("quotas.adjust"))) -> dict:
    with session_scope(engine=request.app.state.engine) as session:
        return _plan_out(planning.confirm_quotas(session=session, plan_id=body.plan_id, actor=user))
