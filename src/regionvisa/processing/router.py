"""GET /api/v1/processing: processing times, backlog and applications at risk (region-scoped)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from regionvisa.accounts.policy import Actor
from regionvisa.db import session_scope
from regionvisa.processing import service, views
from regionvisa.web.deps import require
from regionvisa.web.errors import ERROR_RESPONSES
from regionvisa.web.params import IsoDate

router = APIRouter(prefix="/processing", tags=["processing times"], responses=ERROR_RESPONSES)


@router.get("", summary="Time in each state, total time, backlog by age and applications at risk")
def processing(
    request: Request,
    region: str | None = Query(None, pattern=r"^\d{2}$"),
    program_id: str | None = Query(None, pattern=service.PROGRAM_PATTERN),
    at: IsoDate | None = Query(None, description="as of the end of this day (default: now)"),
    user: Actor = Depends(require(service.PERMISSION)),
) -> dict:
    with session_scope(engine=request.app.state.engine) as session:
        view = service.processing_view(
            session=session, actor=user, region=region, program_id=program_id, now=views.reference_instant(at)
        )
    return views.as_dict(view)


@router.get(
    "/export",
    summary="The processing tables as XLSX (one sheet each) or CSV (time in each state)",
    response_class=Response,
    responses={200: {"content": {media: {} for media in views.EXPORT_TYPES.values()}}},
)
def export(
    request: Request,
    format: Literal["csv", "xlsx"] = Query("xlsx"),
    region: str | None = Query(None, pattern=r"^\d{2}$"),
    program_id: str | None = Query(None, pattern=service.PROGRAM_PATTERN),
    at: IsoDate | None = Query(None),
    user: Actor = Depends(require(service.PERMISSION)),
) -> Response:
    with session_scope(engine=request.app.state.engine) as session:
        view = service.processing_view(
            session=session, actor=user, region=region, program_id=program_id, now=views.reference_instant(at)
        )
    return Response(
        views.export_bytes(view, format),
        media_type=views.EXPORT_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="processing-times.{format}"'},
    )
