"""Regional visa programmes / 지역 특화형 비자 프로그램: REST API under /api/v1 (thin: calls programs.service).

Reading a programme needs `programs.read` for its region; regional officials write and submit drafts of
their own region only (`programs.edit_draft`); the ministry approves, publishes, retires
(`programs.approve`). The field catalogue and eligibility matching are public.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import PlainTextResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.background import BackgroundTask

from regionvisa.accounts.policy import PUBLIC_ROUTES, Actor
from regionvisa.accounts.ratelimit import limit_match
from regionvisa.core.errors import Invalid
from regionvisa.core.paging import Page
from regionvisa.db import session_scope
from regionvisa.policyfiles import PolicyError
from regionvisa.programs import designs, screening, service, simulation, views
from regionvisa.programs.filescreen import screen_table_file
from regionvisa.programs.lifecycle import PROGRAMME_VERSIONS
from regionvisa.programs.subjects import read_region, readable, readable_design
from regionvisa.rules import catalogue_json
from regionvisa.tabular import TableFileError, open_table
from regionvisa.web.deps import check_csrf, require
from regionvisa.web.errors import ERROR_RESPONSES, ErrorBody
from regionvisa.web.params import IsoDate
from regionvisa.web.responses import json_response
from regionvisa.web.uploads import received_file, upload_folder

router = APIRouter(tags=["programs"], responses=ERROR_RESPONSES)


def public(path: str) -> list:
    """Public when accounts.policy.PUBLIC_ROUTES lists the path; until then readers of programmes only."""
    if f"/api/v1{path}" in PUBLIC_ROUTES:
        return [Depends(check_csrf)]
    return [Depends(require("programs.read"))]


# ------------------------------------------------------------------------------------ bodies


class DesignBody(BaseModel):
    """A design as JSON (`design`) or as the YAML text of a design file (`yaml`)."""

    model_config = ConfigDict(extra="forbid")
    design: dict[str, Any] | None = None
    yaml: str | None = Field(None, max_length=200_000)
    reason: str = Field("draft saved", max_length=500)

    def read(self) -> dict:
        if self.design is not None:
            return self.design
        if self.yaml is not None:
            try:
                return designs.design_from_text(self.yaml)
            except PolicyError as exc:
                raise designs.DesignInvalid(errors=exc.errors) from exc
        raise Invalid(code="invalid", ko="design 또는 yaml이 필요합니다", en="give `design` or `yaml`", field="design")


class Reason(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(..., min_length=1, max_length=500)


class ScreenBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    on: IsoDate
    applicants: list[dict[str, Any]] = Field(..., max_length=100_000)
    version: int | None = Field(
        None, ge=1, strict=True, description="a stored version (default: the one in force on `on`)"
    )


class RankBody(ScreenBody):
    submitted_column: str = "submitted_at"


class ExplainBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    on: IsoDate
    applicant: dict[str, Any]
    version: int | None = Field(None, ge=1, strict=True)


class MatchBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    on: IsoDate
    applicant: dict[str, Any]


class SimulateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    on: IsoDate
    baseline: str = Field(..., description="ID (in force on `on`) or ID@VERSION")
    reform: str | None = Field(None, description="ID or ID@VERSION")
    reform_design: dict[str, Any] | None = Field(None, description="an unsaved design to try instead of `reform`")
    applicants: list[dict[str, Any]] = Field(..., max_length=100_000)


# ------------------------------------------------------------------------------------ helpers


def _resolve_readable(session, user: Actor, program_id: str, *, on: dt.date | None, version: int | None):
    readable(user, service.get_program(session=session, program_id=program_id))
    ref = f"{program_id}@{version}" if version else program_id
    return service.resolve(session=session, ref=ref, on=on, files=False)


# ------------------------------------------------------------------------------------ catalogue


@router.get(
    "/rules/fields",
    summary="Applicant fields and rule operators (for rule editors)",
    dependencies=public("/rules/fields"),
)
def fields() -> dict:
    return catalogue_json()


# ------------------------------------------------------------------------------------ programmes


@router.get("/programs", summary="Programmes with their latest version, by region then id (region-scoped)")
def list_programs(
    request: Request,
    region: str | None = Query(None, pattern=r"^\d{2}$"),
    page: int = Query(1, ge=1),
    page_size: int = Query(50, ge=1, le=500),
    user: Actor = Depends(require("programs.read")),
) -> dict:
    region = read_region(user, region)
    with session_scope(engine=request.app.state.engine) as session:
        rows = service.list_programs(session=session, region=region)
        items = [views.program_dict(p, v) for p, v in rows]
    meta = Page(number=page, size=page_size, total=len(items))
    return {**meta.meta(), "region": region, "items": meta.window(items)}


@router.post("/programs/validate", summary="Validate a design against the rules and the national guardrails")
def validate(body: DesignBody, _: Actor = Depends(require("programs.read"))) -> dict:
    try:
        design = body.read()
    except designs.DesignInvalid as exc:
        return {"valid": False, "errors": exc.errors, "errors_ko": exc.errors, "defaults_taken": {}}
    return designs.validate_design(design)


@router.post("/programs/drafts", status_code=201, summary="Save a draft (own region for regional officials)")
def save_draft(request: Request, body: DesignBody, user: Actor = Depends(require("programs.edit_draft"))) -> dict:
    design = body.read()
    designs.parse_or_raise(design)  # 422 with every problem before anything else
    with session_scope(engine=request.app.state.engine) as session:
        try:  # the `store` use case authorises the design's region and its programme's
            row = service.save_draft(session=session, design=design, actor=user, reason=body.reason)
        except PolicyError as exc:
            raise designs.DesignInvalid(errors=exc.errors) from exc
        return views.version_dict(row)


@router.post("/programs/simulate", summary="Compare two versions over an applicant pool (reform simulation)")
def simulate(request: Request, body: SimulateBody, user: Actor = Depends(require("programs.read"))) -> dict:
    parsed = screening.applicants_from_records(body.applicants)
    with session_scope(engine=request.app.state.engine) as session:
        base = readable_design(user, service.resolve(session=session, ref=body.baseline, on=body.on, files=False))
        if body.reform_design is not None:
            reform = service.Resolved(designs.parse_or_raise(body.reform_design, source="reform"))
        elif body.reform:
            reform = service.resolve(session=session, ref=body.reform, on=body.on, files=False)
        else:
            raise Invalid(
                code="invalid", ko="reform 또는 reform_design이 필요합니다", en="give `reform` or `reform_design`"
            )
        readable_design(user, reform)
        return simulation.simulate(session=session, baseline=base, reform=reform, parsed=parsed, on=body.on)


@router.get("/programs/{program_id}", summary="One programme: latest version and version history")
def get_program(request: Request, program_id: str, user: Actor = Depends(require("programs.read"))) -> dict:
    with session_scope(engine=request.app.state.engine) as session:
        program = readable(user, service.get_program(session=session, program_id=program_id))
        latest = service.get_version(session=session, program_id=program_id)
        out = views.program_dict(program, latest)
        out["versions"] = [views.version_dict(v) for v in service.versions(session=session, program_id=program_id)]
        out["design"] = latest.design
        return out


@router.get("/programs/{program_id}/versions", summary="Every version of a programme, oldest first")
def list_versions(
    request: Request,
    program_id: str,
    page: int = Query(1, ge=1),
    page_size: int = Query(50, ge=1, le=500),
    user: Actor = Depends(require("programs.read")),
) -> dict:
    with session_scope(engine=request.app.state.engine) as session:
        readable(user, service.get_program(session=session, program_id=program_id))
        items = [views.version_dict(v) for v in service.versions(session=session, program_id=program_id)]
    meta = Page(number=page, size=page_size, total=len(items))
    return {**meta.meta(), "items": meta.window(items)}


@router.get("/programs/{program_id}/versions/{version}", summary="One version with its design")
def get_version(
    request: Request, program_id: str, version: int, user: Actor = Depends(require("programs.read"))
) -> dict:
    with session_scope(engine=request.app.state.engine) as session:
        readable(user, service.get_program(session=session, program_id=program_id))
        return views.version_dict(
            service.get_version(session=session, program_id=program_id, version=version), design=True
        )


@router.get("/programs/{program_id}/diff", summary="Unified diff between two versions (YAML)")
def diff(
    request: Request,
    program_id: str,
    a: int = Query(..., ge=1),
    b: int = Query(..., ge=1),
    user: Actor = Depends(require("programs.read")),
) -> dict:
    with session_scope(engine=request.app.state.engine) as session:
        readable(user, service.get_program(session=session, program_id=program_id))
        lines = service.diff(
            service.get_version(session=session, program_id=program_id, version=a),
            service.get_version(session=session, program_id=program_id, version=b),
        )
    return {"program": program_id, "a": a, "b": b, "lines": lines}


def _transition_route(move: str, action: str):
    def handler(
        request: Request, program_id: str, version: int, body: Reason, user: Actor = Depends(require(action))
    ) -> dict:
        with session_scope(engine=request.app.state.engine) as session:  # the use case authorises the edge's action
            row = service.transition(
                session=session, program=program_id, version=version, move=move, actor=user, reason=body.reason
            )
            return views.version_dict(row)

    handler.__name__ = f"{move}_version"
    return handler


for _move in PROGRAMME_VERSIONS.moves:  # each move with the action its edge declares
    router.add_api_route(
        f"/programs/{{program_id}}/versions/{{version}}/{_move}",
        _transition_route(_move, PROGRAMME_VERSIONS.action(_move)),
        methods=["POST"],
        summary=f"{_move.capitalize()} a version (audited)",
    )


# ------------------------------------------------------------------------------------ screening


@router.post("/programs/{program_id}/screen", summary="Screen a JSON list of applicants")
def screen(
    request: Request,
    program_id: str,
    body: ScreenBody,
    format: Literal["json", "csv"] = Query("json"),
    user: Actor = Depends(require("programs.read")),
):
    parsed = screening.applicants_from_records(body.applicants)
    with session_scope(engine=request.app.state.engine) as session:
        program = _resolve_readable(session, user, program_id, on=body.on, version=body.version)
    result = screening.screen_applicants(program, parsed, on=body.on)
    if format == "csv":
        return PlainTextResponse(screening.table_csv(result.table), media_type="text/csv")
    return json_response(result.to_dict())


@router.post(
    "/programs/{program_id}/screen/file",
    summary="Screen an uploaded applicant file (.csv, .parquet, .jsonl), in batches; size limit per role",
    responses={413: {"model": ErrorBody, "description": "The file is larger than the sender's role may send"}},
)
def screen_file(
    request: Request,
    program_id: str,
    file: UploadFile = File(...),
    on: dt.date = Form(...),
    version: int | None = Form(None),
    format: Literal["json", "csv"] = Query("json"),
    user: Actor = Depends(require("programs.screen_file")),
):
    # A plain `def`: the whole screening runs in the thread pool, never on the event loop.
    with session_scope(engine=request.app.state.engine) as session:
        program = _resolve_readable(session, user, program_id, on=on, version=version)
    readable_design(user, program, action="programs.screen_file")
    with received_file(file, default_name="applicants") as path:
        try:
            table = open_table(path, name=file.filename, formats=("csv", "parquet", "jsonl"), as_text=False)
            screened = screen_table_file(program, table, on=on, format=format, folder=upload_folder())
        except TableFileError as exc:
            raise exc.app_error() from exc
    media = "text/csv; charset=utf-8" if format == "csv" else "application/json"
    return StreamingResponse(screened.chunks(), media_type=media, background=BackgroundTask(screened.remove))


@router.post("/programs/{program_id}/rank", summary="Rank the eligible applicants (points, submission, id)")
def rank(request: Request, program_id: str, body: RankBody, user: Actor = Depends(require("programs.read"))) -> dict:
    parsed = screening.applicants_from_records(body.applicants)
    with session_scope(engine=request.app.state.engine) as session:
        program = _resolve_readable(session, user, program_id, on=body.on, version=body.version)
    result = screening.screen_applicants(program, parsed, on=body.on)
    ranked = screening.rank(result, parsed, submitted_column=body.submitted_column)
    return {
        "program": program.id,
        "version": program.number,
        "on": body.on.isoformat(),
        "items": [
            {**r, "submitted_at": r["submitted_at"].isoformat() if r["submitted_at"] else None}
            for r in ranked.to_dicts()
        ],
        "problems": screening.problems_report(parsed)
        + screening.rank_problems(parsed, submitted_column=body.submitted_column, first_line=1),
    }


@router.post("/programs/{program_id}/explain", summary="Explain one applicant's outcome, criterion by criterion")
def explain(
    request: Request, program_id: str, body: ExplainBody, user: Actor = Depends(require("programs.read"))
) -> dict:
    with session_scope(engine=request.app.state.engine) as session:
        program = _resolve_readable(session, user, program_id, on=body.on, version=body.version)
    return screening.explain_applicant(program, body.applicant, on=body.on).to_dict()


@router.post(
    "/match",
    summary="Eligibility for every programme in force, with near misses (rate-limited per client address)",
    dependencies=[*public("/match"), Depends(limit_match)],
    responses={429: {"model": ErrorBody, "description": "Too many requests; Retry-After gives the seconds to wait"}},
)
def match(request: Request, body: MatchBody) -> dict:
    with session_scope(engine=request.app.state.engine) as session:
        return json_response(screening.match(session=session, applicant=body.applicant, on=body.on))
