"""Quotas / 쿼터: server-rendered pages (thin: calls quotas.service).

A programme's ledger: allocation, adjustments, reserved, used, remaining and fill rate, with every
movement in order; the ministry tops up or cuts it with a reason. The mid-year reallocation: a
date, the proposal as a table, then apply with a reason and a confirmation (`service.reallocate`)."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse

from regionvisa.accounts.nav import register
from regionvisa.accounts.policy import Actor, can
from regionvisa.core.errors import DomainError, Invalid
from regionvisa.core.paging import Page
from regionvisa.db import session_scope
from regionvisa.policyfiles import PolicyError
from regionvisa.quotas import service
from regionvisa.quotas.subjects import read_region, readable
from regionvisa.regions.service import region_names
from regionvisa.web.deps import require
from regionvisa.web.i18n import current_language, gettext
from regionvisa.web.labels import N_
from regionvisa.web.templating import render

PAGE_SIZE = 50  # ledgers per page

router = APIRouter(include_in_schema=False)

register(N_("Quotas"), "/quotas", action="quotas.read", order=35)
register(N_("Mid-year reallocation"), "/quotas/reallocate", action="quotas.reallocate", order=36)

KIND_LABELS = {
    "allocation": N_("allocation"),
    "adjustment": N_("adjustment"),
    "reserve": N_("reservation"),
    "release": N_("release"),
    "use": N_("issuance"),
    "unuse": N_("cancelled issuance"),
}


@router.get("/quotas")
def ledgers_page(
    request: Request, period: str = "", page: int = Query(1, ge=1), user: Actor = Depends(require("quotas.read"))
):
    region = read_region(user)
    with session_scope(engine=request.app.state.engine) as session:
        ledgers = service.list_ledgers(session=session, region=region, period=period or None)
        pager = Page(number=page, size=PAGE_SIZE, total=len(ledgers), base_path="/quotas", query={"period": period})
        rows = [service.ledger_dict(session=session, ledger=r) for r in pager.window(ledgers)]
        return render(
            request,
            "quotas_list.html",
            {"rows": rows, "page": pager, "period": period, "region_names": region_names(current_language.get())},
        )


# ----------------------------------------------------------------------------- mid-year reallocation
# Declared before /quotas/{ledger_id}, whose integer parameter would otherwise claim the path.


def _reallocation_context(session, *, on: str) -> dict:
    """The page's proposal for the date `on` (text from the form), or why there is none."""
    context: dict = {"on": on, "proposal": None, "rows": [], "rule": None, "changes": 0, "error": None}
    if not on:
        return context
    try:
        day = dt.date.fromisoformat(on)
    except ValueError:
        context["error"] = gettext("Give the date as YYYY-MM-DD.")
        return context
    try:
        proposal = service.propose_reallocation(session=session, on=day)
    except PolicyError as exc:
        context["error"] = "; ".join(exc.errors)
        return context
    rows = proposal.records()
    changes = sum(1 for r in rows if r["adjustment"])
    context.update(proposal=proposal, rows=rows, rule=proposal.rule.as_inputs(), changes=changes)
    return context


def _message(exc: DomainError) -> str:
    return exc.ko if current_language.get() == "ko" else exc.en


@router.get("/quotas/reallocate")
def reallocate_page(request: Request, on: str = "", user: Actor = Depends(require("quotas.reallocate"))):
    with session_scope(engine=request.app.state.engine) as session:
        context = _reallocation_context(session, on=on)
    context.update(
        done=request.query_params.get("done") == "applied", region_names=region_names(current_language.get())
    )
    return render(request, "quotas_reallocate.html", context)


@router.post("/quotas/reallocate")
def reallocate_apply(
    request: Request,
    on: str = Form(...),
    expected: str = Form(...),
    reason: str = Form(""),
    confirm: str = Form(""),
    user: Actor = Depends(require("quotas.reallocate")),
):
    """Apply the proposal the page showed (its digest), with a reason and the confirmation box."""
    error, status = None, 200
    try:
        day = dt.date.fromisoformat(on)
        if confirm != "yes":
            raise Invalid(
                code="confirmation_required",
                ko="재배분안을 확인했다고 표시하십시오",
                en="tick the box to confirm the proposal",
                field="confirm",
            )
        with session_scope(engine=request.app.state.engine) as session:
            service.reallocate(session=session, on=day, reason=reason, expected=expected, actor=user)
    except ValueError:
        error, status = gettext("Give the date as YYYY-MM-DD."), 422
    except DomainError as exc:
        error, status = _message(exc), exc.status
    if error is None:
        return RedirectResponse(f"/quotas/reallocate?on={day.isoformat()}&done=applied", status_code=303)
    with session_scope(engine=request.app.state.engine) as session:
        context = _reallocation_context(session, on=on)
    context.update(error=error, done=False, region_names=region_names(current_language.get()))
    return render(request, "quotas_reallocate.html", context, status_code=status)


@router.get("/quotas/{ledger_id}")
def ledger_page(request: Request, ledger_id: int, user: Actor = Depends(require("quotas.read"))):
    with session_scope(engine=request.app.state.engine) as session:
        ledger = readable(user, service.get_ledger(session=session, ledger_id=ledger_id))
        return render(
            request,
            "quotas_ledger.html",
            {
                "ledger": service.ledger_dict(session=session, ledger=ledger, with_history=True),
                "kind_labels": KIND_LABELS,
                "can_adjust": can(user, "quotas.adjust"),  # only whether to show the form
                "done": request.query_params.get("done") == "adjusted",
                "region_names": region_names(current_language.get()),
            },
        )


@router.post("/quotas/{ledger_id}/adjust")
def adjust(
    request: Request,
    ledger_id: int,
    amount: int = Form(...),
    reason: str = Form(...),
    user: Actor = Depends(require("quotas.adjust")),
):
    with session_scope(engine=request.app.state.engine) as session:
        service.adjust(
            session=session,
            ledger=service.get_ledger(session=session, ledger_id=ledger_id),
            amount=amount,
            actor=user,
            reason=reason,
        )
    return RedirectResponse(f"/quotas/{ledger_id}?done=adjusted", status_code=303)
