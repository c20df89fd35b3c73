"""GET /api/v1/audit (filtered, paginated) and GET /api/v1/audit/verify, for auditors."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session

from regionvisa.audit import service
from regionvisa.audit.schemas import AuditPage, VerifyOut
from regionvisa.core.paging import Page, offset_of
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


@router.get("/verify", summary="Check the hash chain; reports the first edited, deleted or reordered entry")
def verify(request: Request) -> VerifyOut:
    return VerifyOut.model_validate(service.verify(engine=request.app.state.engine).as_dict())
