"""Quotas / 쿼터: server-rendered pages (thin: calls quotas.service).

A programme's ledger: allocation, adjustments, reserved, used, remaining and fill rate, with every
movement in order; the ministry tops up or cuts it with a reason."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse

from regionvisa.accounts.nav import register
from regionvisa.accounts.policy import Actor, can
from regionvisa.db import session_scope
from regionvisa.quotas import service
from regionvisa.quotas.subjects import read_region, readable
from regionvisa.regions.service import region_names
from regionvisa.web.deps import require
from regionvisa.web.i18n import current_language
from regionvisa.web.labels import N_
from regionvisa.web.templating import render

router = APIRouter(include_in_schema=False)

register(N_("Quotas"), "/quotas", action="quotas.read", order=35)

KIND_LABELS = {
    "allocation": N_("allocation"),
    "adjustment": N_("adjustment"),
    "reserve": N_("reservation"),
    "release": N_("release"),
    "use": N_("issuance"),
    "unuse": N_("cancelled issuance"),
}


@router.get("/quotas")
def ledgers_page(request: Request, period: str = "", user: Actor = Depends(require("quotas.read"))):
    region = read_region(user)
    with session_scope(request.app.state.engine) as session:
        rows = [
            service.ledger_dict(session, r) for r in service.list_ledgers(session, region=region, period=period or None)
        ]
        return render(
            request,
            "quotas_list.html",
            {"rows": rows, "period": period, "region_names": region_names(current_language.get())},
        )


@router.get("/quotas/{ledger_id}")
def ledger_page(request: Request, ledger_id: int, user: Actor = Depends(require("quotas.read"))):
    with session_scope(request.app.state.engine) as session:
        ledger = readable(user, service.get_ledger(session, ledger_id))
        return render(
            request,
            "quotas_ledger.html",
            {
                "ledger": service.ledger_dict(session, ledger, with_history=True),
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
    with session_scope(request.app.state.engine) as session:
        service.adjust(session, service.get_ledger(session, ledger_id), amount, actor=user, reason=reason)
    return RedirectResponse(f"/quotas/{ledger_id}?done=adjusted", status_code=303)
