"""Applications / 신청: REST API under /api/v1 (thin: calls applications.service).

Each move of the life cycle is its own route, so each declares exactly the permission it needs:
the region recommends, returns and withdraws; the ministry re-screens, approves, rejects, issues
and cancels. Region scope is the services' business: each use case authorises the application's
(or programme's) own region, and each read function scopes its query to the caller
(`applications.subjects`).
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, Response, UploadFile
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field

from regionvisa.applications import documents, intake, moves, service, views
from regionvisa.core.actor import Actor
from regionvisa.core.paging import Page, offset_of
from regionvisa.db import session_scope
from regionvisa.jobs.router import ACCEPTED, accepted, launch
from regionvisa.programs import service as programs
from regionvisa.tabular import TableFileError, display_name, open_table
from regionvisa.web.deps import require
from regionvisa.web.errors import ERROR_RESPONSES
from regionvisa.web.params import IsoDate
from regionvisa.web.uploads import received_file

router = APIRouter(prefix="/applications", tags=["applications"], responses=ERROR_RESPONSES)


class Submission(BaseModel):
    program_id: str = Field(description="programme id, e.g. busan-d2")
    name: str = Field(min_length=1, max_length=128, description="applicant's name (never logged)")
    passport_no: str = Field(min_length=5, max_length=32)
    applicant: dict[str, Any] = Field(description="applicant profile (DESIGN §4.3 fields), nationality required")
    person_id: str | None = Field(None, max_length=32, description="existing person id in the records, if any")
    submitted_on: IsoDate | None = Field(None, description="date the application was lodged (default: today)")


class Decision(BaseModel):
    reason: str = Field("", max_length=2000)


class GatedDecision(Decision):
    override_reason: str = Field(
        "",
        max_length=2000,
        description="approve and issue only: why the decision goes ahead while required documents are "
        f"missing (at least {moves.OVERRIDE_REASON_MIN} characters; audited as applications.override_documents)",
    )


class Rescreen(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)
    on: IsoDate | None = Field(None, description="reference date of the new screening (default: today)")


class Benefit(BaseModel):
    simplified_procedure: bool
    reason: str = Field(min_length=1, max_length=2000)


def _engine(request: Request):
    return request.app.state.engine


@router.post("", status_code=201, summary="Submit an application (screened at once)")
def submit(request: Request, body: Submission, user: Actor = Depends(require("applications.recommend"))) -> dict:
    with session_scope(engine=_engine(request)) as session:
        app = intake.submit(
            session=session,
            program_id=body.program_id,
            applicant=body.applicant,
            name=body.name,
            passport_no=body.passport_no,
            person_id=body.person_id,
            actor=user,
            on=body.submitted_on,
            channel="api",
        )
        return views.application_dict(session=session, app=app, detail=True)


@router.get("", summary="List applications (region-scoped, paginated)")
def list_applications(
    request: Request,
    region: str | None = Query(None, pattern=r"^\d{2}$"),
    program_id: str | None = None,
    status: str | None = None,
    page: int = Query(1, ge=1),
    page_size: int = Query(50, ge=1, le=500),
    user: Actor = Depends(require("applications.read")),
) -> dict:
    with session_scope(engine=_engine(request)) as session:
        listing = service.list_applications(
            session=session,
            actor=user,
            region=region,
            program_id=program_id,
            status=status,
            offset=offset_of(page, page_size),
            limit=page_size,
        )
        return {
            **Page(number=page, size=page_size, total=listing.total).meta(),
            "region": listing.region,
            "items": [views.application_dict(session=session, app=a) for a in listing.rows],
        }


@router.get("/queue", summary="A programme's recommendation queue, ranked by points then submission time")
def queue(
    request: Request,
    program_id: str,
    page: int = Query(1, ge=1),
    page_size: int = Query(50, ge=1, le=500),
    user: Actor = Depends(require("applications.read")),
) -> dict:
    with session_scope(engine=_engine(request)) as session:
        return views.queue_page(session=session, actor=user, program_id=program_id, page=page, page_size=page_size)


@router.get("/benefits", summary="Regions with the simplified procedure (paginated)")
def benefits(
    request: Request,
    page: int = Query(1, ge=1),
    page_size: int = Query(50, ge=1, le=500),
    user: Actor = Depends(require("applications.read")),
) -> dict:
    with session_scope(engine=_engine(request)) as session:
        rows = service.benefits(session=session)
        window = Page(number=page, size=page_size, total=len(rows)).window(rows)
        return {
            **Page(number=page, size=page_size, total=len(rows)).meta(),
            "items": [
                {
                    "region": b.region,
                    "simplified_procedure": b.simplified_procedure,
                    "set_by": b.set_by,
                    "set_at": b.set_at.isoformat(),
                    "reason": b.reason,
                }
                for b in window
            ],
        }


@router.put("/benefits/{region}", summary="Grant or withdraw a region's simplified procedure (ministry admin)")
def set_benefit(
    request: Request, region: str, body: Benefit, user: Actor = Depends(require("applications.benefit"))
) -> dict:
    with session_scope(engine=_engine(request)) as session:
        row = service.set_simplified(
            session=session, region=region, enabled=body.simplified_procedure, actor=user, reason=body.reason
        )
        return {"region": row.region, "simplified_procedure": row.simplified_procedure, "reason": row.reason}


@router.post(
    "/imports",
    summary="Bulk intake from CSV or XLSX, as a job (202 and its Location): good rows in, bad rows reported "
    "in the job's result",
    status_code=202,
    responses=ACCEPTED,
)
def import_applications(
    request: Request,
    program_id: str = Form(...),
    file: UploadFile = File(...),
    submitted_on: dt.date | None = Form(None),
    max_problems: int = Query(1000, ge=0, le=100_000),
    user: Actor = Depends(require("applications.recommend")),
) -> JSONResponse:
    # The body was spooled within the role's size limit (web.uploads). The programme and the file's
    # type and header are checked now (unknown programme 404, unreadable file 422); the rows are
    # screened and taken in by the job, in the programme's region, like a records import.
    with received_file(file, default_name="intake") as path:
        name = display_name(file.filename, "intake")
        try:
            open_table(path, name=file.filename, formats=("csv", "xlsx")).empty()
        except TableFileError as exc:
            raise exc.app_error() from exc
        data = path.read_bytes()
    with session_scope(engine=_engine(request)) as session:
        region = programs.get_program(session=session, program_id=program_id).region
    params = {"program_id": program_id, "max_problems": max_problems, "source_name": name}
    if submitted_on is not None:
        params["submitted_on"] = submitted_on.isoformat()
    job = launch(
        request,
        actor=user,
        kind="applications_import",
        params=params,
        region=region,
        upload=(name, file.content_type or "application/octet-stream", data),
    )
    return accepted(job)


EXPORT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@router.get(
    "/export",
    summary="Applications as CSV or XLSX (region-scoped; no names, passport numbers masked)",
    response_class=Response,
)
def export(
    request: Request,
    format: str = Query("csv", pattern="^(csv|xlsx)$"),
    region: str | None = Query(None, pattern=r"^\d{2}$"),
    program_id: str | None = None,
    status: str | None = None,
    user: Actor = Depends(require("applications.read")),
) -> Response:
    with session_scope(engine=_engine(request)) as session:
        frame = views.export_frame(session=session, actor=user, region=region, program_id=program_id, status=status)
    buffer = io.BytesIO()
    views.write_export(frame, buffer, format)
    return Response(
        buffer.getvalue(),
        media_type=EXPORT_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="applications.{format}"'},
    )


@router.get("/{application_id}", summary="One application with its explanation, history and documents")
def detail(
    request: Request, application_id: int, response: Response, user: Actor = Depends(require("applications.read"))
) -> dict:
    full = views.sees_full_passport(user)
    if full:  # the whole passport number: kept out of every cache
        response.headers["Cache-Control"] = "no-store"
    with session_scope(engine=_engine(request)) as session:
        app = service.get(session=session, application_id=application_id, actor=user)
        return views.application_dict(session=session, app=app, detail=True, full_passport=full)


@router.get(
    "/{application_id}/documents/{document_id}",
    summary="Download one uploaded document (decrypted from storage; never cached)",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/pdf": {}, "image/jpeg": {}, "image/png": {}}}},
)
def download_document(
    request: Request, application_id: int, document_id: int, user: Actor = Depends(require("applications.read"))
) -> StreamingResponse:
    with session_scope(engine=_engine(request)) as session:
        doc = documents.for_download(
            session=session, application_id=application_id, document_id=document_id, actor=user
        )
    content, headers = documents.download(doc)
    media_type = headers.pop("Content-Type")
    return StreamingResponse(content, media_type=media_type, headers=headers)


@router.post("/{application_id}/documents", status_code=201, summary="Upload one document of the checklist")
def upload(
    request: Request,
    application_id: int,
    doc_type: str = Form(...),
    file: UploadFile = File(...),
    user: Actor = Depends(require("applications.recommend")),
) -> dict:
    content = file.file.read(documents.MAX_UPLOAD_BYTES + 1)
    with session_scope(engine=_engine(request)) as session:
        doc = documents.upload_document(
            session=session,
            app=application_id,
            doc_type=doc_type,
            filename=file.filename or "upload",
            content=content,
            content_type=file.content_type or "",
            actor=user,
        )
        return {"doc_type": doc.doc_type, "size": doc.size, "sha256": doc.sha256, "content_type": doc.content_type}


def _move_route(move: str, action: str):
    def handler(request: Request, application_id: int, body: Decision, user: Actor = Depends(require(action))) -> dict:
        with session_scope(engine=_engine(request)) as session:
            app = moves.act(session=session, application_id=application_id, move=move, actor=user, reason=body.reason)
            return views.application_dict(session=session, app=app, detail=True)

    def gated(
        request: Request, application_id: int, body: GatedDecision, user: Actor = Depends(require(action))
    ) -> dict:
        with session_scope(engine=_engine(request)) as session:
            app = moves.act(
                session=session,
                application_id=application_id,
                move=move,
                actor=user,
                reason=body.reason,
                override_reason=body.override_reason,
            )
            return views.application_dict(session=session, app=app, detail=True)

    if move in moves.DOCUMENT_GATED:
        handler = gated

    handler.__name__ = f"{move}_application"
    return handler


def _rescreen(
    request: Request, application_id: int, body: Rescreen, user: Actor = Depends(require("applications.decide"))
) -> dict:
    with session_scope(engine=_engine(request)) as session:
        moves.rescreen(session=session, app=application_id, actor=user, reason=body.reason, on=body.on)
        return views.application_dict(
            session=session, app=service.get(session=session, application_id=application_id), detail=True
        )


for _move, (_froms, _to, _action) in moves.MOVES.items():
    if _move in ("screen", "rescreen"):
        continue
    router.add_api_route(
        f"/{{application_id}}/{_move}",
        _move_route(_move, _action),
        methods=["POST"],
        summary=f"{_move.capitalize()} the application ({_froms} → {_to})",
    )
router.add_api_route(
    "/{application_id}/rescreen", _rescreen, methods=["POST"], summary="Re-screen explicitly (audited)"
)
