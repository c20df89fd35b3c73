"""Quotas / 쿼터: REST API under /api/v1 (thin: calls quotas.service)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from regionvisa.accounts.policy import Actor
from regionvisa.core.paging import Page
from regionvisa.db import session_scope
from regionvisa.programs import service as programs
from regionvisa.quotas import service
from regionvisa.quotas.subjects import read_region, readable
from regionvisa.web.deps import require
from regionvisa.web.errors import ERROR_RESPONSES
from regionvisa.web.params import IsoDate

router = APIRouter(prefix="/quotas", tags=["quotas"], responses=ERROR_RESPONSES)


class OpenLedger(BaseModel):
    program_id: str
    period: str = Field(pattern=r"^\d{4}(-[A-Za-z0-9]+)?$", description="e.g. 2025")
    start: IsoDate
    end: IsoDate
    allocated: int = Field(ge=0, strict=True)
    reason: str = Field(min_length=1, max_length=2000)


class Adjustment(BaseModel):
    amount: int = Field(
        strict=True, description="places added (positive) or cut (negative); a whole number, never true/false"
    )
    reason: str = Field(min_length=1, max_length=2000)


@router.get("/ledgers", summary="Quota ledgers (region-scoped): allocation, reserved, used, remaining, fill rate")
def ledgers(
    request: Request,
    region: str | None = Query(None, pattern=r"^\d{2}$"),
    program_id: str | None = None,
    period: str | None = None,
    page: int = Query(1, ge=1),
    page_size: int = Query(50, ge=1, le=500),
    user: Actor = Depends(require("quotas.read")),
) -> dict:
    scoped = read_region(user, region)
    with session_scope(engine=request.app.state.engine) as session:
        rows = service.list_ledgers(session=session, region=scoped, program_id=program_id, period=period)
        window = Page(number=page, size=page_size, total=len(rows)).window(rows)
        return {
            **Page(number=page, size=page_size, total=len(rows)).meta(),
            "region": scoped,
            "items": [service.ledger_dict(session=session, ledger=row) for row in window],
        }


@router.get("/ledgers/{ledger_id}", summary="One ledger with its history of movements")
def ledger(request: Request, ledger_id: int, user: Actor = Depends(require("quotas.read"))) -> dict:
    with session_scope(engine=request.app.state.engine) as session:
        row = readable(user, service.get_ledger(session=session, ledger_id=ledger_id))
        return service.ledger_dict(session=session, ledger=row, with_history=True)


@router.post("/ledgers", status_code=201, summary="Open a programme's ledger for a period")
def open_ledger(request: Request, body: OpenLedger, user: Actor = Depends(require("quotas.adjust"))) -> dict:
    with session_scope(engine=request.app.state.engine) as session:
        program = programs.get_program(session=session, program_id=body.program_id)
        row = service.open_ledger(
            session=session,
            program_id=program.id,
            region=program.region,
            period=body.period,
            start=body.start,
            end=body.end,
            allocated=body.allocated,
            actor=user,
            reason=body.reason,
        )
        return service.ledger_dict(session=session, ledger=row, with_history=True)


@router.post("/ledgers/{ledger_id}/adjustments", summary="Top up or cut a ledger, with a reason")
def adjust(request: Request, ledger_id: int, body: Adjustment, user: Actor = Depends(require("quotas.adjust"))) -> dict:
    with session_scope(engine=request.app.state.engine) as session:
        row = service.get_ledger(session=session, ledger_id=ledger_id)
        service.adjust(session=session, ledger=row, amount=body.amount, actor=user, reason=body.reason)
        return service.ledger_dict(session=session, ledger=row, with_history=True)


# ----------------------------------------------------------------------------- mid-year reallocation


class ReallocationDate(BaseModel):
    on: IsoDate = Field(description="reallocation date: the ledgers in force that day take part")


class ReallocationApply(BaseModel):
    on: IsoDate = Field(description="reallocation date: the ledgers in force that day take part")
    reason: str = Field(min_length=1, max_length=2000)
    expected: str | None = Field(
        None, max_length=64, description="digest of the proposal reviewed (from the preview); 409 if it changed"
    )


def _proposal_out(proposal) -> dict:
    return {
        "on": proposal.rule.on.isoformat(),
        "digest": proposal.digest,
        "pool": proposal.pool,
        "granted": proposal.granted,
        "rule": proposal.rule.as_inputs(),
        "items": proposal.records(),
    }


@router.post(
    "/reallocations/preview",
    summary="Mid-year reallocation, dry run: each ledger's projected use, release and grant (nothing written)",
)
def reallocation_preview(
    request: Request, body: ReallocationDate, user: Actor = Depends(require("quotas.reallocate"))
) -> dict:
    with session_scope(engine=request.app.state.engine) as session:
        return _proposal_out(service.propose_reallocation(session=session, on=body.on))


@router.post(
    "/reallocations",
    summary="Apply the mid-year reallocation with a reason: audited ledger adjustments (409 if the proposal changed)",
)
def reallocation_apply(
    request: Request, body: ReallocationApply, user: Actor = Depends(require("quotas.reallocate"))
) -> dict:
    with session_scope(engine=request.app.state.engine) as session:
        done = service.reallocate(session=session, on=body.on, reason=body.reason, expected=body.expected, actor=user)
        return {**_proposal_out(done.proposal), "applied": True, "adjusted": done.adjusted}
