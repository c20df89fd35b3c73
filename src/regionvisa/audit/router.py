"""GET /api/v1/audit (filtered, paginated), and the chain check for auditors: POST /api/v1/audit/verify
starts one as a job, GET /api/v1/audit/verify answers the newest result."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from regionvisa.accounts.policy import Actor
from regionvisa.audit import runs, service
from regionvisa.audit.schemas import AuditPage, VerifyOut
from regionvisa.core.errors import NotFound
from regionvisa.core.paging import Page, offset_of
from regionvisa.jobs.models import Job
from regionvisa.jobs.router import ACCEPTED, accepted, launch
from regionvisa.web.deps import require
from regionvisa.web.errors import ERROR_RESPONSES
from regionvisa.web.params import IsoDate

router = APIRouter(
    prefix="/audit", tags=["audit"], responses=ERROR_RESPONSES, dependencies=[Depends(require("audit.read"))]
)


@router.get("", summary="Audit entries, newest first", response_model=AuditPage)
def list_entries(
    request: Request,
    actor: str | None = Query(None, description="user name (exact)"),
    action: str | None = Query(None, description="action, exact, or a prefix ending in * (auth.*)"),
    subject_type: str | None = Query(None, examples=["user"]),
    subject_id: str | None = Query(None),
    region: str | None = Query(None, pattern=r"^\d{2}$"),
    date_from: IsoDate | None = Query(None, description="first day (UTC), inclusive"),
    date_to: IsoDate | None = Query(None, description="last day (UTC), inclusive"),
    page: int = Query(1, ge=1),
    page_size: int = Query(50, ge=1, le=500),
) -> dict:
    filters = service.Filters(actor, action, subject_type, subject_id, region, date_from, date_to)
    with Session(request.app.state.engine) as session:
        total, items = service.search(
            session=session, filters=filters, offset=offset_of(page, page_size), limit=page_size
        )
    return {**Page(number=page, size=page_size, total=total).meta(), "items": items}


@router.get(
    "/verify",
    summary="The newest check of the hash chain: intact, or the first edited, deleted or reordered entry",
    description="A full check runs as a job (POST /api/v1/audit/verify); this answers its result, when it ran, "
    "and how many entries were written after it. 404 while no check has run.",
)
def verify(request: Request) -> VerifyOut:
    engine = request.app.state.engine
    with Session(engine) as session:
        last = runs.last_check(session=session, engine=engine)
    if last is None:
        raise NotFound(what="audit chain check (none has run yet: POST /api/v1/audit/verify starts one)")
    return VerifyOut.model_validate(
        {**last.result, "checked_at": last.checked_at, "job_id": last.job_id, "entries_since": last.since}
    )


@router.post(
    "/verify",
    summary="Start a full check of the hash chain as a job",
    status_code=202,
    responses=ACCEPTED,
    response_model=None,
)
def start_verify(request: Request, user: Actor = Depends(require("audit.read"))) -> JSONResponse:
    """202 with `Location: /api/v1/jobs/{id}`; a check already queued or running is answered instead of a second."""
    engine = request.app.state.engine
    with Session(engine) as session:
        active = runs.active_check(session=session)
        job = session.get(Job, active) if active is not None else None
        if job is not None:
            return accepted(job)
    return accepted(launch(request, actor=user, kind=runs.KIND, params={}))
