"""Jobs / 작업: REST API under /api/v1/jobs (DESIGN.md §4.10), and `launch`/`accepted`, which the
routes that start long work use to answer `202 Accepted` with `Location: /api/v1/jobs/{id}`."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from regionvisa.accounts.policy import Actor
from regionvisa.core.paging import Page
from regionvisa.db import session_scope
from regionvisa.jobs import kinds, queue, service
from regionvisa.jobs.models import Job
from regionvisa.web.deps import require
from regionvisa.web.errors import ERROR_RESPONSES

router = APIRouter(prefix="/jobs", tags=["jobs"], responses=ERROR_RESPONSES)

JOB_EXAMPLE = {
    "id": 7,
    "kind": "compliance_run",
    "state": "running",
    "progress": 0.42,
    "message": {"ko": "movement", "en": "movement"},
    "result": None,
    "actor": "officer",
    "created_at": "2026-03-02T09:00:00+00:00",
    "started_at": "2026-03-02T09:00:01+00:00",
    "finished_at": None,
}
ACCEPTED = {
    202: {
        "description": "Started as a job: follow `Location` (GET /api/v1/jobs/{id})",
        "content": {"application/json": {"example": {**JOB_EXAMPLE, "state": "queued", "progress": 0}}},
    }
}


def launch(
    request: Request,
    *,
    actor: Actor,
    kind: str,
    params: dict,
    region: str | None = None,
    upload: tuple[str, str, bytes] | None = None,
) -> Job:
    """Record the job (authorised and audited as its kind's work), then hand it to the workers."""
    engine = request.app.state.engine
    with session_scope(engine=engine) as session:
        job = service.start(session=session, actor=actor, kind=kind, params=params, region=region, upload=upload)
    try:
        queue.enqueue(engine=engine, job_id=job.id)
    except Exception:
        with session_scope(engine=engine) as session:
            service.finish(
                session=session,
                job=job.id,
                actor=service.REAPER,
                state="failed",
                result=None,
                message=("작업 대기열에 넣지 못했습니다", "the job could not be queued"),
            )
        raise
    return job


def accepted(job: Job) -> JSONResponse:
    return JSONResponse(service.job_dict(job), status_code=202, headers={"Location": f"/api/v1/jobs/{job.id}"})


@router.get("", summary="The jobs the caller may see (those whose results they may see), newest first")
def list_jobs(
    request: Request,
    state: Literal["queued", "running", "succeeded", "failed", "cancelled"] | None = Query(None),
    kind: Literal[tuple(kinds.KINDS)] | None = Query(None),  # type: ignore[valid-type]
    page: int = Query(1, ge=1),
    page_size: int = Query(50, ge=1, le=500),
    user: Actor = Depends(require("jobs.read")),
) -> dict:
    pager = Page(number=page, size=page_size, total=0)
    with session_scope(engine=request.app.state.engine) as session:
        total, rows = service.list_jobs(
            session=session, actor=user, state=state, kind=kind, offset=pager.offset, limit=page_size
        )
        pager.total = total
        return {**pager.meta(), "items": [service.job_dict(j) for j in rows]}


@router.get(
    "/{job_id}",
    summary="One job: state, progress (0–1), message (ko/en), result, actor and times (RFC 3339)",
    responses={200: {"content": {"application/json": {"example": JOB_EXAMPLE}}}},
)
def get_job(request: Request, job_id: int, user: Actor = Depends(require("jobs.read"))) -> dict:
    with session_scope(engine=request.app.state.engine) as session:
        return service.job_dict(service.read_job(session=session, job_id=job_id, actor=user))


@router.post("/{job_id}/cancel", summary="Cancel a queued job, or ask a running one to stop")
def cancel_job(request: Request, job_id: int, user: Actor = Depends(require("jobs.cancel"))) -> dict:
    engine = request.app.state.engine
    with session_scope(engine=engine) as session:
        job = service.cancel(session=session, job=job_id, actor=user)
        out, queue_id, state = service.job_dict(job), job.queue_id, job.state
    if state == "cancelled":
        queue.cancel(engine=engine, queue_id=queue_id)
    return out


@router.get("/{job_id}/file", summary="The file a finished job produced (a rendered report)", response_class=Response)
def job_file(request: Request, job_id: int, user: Actor = Depends(require("jobs.read"))) -> Response:
    with session_scope(engine=request.app.state.engine) as session:
        row = service.output_file(session=session, job_id=job_id, actor=user)
        data, media, name = row.data, row.media_type, row.name
    return Response(data, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})
